import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, expectError, expectHealthy, type Harness, STORE_KINDS, startHarness, uid, WRITE_KEY } from './harness.ts';

interface HostileCase {
  name: string;
  path: string;
  body: string | Uint8Array;
  headers?: Record<string, string>;
  status: number;
  code: string;
  /** A path the error must name. */
  issue?: string;
  /** Text the error message must contain. */
  message?: string;
}

const track = (extra: string) => `{"anonymousId":"a","event":"X",${extra}}`;
const bytes = (...parts: Array<string | number[]>) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

const cases: HostileCase[] = [
  {
    name: 'a 33 KB track call',
    path: '/v1/track',
    body: JSON.stringify({ anonymousId: 'a', event: 'X', properties: { blob: 'x'.repeat(33 * 1024) } }),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    message: '32768',
  },
  {
    name: 'a 600 KB batch',
    path: '/v1/batch',
    body: JSON.stringify({
      batch: Array.from({ length: 30 }, () => ({ type: 'track', anonymousId: 'a', event: 'X', properties: { blob: 'x'.repeat(20 * 1024) } })),
    }),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    message: '512000',
  },
  {
    name: 'a gzip bomb (10 MB of zeros in 10 KB)',
    path: '/v1/track',
    body: gzipSync(Buffer.alloc(10 * 1024 * 1024, 0x20)),
    headers: { 'content-encoding': 'gzip' },
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  { name: 'gzip header on a plain body', path: '/v1/track', body: track('"x":1'), headers: { 'content-encoding': 'gzip' }, status: 400, code: 'VALIDATION', message: 'gzip' },
  { name: 'an unsupported Content-Encoding', path: '/v1/track', body: track('"x":1'), headers: { 'content-encoding': 'br' }, status: 400, code: 'VALIDATION', message: 'br' },
  {
    name: 'arrays nested 10,000 levels deep',
    path: '/v1/track',
    body: track(`"properties":{"x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`),
    status: 400,
    code: 'VALIDATION',
    message: 'nested',
  },
  {
    name: 'objects nested 10,000 levels deep in a batch',
    path: '/v1/batch',
    body: `{"batch":[{"type":"track","anonymousId":"a","event":"X","properties":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}]}`,
    status: 400,
    code: 'VALIDATION',
    message: 'nested',
  },
  {
    name: 'a 30 KB event name',
    path: '/v1/track',
    body: JSON.stringify({ anonymousId: 'a', event: 'E'.repeat(30_000) }),
    status: 400,
    code: 'VALIDATION',
    issue: 'event',
  },
  {
    name: 'a 100 KB string inside a batch call',
    path: '/v1/batch',
    body: JSON.stringify({ batch: [{ type: 'track', anonymousId: 'a', event: 'X', properties: { s: 'y'.repeat(100_000) } }] }),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    issue: 'batch[0]',
  },
  {
    name: 'a 10,000-character userId',
    path: '/v1/identify',
    body: JSON.stringify({ userId: 'u'.repeat(10_000) }),
    status: 400,
    code: 'VALIDATION',
    issue: 'userId',
  },
  { name: 'a top-level __proto__ key', path: '/v1/track', body: track('"__proto__":{"polluted":true}'), status: 400, code: 'VALIDATION', issue: '__proto__' },
  {
    name: 'a nested __proto__ key',
    path: '/v1/identify',
    body: '{"userId":"u","traits":{"a":{"__proto__":{"polluted":true}}}}',
    status: 400,
    code: 'VALIDATION',
    issue: 'traits.a.__proto__',
  },
  {
    name: 'a constructor.prototype key',
    path: '/v1/identify',
    body: '{"userId":"u","traits":{"constructor":{"prototype":{"polluted":true}}}}',
    status: 400,
    code: 'VALIDATION',
    issue: 'traits.constructor',
  },
  {
    name: '__proto__ inside a batch call',
    path: '/v1/batch',
    body: '{"batch":[{"type":"track","anonymousId":"a","event":"X","properties":{"__proto__":{"polluted":true}}}]}',
    status: 400,
    code: 'VALIDATION',
    issue: 'batch[0].properties.__proto__',
  },
  { name: 'an invalid UTF-8 byte', path: '/v1/track', body: bytes('{"anonymousId":"a","event":"', [0xff, 0xfe], '"}'), status: 400, code: 'VALIDATION', message: 'UTF-8' },
  { name: 'an overlong UTF-8 encoding', path: '/v1/track', body: bytes('{"anonymousId":"a","event":"', [0xc0, 0xaf], '"}'), status: 400, code: 'VALIDATION', message: 'UTF-8' },
  { name: 'a UTF-8-encoded surrogate', path: '/v1/track', body: bytes('{"anonymousId":"a","event":"', [0xed, 0xa0, 0x80], '"}'), status: 400, code: 'VALIDATION', message: 'UTF-8' },
  { name: 'a truncated UTF-8 sequence', path: '/v1/track', body: bytes('{"anonymousId":"a","event":"', [0xe2, 0x82], '"}'), status: 400, code: 'VALIDATION', message: 'UTF-8' },
  { name: 'an escaped NUL character', path: '/v1/track', body: '{"anonymousId":"a","event":"X\\u0000Y"}', status: 400, code: 'VALIDATION', issue: 'event' },
  { name: 'a NUL in a trait key', path: '/v1/identify', body: '{"userId":"u","traits":{"a\\u0000b":1}}', status: 400, code: 'VALIDATION' },
  { name: 'a raw NUL byte', path: '/v1/track', body: bytes('{"anonymousId":"a","event":"X', [0x00], '"}'), status: 400, code: 'VALIDATION', message: 'JSON' },
  { name: 'an unpaired surrogate escape', path: '/v1/track', body: '{"anonymousId":"a","event":"\\ud800"}', status: 400, code: 'VALIDATION', issue: 'event' },
  { name: 'a number too large to be finite', path: '/v1/track', body: track('"properties":{"n":1e400}'), status: 400, code: 'VALIDATION', issue: 'properties.n' },
  { name: 'a JSON array', path: '/v1/track', body: '[{"anonymousId":"a","event":"X"}]', status: 400, code: 'VALIDATION' },
  { name: 'a JSON string', path: '/v1/track', body: '"track me"', status: 400, code: 'VALIDATION' },
  { name: 'a JSON number', path: '/v1/identify', body: '42', status: 400, code: 'VALIDATION' },
  { name: 'JSON null', path: '/v1/page', body: 'null', status: 400, code: 'VALIDATION' },
  { name: 'a batch that is an array', path: '/v1/batch', body: '[{"type":"track","anonymousId":"a","event":"X"}]', status: 400, code: 'VALIDATION' },
  { name: 'a batch whose batch is not an array', path: '/v1/batch', body: '{"batch":{"type":"track"}}', status: 400, code: 'VALIDATION', issue: 'batch' },
  { name: 'an empty body', path: '/v1/track', body: '', status: 400, code: 'VALIDATION', message: 'empty' },
  { name: 'a whitespace body', path: '/v1/batch', body: '  \n ', status: 400, code: 'VALIDATION', message: 'empty' },
  { name: 'truncated JSON', path: '/v1/track', body: '{"anonymousId":"a","event":', status: 400, code: 'VALIDATION', message: 'not valid JSON' },
  { name: 'a trailing comma', path: '/v1/track', body: '{"anonymousId":"a","event":"X",}', status: 400, code: 'VALIDATION', message: 'not valid JSON' },
  {
    name: 'a form-encoded body',
    path: '/v1/track',
    body: 'anonymousId=a&event=X',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 400,
    code: 'VALIDATION',
    message: 'Content-Type',
  },
  { name: 'an XML body', path: '/v1/batch', body: '<batch/>', headers: { 'content-type': 'application/xml' }, status: 400, code: 'VALIDATION', message: 'Content-Type' },
  {
    name: 'a non-UTF-8 charset',
    path: '/v1/track',
    body: track('"x":1'),
    headers: { 'content-type': 'application/json; charset=iso-8859-1' },
    status: 400,
    code: 'VALIDATION',
    message: 'charset',
  },
];

describe.each(STORE_KINDS)('hostile requests on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind);
  });
  afterAll(() => h.close());

  it.each(cases.map((c) => [c.name, c] as const))('%s → clear 4xx, server still healthy', async (_name, c) => {
    const res = await fetch(h.url + c.path, {
      method: 'POST',
      headers: { authorization: basicAuth(WRITE_KEY), 'content-type': 'application/json', ...c.headers },
      body: c.body,
    });
    const body = await expectError(res, c.status, c.code);
    if (c.issue) expect(body.error.issues.map((i) => i.path)).toContain(c.issue);
    if (c.message) expect(body.error.message).toContain(c.message);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await expectHealthy(h);
  });

  it('refuses an oversized body sent without Content-Length (chunked) as it streams in', async () => {
    const chunk = new TextEncoder().encode(`{"batch":[${'{"type":"track","anonymousId":"a","event":"X"},'.repeat(2000)}`);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 10) {
          controller.close();
          return;
        }
        sent++;
        controller.enqueue(chunk);
      },
    });
    const res = await fetch(`${h.url}/v1/batch`, {
      method: 'POST',
      headers: { authorization: basicAuth(WRITE_KEY), 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    await expectError(res, 413, 'PAYLOAD_TOO_LARGE');
    await expectHealthy(h);
  });

  it('survives a client that disconnects in the middle of its body', async () => {
    const { port } = new URL(h.url);
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          `POST /v1/batch HTTP/1.1\r\nHost: x\r\nAuthorization: ${basicAuth(WRITE_KEY)}\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"batch":[`,
        );
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 50);
      });
      socket.on('error', reject);
    });
    await expectHealthy(h);
  });

  it('answers 400 for a path with broken percent-encoding', async () => {
    const res = await h.admin('/v1/profiles/%E0%A4%A');
    await expectError(res, 400, 'VALIDATION');
    await expectHealthy(h);
  });

  it('keeps answering while hostile and valid requests interleave', async () => {
    const anonymousId = uid('mixed');
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        i % 3 === 0
          ? h.track('/v1/track', { anonymousId, event: 'Fine' })
          : fetch(`${h.url}/v1/track`, {
              method: 'POST',
              headers: { authorization: basicAuth(WRITE_KEY), 'content-type': 'application/json' },
              body: i % 3 === 1 ? bytes([0xff, 0xff]) : `${'['.repeat(5000)}`,
            }),
      ),
    );
    expect(answers.map((r) => r.status)).toEqual(Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? 200 : 400)));
    const p = await h.adminJson<{ computed: { eventCounts: Record<string, number> } }>(`/v1/profiles?anonymousId=${anonymousId}`);
    expect(p.body.computed.eventCounts.Fine).toBe(10);
  });
});
