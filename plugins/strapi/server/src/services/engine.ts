import type { CatalogItemInput } from '@attune/core';

export interface EngineConnection {
  engineUrl: string;
  secretKey: string;
  writeKey: string;
}

export class EngineError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

/** The Attune engine's HTTP API, as far as the plugin uses it. */
export function createEngineClient(connection: EngineConnection, f: typeof fetch = fetch) {
  const base = connection.engineUrl.replace(/\/+$/, '');

  async function call<T>(method: string, path: string, body?: unknown, key: 'secret' | 'write' = 'secret'): Promise<T> {
    if (!base) throw new EngineError('no engine URL is set: open Settings → Attune', null);
    const auth = key === 'secret' ? `Bearer ${connection.secretKey}` : `Basic ${Buffer.from(`${connection.writeKey}:`).toString('base64')}`;
    if (key === 'secret' ? !connection.secretKey : !connection.writeKey) throw new EngineError(`no ${key} key is set: open Settings → Attune`, null);
    const send = () =>
      f(`${base}${path}`, {
        method,
        headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(30_000),
      });
    let res: Response;
    try {
      res = await send();
    } catch {
      // A kept-alive connection the engine closed while idle fails at once; every call here is
      // safe to repeat (catalog upserts and erasures are idempotent, identify calls carry messageIds).
      try {
        await new Promise((r) => setTimeout(r, 200));
        res = await send();
      } catch (e) {
        throw new EngineError(`the engine at ${base} cannot be reached (${e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e)})`, null);
      }
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    if (!res.ok) {
      const detail = (json as { error?: { message?: string } } | null)?.error?.message ?? text.slice(0, 200);
      throw new EngineError(`${method} ${path} answered ${res.status}: ${detail}`, res.status, json);
    }
    return json as T;
  }

  return {
    call,
    /** Checks the URL, the secret key and the write key each with a harmless request. */
    async test() {
      const checks: { name: string; ok: boolean; message: string }[] = [];
      try {
        const r = await call<{ audiences: unknown[] }>('GET', '/v1/audiences');
        checks.push({ name: 'secret key', ok: true, message: `reached ${base}; ${r.audiences.length} audiences` });
      } catch (e) {
        checks.push({ name: 'secret key', ok: false, message: (e as Error).message });
      }
      try {
        await call('POST', '/v1/batch', { batch: [] }, 'write');
        checks.push({ name: 'write key', ok: true, message: 'accepted by the tracking API' });
      } catch (e) {
        // An empty batch is refused as invalid (400) only after the key was accepted; 401/403 mean the key is wrong.
        const accepted = e instanceof EngineError && e.status === 400;
        checks.push({ name: 'write key', ok: accepted, message: accepted ? 'accepted by the tracking API' : (e as Error).message });
      }
      return { ok: checks.every((c) => c.ok), checks };
    },
    postCatalog: (streamId: string, items: CatalogItemInput[], runId: string) =>
      call<{ upserted: number; deleted: number; ignored: number }>('POST', `/v1/catalog/${encodeURIComponent(streamId)}`, { items, run: { id: runId, source: 'strapi' } }),
    identify: (calls: Record<string, unknown>[]) => call('POST', '/v1/batch', { batch: calls }, 'write'),
    erase: (identifier: { type: string; value: string }) => call('POST', '/v1/profiles/erase', { identifier }),
  };
}

export type EngineClient = ReturnType<typeof createEngineClient>;
