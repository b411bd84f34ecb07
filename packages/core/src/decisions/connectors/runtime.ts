import { type Clock, type Fetch, FetchError, type Logger, silentLogger, type Timers } from '../../ports.ts';
import { utf8Length } from '../../protocol/limits.ts';
import { createLruCache } from './cache.ts';
import { type ConnectorErrorCode, type ConnectorMetrics, type ConnectorStats, createConnectorStats } from './metrics.ts';
import type { Connector } from './schema.ts';
import { renderTemplate, selectPath, TemplateError } from './template.ts';

export type { ConnectorErrorCode, ConnectorMetrics } from './metrics.ts';

export interface ConnectorResult {
  id: string;
  values: Record<string, unknown>;
  /** live: fetched now; cache: fresh entry; stale: served while refreshing; last-good / fallback after a failure. */
  source: 'live' | 'cache' | 'stale' | 'last-good' | 'fallback';
  /** What the caller waited. */
  ms: number;
  /** Why the values are not live: safe to show in a trace (no hosts, bodies or scope values). */
  error?: { code: ConnectorErrorCode; message: string };
}

export interface ConnectorRuntime {
  /** Never rejects for a failing upstream or a bad template: the result says what happened. */
  call(connector: Connector, scope: { profile: unknown; context: unknown }): Promise<ConnectorResult>;
  metrics(): Record<string, ConnectorMetrics>;
  /** Drops cached answers and in-flight requests (of one connector, or all). */
  invalidate(connectorId?: string): void;
}

export interface ConnectorRuntimeOptions {
  fetch: Fetch;
  clock: Clock;
  timers: Timers;
  logger?: Logger;
  /** Answers kept, across connectors (least recently used go first). Default 10,000. */
  maxEntries?: number;
  /** Failures are logged at most once per connector per this many ms, with a count of the rest. Default 10,000. */
  logEveryMs?: number;
}

class ConnectorError extends Error {
  constructor(
    readonly code: ConnectorErrorCode,
    message: string,
    /** For the operator's log only: may name hosts or quote the upstream. */
    readonly detail?: string,
  ) {
    super(message);
  }
}

type Values = Record<string, unknown>;

/**
 * One answer per request. Fresh within the TTL, stale within TTL + stale-while-revalidate, and
 * after that still the last good value for that request when a live call fails.
 */
interface Entry {
  values: Values;
  /** When the answer arrived: its age counts from here. */
  at: number;
  /** When its request started: an older request landing late never overwrites a newer answer. */
  startedAt: number;
}

