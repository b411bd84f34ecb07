import type { Clock, Fetch, Logger, Timers } from '../../ports.ts';
import { type Connector, TEMPLATE_TOKEN } from './schema.ts';

export type ConnectorErrorCode = 'TIMEOUT' | 'HTTP_STATUS' | 'BAD_RESPONSE' | 'TEMPLATE' | 'NETWORK' | 'TOO_LARGE';

export interface ConnectorResult {
  id: string;
  values: Record<string, unknown>;
  /** live: fetched now; cache: fresh entry; stale: served while refreshing; last-good / fallback after a failure. */
  source: 'live' | 'cache' | 'stale' | 'last-good' | 'fallback';
  ms: number;
  error?: { code: ConnectorErrorCode; message: string };
}

export interface ConnectorMetrics {
  calls: number;
  live: number;
  cacheHits: number;
  staleHits: number;
  lastGood: number;
  fallbacks: number;
  timeouts: number;
  failures: Partial<Record<ConnectorErrorCode, number>>;
  latencyMs: { p50: number; p95: number; p99: number; samples: number };
}

export interface ConnectorRuntime {
  call(connector: Connector, scope: { profile: unknown; context: unknown }): Promise<ConnectorResult>;
  metrics(): Record<string, ConnectorMetrics>;
  /** Drops cached answers (of one connector, or all), e.g. after its definition changed. */
  invalidate(connectorId?: string): void;
}

export interface ConnectorRuntimeOptions {
  fetch: Fetch;
  clock: Clock;
  timers: Timers;
  logger?: Logger;
  /** Cached answers kept, across connectors (least recently used go first). Default 10,000. */
  maxEntries?: number;
}

class ConnectorError extends Error {
  constructor(
    readonly code: ConnectorErrorCode,
    message: string,
  ) {
    super(message);
  }
}

interface Entry {
  values: Record<string, unknown>;
  at: number;
}

const LATENCY_WINDOW = 1000;

/** Reads `a.b[0].c` (or `a.b.0.c`) from parsed JSON; undefined when absent. */
export function selectPath(root: unknown, path: string): unknown {
  let cur = root;
  for (const seg of path.replace(/\[(\d+)\]/g, '.$1').split('.')) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur as object, seg)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/** Fills `{{…}}` placeholders; `encode` turns a value into text (URL-encoded, JSON, or plain). */
export function renderTemplate(template: string, scope: Record<string, unknown>, encode: (v: unknown) => string): string {
  return template.replace(TEMPLATE_TOKEN, (_, path: string) => {
    const v = selectPath(scope, path);
    if (v === undefined || v === null || (typeof v === 'object' && encode !== JSON.stringify)) {
      throw new ConnectorError('TEMPLATE', `no value for {{${path}}}`);
    }
    return encode(v);
  });
}

