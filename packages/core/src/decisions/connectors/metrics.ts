export type ConnectorErrorCode = 'TIMEOUT' | 'HTTP_STATUS' | 'BAD_RESPONSE' | 'TEMPLATE' | 'NETWORK' | 'TOO_LARGE' | 'FORBIDDEN';

/** One connector's counters since the runtime started, and its latency over the recent calls. */
export interface ConnectorMetrics {
  /** Calls of `call()`, whatever they returned. */
  calls: number;
  /** Requests sent upstream: fewer than calls when answers come from cache or calls coalesce. */
  requests: number;
  /** Calls answered by a live request. */
  live: number;
  cacheHits: number;
  staleHits: number;
  lastGood: number;
  fallbacks: number;
  /** Calls that hit the latency budget (also counted in `failures.TIMEOUT`). */
  timeouts: number;
  /** Calls that returned an error, by code. */
  failures: Partial<Record<ConnectorErrorCode, number>>;
  /** Stale hits whose background refresh (stale-while-revalidate) failed; those callers got the stale value. */
  refreshFailures: number;
  /** What callers waited, in ms, over the last LATENCY_WINDOW calls (nearest-rank percentiles). */
  latencyMs: { p50: number; p95: number; p99: number; samples: number };
}

export const LATENCY_WINDOW = 1024;

export type ConnectorStats = Omit<ConnectorMetrics, 'latencyMs'> & {
  recordLatency(ms: number): void;
  fail(code: ConnectorErrorCode): void;
  snapshot(): ConnectorMetrics;
};

export function createConnectorStats(): ConnectorStats {
  // A ring buffer: recording is O(1) on every call; sorting happens only when metrics are read.
  const window = new Float64Array(LATENCY_WINDOW);
  let count = 0;
  const stats: ConnectorStats = {
    calls: 0,
    requests: 0,
    live: 0,
    cacheHits: 0,
    staleHits: 0,
    lastGood: 0,
    fallbacks: 0,
    timeouts: 0,
    failures: {},
    refreshFailures: 0,
    recordLatency(ms) {
      window[count % LATENCY_WINDOW] = ms;
      count++;
    },
    fail(code) {
      stats.failures[code] = (stats.failures[code] ?? 0) + 1;
      if (code === 'TIMEOUT') stats.timeouts++;
    },
    snapshot() {
      const n = Math.min(count, LATENCY_WINDOW);
      const sorted = window.slice(0, n).sort();
      const pct = (p: number) => (n === 0 ? 0 : (sorted[Math.max(0, Math.ceil(p * n) - 1)] as number));
      const { recordLatency: _r, fail: _f, snapshot: _s, ...counters } = stats;
      return { ...counters, failures: { ...stats.failures }, latencyMs: { p50: pct(0.5), p95: pct(0.95), p99: pct(0.99), samples: n } };
    },
  };
  return stats;
}
