import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { type Connector, connectorSchema, createConnectorRuntime, type Logger } from '@attune/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeFetch, nodeTimers } from '../../src/decisions/fetch.ts';

/**
 * Upstreams that misbehave in ways a plain timeout on the headers would miss: a body that
 * trickles in past the budget, a socket that accepts and never speaks, a declared length far
 * over the limit, bytes that are not text, redirects into a slow path, a refused connection.
 * Each call still returns within its budget, and the trace message names no host.
 */
describe('connectors against hostile upstreams (real sockets)', () => {
  let server: Server;
  let silent: TcpServer;
  const sockets = new Set<Socket>();
  let base = '';
  let silentBase = '';
  const seen: Array<{ path: string; auth: string | undefined; body: string }> = [];
  let price = 1;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0] as string;
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ path, auth: req.headers.authorization, body });
        if (path === '/trickle') {
          // Headers at once, then one byte every 100 ms: only a budget on the whole exchange holds.
          res.writeHead(200, { 'content-type': 'application/json' });
          const text = '{"data":{"price":3}}';
          let i = 0;
          const t = setInterval(() => {
            if (res.destroyed || i >= text.length) {
              clearInterval(t);
              res.end();
              return;
            }
            res.write(text[i++] as string);
          }, 100);
          return;
        }
        if (path === '/declared-huge') {
          res.writeHead(200, { 'content-length': String(50_000_000) });
          res.write('{"data":');
          return; // never sends the rest: the port must refuse on the header alone
        }
        if (path === '/binary') {
          res.end(Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x80, 0x81]));
          return;
        }
        if (path === '/redirect-slow') {
          res.writeHead(302, { location: '/slow' }).end();
          return;
        }
        if (path === '/slow') {
          setTimeout(() => res.end(JSON.stringify({ data: { price } })), 1000);
          return;
        }
        if (path.startsWith('/echo')) {
          res.end(JSON.stringify({ data: { price, body: body === '' ? null : JSON.parse(body), auth: req.headers.authorization ?? null } }));
          return;
        }
        res.writeHead(404).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Accepts connections and never writes a byte.
    silent = createTcpServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    silentBase = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    for (const s of sockets) s.destroy();
    await Promise.all([new Promise((r) => server.close(r)), new Promise((r) => silent.close(r))]);
  });

  const logs: Array<Record<string, unknown>> = [];
  const logger: Logger = { debug() {}, info() {}, warn: (o) => void logs.push(o), error: (o) => void logs.push(o) };
  const runtime = (clock = { now: () => Date.now(), defer: setImmediate }) => createConnectorRuntime({ fetch: nodeFetch, timers: nodeTimers, clock, logger, logEveryMs: 0 });
  const connector = (url: string, over: Record<string, unknown> = {}): Connector =>
    connectorSchema.parse({ id: 'price', name: 'Price', url, outputs: { price: 'data.price' }, fallback: { price: 0 }, timeoutMs: 250, ...over });
  const scope = { profile: { traits: { token: 'u1' } }, context: { sku: 'A' } };

  async function timed<T>(p: Promise<T>): Promise<{ value: T; took: number }> {
    const started = Date.now();
    const value = await p;
    return { value, took: Date.now() - started };
  }

  it.each([
    ['a body that trickles in past the budget', '/trickle'],
    ['a redirect into a path that answers after 1 s', '/redirect-slow'],
  ])('stops waiting at the budget for %s', async (_, path) => {
    const { value, took } = await timed(runtime().call(connector(`${base}${path}`), scope));
    expect(value).toMatchObject({ source: 'fallback', values: { price: 0 }, error: { code: 'TIMEOUT' } });
    expect(took).toBeLessThan(1000); // did not wait for the upstream (the whole trickle takes 2 s)
  });

  it('stops waiting at the budget for a socket that accepts and never answers', async () => {
    const { value, took } = await timed(runtime().call(connector(`${silentBase}/x`), scope));
    expect(value).toMatchObject({ source: 'fallback', error: { code: 'TIMEOUT' } });
    expect(took).toBeLessThan(2000);
  });

  it('refuses a declared length over the limit without reading the body', async () => {
    const { value, took } = await timed(runtime().call(connector(`${base}/declared-huge`, { timeoutMs: 5000, maxResponseBytes: 1000 }), scope));
    expect(value).toMatchObject({ source: 'fallback', error: { code: 'TOO_LARGE', message: 'response over 1000 bytes' } });
    expect(took).toBeLessThan(5000); // the rest of the body never comes: it did not wait for it
  });

  it('records bytes that are not text as a bad response', async () => {
    const r = await runtime().call(connector(`${base}/binary`), scope);
    expect(r).toMatchObject({ source: 'fallback', error: { code: 'BAD_RESPONSE', message: 'response is not JSON' } });
  });

  it('records a refused connection as NETWORK, with the host only in the log', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    logs.length = 0;
    const r = await runtime().call(connector(`http://127.0.0.1:${port}/x`), scope);
    expect(r).toMatchObject({ source: 'fallback', error: { code: 'NETWORK' } });
    expect(JSON.stringify(r)).not.toContain('127.0.0.1');
    expect(String(logs[0]?.detail)).toContain('ECONNREFUSED');
  });

  it('sends JSON bodies whose values cannot break out of their strings', async () => {
    const hostile = { profile: { traits: { token: 'u1' } }, context: { sku: 'A", "admin": true, "x": "' } };
    const c = connector(`${base}/echo`, { method: 'POST', body: '{"sku": "{{context.sku}}", "raw": {{context.sku}}}', outputs: { body: 'data.body' }, fallback: {} });
    const r = await runtime().call(c, hostile);
    expect(r.values.body).toEqual({ sku: hostile.context.sku, raw: hostile.context.sku });
  });

  it('never serves an answer fetched with one visitor\'s credentials to another', async () => {
    const rt = runtime();
    const c = connector(`${base}/echo/{{context.sku}}`, { headers: { Authorization: 'Bearer {{profile.traits.token}}' }, outputs: { auth: 'data.auth' }, fallback: {}, cache: { ttlMs: 60_000 } });
    const a = await rt.call(c, scope);
    const b = await rt.call(c, { ...scope, profile: { traits: { token: 'u2' } } });
    const again = await rt.call(c, scope);
    expect([a.values.auth, b.values.auth, again.values.auth]).toEqual(['Bearer u1', 'Bearer u2', 'Bearer u1']);
    expect([a.source, b.source, again.source]).toEqual(['live', 'live', 'cache']);
  });

  it('coalesces a burst of identical calls to a slow upstream into one request, each within its budget', async () => {
    seen.length = 0;
    const rt = runtime();
    const c = connector(`${base}/slow`);
    const { value, took } = await timed(Promise.all(Array.from({ length: 20 }, () => rt.call(c, scope))));
    expect(value.every((r) => r.source === 'fallback' && r.error?.code === 'TIMEOUT')).toBe(true);
    expect(took).toBeLessThan(1000);
    expect(seen.filter((s) => s.path === '/slow')).toHaveLength(1);
    expect(rt.metrics().price).toMatchObject({ calls: 20, requests: 1, timeouts: 20, fallbacks: 20 });
  });

  it('answers stale at once while a slow refresh runs in the background, then serves the refreshed value', async () => {
    let now = 5_000_000;
    const rt = runtime({ now: () => now, defer: setImmediate });
    const c = connector(`${base}/slow`, { timeoutMs: 3000, cache: { ttlMs: 1000, staleWhileRevalidateMs: 60_000 } });
    price = 10;
    expect(await rt.call(c, scope)).toMatchObject({ source: 'live', values: { price: 10 } });
    price = 11;
    now += 2000;
    const { value, took } = await timed(rt.call(c, scope));
    expect(value).toMatchObject({ source: 'stale', values: { price: 10 } });
    expect(took).toBeLessThan(1000); // the refresh takes 1 s; the caller did not wait for it
    for (let i = 0; i < 40 && (await rt.call(c, scope)).source !== 'cache'; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await rt.call(c, scope)).toMatchObject({ source: 'cache', values: { price: 11 } });
    expect(rt.metrics().price).toMatchObject({ live: 1, requests: 2 });
  });
});