export function createConnectorRuntime(options: ConnectorRuntimeOptions): ConnectorRuntime {
  const { fetch, clock, timers, logger } = options;
  const maxEntries = options.maxEntries ?? 10_000;
  const cache = new Map<string, Entry>();
  const lastGood = new Map<string, Entry>();
  const inflight = new Map<string, Promise<Record<string, unknown>>>();
  const stats = new Map<string, ConnectorMetrics & { samples: number[] }>();

  const metricsOf = (id: string) => {
    let m = stats.get(id);
    if (!m) {
      m = { calls: 0, live: 0, cacheHits: 0, staleHits: 0, lastGood: 0, fallbacks: 0, timeouts: 0, failures: {}, latencyMs: { p50: 0, p95: 0, p99: 0, samples: 0 }, samples: [] };
      stats.set(id, m);
    }
    return m;
  };
  const remember = (map: Map<string, Entry>, key: string, values: Record<string, unknown>) => {
    map.delete(key);
    map.set(key, { values, at: clock.now() });
    if (map.size > maxEntries) map.delete(map.keys().next().value as string);
  };

  async function fetchValues(c: Connector, key: string, request: { url: string; headers: Record<string, string>; body?: string }): Promise<Record<string, unknown>> {
    let pending = inflight.get(key);
    if (!pending) {
      pending = (async () => {
        let res: { status: number; body: string };
        try {
          res = await fetch({ url: request.url, method: c.method, headers: request.headers, ...(request.body !== undefined ? { body: request.body } : {}), timeoutMs: c.timeoutMs, maxBytes: c.maxResponseBytes });
        } catch (e) {
          if (e instanceof ConnectorError) throw e;
          const message = e instanceof Error ? e.message : String(e);
          throw new ConnectorError(/abort|timeout/i.test(message) ? 'TIMEOUT' : /too large/i.test(message) ? 'TOO_LARGE' : 'NETWORK', message);
        }
        if (res.status < 200 || res.status > 299) throw new ConnectorError('HTTP_STATUS', `upstream answered ${res.status}`);
        if (res.body.length > c.maxResponseBytes) throw new ConnectorError('TOO_LARGE', `response over ${c.maxResponseBytes} bytes`);
        let json: unknown;
        try {
          json = JSON.parse(res.body);
        } catch {
          throw new ConnectorError('BAD_RESPONSE', `response is not JSON (starts with ${JSON.stringify(res.body.slice(0, 40))})`);
        }
        const values: Record<string, unknown> = {};
        for (const [name, path] of Object.entries(c.outputs)) {
          const v = selectPath(json, path);
          if (v === undefined) throw new ConnectorError('BAD_RESPONSE', `response has no "${path}" (output "${name}")`);
          values[name] = v;
        }
        remember(cache, key, values);
        remember(lastGood, key, values);
        return values;
      })().finally(() => inflight.delete(key));
      inflight.set(key, pending);
    }
    return pending;
  }

  /** Races the live call against the budget; the call itself may finish later and fill the cache. */
  function withinBudget<T>(p: Promise<T>, ms: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const cancel = timers.setTimeout(() => reject(new ConnectorError('TIMEOUT', `no answer within ${ms} ms`)), ms);
      p.then(
        (v) => {
          cancel();
          resolve(v);
        },
        (e) => {
          cancel();
          reject(e);
        },
      );
    });
  }

  return {
    async call(c, scope) {
      const started = clock.now();
      const m = metricsOf(c.id);
      m.calls++;
      const done = (r: Omit<ConnectorResult, 'id' | 'ms'>): ConnectorResult => {
        const ms = clock.now() - started;
        m.samples.push(ms);
        if (m.samples.length > LATENCY_WINDOW) m.samples.shift();
        return { id: c.id, ms, ...r };
      };
      const s = scope as Record<string, unknown>;
      let key = `${c.id}\u0000?`;
      try {
        const url = renderTemplate(c.url, s, (v) => encodeURIComponent(String(v)));
        const headers: Record<string, string> = { accept: 'application/json' };
        for (const [h, t] of Object.entries(c.headers ?? {})) headers[h.toLowerCase()] = renderTemplate(t, s, String);
        const body = c.body !== undefined ? renderTemplate(c.body, s, JSON.stringify) : undefined;
        if (body !== undefined) headers['content-type'] ??= 'application/json';
        key = `${c.id}\u0000${url}\u0000${body ?? ''}`;
        const hit = cache.get(key);
        const age = hit ? clock.now() - hit.at : Number.POSITIVE_INFINITY;
        const ttl = c.cache?.ttlMs ?? 0;
        if (hit && age < ttl) {
          m.cacheHits++;
          return done({ values: hit.values, source: 'cache' });
        }
        const request = { url, headers, ...(body !== undefined ? { body } : {}) };
        if (hit && age < ttl + (c.cache?.staleWhileRevalidateMs ?? 0)) {
          m.staleHits++;
          fetchValues(c, key, request).catch((e: ConnectorError) => {
            m.failures[e.code] = (m.failures[e.code] ?? 0) + 1;
            logger?.warn({ connector: c.id, code: e.code, error: e.message }, 'connector refresh failed');
          });
          return done({ values: hit.values, source: 'stale' });
        }
        const values = await withinBudget(fetchValues(c, key, request), c.timeoutMs);
        m.live++;
        return done({ values, source: 'live' });
      } catch (e) {
        const err = e instanceof ConnectorError ? e : new ConnectorError('NETWORK', String(e));
        m.failures[err.code] = (m.failures[err.code] ?? 0) + 1;
        if (err.code === 'TIMEOUT') m.timeouts++;
        const error = { code: err.code, message: err.message };
        // Per request, never per connector: another SKU's price is not a good answer for this one.
        const good = lastGood.get(key);
        if (good) {
          m.lastGood++;
          return done({ values: good.values, source: 'last-good', error });
        }
        m.fallbacks++;
        return done({ values: { ...(c.fallback ?? {}) }, source: 'fallback', error });
      }
    },
    metrics() {
      const out: Record<string, ConnectorMetrics> = {};
      for (const [id, m] of stats) {
        const sorted = [...m.samples].sort((a, b) => a - b);
        const pct = (p: number) => (sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number));
        const { samples: _s, ...rest } = m;
        out[id] = { ...rest, failures: { ...m.failures }, latencyMs: { p50: pct(0.5), p95: pct(0.95), p99: pct(0.99), samples: sorted.length } };
      }
      return out;
    },
    invalidate(connectorId) {
      for (const map of [cache, lastGood]) {
        for (const key of [...map.keys()]) if (connectorId === undefined || key.startsWith(`${connectorId}\u0000`)) map.delete(key);
      }
    },
  };
}
