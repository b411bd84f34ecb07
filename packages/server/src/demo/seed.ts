import { DEMO_DEFAULTS, type DemoBatchOptions, generateDemoBatches } from './generator.ts';

export interface SeedDemoOptions extends DemoBatchOptions {
  /** Base URL of a running Attune server, e.g. http://localhost:4000. */
  url: string;
  writeKey: string;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** Attempts per batch on network errors, 429 and 5xx (default 6). Repeats are safe: messageIds are fixed. */
  attempts?: number;
  fetch?: typeof fetch;
  onProgress?: (progress: SeedProgress) => void;
  signal?: AbortSignal;
}

export interface SeedProgress {
  visitors: number;
  visitorsDone: number;
  /** Calls acknowledged by the server so far. */
  events: number;
  orders: number;
  batches: number;
  elapsedMs: number;
}

export interface SeedDemoResult {
  /** Calls sent and acknowledged. */
  events: number;
  /** Calls stored now; the rest were already there (a repeated seed is a no-op). */
  accepted: number;
  duplicates: number;
  visitors: number;
  orders: number;
  batches: number;
  elapsedMs: number;
  eventsPerSecond: number;
}

export class SeedError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'SeedError';
  }
}

/**
 * Sends the demo data set through the real ingestion path: POST /v1/batch with the write key,
 * a few requests in flight, retrying what the server could not take yet.
 */
export async function seedDemo(options: SeedDemoOptions): Promise<SeedDemoResult> {
  const doFetch = options.fetch ?? fetch;
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const attempts = Math.max(1, options.attempts ?? 6);
  const visitors = options.visitors ?? DEMO_DEFAULTS.visitors;
  const endpoint = new URL('/v1/batch', options.url).toString();
  const authorization = `Basic ${btoa(`${options.writeKey}:`)}`;
  const started = performance.now();
  const progress: SeedProgress = { visitors, visitorsDone: 0, events: 0, orders: 0, batches: 0, elapsedMs: 0 };
  let accepted = 0;
  let duplicates = 0;

  async function send(body: string, calls: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      options.signal?.throwIfAborted();
      let retryAfterMs = 250 * 2 ** (attempt - 1);
      let problem: string;
      try {
        const res = await doFetch(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization },
          body,
          ...(options.signal ? { signal: options.signal } : {}),
        });
        const text = await res.text();
        if (res.ok) {
          const answer = JSON.parse(text) as { accepted?: number; duplicates?: number };
          accepted += answer.accepted ?? calls;
          duplicates += answer.duplicates ?? 0;
          return;
        }
        problem = `${res.status} ${errorMessage(text)}`;
        if (res.status !== 429 && res.status < 500) throw new SeedError(`POST ${endpoint} failed: ${problem}`, res.status);
        const retryAfter = Number(res.headers.get('retry-after'));
        if (Number.isFinite(retryAfter) && retryAfter > 0) retryAfterMs = retryAfter * 1000;
      } catch (error) {
        if (error instanceof SeedError || options.signal?.aborted) throw error;
        problem = error instanceof Error ? `${error.message}${error.cause ? ` (${String(error.cause)})` : ''}` : String(error);
      }
      if (attempt >= attempts) throw new SeedError(`POST ${endpoint} failed after ${attempts} attempts: ${problem}`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(retryAfterMs, 10_000)));
    }
  }

  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;
  for (const batch of generateDemoBatches(options)) {
    if (failure) break;
    if (batch.calls.length === 0) continue;
    const body = JSON.stringify({ batch: batch.calls, sentAt: new Date().toISOString() });
    const task = send(body, batch.calls.length).then(
      () => {
        progress.events += batch.calls.length;
        progress.batches += 1;
        progress.visitorsDone = Math.max(progress.visitorsDone, batch.visitorsDone);
        progress.orders = Math.max(progress.orders, batch.orders);
        progress.elapsedMs = performance.now() - started;
        options.onProgress?.({ ...progress });
      },
      (error: unknown) => {
        failure ??= error;
      },
    );
    const tracked = task.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    if (inFlight.size >= concurrency) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (failure) throw failure;

  const elapsedMs = performance.now() - started;
  progress.visitorsDone = visitors;
  return {
    events: progress.events,
    accepted,
    duplicates,
    visitors,
    orders: progress.orders,
    batches: progress.batches,
    elapsedMs,
    eventsPerSecond: elapsedMs > 0 ? Math.round((progress.events / elapsedMs) * 1000) : progress.events,
  };
}

function errorMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { message?: string; code?: string }; message?: string };
    return body.error?.message ?? body.message ?? text.slice(0, 300);
  } catch {
    return text.slice(0, 300);
  }
}