interface RenderedRequest {
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export function createConnectorRuntime(options: ConnectorRuntimeOptions): ConnectorRuntime {
  const { fetch, clock, timers } = options;
  const logger = options.logger ?? silentLogger;
  const logEveryMs = options.logEveryMs ?? 10_000;
  const entries = createLruCache<Entry>(options.maxEntries ?? 10_000);
  const inflight = new Map<string, Promise<Values>>();
  const stats = new Map<string, ConnectorStats>();
  // Bumped by invalidate(): a request started before must not fill the cache after.
  let epoch = 0;
  const generations = new Map<string, number>();
  // A connector whose definition changed (new outputs, URL, …) starts afresh; checked once per object.
  const definitions = new Map<string, string>();
  const seen = new WeakSet<Connector>();
  const logState = new Map<string, { at: number; suppressed: number }>();

  const statsOf = (id: string) => {
    let s = stats.get(id);
    if (!s) stats.set(id, (s = createConnectorStats()));
    return s;
  };
  const generation = (id: string) => `${epoch}/${generations.get(id) ?? 0}`;

  function noteDefinition(c: Connector): void {
    if (seen.has(c)) return;
    seen.add(c);
    const json = JSON.stringify(c);
    const before = definitions.get(c.id);
    definitions.set(c.id, json);
    if (before !== undefined && before !== json) invalidate(c.id);
  }

  function invalidate(connectorId?: string): void {
    if (connectorId === undefined) epoch++;
    else generations.set(connectorId, (generations.get(connectorId) ?? 0) + 1);
    const prefix = connectorId === undefined ? '' : `${connectorId}\u0000`;
    for (const key of [...entries.keys()]) if (key.startsWith(prefix)) entries.delete(key);
    for (const key of [...inflight.keys()]) if (key.startsWith(prefix)) inflight.delete(key);
  }

  function render(c: Connector, scope: unknown): RenderedRequest {
    const url = renderTemplate(c.url, scope, 'url');
    const headers: Record<string, string> = { accept: 'application/json' };
    for (const [name, t] of Object.entries(c.headers ?? {})) headers[name.toLowerCase()] = renderTemplate(t, scope, 'header');
    if (c.body === undefined) return { url, headers };
    headers['content-type'] ??= 'application/json';
    return { url, headers, body: renderTemplate(c.body, scope, 'json') };
  }

  /**
   * Everything that can change the answer: headers too, since they may carry the visitor's
   * credentials. Header order is the definition's, fixed for a given connector.
   */
  function keyOf(c: Connector, r: RenderedRequest): string {
    let headers = '';
    for (const h in r.headers) headers += `${h}:${r.headers[h]}\n`;
    return `${c.id}\u0000${c.method} ${r.url}\u0000${headers}\u0000${r.body ?? ''}`;
  }

  async function request(c: Connector, r: RenderedRequest): Promise<Values> {
    let res: { status: number; body: string };
    try {
      res = await fetch({ url: r.url, method: c.method, headers: r.headers, ...(r.body !== undefined ? { body: r.body } : {}), timeoutMs: c.timeoutMs, maxBytes: c.maxResponseBytes });
    } catch (e) {
      throw fromPort(e);
    }
    if (res.status < 200 || res.status > 299) throw new ConnectorError('HTTP_STATUS', `upstream answered ${res.status}`);
    // The port should stop reading past maxBytes; this is the core's own check (UTF-16 length ≤ UTF-8 bytes).
    if (res.body.length > c.maxResponseBytes || (res.body.length * 3 > c.maxResponseBytes && utf8Length(res.body) > c.maxResponseBytes)) {
      throw new ConnectorError('TOO_LARGE', `response over ${c.maxResponseBytes} bytes`);
    }
    let json: unknown;
    try {
      json = JSON.parse(res.body);
    } catch (e) {
      throw new ConnectorError('BAD_RESPONSE', 'response is not JSON', `${(e as Error).message}; starts with ${JSON.stringify(res.body.slice(0, 80))}`);
    }
    const values: Values = {};
    for (const [name, path] of Object.entries(c.outputs)) {
      const v = selectPath(json, path);
      if (v === undefined) throw new ConnectorError('BAD_RESPONSE', `response has no "${path}" (output "${name}")`);
      values[name] = v;
    }
    return values;
  }

  /** One request per key at a time: concurrent calls and background refreshes share it. */
  function load(c: Connector, key: string, r: RenderedRequest, s: ConnectorStats): Promise<Values> {
    const pending = inflight.get(key);
    if (pending) return pending;
    const startedAt = clock.now();
    const gen = generation(c.id);
    s.requests++;
    const p = request(c, r).then((values) => {
      const prev = entries.peek(key);
      if (generation(c.id) === gen && (!prev || prev.startedAt <= startedAt)) entries.set(key, { values, at: clock.now(), startedAt });
      return values;
    });
    inflight.set(key, p);
    // The port is not trusted to give up: past the budget the key is free for a new request,
    // while this one may still land and fill the cache for the next call.
    const release = () => {
      if (inflight.get(key) === p) inflight.delete(key);
    };
    const cancel = timers.setTimeout(release, c.timeoutMs);
    const settle = () => {
      cancel();
      release();
    };
    p.then(settle, settle);
    return p;
  }

  /** Races the request against the caller's budget with the core's own timer. */
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

  /** Failures are logged with their detail, at most once per connector per `logEveryMs`. */
  function logFailure(id: string, err: ConnectorError, background: boolean): void {
    const now = clock.now();
    const state = logState.get(id);
    if (state && now - state.at < logEveryMs) {
      state.suppressed++;
      return;
    }
    logState.set(id, { at: now, suppressed: 0 });
    logger.warn(
      { connector: id, code: err.code, error: err.message, ...(err.detail ? { detail: err.detail } : {}), ...(background ? { background } : {}), suppressed: state?.suppressed ?? 0 },
      'connector call failed',
    );
  }

  async function call(c: Connector, scope: { profile: unknown; context: unknown }): Promise<ConnectorResult> {
    const started = clock.now();
    const s = statsOf(c.id);
    s.calls++;
    const finish = (r: Omit<ConnectorResult, 'id' | 'ms'>): ConnectorResult => {
      const ms = clock.now() - started;
      s.recordLatency(ms);
      return { id: c.id, ms, ...r };
    };
    let key: string | undefined;
    try {
      noteDefinition(c);
      const r = render(c, scope);
      key = keyOf(c, r);
      const hit = entries.get(key);
      if (hit) {
        const age = clock.now() - hit.at;
        const ttl = c.cache?.ttlMs ?? 0;
        if (age < ttl) {
          s.cacheHits++;
          return finish({ values: hit.values, source: 'cache' });
        }
        if (age < ttl + (c.cache?.staleWhileRevalidateMs ?? 0)) {
          s.staleHits++;
          load(c, key, r, s).catch((e: unknown) => {
            s.refreshFailures++;
            logFailure(c.id, toConnectorError(e), true);
          });
          return finish({ values: hit.values, source: 'stale' });
        }
      }
      const values = await withinBudget(load(c, key, r, s), c.timeoutMs);
      s.live++;
      return finish({ values, source: 'live' });
    } catch (e) {
      const err = toConnectorError(e);
      s.fail(err.code);
      logFailure(c.id, err, false);
      const error = { code: err.code, message: err.message };
      // Per request, never per connector: another SKU's price is not a good answer for this one.
      // A request never answered before (or a template that cannot be filled) gets the fallback.
      const good = key === undefined ? undefined : entries.peek(key);
      if (good) {
        s.lastGood++;
        return finish({ values: good.values, source: 'last-good', error });
      }
      s.fallbacks++;
      return finish({ values: { ...(c.fallback ?? {}) }, source: 'fallback', error });
    }
  }

  return {
    call,
    metrics() {
      const out: Record<string, ConnectorMetrics> = {};
      for (const [id, s] of stats) out[id] = s.snapshot();
      return out;
    },
    invalidate,
  };
}

function toConnectorError(e: unknown): ConnectorError {
  if (e instanceof ConnectorError) return e;
  if (e instanceof TemplateError) return new ConnectorError('TEMPLATE', e.message);
  return new ConnectorError('NETWORK', 'unexpected error', describe(e));
}

/** A port's rejection: FetchError carries its code; an abort by any other name is a timeout. */
function fromPort(e: unknown): ConnectorError {
  if (e instanceof FetchError) return new ConnectorError(e.code, e.message, describe(e.cause));
  const name = e instanceof Error ? e.name : '';
  if (name === 'TimeoutError' || name === 'AbortError') return new ConnectorError('TIMEOUT', 'the request was aborted', describe(e));
  return new ConnectorError('NETWORK', 'request failed', describe(e));
}

/** An error and its causes, one line, for logs. */
function describe(e: unknown): string | undefined {
  const parts: string[] = [];
  for (let cur = e, depth = 0; cur !== undefined && cur !== null && depth < 4; depth++) {
    parts.push(cur instanceof Error ? `${cur.name}: ${cur.message}` : String(cur));
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return parts.length === 0 ? undefined : parts.join(' <- ');
}
