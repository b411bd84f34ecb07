import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, bearerAuth, expectError, type Harness, SECRET_KEY, STORE_KINDS, startHarness, WRITE_KEY } from './harness.ts';

const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
const view = (anonymousId: string, id: string, minutesAgo: number, props: Record<string, unknown> = {}) => ({
  type: 'track',
  event: 'Product Viewed',
  anonymousId,
  timestamp: at(minutesAgo),
  properties: { product_id: id, ...props },
});

describe.each(STORE_KINDS)('recommendations API on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind, { recommendCacheMs: 0 });
    const shoe = { category: 'Shoes', brand: 'Acme', price: 90 };
    const hat = { category: 'Hats', brand: 'Topper', price: 20 };
    const batch = [
      view('ann', 'shoe-1', 30, shoe),
      view('ann', 'shoe-2', 29, shoe),
      view('bob', 'shoe-1', 28, shoe),
      view('bob', 'shoe-2', 27, shoe),
      view('bob', 'hat-1', 26, hat),
      view('cat', 'hat-1', 25, hat),
      view('cat', 'hat-2', 24, hat),
      view('dan', 'hat-1', 23, hat),
      { type: 'track', event: 'Order Completed', anonymousId: 'ann', timestamp: at(20), properties: { order_id: 'o-1', products: [{ product_id: 'shoe-1', ...shoe }, { product_id: 'sock-1', category: 'Socks', price: 5 }] } },
      { type: 'identify', anonymousId: 'ann', userId: 'user-ann', timestamp: at(19), traits: {} },
    ];
    expect((await h.track('/v1/batch', { batch })).status).toBe(200);
    await h.server.engine.drain();
    // The catalog says hat-2 is sold out.
    const catalog = await h.admin('/v1/catalog/shop', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items: [{ id: 'hat-2', type: 'product', updatedAt: at(10), fields: [{ name: 'inStock', field: 'inStock', type: 'boolean', value: false }, { name: 'category', field: 'category', type: 'string', value: 'Hats' }] }] }),
    });
    expect(catalog.status).toBe(200);
  });
  afterAll(() => h.close());

  const post = (path: string, body: unknown, key = WRITE_KEY) =>
    fetch(`${h.url}${path}`, {
      method: 'POST',
      headers: { authorization: key === WRITE_KEY ? basicAuth(key) : bearerAuth(key), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('answers POST and GET with the write key: viewed together, bought together, for you, in-stock filter', async () => {
    const together = await post('/v1/recommend', { strategy: 'viewed-together', items: ['shoe-1'], fallback: false });
    expect(together.status).toBe(200);
    const t = (await together.json()) as { strategy: string; fallback: number; items: Array<{ id: string }> };
    expect(t).toMatchObject({ strategy: 'viewed-together', fallback: 0 });
    // Two visitors viewed shoe-2 with shoe-1, one viewed hat-1 with it.
    expect(t.items.map((i) => i.id)).toEqual(['shoe-2', 'hat-1']);
    expect(t.items[0]).toMatchObject({ reason: 'viewed-together', category: 'Shoes', brand: 'Acme', price: 90 });

    const got = await fetch(`${h.url}/v1/recommend?strategy=bought-together&items=shoe-1&fallback=false`, { headers: { authorization: basicAuth(WRITE_KEY) } });
    expect(got.status).toBe(200);
    expect(((await got.json()) as { items: Array<{ id: string }> }).items.map((i) => i.id)).toEqual(['sock-1']);

    // hat-2 is sold out: the most-viewed hats skip it unless asked not to.
    const hats = await fetch(`${h.url}/v1/recommend?strategy=most-viewed&category=Hats&fallback=false`, { headers: { authorization: basicAuth(WRITE_KEY) } });
    expect(((await hats.json()) as { items: Array<{ id: string }> }).items.map((i) => i.id)).toEqual(['hat-1']);
    const all = await fetch(`${h.url}/v1/recommend?strategy=most-viewed&category=Hats&inStock=false&fallback=false`, { headers: { authorization: basicAuth(WRITE_KEY) } });
    expect(((await all.json()) as { items: Array<{ id: string }> }).items.map((i) => i.id)).toEqual(['hat-1', 'hat-2']);

    const forYou = await post('/v1/recommend', { strategy: 'for-you', userId: 'user-ann', limit: 2, filters: { excludePurchased: true } }, SECRET_KEY);
    const body = (await forYou.json()) as { items: Array<{ id: string; reason: string }> };
    expect(body.items[0]).toMatchObject({ id: 'shoe-2' });
    expect(body.items.map((i) => i.id)).not.toContain('shoe-1');
  });

  it('ranks a list for a visitor with rules, and reports each item’s reason', async () => {
    const res = await post('/v1/rank', { anonymousId: 'cat', items: ['shoe-1', 'shoe-2', 'hat-1', 'sock-1'], rules: { hide: [{ match: { category: 'Socks' } }], pin: [{ id: 'shoe-2', position: 1 }] } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: Array<{ id: string; position: number; reason: string }>; hidden: Array<{ id: string }> };
    expect(body.items.map((i) => [i.id, i.reason])).toEqual([
      ['shoe-2', 'pinned'],
      ['hat-1', 'affinity:category'],
      // Everything is new today, so everything trends; shoe-1 the most (viewed twice, bought).
      ['shoe-1', 'trending'],
    ]);
    expect(body.hidden).toEqual([{ id: 'sock-1', rule: 0 }]);
  });

  it('counts best sellers net of cancelled orders and returned items', async () => {
    const lamp = { category: 'Lamps', price: 40 };
    const order = (anonymousId: string, id: string, items: string[], minutesAgo: number) => ({
      type: 'track', event: 'Order Completed', anonymousId, timestamp: at(minutesAgo),
      properties: { order_id: id, products: items.map((product_id) => ({ product_id, ...lamp })) },
    });
    const best = async () => {
      const res = await fetch(`${h.url}/v1/recommend?strategy=most-purchased&category=Lamps&fallback=false`, { headers: { authorization: basicAuth(WRITE_KEY) } });
      return ((await res.json()) as { items: Array<{ id: string }> }).items.map((i) => i.id);
    };
    expect((await h.track('/v1/batch', { batch: [order('gus', 'o-10', ['lamp-1', 'lamp-2'], 15), order('hal', 'o-11', ['lamp-1'], 14)] })).status).toBe(200);
    await h.server.engine.drain();
    expect(await best()).toEqual(['lamp-1', 'lamp-2']);
    const cancel = { type: 'track', event: 'Order Cancelled', anonymousId: 'hal', timestamp: at(5), properties: { order_id: 'o-11', products: [{ product_id: 'lamp-1', ...lamp }] } };
    const back = { type: 'track', event: 'Order Refunded', anonymousId: 'gus', timestamp: at(4), properties: { order_id: 'o-10', returned: true, products: [{ product_id: 'lamp-1', ...lamp }] } };
    // The cancellation reported twice (storefront and back office) takes the purchase back once.
    expect((await h.track('/v1/batch', { batch: [cancel, { ...cancel, timestamp: at(3) }, back] })).status).toBe(200);
    await h.server.engine.drain();
    expect(await best()).toEqual(['lamp-2']);
  });

  it('folds queued counters on its own loop, with no read to trigger it', async () => {
    // A second server on its own store, with a short fold period and no recommendation read.
    const other = await startHarness(kind, { recommendFoldMs: 50 });
    try {
      const batch = [view('eve', 'mug-1', 5), view('eve', 'mug-2', 4)];
      expect((await other.track('/v1/batch', { batch })).status).toBe(200);
      await other.server.engine.drain();
      const deadline = Date.now() + 5000;
      let related: Array<{ id: string; n: number }> = [];
      while (Date.now() < deadline) {
        related = await other.server.store.recommend.related('view', 'mug-1', 10);
        if (related.length > 0) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(related).toEqual([{ id: 'mug-2', n: 1 }]);
      expect(await other.server.store.transaction((tx) => tx.takeRecommendQueue(10))).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('refuses bad input with where it is wrong, a userId with the browser key, and no key at all', async () => {
    const strategy = await expectError(await post('/v1/recommend', { strategy: 'best', limit: 0 }), 400, 'VALIDATION');
    expect(strategy.error.issues.map((i) => i.path)).toEqual(['strategy', 'limit']);
    const bad = await fetch(`${h.url}/v1/recommend?strategy=trending&limit=many`, { headers: { authorization: basicAuth(WRITE_KEY) } });
    expect((await expectError(bad, 400, 'VALIDATION')).error.message).toMatch(/^limit: must be a whole number/);
    await expectError(await post('/v1/recommend', { strategy: 'for-you', userId: 'user-ann' }), 403, 'FORBIDDEN');
    expect((await expectError(await post('/v1/rank', { items: [] }), 400, 'VALIDATION')).error.issues[0]?.path).toBe('items');
    await expectError(await fetch(`${h.url}/v1/recommend?strategy=trending`), 401, 'UNAUTHENTICATED');
  });

  it('documents the endpoints in OpenAPI', async () => {
    const doc = (await (await fetch(`${h.url}/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { security?: unknown; requestBody?: unknown; parameters?: Array<{ name: string }> }>> };
    expect(doc.paths['/v1/recommend']?.post?.requestBody).toEqual({ required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/RecommendRequest' } } } });
    expect(doc.paths['/v1/recommend']?.get?.parameters?.map((p) => p.name)).toEqual(expect.arrayContaining(['strategy', 'items', 'inStock', 'category', 'excludePurchased']));
    expect(doc.paths['/v1/rank']?.post?.security).toEqual([{ writeKey: [] }, { secretKey: [] }]);
  });
});
