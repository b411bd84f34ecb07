import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Engine, type Logger, silentLogger } from '@attune/core';
import { createTestPostgresDatabase } from '@attune/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientBucket } from '../../src/http/rate-limit.ts';
import { createApp, ensureKey, type StartServerOptions, startServer } from '../../src/index.ts';
import {
  basicAuth,
  bearerAuth,
  expectError,
  type Harness,
  SECRET_KEY,
  STORE_KINDS,
  type StoreKind,
  startHarness,
  uid,
  WRITE_KEY,
} from './harness.ts';

/** Where a store lives, so a test can start a server on it twice. */
async function storeLocation(kind: StoreKind): Promise<{ options: Partial<StartServerOptions>; cleanup(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'attune-http-'));
  const db = kind === 'postgres' ? await createTestPostgresDatabase() : undefined;
  return {
    options: { dataDir, ...(db ? { databaseUrl: db.url } : {}) },
    async cleanup() {
      rmSync(dataDir, { recursive: true, force: true });
      await db?.drop();
    },
  };
}

function listenApp(app: ReturnType<typeof createApp>): Promise<{ url: string; server: Server }> {
  return new Promise((resolve) => {
    const server = createServer(app).listen(0, '127.0.0.1', () => {
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server });
    });
  });
}

function recordingLogger() {
  const lines: Array<{ level: string; obj: Record<string, unknown>; msg?: string | undefined }> = [];
  const at =
    (level: string) =>
    (obj: Record<string, unknown>, msg?: string): void => {
      lines.push({ level, obj, msg });
    };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

describe.each(STORE_KINDS)('server on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind);
  });
  afterAll(() => h.close());

  it('answers /health without auth', async () => {
    const res = await fetch(`${h.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', store: kind });
  });

  it('serves an OpenAPI 3.1 document with every endpoint, generated from the schemas', async () => {
    const res = await fetch(`${h.url}/v1/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    const doc = JSON.parse(await res.text()) as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> }; security?: unknown[] }>>;
      components: { schemas: Record<string, Record<string, unknown>>; securitySchemes: Record<string, { type: string; scheme: string }> };
    };
    expect(doc.openapi).toBe('3.1.0');
    const expected: Array<[string, string]> = [
      ['/v1/track', 'post'],
      ['/v1/identify', 'post'],
      ['/v1/page', 'post'],
      ['/v1/screen', 'post'],
      ['/v1/group', 'post'],
      ['/v1/alias', 'post'],
      ['/v1/batch', 'post'],
      ['/v1/import', 'post'],
      ['/v1/profiles', 'get'],
      ['/v1/profiles/{profileId}', 'get'],
      ['/v1/profiles/{profileId}/events', 'get'],
      ['/v1/profiles/records', 'post'],
      ['/v1/orders/import', 'post'],
      ['/v1/keys', 'get'],
      ['/v1/keys', 'post'],
      ['/v1/keys/{id}', 'delete'],
      ['/health', 'get'],
      ['/v1/openapi.json', 'get'],
    ];
    for (const [path, method] of expected) expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    for (const [path, method] of expected.filter(([, m]) => m === 'post')) {
      expect(doc.paths[path]?.[method]?.requestBody?.content['application/json']?.schema, path).toBeDefined();
    }
    for (const [path, method] of [
      ['/v1/segment-groups', 'post'],
      ['/v1/segment-groups/{id}', 'put'],
      ['/v1/audiences', 'post'],
      ['/v1/audiences/{id}', 'delete'],
      ['/v1/audiences/{id}/members', 'get'],
      ['/v1/audiences/{id}/export', 'get'],
      ['/v1/audiences/preview', 'post'],
      ['/v1/audiences/evaluate', 'post'],
      ['/v1/profiles/{profileId}/audiences', 'get'],
      ['/v1/activations', 'post'],
      ['/v1/activations/{id}/dead-letters/{letterId}/replay', 'post'],
      ['/v1/experiences', 'post'],
      ['/v1/offers/{id}', 'put'],
      ['/v1/decision-tables', 'get'],
      ['/v1/decision-models/{id}', 'delete'],
      ['/v1/connectors', 'post'],
      ['/v1/experiments/{id}/results', 'get'],
      ['/v1/config', 'put'],
    ] as const) {
      expect(doc.paths[path]?.[method]?.security, `${method} ${path}`).toEqual([{ secretKey: [] }]);
    }
    expect(doc.paths['/v1/audiences']?.post?.requestBody?.content['application/json']?.schema).toEqual({ $ref: '#/components/schemas/AudienceInput' });
    expect(doc.paths['/v1/decide']?.post?.security).toEqual([{ writeKey: [] }, { secretKey: [] }]);
    expect(doc.paths['/v1/decide']?.post?.requestBody?.content['application/json']?.schema).toEqual({ $ref: '#/components/schemas/DecideRequest' });
    expect(Object.keys((doc.components.schemas.ExperienceInput as { properties: object }).properties)).toEqual(
      expect.arrayContaining(['id', 'targeting', 'variants', 'priority', 'schedule']),
    );
    expect(doc.components.securitySchemes.writeKey).toMatchObject({ type: 'http', scheme: 'basic' });
    expect(doc.components.securitySchemes.secretKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.paths['/v1/track']?.post?.security).toEqual(expect.arrayContaining([{ writeKey: [] }]));
    expect(doc.paths['/v1/keys']?.get?.security).toEqual([{ secretKey: [] }]);

    const track = doc.components.schemas.Track as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(track.properties)).toEqual(expect.arrayContaining(['event', 'userId', 'anonymousId', 'properties', 'timestamp']));
    expect(track.required).toEqual(['event']);
    expect(doc.components.schemas.OrderCompletedProperties).toBeDefined();
    expect(doc.components.schemas.ProfileRecord).toBeDefined();
    expect(doc.components.schemas.OrderHistoryRow).toBeDefined();

    // Every reference points at a component that exists.
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1] as string);
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of refs) {
      expect(ref.startsWith('#/components/schemas/'), ref).toBe(true);
      expect(doc.components.schemas[ref.slice('#/components/schemas/'.length)], ref).toBeDefined();
    }
  });

  it('answers unknown routes with 404 JSON', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['POST', '/v1/nope'],
      ['DELETE', '/v1/track'],
    ] as const) {
      const res = await fetch(h.url + path, { method, headers: { authorization: basicAuth(WRITE_KEY) } });
      const body = await expectError(res, 404, 'NOT_FOUND');
      expect(body.error.message).toContain(path);
    }
  });

  it('starts on an empty store with generated keys, and keeps them across restarts', async () => {
    const location = await storeLocation(kind);
    try {
      const first = await startServer({ port: 0, host: '127.0.0.1', logger: silentLogger, ...location.options });
      const { secret, write } = first.generatedKeys;
      expect(secret).toMatch(/^sk_/);
      expect(write).toMatch(/^wk_/);
      const anonymousId = uid('restart');
      const tracked = await fetch(`${first.url}/v1/track`, {
        method: 'POST',
        headers: { authorization: basicAuth(write as string), 'content-type': 'application/json' },
        body: JSON.stringify({ anonymousId, event: 'Before Restart' }),
      });
      expect(tracked.status).toBe(200);
      await first.close();

      const second = await startServer({ port: 0, host: '127.0.0.1', logger: silentLogger, ...location.options });
      try {
        expect(second.generatedKeys).toEqual({});
        const res = await fetch(`${second.url}/v1/profiles?anonymousId=${anonymousId}`, { headers: { authorization: bearerAuth(secret as string) } });
        expect(res.status).toBe(200);
        expect(((await res.json()) as { computed: { eventCounts: Record<string, number> } }).computed.eventCounts['Before Restart']).toBe(1);
      } finally {
        await second.close();
      }
    } finally {
      await location.cleanup();
    }
  });

  it('registers configured keys once, however often the server starts', async () => {
    const location = await storeLocation(kind);
    try {
      for (let i = 0; i < 2; i++) {
        const s = await startServer({ port: 0, host: '127.0.0.1', logger: silentLogger, secretKey: SECRET_KEY, writeKey: WRITE_KEY, ...location.options });
        try {
          expect(s.generatedKeys).toEqual({});
          const list = await fetch(`${s.url}/v1/keys`, { headers: { authorization: bearerAuth(SECRET_KEY) } });
          const { keys } = (await list.json()) as { keys: Array<{ kind: string; prefix: string }> };
          expect(keys.map((k) => `${k.kind}:${k.prefix}`).sort()).toEqual([`secret:${SECRET_KEY.slice(0, 8)}`, `write:${WRITE_KEY.slice(0, 8)}`]);
          // A configured key cannot change kind.
          await expect(ensureKey(s.store, 'write', SECRET_KEY, 'x')).rejects.toMatchObject({ code: 'CONFLICT' });
        } finally {
          await s.close();
        }
      }
    } finally {
      await location.cleanup();
    }
  });

  it('close() stops accepting, lets an in-flight batch finish and commit, then closes the store', async () => {
    const location = await storeLocation(kind);
    try {
      const s = await startServer({ port: 0, host: '127.0.0.1', logger: silentLogger, writeKey: WRITE_KEY, secretKey: SECRET_KEY, ...location.options });
      const anonymousId = uid('drain');
      const body = Buffer.from(
        JSON.stringify({ batch: Array.from({ length: 100 }, (_, i) => ({ type: 'track', anonymousId, event: 'Drained', messageId: `${anonymousId}-${i}` })) }),
      );
      const socket = connect(s.port, '127.0.0.1');
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      const answer = new Promise<string>((resolve) => {
        let text = '';
        socket.on('data', (d: Buffer) => {
          text += d.toString();
        });
        socket.on('close', () => resolve(text));
      });
      socket.write(
        `POST /v1/batch HTTP/1.1\r\nHost: x\r\nAuthorization: ${basicAuth(WRITE_KEY)}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
      );
      socket.write(body.subarray(0, 100));
      await new Promise((r) => setTimeout(r, 50));

      let closed = false;
      const closing = s.close().then(() => {
        closed = true;
      });
      await new Promise((r) => setTimeout(r, 100));
      // No new connections, but the request in flight is still being served.
      await expect(fetch(`${s.url}/health`)).rejects.toThrow();
      expect(closed).toBe(false);

      socket.write(body.subarray(100));
      const text = await answer;
      expect(text.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
      expect(text).toContain('"accepted":100');
      await closing;
      expect(closed).toBe(true);

      const again = await startServer({ port: 0, host: '127.0.0.1', logger: silentLogger, ...location.options });
      try {
        const res = await fetch(`${again.url}/v1/profiles?anonymousId=${anonymousId}`, { headers: { authorization: bearerAuth(SECRET_KEY) } });
        expect(((await res.json()) as { computed: { eventCounts: Record<string, number> } }).computed.eventCounts.Drained).toBe(100);
      } finally {
        await again.close();
      }
    } finally {
      await location.cleanup();
    }
  });

  it('answers 429 with Retry-After past a configured rate limit, per key', async () => {
    const limited = await startHarness(kind, { rateLimit: { windowMs: 60_000, max: 3 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await limited.track('/v1/track', { anonymousId: uid('rl'), event: 'X' })).status);
      expect(statuses).toEqual([200, 200, 200]);
      const res = await limited.track('/v1/track', { anonymousId: uid('rl'), event: 'X' });
      const body = await expectError(res, 429, 'RATE_LIMITED');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(body.error.message).toContain('3');
      // The secret key has its own bucket.
      expect((await limited.admin('/v1/keys')).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe('app internals', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('sqlite');
  });
  afterAll(() => h.close());

  it('turns an unexpected error into a logged 500 that reveals nothing, and keeps serving', async () => {
    const { logger, lines } = recordingLogger();
    const failing: Engine = {
      ...h.server.engine,
      ingestCall: () => Promise.reject(new Error('disk on fire at /var/secret/path')),
      ingestBatch: () => {
        throw new TypeError('sync failure');
      },
    };
    const { url, server } = await listenApp(createApp({ engine: failing, store: h.server.store, logger }));
    try {
      const post = (path: string, body: unknown) =>
        fetch(url + path, { method: 'POST', headers: { authorization: basicAuth(WRITE_KEY), 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const res = await post('/v1/track', { anonymousId: 'a', event: 'X' });
      const body = await expectError(res, 500, 'INTERNAL');
      expect(JSON.stringify(body)).not.toContain('disk on fire');
      await expectError(await post('/v1/batch', { batch: [{ type: 'track', anonymousId: 'a', event: 'X' }] }), 500, 'INTERNAL');
      const errors = lines.filter((l) => l.level === 'error');
      expect(errors).toHaveLength(2);
      expect(JSON.stringify(errors[0]?.obj)).toContain('disk on fire');
      expect((await fetch(`${url}/health`)).status).toBe(200);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('counts write-key requests per client address; behind a trusted proxy, per forwarded address', async () => {
    const { url, server } = await listenApp(
      createApp({ engine: h.server.engine, store: h.server.store, rateLimit: { windowMs: 60_000, max: 2 }, trustProxy: 1 }),
    );
    try {
      const from = (ip: string) =>
        fetch(`${url}/v1/track`, {
          method: 'POST',
          headers: { authorization: basicAuth(WRITE_KEY), 'content-type': 'application/json', 'x-forwarded-for': ip },
          body: JSON.stringify({ anonymousId: uid('proxy'), event: 'X' }),
        });
      const a = [await from('203.0.113.1'), await from('203.0.113.1'), await from('203.0.113.1')].map((r) => r.status);
      expect(a).toEqual([200, 200, 429]);
      // Another visitor of the same site (same public write key) is not throttled by the first.
      expect((await from('203.0.113.2')).status).toBe(200);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('serves /v1/decide beside Express with the same headers, limiter (one bucket with the Express routes, per forwarded address) and error answers', async () => {
    const { logger, lines } = recordingLogger();
    let fail = false;
    const engine: Engine = {
      ...h.server.engine,
      decide: (raw, options) => (fail ? Promise.reject(new Error('decision store exploded at /var/secret')) : h.server.engine.decide(raw, options)),
    };
    const { url, server } = await listenApp(createApp({ engine, store: h.server.store, logger, rateLimit: { windowMs: 60_000, max: 5 }, trustProxy: 1 }));
    try {
      const decide = (body: string, headers: Record<string, string> = {}) =>
        fetch(`${url}/v1/decide?source=test`, {
          method: 'POST',
          headers: { authorization: basicAuth(WRITE_KEY), 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.7', ...headers },
          body,
        });
      const ok = await decide(JSON.stringify({ anonymousId: uid('fast'), slots: ['hero'] }));
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ decisions: { hero: expect.objectContaining({ reason: expect.any(String) }) } });
      for (const res of [ok, await decide('{"anonymousId": ', {}), await decide('{}', { authorization: 'Bearer nope' })]) {
        expect(res.headers.get('access-control-allow-origin')).toBe('*');
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
        expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      }
      expect(ok.headers.get('ratelimit-policy')).toBe('5;w=60');
      // Malformed JSON: a 400 naming the problem; a wrong content type: a 400 with Accept-Post.
      await expectError(await decide('{"anonymousId": '), 400, 'VALIDATION');
      const wrongType = await decide('x', { 'content-type': 'application/xml' });
      await expectError(wrongType, 400, 'VALIDATION');
      expect(wrongType.headers.get('accept-post')).toContain('application/json');
      // Over the body limit: 413 before the body is read.
      await expectError(await decide(JSON.stringify({ anonymousId: 'x', context: { pad: 'x'.repeat(70_000) } })), 413, 'PAYLOAD_TOO_LARGE');
      // The sixth authenticated request from this address in the window is refused (an unknown key is refused before it counts); the Express routes share the bucket.
      const limited = await decide(JSON.stringify({ anonymousId: uid('fast') }));
      await expectError(limited, 429, 'RATE_LIMITED');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      const viaExpress = await fetch(`${url}/v1/track`, {
        method: 'POST',
        headers: { authorization: basicAuth(WRITE_KEY), 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.7' },
        body: JSON.stringify({ anonymousId: uid('fast'), event: 'X' }),
      });
      expect(viaExpress.status).toBe(429);
      // Another address is its own bucket.
      expect((await decide(JSON.stringify({ anonymousId: uid('fast'), slots: ['hero'] }), { 'x-forwarded-for': '203.0.113.8' })).status).toBe(200);
      // A server fault: a logged 500 that reveals nothing; the server keeps serving.
      fail = true;
      const broken = await decide(JSON.stringify({ anonymousId: uid('fast') }), { 'x-forwarded-for': '203.0.113.9' });
      expect(JSON.stringify(await expectError(broken, 500, 'INTERNAL'))).not.toContain('exploded');
      expect(JSON.stringify(lines.filter((l) => l.level === 'error'))).toContain('exploded');
      // Other methods and paths still reach Express: preflight, 404.
      const preflight = await fetch(`${url}/v1/decide`, { method: 'OPTIONS' });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
      await expectError(await fetch(`${url}/v1/decide`), 404, 'NOT_FOUND');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('buckets client addresses: IPv4 as is, IPv4-mapped IPv6 as IPv4, IPv6 by its /56 prefix', () => {
    expect(clientBucket('203.0.113.7')).toBe('203.0.113.7');
    expect(clientBucket('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientBucket('2001:db8:1234:5678::1')).toBe('2001:db8:1234:5600::/56');
    expect(clientBucket('2001:db8:1234:56ff:ffff::9')).toBe(clientBucket('2001:db8:1234:5601::1'));
    expect(clientBucket('2001:db8:1234:5700::1')).not.toBe(clientBucket('2001:db8:1234:5601::1'));
    expect(clientBucket('::1')).toBe('0:0:0:0::/56');
  });

  it('answers /health with 503 while closing', async () => {
    const { url, server } = await listenApp(createApp({ engine: h.server.engine, store: h.server.store, isClosing: () => true }));
    try {
      const res = await fetch(`${url}/health`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: 'closing', store: 'sqlite' });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('logs one line per request, tracking at debug and admin at info, without keys, bodies or query strings', async () => {
    const { logger, lines } = recordingLogger();
    const { url, server } = await listenApp(createApp({ engine: h.server.engine, store: h.server.store, logger }));
    try {
      const email = `${uid('private')}@example.com`;
      await fetch(`${url}/v1/identify`, {
        method: 'POST',
        headers: { authorization: basicAuth(WRITE_KEY), 'content-type': 'application/json' },
        body: JSON.stringify({ userId: uid('u'), traits: { email, secretNote: 'body-content-marker' } }),
      });
      await fetch(`${url}/v1/profiles?email=${encodeURIComponent(email)}`, { headers: { authorization: bearerAuth(SECRET_KEY) } });
      await fetch(`${url}/v1/track`, { method: 'POST', headers: { authorization: basicAuth('wk_wrong_key') }, body: '{}' });
      await new Promise((r) => setTimeout(r, 20));
      const requests = lines.filter((l) => l.msg === 'request');
      expect(requests.map((l) => [l.level, l.obj.method, l.obj.path, l.obj.status])).toEqual([
        ['debug', 'POST', '/v1/identify', 200],
        ['info', 'GET', '/v1/profiles', 200],
        ['debug', 'POST', '/v1/track', 401],
      ]);
      expect(typeof requests[0]?.obj.ms).toBe('number');
      expect(typeof requests[0]?.obj.keyId).toBe('string');
      const all = JSON.stringify(lines);
      for (const secret of [WRITE_KEY, SECRET_KEY, 'wk_wrong_key', email, encodeURIComponent(email), 'body-content-marker', 'Basic ', 'Bearer ']) {
        expect(all).not.toContain(secret);
      }
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
