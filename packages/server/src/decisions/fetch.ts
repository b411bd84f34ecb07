import type { Fetch, Timers } from '@attune/core';

/**
 * The connectors' HTTP port on Node's fetch: aborts at the budget, refuses redirects to other
 * schemes, and stops reading a body past `maxBytes` instead of buffering it whole.
 */
export const nodeFetch: Fetch = async (request) => {
  const res = await fetch(request.url, {
    method: request.method,
    headers: request.headers,
    ...(request.body !== undefined ? { body: request.body } : {}),
    signal: AbortSignal.timeout(request.timeoutMs),
    redirect: 'follow',
  });
  const reader = res.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (reader) {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > request.maxBytes) {
        await reader.cancel();
        throw new Error(`response too large: over ${request.maxBytes} bytes`);
      }
      chunks.push(value);
    }
  }
  return { status: res.status, body: Buffer.concat(chunks).toString('utf8') };
};

export const nodeTimers: Timers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};
