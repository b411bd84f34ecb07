import { describe, expect, it } from 'vitest';
import { FetchError, type FetchRequest, type Logger } from '../../ports.ts';
import { createConnectorRuntime } from './runtime.ts';
import { type Connector, connectorSchema } from './schema.ts';

/**
 * Logic of the runtime with test doubles for the network and for time: a Fetch whose requests
 * the test answers (or never answers) by hand, and a clock with timers that move only when the
 * test advances them. The real HTTP stack is exercised in packages/server/test/connectors.
 */
function harness(options: { maxEntries?: number } = {}) {
  let now = 1_000_000;
  const timers: Array<{ at: number; fn: () => void; live: boolean }> = [];
  const requests: Array<{ request: FetchRequest; answer(status: number, body: string): void; fail(e: unknown): void }> = [];
  const logs: Array<Record<string, unknown>> = [];
  const logger: Logger = { debug() {}, info() {}, warn: (o) => void logs.push(o), error: (o) => void logs.push(o) };
  const rt = createConnectorRuntime({
    clock: { now: () => now, defer: (fn) => void Promise.resolve().then(fn) },
    timers: {
      setTimeout(fn, ms) {
        const t = { at: now + ms, fn, live: true };
        timers.push(t);
        return () => {
          t.live = false;
        };
      },
    },
    fetch: (request) =>
      new Promise((resolve, reject) => {
        requests.push({ request, answer: (status, body) => resolve({ status, body }), fail: reject });
      }),
    logger,
    ...options,
  });
  const flush = async () => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };
  return {
    rt,
    requests,
    logs,
    flush,
    /** Moves time on, firing due timers in order, and lets promise callbacks run. */
    async advance(ms: number) {
      const until = now + ms;
      for (;;) {
        const due = timers.filter((t) => t.live && t.at <= until).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        now = due.at;
        due.live = false;
        due.fn();
        await flush();
      }
      now = until;
      await flush();
    },
    /** Answers the latest request with JSON. */
    async answer(value: unknown, status = 200, index = requests.length - 1) {
      requests[index]?.answer(status, typeof value === 'string' ? value : JSON.stringify(value));
      await flush();
    },
  };
}

const priceConnector = (over: Record<string, unknown> = {}): Connector =>
  connectorSchema.parse({ id: 'price', name: 'Price', url: 'https://api.test/p/{{context.sku}}', outputs: { price: 'data.price' }, fallback: { price: 0 }, timeoutMs: 300, ...over });
const scope = (sku = 'A', auth = 'u1') => ({ profile: { traits: { token: auth } }, context: { sku } });

