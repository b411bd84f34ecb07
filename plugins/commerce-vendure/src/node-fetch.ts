import { type Fetch, FetchError } from '@attune/core';

/** The core's Fetch port on Node's fetch, with a timeout and an answer-size cap. */
export const nodeFetch: Fetch = async (request) => {
  let res: Response;
  try {
    res = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      ...(request.body !== undefined ? { body: request.body } : {}),
      signal: AbortSignal.timeout(request.timeoutMs),
    });
  } catch (error) {
    const timeout = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    throw new FetchError(timeout ? 'TIMEOUT' : 'NETWORK', `${request.method} ${request.url}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const body = await res.text();
  if (body.length > request.maxBytes) throw new FetchError('TOO_LARGE', `${request.method} ${request.url}: answer larger than ${request.maxBytes} bytes`);
  return { status: res.status, body };
};
