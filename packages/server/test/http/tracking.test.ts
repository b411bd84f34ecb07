import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, expectError, type Harness, SECRET_KEY, STORE_KINDS, startHarness, uid, WRITE_KEY } from './harness.ts';

interface ProtocolCase {
  name: string;
  type: string;
  body?: unknown;
  /** The body as JSON text, for keys a JSON loader would not keep (__proto__). */
  raw?: string;
  ok: boolean;
  status: number;
  issues?: string[];
}
const protocolCases = (
  JSON.parse(readFileSync(new URL('../../../core/spec/protocol-cases.json', import.meta.url), 'utf8')) as { cases: ProtocolCase[] }
).cases;

describe.each(STORE_KINDS)('tracking API on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind);
  });
  afterAll(() => h.close());

  const profile = async (query: string) => {
    const { status, body } = await h.adminJson<{ id: string; traits: Record<string, unknown>; computed: { eventCounts: Record<string, number>; orderCount: number } }>(
      `/v1/profiles?${query}`,
    );
    expect(status).toBe(200);
    return body;
  };

  it('accepts every Segment call type with Basic auth and answers after the commit', async () => {
    const userId = uid('user');
    const anonymousId = uid('anon');
    const calls: Array<[string, Record<string, unknown>]> = [
      ['/v1/identify', { userId, anonymousId, traits: { email: `${userId}@example.com`, plan: 'pro' } }],
      ['/v1/track', { userId, event: 'Newsletter Opened', properties: { edition: 3 } }],
      ['/v1/page', { userId, name: 'Home', properties: { path: '/', url: 'https://shop.test/' } }],
      ['/v1/screen', { userId, name: 'Cart' }],
      ['/v1/group', { userId, groupId: uid('acme'), traits: { name: 'Acme' } }],
      ['/v1/alias', { previousId: anonymousId, userId }],
    ];
    for (const [path, body] of calls) {
      const res = await h.track(path, body);
      expect(res.status, path).toBe(200);
      expect(await res.json()).toEqual({ success: true, accepted: 1, duplicates: 0, dropped: 0 });
    }
    const p = await profile(`userId=${userId}`);
    expect(p.traits).toMatchObject({ plan: 'pro' });
    expect(p.computed.eventCounts).toMatchObject({ 'Newsletter Opened': 1, 'Page Viewed': 1, 'Screen Viewed': 1 });
  });

  it('accepts /v1/batch and /v1/import (Segment’s alias) with batch-level context', async () => {
    const userId = uid('batch-user');
    for (const path of ['/v1/batch', '/v1/import']) {
      const res = await h.track(path, {
        context: { library: { name: 'analytics-node' } },
        batch: [
          { type: 'identify', userId, traits: { tier: 'gold' }, messageId: uid('m') },
          { type: 'track', userId, event: 'Product Viewed', properties: { product_id: 'p1' }, messageId: uid('m') },
        ],
      });
      expect(res.status, path).toBe(200);
      expect(await res.json()).toEqual({ success: true, accepted: 2, duplicates: 0, dropped: 0 });
    }
    const p = await profile(`userId=${userId}`);
    expect(p.computed.eventCounts['Product Viewed']).toBe(2);
    expect(p.traits.tier).toBe('gold');
  });

  it('accepts the one-letter paths analytics.js posts to', async () => {
    const anonymousId = uid('ajs');
    expect((await h.track('/v1/t', { anonymousId, event: 'Short Path' })).status).toBe(200);
    expect((await h.track('/v1/p', { anonymousId, name: 'Landing' })).status).toBe(200);
    expect((await h.track('/v1/b', { batch: [{ type: 'track', anonymousId, event: 'Short Path' }] })).status).toBe(200);
    const p = await profile(`anonymousId=${anonymousId}`);
    expect(p.computed.eventCounts).toMatchObject({ 'Short Path': 2, 'Page Viewed': 1 });
  });

  it('accepts a text/plain body with the writeKey in it (sendBeacon) and never stores the key', async () => {
    const anonymousId = uid('beacon');
    const res = await fetch(`${h.url}/v1/track`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify({ writeKey: WRITE_KEY, anonymousId, event: 'Beacon Sent' }),
    });
    expect(res.status).toBe(200);
    const p = await profile(`anonymousId=${anonymousId}`);
    const events = await h.adminJson<{ events: Array<{ message: Record<string, unknown> }> }>(`/v1/profiles/${p.id}/events`);
    expect(events.body.events).toHaveLength(1);
    expect(JSON.stringify(events.body.events[0])).not.toContain(WRITE_KEY);
    expect(events.body.events[0]?.message.writeKey).toBeUndefined();
  });

  it('accepts writeKey in a batch body', async () => {
    const res = await fetch(`${h.url}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ writeKey: WRITE_KEY, batch: [{ type: 'track', anonymousId: uid('b'), event: 'Beacon Batch' }] }),
    });
    expect(res.status).toBe(200);
  });

  it('accepts an analytics.js batch with the writeKey in every call, and stores none of them', async () => {
    const anonymousId = uid('ajs-batch');
    const res = await fetch(`${h.url}/v1/b`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({
        batch: [
          { type: 'page', anonymousId, writeKey: WRITE_KEY, name: 'Home', _metadata: { bundled: ['Segment.io'] } },
          { type: 'track', anonymousId, writeKey: WRITE_KEY, event: 'Clicked' },
        ],
        sentAt: new Date().toISOString(),
      }),
    });
    expect(res.status).toBe(200);
    const p = await profile(`anonymousId=${anonymousId}`);
    const events = await h.adminJson<{ events: unknown[] }>(`/v1/profiles/${p.id}/events`);
    expect(events.body.events).toHaveLength(2);
    expect(JSON.stringify(events.body)).not.toContain(WRITE_KEY);
  });

  it('accepts the secret key on the tracking API too', async () => {
    const res = await h.track('/v1/track', { anonymousId: uid('s'), event: 'Server Side' }, { headers: { authorization: basicAuth(SECRET_KEY) } });
    expect(res.status).toBe(200);
  });

  it('accepts gzip- and deflate-encoded bodies', async () => {
    const anonymousId = uid('gz');
    const body = JSON.stringify({ batch: [{ type: 'track', anonymousId, event: 'Zipped' }, { type: 'track', anonymousId, event: 'Zipped' }] });
    const res = await fetch(`${h.url}/v1/batch`, {
      method: 'POST',
      headers: { authorization: basicAuth(WRITE_KEY), 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(body),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: 2 });
    const { deflateSync } = await import('node:zlib');
    const res2 = await fetch(`${h.url}/v1/track`, {
      method: 'POST',
      headers: { authorization: basicAuth(WRITE_KEY), 'content-type': 'application/json', 'content-encoding': 'deflate' },
      body: deflateSync(JSON.stringify({ anonymousId, event: 'Zipped' })),
    });
    expect(res2.status).toBe(200);
    expect((await profile(`anonymousId=${anonymousId}`)).computed.eventCounts.Zipped).toBe(3);
  });

  it('answers CORS preflights on the tracking API and sets the origin header on answers', async () => {
    const pre = await fetch(`${h.url}/v1/batch`, {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    expect(pre.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    expect(pre.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type');

    const res = await h.track('/v1/track', { anonymousId: uid('c'), event: 'X' }, { headers: { origin: 'https://shop.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    // Errors are readable by the page too.
    const bad = await h.track('/v1/track', { event: 'X' }, { headers: { origin: 'https://shop.example' } });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('gives the admin API no CORS headers', async () => {
    const pre = await fetch(`${h.url}/v1/profiles`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('names the invalid field: Order Completed with total "abc"', async () => {
    const res = await h.track('/v1/track', { userId: 'u', event: 'Order Completed', properties: { order_id: 'o-1', total: 'abc' } });
    const body = await expectError(res, 400, 'VALIDATION');
    expect(body.error.issues.map((i) => i.path)).toContain('properties.total');
    expect(body.error.message).toContain('properties.total');
  });

  it('names the invalid field inside a batch by its index, and stores none of the batch', async () => {
    const anonymousId = uid('all-or-none');
    const res = await h.track('/v1/batch', {
      batch: [
        { type: 'track', anonymousId, event: 'A' },
        { type: 'track', anonymousId, event: 'B' },
        { type: 'track', userId: 'u', event: 'Order Completed', properties: { order_id: 'o', total: 'abc' } },
      ],
    });
    const body = await expectError(res, 400, 'VALIDATION');
    expect(body.error.issues.map((i) => i.path)).toContain('batch[2].properties.total');
    expect((await h.admin(`/v1/profiles?anonymousId=${anonymousId}`)).status).toBe(404);
  });

  it('names every invalid field, not just the first', async () => {
    const res = await h.track('/v1/track', {
      userId: 'u',
      event: 'Order Completed',
      properties: { order_id: 'o', total: 'abc', currency: 'euro', products: [{ product_id: 'p', price: '9' }] },
    });
    const body = await expectError(res, 400, 'VALIDATION');
    expect(body.error.issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(['properties.total', 'properties.currency', 'properties.products[0].price']),
    );
  });

  it('counts a repeated messageId once', async () => {
    const anonymousId = uid('dup');
    const messageId = uid('msg');
    const call = { anonymousId, event: 'Checkout Step', messageId };
    const first = await h.track('/v1/track', call);
    expect(await first.json()).toEqual({ success: true, accepted: 1, duplicates: 0, dropped: 0 });
    const again = await h.track('/v1/track', call);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ success: true, accepted: 0, duplicates: 1, dropped: 0 });
    const batch = await h.track('/v1/batch', { batch: [{ type: 'track', ...call }, { type: 'track', ...call }] });
    expect(await batch.json()).toEqual({ success: true, accepted: 0, duplicates: 2, dropped: 0 });
    expect((await profile(`anonymousId=${anonymousId}`)).computed.eventCounts['Checkout Step']).toBe(1);
  });

  it('commits concurrent requests together and answers each', async () => {
    const anonymousId = uid('burst');
    const answers = await Promise.all(Array.from({ length: 40 }, () => h.track('/v1/track', { anonymousId, event: 'Burst' })));
    expect(answers.map((r) => r.status)).toEqual(Array(40).fill(200));
    expect((await profile(`anonymousId=${anonymousId}`)).computed.eventCounts.Burst).toBe(40);
  });

  it('answers 404 JSON for a GET on a tracking path', async () => {
    const res = await fetch(`${h.url}/v1/track`, { headers: { authorization: basicAuth(WRITE_KEY) } });
    await expectError(res, 404, 'NOT_FOUND');
  });

  describe('language-neutral protocol cases (packages/core/spec) through HTTP', () => {
    it.each(protocolCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const res = await h.track(`/v1/${c.type}`, c.raw ?? c.body);
      expect(res.status).toBe(c.status);
      if (c.ok) {
        expect(await res.json()).toMatchObject({ success: true });
      } else {
        const body = (await res.json()) as { error: { issues: Array<{ path: string }> } };
        const paths = body.error.issues.map((i) => i.path);
        for (const path of c.issues ?? []) expect(paths).toContain(path);
      }
    });
  });
});
