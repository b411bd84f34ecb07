import { type Fetch, FetchError, type Timers } from '@attune/core';

/**
 * The connectors' HTTP port on Node's fetch (undici): aborts at the budget, headers and body
 * included, and stops reading a body past `maxBytes` instead of buffering it whole. Errors are
 * FetchErrors whose messages name no host (they can reach a decision's trace); the cause keeps
 * undici's detail for the log.
 */
export const nodeFetch: Fetch = async (request) => {
  const signal = AbortSignal.timeout(request.timeoutMs);
  try {
    const res = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      ...(request.body !== undefined ? { body: request.body } : {}),
      signal,
      redirect: 'follow',
    });
    const declared = Number(res.headers.get('content-length') ?? Number.NaN);
    if (declared > request.maxBytes) {
      await res.body?.cancel();
      throw tooLarge(request.maxBytes);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = res.body?.getReader();
    if (reader) {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > request.maxBytes) {
          await reader.cancel();
          throw tooLarge(request.maxBytes);
        }
        chunks.push(value);
      }
    }
    return { status: res.status, body: Buffer.concat(chunks).toString('utf8') };
  } catch (e) {
    if (e instanceof FetchError) throw e;
    if (signal.aborted) throw new FetchError('TIMEOUT', `no answer within ${request.timeoutMs} ms`, { cause: e });
    throw new FetchError('NETWORK', 'the connection failed or closed before a complete answer', { cause: e });
  }
};

function tooLarge(maxBytes: number): FetchError {
  return new FetchError('TOO_LARGE', `response over ${maxBytes} bytes`);
}

export const nodeTimers: Timers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};
