import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Connector, connectorSchema, createConnectorRuntime } from '@attune/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeFetch, nodeTimers } from '../../src/decisions/fetch.ts';

/**
 * External data connectors against a real local HTTP server that answers well, slowly, with
 * errors, with garbage, or hangs up: the budget holds and the decision always gets a value.
 */
describe('connectors against a real HTTP server', () => {
  let server: Server;
  let base = '';
  const hits = new Map<string, number>();
  let price = 42;
  let failing = false;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0] as string;
      hits.set(path, (hits.get(path) ?? 0) + 1);
      if (path.startsWith('/price/') && failing) {
        res.statusCode = 502;
        res.end();
        return;
      }
      if (path.startsWith('/price/')) {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ data: { sku: decodeURIComponent(path.slice(7)), price, items: [{ stock: 3 }] }, echo: body, auth: req.headers.authorization ?? null }));
        });
        return;
      }
      if (path === '/slow') {
        setTimeout(() => res.end(JSON.stringify({ data: { price: 1 } })), 1500);
        return;
      }
      if (path === '/error') {
        res.statusCode = 500;
        res.end('{"error":"boom"}');
        return;
      }
      if (path === '/html') {
        res.end('<html>not json</html>');
        return;
      }
      if (path === '/truncated') {
        res.end('{"data": {"price": 4');
        return;
      }
      if (path === '/huge') {
        res.end(`{"data":"${'x'.repeat(2_000_000)}"}`);
        return;
      }
      if (path === '/hangup') {
        req.socket.destroy();
        return;
      }
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const connector = (over: Record<string, unknown>): Connector =>
    connectorSchema.parse({ id: 'price', name: 'price', url: `${base}/price/{{context.sku}}`, outputs: { price: 'data.price' }, fallback: { price: 0 }, timeoutMs: 300, ...over });
  const runtime = () => createConnectorRuntime({ fetch: nodeFetch, timers: nodeTimers, clock: { now: () => Date.now(), defer: setImmediate } });
  const scope = (sku = 'SKU 1/é') => ({ profile: { traits: { tier: 'gold' } }, context: { sku } });

  it('fills the URL template (percent-encoded), maps the response by path, and sends templated headers and bodies', async () => {
    const rt = runtime();
    const r = await rt.call(connector({ outputs: { price: 'data.price', sku: 'data.sku', stock: 'data.items[0].stock' } }), scope());
    expect(r).toMatchObject({ source: 'live', values: { price: 42, sku: 'SKU 1/é', stock: 3 } });
    const post = await rt.call(
      connector({ method: 'POST', body: '{"tier": {{profile.traits.tier}}}', headers: { Authorization: 'Bearer {{profile.traits.tier}}' }, outputs: { echo: 'echo', auth: 'auth' }, fallback: {} }),
      scope(),
    );
    expect(post.values).toEqual({ echo: '{"tier": "gold"}', auth: 'Bearer gold' });
  });

  it('keeps the latency budget against a slow server and answers with the fallback', async () => {
    const rt = runtime();
    const started = Date.now();
    const r = await rt.call(connector({ url: `${base}/slow`, timeoutMs: 150 }), scope());
    const took = Date.now() - started;
    expect(r).toMatchObject({ source: 'fallback', values: { price: 0 }, error: { code: 'TIMEOUT' } });
    expect(took).toBeLessThan(1500); // did not wait for the slow answer
    expect(rt.metrics().price).toMatchObject({ calls: 1, timeouts: 1, fallbacks: 1 });
  });

  it.each([
    ['/error', 'HTTP_STATUS'],
    ['/html', 'BAD_RESPONSE'],
    ['/truncated', 'BAD_RESPONSE'],
    ['/huge', 'TOO_LARGE'],
    ['/hangup', 'NETWORK'],
  ])('records %s as %s and still answers', async (path, code) => {
    const rt = runtime();
    const r = await rt.call(connector({ url: `${base}${path}`, timeoutMs: 2000, maxResponseBytes: 100_000 }), scope());
    expect(r).toMatchObject({ source: 'fallback', values: { price: 0 }, error: { code } });
    expect(rt.metrics().price?.failures[code as 'NETWORK']).toBe(1);
  });

  it('serves the last good value when the upstream starts failing', async () => {
    const rt = runtime();
    const good = connector({});
    expect((await rt.call(good, scope('A'))).values.price).toBe(price);
    failing = true;
    try {
      const r = await rt.call(good, scope('A'));
      expect(r).toMatchObject({ source: 'last-good', values: { price }, error: { code: 'HTTP_STATUS' } });
      // Another request of the same connector has no good answer of its own: the fallback.
      expect(await rt.call(good, scope('B'))).toMatchObject({ source: 'fallback', values: { price: 0 } });
    } finally {
      failing = false;
    }
  });

  it('caches within the TTL, serves stale while revalidating in the background, and coalesces identical calls', async () => {
    let now = 1_000_000;
    const rt = createConnectorRuntime({ fetch: nodeFetch, timers: nodeTimers, clock: { now: () => now, defer: setImmediate } });
    const c = connector({ cache: { ttlMs: 1000, staleWhileRevalidateMs: 5000 } });
    hits.clear();
    price = 10;
    const [a, b] = await Promise.all([rt.call(c, scope('C')), rt.call(c, scope('C'))]);
    expect([a.values.price, b.values.price]).toEqual([10, 10]);
    expect(hits.get('/price/C')).toBe(1); // one request for two concurrent calls
    now += 500;
    price = 11;
    expect(await rt.call(c, scope('C'))).toMatchObject({ source: 'cache', values: { price: 10 } });
    now += 1000; // past the TTL, within stale-while-revalidate
    expect(await rt.call(c, scope('C'))).toMatchObject({ source: 'stale', values: { price: 10 } });
    await new Promise((r) => setTimeout(r, 100)); // the background refresh lands
    expect(hits.get('/price/C')).toBe(2);
    expect(await rt.call(c, scope('C'))).toMatchObject({ source: 'cache', values: { price: 11 } });
    now += 10_000; // past both: a live call
    price = 12;
    expect(await rt.call(c, scope('C'))).toMatchObject({ source: 'live', values: { price: 12 } });
    expect(rt.metrics().price).toMatchObject({ cacheHits: 2, staleHits: 1 });
  });

  it('reports a missing template value as a TEMPLATE error, never calling "undefined"', async () => {
    const rt = runtime();
    hits.clear();
    const r = await rt.call(connector({}), { profile: {}, context: {} });
    expect(r).toMatchObject({ source: 'fallback', error: { code: 'TEMPLATE' } });
    expect(hits.size).toBe(0);
  });

  it('validates connector definitions with the node at fault', () => {
    const bad = connectorSchema.safeParse({ id: 'x', name: 'x', url: 'ftp://a/{{secrets.key}}', outputs: { p: 'a..b' } });
    expect(bad.success).toBe(false);
    const paths = bad.error?.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['url', 'outputs.p']));
  });
});