describe('connector runtime (test doubles for network and time)', () => {
  it('answers live, then from cache within the TTL, without a second request', async () => {
    const h = harness();
    const c = priceConnector({ cache: { ttlMs: 1000 } });
    const first = h.rt.call(c, scope());
    await h.flush();
    expect(h.requests[0]?.request).toMatchObject({ url: 'https://api.test/p/A', method: 'GET', timeoutMs: 300, maxBytes: 262_144, headers: { accept: 'application/json' } });
    await h.answer({ data: { price: 9 } });
    expect(await first).toMatchObject({ source: 'live', values: { price: 9 } });
    await h.advance(999);
    expect(await h.rt.call(c, scope())).toMatchObject({ source: 'cache', values: { price: 9 } });
    expect(h.requests).toHaveLength(1);
  });

  it('keeps the budget with its own timer when the port never answers, and the key is free again after it', async () => {
    const h = harness();
    const c = priceConnector();
    const hung = h.rt.call(c, scope());
    await h.advance(300);
    expect(await hung).toMatchObject({ source: 'fallback', values: { price: 0 }, error: { code: 'TIMEOUT', message: 'no answer within 300 ms' } });
    // The hung request is not joined forever: the next call sends a new one.
    const next = h.rt.call(c, scope());
    await h.flush();
    expect(h.requests).toHaveLength(2);
    await h.answer({ data: { price: 5 } });
    expect(await next).toMatchObject({ source: 'live', values: { price: 5 } });
    expect(h.rt.metrics().price).toMatchObject({ calls: 2, requests: 2, live: 1, timeouts: 1, fallbacks: 1, failures: { TIMEOUT: 1 } });
  });

  it('lets a late answer fill the cache for the next call', async () => {
    const h = harness();
    const c = priceConnector({ cache: { ttlMs: 5000 } });
    const slow = h.rt.call(c, scope());
    await h.advance(300);
    expect((await slow).source).toBe('fallback');
    await h.answer({ data: { price: 7 } }, 200, 0);
    expect(await h.rt.call(c, scope())).toMatchObject({ source: 'cache', values: { price: 7 } });
  });

  it('coalesces concurrent identical calls into one request', async () => {
    const h = harness();
    const c = priceConnector();
    const calls = [h.rt.call(c, scope()), h.rt.call(c, scope()), h.rt.call(c, scope('B'))];
    await h.flush();
    expect(h.requests.map((r) => r.request.url)).toEqual(['https://api.test/p/A', 'https://api.test/p/B']);
    await h.answer({ data: { price: 1 } }, 200, 0);
    await h.answer({ data: { price: 2 } }, 200, 1);
    expect((await Promise.all(calls)).map((r) => r.values.price)).toEqual([1, 1, 2]);
    expect(h.rt.metrics().price).toMatchObject({ calls: 3, requests: 2, live: 3 });
  });

  it('serves stale while one background refresh runs; a failed refresh keeps the stale value', async () => {
    const h = harness();
    const c = priceConnector({ cache: { ttlMs: 1000, staleWhileRevalidateMs: 5000 } });
    const first = h.rt.call(c, scope());
    await h.flush();
    await h.answer({ data: { price: 1 } });
    await first;
    await h.advance(1500);
    expect(await h.rt.call(c, scope())).toMatchObject({ source: 'stale', values: { price: 1 } });
    expect(await h.rt.call(c, scope())).toMatchObject({ source: 'stale', values: { price: 1 } });
    expect(h.requests).toHaveLength(2); // one refresh for both stale calls
    await h.answer('oops', 503);
    expect(await h.rt.call(c, scope())).toMatchObject({ source: 'stale', values: { price: 1 } });
    expect(h.requests).toHaveLength(3);
    await h.answer({ data: { price: 2 } });
    expect(await h.rt.call(c, scope())).toMatchObject({ source: 'cache', values: { price: 2 } });
    expect(h.rt.metrics().price).toMatchObject({ staleHits: 3, refreshFailures: 2, failures: {} });
  });

  it('falls back to the last good value of the same request, past TTL and stale window', async () => {
    const h = harness();
    const c = priceConnector({ cache: { ttlMs: 100, staleWhileRevalidateMs: 100 } });
    const first = h.rt.call(c, scope('A'));
    await h.flush();
    await h.answer({ data: { price: 4 } });
    await first;
    await h.advance(60_000);
    const a = h.rt.call(c, scope('A'));
    const b = h.rt.call(c, scope('B'));
    await h.flush();
    await h.answer('<html>', 200, 1);
    await h.answer('<html>', 200, 2);
    expect(await a).toMatchObject({ source: 'last-good', values: { price: 4 }, error: { code: 'BAD_RESPONSE', message: 'response is not JSON' } });
    expect(await b).toMatchObject({ source: 'fallback', values: { price: 0 }, error: { code: 'BAD_RESPONSE' } });
  });

  it('keys answers by headers too, so one visitor never gets an answer fetched with another one\'s credentials', async () => {
    const h = harness();
    const c = priceConnector({ headers: { Authorization: 'Bearer {{profile.traits.token}}' }, cache: { ttlMs: 60_000 } });
    const one = h.rt.call(c, scope('A', 'u1'));
    await h.flush();
    await h.answer({ data: { price: 1 } });
    await one;
    const two = h.rt.call(c, scope('A', 'u2'));
    await h.flush();
    expect(h.requests).toHaveLength(2);
    expect(h.requests[1]?.request.headers.authorization).toBe('Bearer u2');
    await h.answer({ data: { price: 2 } });
    expect((await two).values.price).toBe(2);
    expect(await h.rt.call(c, scope('A', 'u1'))).toMatchObject({ source: 'cache', values: { price: 1 } });
  });

  it('evicts the least recently used answer first', async () => {
    const h = harness({ maxEntries: 2 });
    const c = priceConnector();
    for (const [sku, price] of [['A', 1], ['B', 2]] as const) {
      const p = h.rt.call(c, scope(sku));
      await h.flush();
      await h.answer({ data: { price } });
      await p;
    }
    // A failing call for A still reads A (last good), which makes B the least recently used.
    const a = h.rt.call(c, scope('A'));
    await h.flush();
    await h.answer({}, 500);
    expect(await a).toMatchObject({ source: 'last-good', values: { price: 1 } });
    const cc = h.rt.call(c, scope('C'));
    await h.flush();
    await h.answer({ data: { price: 3 } });
    await cc;
    const results = [h.rt.call(c, scope('A')), h.rt.call(c, scope('B'))];
    await h.flush();
    await h.answer({}, 500, h.requests.length - 2);
    await h.answer({}, 500, h.requests.length - 1);
    expect((await Promise.all(results)).map((r) => r.source)).toEqual(['last-good', 'fallback']);
  });

  it('drops answers when invalidated, and a request in flight then cannot refill them', async () => {
    const h = harness();
    const c = priceConnector({ cache: { ttlMs: 60_000 } });
    const inFlight = h.rt.call(c, scope());
    await h.flush();
    h.rt.invalidate('price');
    await h.answer({ data: { price: 1 } });
    expect((await inFlight).values.price).toBe(1); // the caller still gets its answer
    const after = h.rt.call(c, scope());
    await h.flush();
    expect(h.requests).toHaveLength(2); // but it was not cached
    await h.answer({ data: { price: 2 } });
    expect((await after).values.price).toBe(2);
  });

  it('starts afresh when a connector definition changes under the same id', async () => {
    const h = harness();
    const v1 = priceConnector({ cache: { ttlMs: 60_000 } });
    const p = h.rt.call(v1, scope());
    await h.flush();
    await h.answer({ data: { price: 1, cost: 8 } });
    await p;
    expect((await h.rt.call(priceConnector({ cache: { ttlMs: 60_000 } }), scope())).source).toBe('cache'); // same definition, new object
    const v2 = priceConnector({ cache: { ttlMs: 60_000 }, outputs: { cost: 'data.cost' }, fallback: {} });
    const q = h.rt.call(v2, scope());
    await h.flush();
    await h.answer({ data: { price: 1, cost: 8 } });
    expect(await q).toMatchObject({ source: 'live', values: { cost: 8 } });
  });

  it('never lets an older request that lands late overwrite a newer answer', async () => {
    const h = harness();
    const c = priceConnector({ cache: { ttlMs: 60_000 } });
    const old = h.rt.call(c, scope());
    await h.advance(300); // budget passed, the key is free
    await old;
    const fresh = h.rt.call(c, scope());
    await h.flush();
    await h.answer({ data: { price: 2 } }, 200, 1);
    await fresh;
    await h.answer({ data: { price: 1 } }, 200, 0);
    expect(await h.rt.call(c, scope())).toMatchObject({ source: 'cache', values: { price: 2 } });
  });

  it.each([
    [new FetchError('TOO_LARGE', 'response over 10 bytes'), 'TOO_LARGE', 'response over 10 bytes'],
    [new FetchError('NETWORK', 'connection closed', { cause: new Error('ECONNRESET 10.0.0.7:443') }), 'NETWORK', 'connection closed'],
    [Object.assign(new Error('This operation was aborted'), { name: 'AbortError' }), 'TIMEOUT', 'the request was aborted'],
    [new TypeError('fetch failed for http://10.0.0.7/secret'), 'NETWORK', 'request failed'],
  ])('maps a port rejection %s to %s with a message that names no host', async (error, code, message) => {
    const h = harness();
    const p = h.rt.call(priceConnector(), scope());
    await h.flush();
    h.requests[0]?.fail(error);
    expect(await p).toMatchObject({ source: 'fallback', error: { code, message } });
    expect(JSON.stringify(h.logs[0])).toContain(code);
  });

  it.each([
    [{ data: {} }, 200, 'BAD_RESPONSE', 'response has no "data.price" (output "price")'],
    ['{"data": {"price": 4', 200, 'BAD_RESPONSE', 'response is not JSON'],
    ['', 204, 'BAD_RESPONSE', 'response is not JSON'],
    [{ data: { price: 1 } }, 302, 'HTTP_STATUS', 'upstream answered 302'],
    [`{"data":{"price":"${'é'.repeat(200)}"}}`, 200, 'TOO_LARGE', 'response over 300 bytes'],
  ])('records a bad answer %j (%i) as %s', async (body, status, code, message) => {
    const h = harness();
    const p = h.rt.call(priceConnector({ maxResponseBytes: 300 }), scope());
    await h.flush();
    await h.answer(body, status);
    expect(await p).toMatchObject({ source: 'fallback', error: { code, message } });
  });

  it('reports a template it cannot fill without sending anything', async () => {
    const h = harness();
    const r = await h.rt.call(priceConnector(), { profile: {}, context: {} });
    expect(r).toMatchObject({ source: 'fallback', values: { price: 0 }, error: { code: 'TEMPLATE', message: 'no value for {{context.sku}}' } });
    expect(h.requests).toHaveLength(0);
    expect(h.rt.metrics().price).toMatchObject({ calls: 1, requests: 0, failures: { TEMPLATE: 1 } });
  });

  it('logs failures with their detail at most once per interval, counting the rest', async () => {
    const h = harness();
    for (let i = 0; i < 5; i++) await h.rt.call(priceConnector(), { profile: {}, context: {} });
    expect(h.logs).toHaveLength(1);
    await h.advance(10_000);
    await h.rt.call(priceConnector(), { profile: {}, context: {} });
    expect(h.logs).toHaveLength(2);
    expect(h.logs[1]).toMatchObject({ connector: 'price', code: 'TEMPLATE', suppressed: 4 });
  });

  it('reports latency percentiles over the recent calls (nearest rank)', async () => {
    const h = harness();
    const c = priceConnector({ timeoutMs: 1000 });
    for (let ms = 1; ms <= 100; ms++) {
      const p = h.rt.call(c, scope(`S${ms}`));
      await h.advance(ms);
      await h.answer({ data: { price: ms } });
      await p;
    }
    expect(h.rt.metrics().price?.latencyMs).toEqual({ p50: 50, p95: 95, p99: 99, samples: 100 });
  });
});
