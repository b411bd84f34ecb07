import { type Fetch, FetchError } from '../ports.ts';
import { LIMITS, utf8Length } from '../protocol/limits.ts';
import type { CommerceCall } from './events.ts';
import type { OrderHistoryRowInput } from './history.ts';

/**
 * The calls a commerce adapter makes to an Attune server: tracking (write key), catalog
 * upserts, order-history imports and profile look-ups (secret key). Failures throw an
 * AttuneRequestError that says whether a retry can help.
 */
export interface AttuneClientOptions {
  /** Base URL of the Attune server, e.g. http://localhost:4000. */
  url: string;
  writeKey?: string | undefined;
  secretKey?: string | undefined;
  fetch: Fetch;
  timeoutMs?: number;
}

export class AttuneRequestError extends Error {
  override readonly name = 'AttuneRequestError';
  constructor(
    message: string,
    readonly status: number | null,
    /** Network errors, timeouts, 408, 429 and 5xx: the same request may succeed later. */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export interface AttuneClient {
  /** Sends calls to /v1/batch, split to stay under the batch size limit. */
  track(calls: CommerceCall[]): Promise<{ accepted: number; duplicates: number }>;
  catalog(streamId: string, batch: { items: unknown[]; run?: { id: string; source?: string } }): Promise<{ upserted: number; deleted: number; ignored: number }>;
  importOrders(rows: OrderHistoryRowInput[]): Promise<{ rows: number; accepted: number; duplicates: number; errorCount: number; errors: unknown[] }>;
  profile(id: string): Promise<{ id: string; identities: Array<{ type: string; value: string }> } | null>;
}

const MAX_CALLS_PER_BATCH = 100;
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

export function createAttuneClient(options: AttuneClientOptions): AttuneClient {
  const base = options.url.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 30_000;

  async function request<T>(method: string, path: string, key: 'write' | 'secret', body?: unknown): Promise<T | null> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'attune-commerce/1' };
    if (key === 'secret') {
      if (!options.secretKey) throw new AttuneRequestError(`${method} ${path}: the Attune secret key is not configured`, null, false);
      headers.authorization = `Bearer ${options.secretKey}`;
    }
    let res: Awaited<ReturnType<Fetch>>;
    try {
      res = await options.fetch({
        url: base + path,
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        timeoutMs,
        maxBytes: MAX_ANSWER_BYTES,
      });
    } catch (error) {
      throw new AttuneRequestError(`${method} ${path}: no answer from ${base} (${error instanceof Error ? error.message : String(error)})`, null, true);
    }
    if (res.status === 404 && method === 'GET') return null;
    if (res.status < 200 || res.status >= 300) {
      const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
      throw new AttuneRequestError(`${method} ${path}: HTTP ${res.status} ${res.body.slice(0, 500)}`, res.status, retryable);
    }
    return (res.body ? JSON.parse(res.body) : null) as T;
  }

  return {
    async track(calls) {
      let accepted = 0;
      let duplicates = 0;
      if (!options.writeKey) throw new AttuneRequestError('POST /v1/batch: the Attune write key is not configured', null, false);
      const budget = LIMITS.maxBatchBytes - 1024;
      let chunk: CommerceCall[] = [];
      let bytes = 0;
      const flush = async () => {
        if (chunk.length === 0) return;
        const r = await request<{ accepted: number; duplicates: number }>('POST', '/v1/batch', 'write', { writeKey: options.writeKey, batch: chunk });
        accepted += r?.accepted ?? 0;
        duplicates += r?.duplicates ?? 0;
        chunk = [];
        bytes = 0;
      };
      for (const call of calls) {
        const size = utf8Length(JSON.stringify(call)) + 1;
        if (chunk.length >= MAX_CALLS_PER_BATCH || bytes + size > budget) await flush();
        chunk.push(call);
        bytes += size;
      }
      await flush();
      return { accepted, duplicates };
    },
    async catalog(streamId, batch) {
      const r = await request<{ upserted: number; deleted: number; ignored: number }>('POST', `/v1/catalog/${encodeURIComponent(streamId)}`, 'secret', batch);
      return r ?? { upserted: 0, deleted: 0, ignored: 0 };
    },
    async importOrders(rows) {
      const r = await request<{ rows: number; accepted: number; duplicates: number; errorCount: number; errors: unknown[] }>('POST', '/v1/orders/import', 'secret', rows);
      return r ?? { rows: 0, accepted: 0, duplicates: 0, errorCount: 0, errors: [] };
    },
    profile(id) {
      return request('GET', `/v1/profiles/${encodeURIComponent(id)}`, 'secret');
    },
  };
}

/** A WHATWG fetch (Node's, a browser's, an edge runtime's), described structurally: the core names no global. */
export type WebFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: never },
) => Promise<{ status: number; text(): Promise<string> }>;

/**
 * The Fetch port on a WHATWG fetch: adapters pass `fetch` and `(ms) => AbortSignal.timeout(ms)`.
 * A request that gets no answer rejects with a FetchError saying why.
 */
export function fetchPort(fetchImpl: WebFetch, timeoutSignal?: (ms: number) => unknown): Fetch {
  return async (request) => {
    let res: Awaited<ReturnType<WebFetch>>;
    try {
      res = await fetchImpl(request.url, {
        method: request.method,
        headers: request.headers,
        ...(request.body !== undefined ? { body: request.body } : {}),
        ...(timeoutSignal ? { signal: timeoutSignal(request.timeoutMs) as never } : {}),
      });
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      const code = name === 'TimeoutError' || name === 'AbortError' ? 'TIMEOUT' : 'NETWORK';
      throw new FetchError(code, `${request.method} ${request.url}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const body = await res.text();
    if (body.length > request.maxBytes) throw new FetchError('TOO_LARGE', `${request.method} ${request.url}: answer larger than ${request.maxBytes} bytes`);
    return { status: res.status, body };
  };
}
