import { dayOf, type Engine, encodeRecommendWrites, foldRecommendQueue, RecommendDeltas } from '@attune/core';
import { describe, expect, it } from 'vitest';
import { DAY, engineOn, MINUTE } from './fixtures.ts';
import type { StoreContext } from './store-port-suite.ts';

const NOW = Date.UTC(2026, 2, 10, 12);
const TODAY = dayOf(NOW);

function fixedEngine(ctx: StoreContext): Engine {
  return engineOn(ctx.store, { clock: { now: () => NOW, defer: (f) => setImmediate(f) }, recommendCacheMs: 0 });
}

let seq = 0;
const view = (anonymousId: string, id: string, at: number, extra: Record<string, unknown> = {}) => ({
  type: 'track',
  event: 'Product Viewed',
  anonymousId,
  messageId: `v-${++seq}`,
  timestamp: new Date(at).toISOString(),
  properties: { product_id: id, ...extra },
});
const order = (anonymousId: string, orderId: string, ids: string[], at: number, event = 'Order Completed') => ({
  type: 'track',
  event,
  anonymousId,
  messageId: `o-${++seq}`,
  timestamp: new Date(at).toISOString(),
  properties: { order_id: orderId, products: ids.map((id) => ({ product_id: id })) },
});

const ids = (r: { items: Array<{ id: string }> }) => r.items.map((i) => i.id);

/** Recommendation counters on the store port, then every strategy, filter and the rank and decide paths end to end. */
export function describeRecommendations(ctx: StoreContext): void {
  describe('recommendation counters', () => {
    it('adds item totals, day counts and pairs; reads top lists, windows, filters and related items', async () => {
      const s = ctx.store;
      const d = new RecommendDeltas();
      d.item({ id: 'p1', category: 'Shoes', brand: 'Acme', price: 50 }, TODAY, 'views');
      d.item({ id: 'p1' }, TODAY, 'views');
      d.item({ id: 'p2', category: 'Shoes', brand: 'Zed' }, TODAY - 10, 'views');
      d.item({ id: 'p2' }, TODAY, 'purchases');
      d.item({ id: 'p3', category: 'Hats' }, TODAY - 1, 'carts');
      d.pair('view', 'p1', 'p2');
      d.pair('view', 'p1', 'p2');
      d.pair('view', 'p1', 'p3');
      await s.transaction((tx) => tx.addRecommendCounts(d.writes()));
      // A second transaction adds to the same rows.
      const d2 = new RecommendDeltas();
      d2.item({ id: 'p3', name: 'Sun hat' }, TODAY, 'views');
      d2.pair('view', 'p3', 'p1');
      await s.transaction((tx) => tx.addRecommendCounts(d2.writes()));

      const items = await s.recommend.items(['p1', 'p2', 'p3', 'nope']);
      expect(items.size).toBe(3);
      expect(items.get('p1')).toMatchObject({ category: 'Shoes', brand: 'Acme', price: 50, views: 2, carts: 0, purchases: 0, inStock: null, fromCatalog: false, deleted: false });
      expect(items.get('p3')).toMatchObject({ category: 'Hats', name: 'Sun hat', views: 1, carts: 1 });

      expect(await s.recommend.top({ metric: 'views', limit: 10 })).toEqual([
        { id: 'p1', n: 2 },
        { id: 'p2', n: 1 },
        { id: 'p3', n: 1 },
      ]);
      expect(await s.recommend.top({ metric: 'views', fromDay: TODAY - 6, limit: 10 })).toEqual([
        { id: 'p1', n: 2 },
        { id: 'p3', n: 1 },
      ]);
      expect(await s.recommend.top({ metric: 'activity', fromDay: TODAY - 29, category: 'Shoes', limit: 10 })).toEqual([
        { id: 'p2', n: 6 },
        { id: 'p1', n: 2 },
      ]);
      expect(await s.recommend.top({ metric: 'purchases', brand: 'Zed', limit: 10 })).toEqual([{ id: 'p2', n: 1 }]);
      expect(await s.recommend.top({ metric: 'views', fromDay: TODAY - 30, toDay: TODAY - 1, limit: 10 })).toEqual([{ id: 'p2', n: 1 }]);
      expect(await s.recommend.counts(['p1', 'p2', 'p3'], { metric: 'activity', fromDay: TODAY - 29, toDay: TODAY - 1 })).toEqual(
        new Map([
          ['p2', 1],
          ['p3', 3],
        ]),
      );
      expect(await s.recommend.related('view', 'p1', 10)).toEqual([
        { id: 'p2', n: 2 },
        { id: 'p3', n: 2 },
      ]);
      expect(await s.recommend.related('view', 'p2', 10)).toEqual([{ id: 'p1', n: 2 }]);
      expect(await s.recommend.related('buy', 'p1', 10)).toEqual([]);
    });

    it('queues counters per transaction in commit order and folds them, summed, into the tables', async () => {
      const s = ctx.store;
      const queued: string[] = [];
      for (const [i, n] of [1, 2, 3].entries()) {
        const d = new RecommendDeltas();
        for (let k = 0; k < n; k++) d.item({ id: 'q1', category: i === 2 ? 'Boots' : 'Shoes' }, TODAY, 'views');
        d.pair('view', 'q1', 'q2');
        const text = encodeRecommendWrites(d.writes());
        queued.push(text);
        await s.transaction((tx) => tx.queueRecommendCounts(text));
      }
      // A take that rolls back leaves the rows queued.
      await expect(
        s.transaction(async (tx) => {
          expect(await tx.takeRecommendQueue(2)).toEqual(queued.slice(0, 2));
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      // Nothing is counted until the fold.
      expect((await s.recommend.items(['q1'])).size).toBe(0);
      await s.transaction((tx) => tx.queueRecommendCounts('{not json'));
      expect(await foldRecommendQueue(s, 2)).toEqual({ rows: 4, invalid: 1 });
      expect((await s.recommend.items(['q1'])).get('q1')).toMatchObject({ views: 6, category: 'Boots' });
      expect(await s.recommend.related('view', 'q2', 10)).toEqual([{ id: 'q1', n: 3 }]);
      expect(await s.recommend.top({ metric: 'views', fromDay: TODAY, limit: 10 })).toEqual([{ id: 'q1', n: 6 }]);
      expect(await s.transaction((tx) => tx.takeRecommendQueue(10))).toEqual([]);
      expect(await foldRecommendQueue(s)).toEqual({ rows: 0, invalid: 0 });
    });

    it('prunes per-day counts older than the kept days, and keeps the totals', async () => {
      const s = ctx.store;
      const d = new RecommendDeltas();
      d.item({ id: 'old' }, TODAY - 100, 'views');
      d.item({ id: 'old' }, TODAY - 89, 'views');
      d.item({ id: 'new' }, TODAY, 'views');
      await s.transaction((tx) => tx.addRecommendCounts(d.writes()));
      expect(await s.transaction((tx) => tx.pruneRecommendDays(TODAY - 90))).toBe(1);
      expect(await s.recommend.top({ metric: 'views', fromDay: TODAY - 200, limit: 10 })).toEqual([
        { id: 'new', n: 1 },
        { id: 'old', n: 1 },
      ]);
      expect((await s.recommend.items(['old'])).get('old')?.views).toBe(2);
      expect(await s.transaction((tx) => tx.pruneRecommendDays(TODAY - 90))).toBe(0);
    });

    it('lets catalog attributes win over event properties, and never ranks deleted items', async () => {
      const s = ctx.store;
      await s.recommend.putProducts([
        { id: 'p1', category: 'Boots', brand: 'Acme', price: 80, inStock: false, attributes: { material: 'leather' } },
        { id: 'p9', attributes: {}, deleted: true },
      ]);
      const d = new RecommendDeltas();
      d.item({ id: 'p1', category: 'Shoes', price: 1 }, TODAY, 'views');
      d.item({ id: 'p9', category: 'Shoes' }, TODAY, 'views');
      d.item({ id: 'p9' }, TODAY, 'views');
      await s.transaction((tx) => tx.addRecommendCounts(d.writes()));
      const items = await s.recommend.items(['p1', 'p9']);
      expect(items.get('p1')).toMatchObject({ category: 'Boots', price: 80, inStock: false, attributes: { material: 'leather' }, fromCatalog: true, views: 1 });
      expect(items.get('p9')).toMatchObject({ deleted: true, views: 2 });
      expect(await s.recommend.top({ metric: 'views', limit: 10 })).toEqual([{ id: 'p1', n: 1 }]);
      expect(await s.recommend.top({ metric: 'views', fromDay: TODAY, limit: 10 })).toEqual([{ id: 'p1', n: 1 }]);
      // Back in the catalog: recommendable again, counts kept.
      await s.recommend.putProducts([{ id: 'p9', category: 'Shoes', attributes: {} }]);
      expect((await s.recommend.top({ metric: 'views', limit: 10 }))[0]).toEqual({ id: 'p9', n: 2 });
    });
  });

  describe('recommendations end to end', () => {
    it('keeps viewed-together and bought-together from ingestion, counting an order reported twice once', async () => {
      const engine = fixedEngine(ctx);
      const t0 = NOW - 2 * DAY;
      await engine.ingestBatch({
        batch: [
          view('a', 'p1', t0),
          view('a', 'p2', t0 + MINUTE),
          view('a', 'p3', t0 + 2 * MINUTE),
          view('b', 'p1', t0),
          view('b', 'p2', t0 + MINUTE),
          // Viewing p1 again adds no pair.
          view('b', 'p1', t0 + 2 * MINUTE),
          order('a', 'o1', ['p1', 'p4'], t0 + 3 * MINUTE),
          order('a', 'o1', ['p1', 'p4'], t0 + 3 * MINUTE, 'Order Placed'),
          order('b', 'o2', ['p1', 'p4'], t0 + 3 * MINUTE),
          order('c', 'o3', ['p1', 'p5'], t0 + 3 * MINUTE),
        ],
      });
      // Ingestion queues the counters; the fold (the server's loop, or the next engine read) adds them.
      expect(await ctx.store.recommend.related('view', 'p1', 10)).toEqual([]);
      expect(await engine.recommendations.fold()).toMatchObject({ rows: 1, invalid: 0 });
      expect(await ctx.store.recommend.related('view', 'p1', 10)).toEqual([
        { id: 'p2', n: 2 },
        { id: 'p3', n: 1 },
      ]);
      expect(await ctx.store.recommend.related('buy', 'p1', 10)).toEqual([
        { id: 'p4', n: 2 },
        { id: 'p5', n: 1 },
      ]);
      expect((await ctx.store.recommend.items(['p4'])).get('p4')?.purchases).toBe(2);

      const vt = await engine.recommend({ strategy: 'viewed-together', items: ['p1'], fallback: false });
      expect(ids(vt)).toEqual(['p2', 'p3']);
      expect(vt.items[0]).toMatchObject({ reason: 'viewed-together' });
      const bt = await engine.recommend({ strategy: 'bought-together', items: ['p1'], limit: 1, fallback: false });
      expect(ids(bt)).toEqual(['p4']);
      // Without seeds, a visitor's own recent purchases are the seeds.
      expect(ids(await engine.recommend({ strategy: 'bought-together', anonymousId: 'c', fallback: false }))).toEqual(['p4']);
    });

    it('serves most viewed over 7 and 30 days, trending, recently viewed and the popular fallback', async () => {
      const engine = fixedEngine(ctx);
      const batch: unknown[] = [];
      // p-old: 6 views 20 days ago; p-new: 3 views today; p-steady: one view a day for 30 days.
      for (let i = 0; i < 6; i++) batch.push(view(`u${i}`, 'p-old', NOW - 20 * DAY + i * MINUTE));
      for (let i = 0; i < 3; i++) batch.push(view(`w${i}`, 'p-new', NOW - i * MINUTE));
      for (let i = 0; i < 30; i++) batch.push(view(`s${i}`, 'p-steady', NOW - i * DAY));
      batch.push(view('me', 'p-old', NOW - 3 * MINUTE), view('me', 'p-new', NOW - 2 * MINUTE), view('me', 'p-steady', NOW - MINUTE));
      await engine.ingestBatch({ batch });

      expect(ids(await engine.recommend({ strategy: 'most-viewed', window: 30, fallback: false }))).toEqual(['p-steady', 'p-old', 'p-new']);
      expect(ids(await engine.recommend({ strategy: 'most-viewed', window: 7, fallback: false }))).toEqual(['p-steady', 'p-new', 'p-old']);
      const trending = await engine.recommend({ strategy: 'trending', fallback: false });
      expect(ids(trending)[0]).toBe('p-new');
      expect(ids(trending)).not.toContain('p-old');
      expect(ids(await engine.recommend({ strategy: 'recently-viewed', anonymousId: 'me' }))).toEqual(['p-steady', 'p-new', 'p-old']);

      // A visitor with no history: for-you falls back to popular items, and says so.
      const cold = await engine.recommend({ strategy: 'for-you', anonymousId: 'stranger', limit: 2 });
      expect(cold.fallback).toBe(2);
      expect(cold.items.every((i) => i.reason === 'popular')).toBe(true);
      expect(ids(cold)).toEqual(['p-steady', 'p-old']);
    });

    it('recommends for you from category, brand and price affinity, excluding purchases when asked', async () => {
      const engine = fixedEngine(ctx);
      const batch: unknown[] = [];
      const shoes = ['s1', 's2', 's3'];
      const hats = ['h1', 'h2', 'h3'];
      // Everybody else makes hats popular.
      for (let i = 0; i < 10; i++) for (const h of hats) batch.push(view(`crowd${i}`, h, NOW - DAY - i * MINUTE, { category: 'Hats', brand: 'Topper', price: 20 }));
      for (const s of shoes) batch.push(view('crowd-s', s, NOW - DAY, { category: 'Shoes', brand: s === 's3' ? 'Other' : 'Acme', price: 90 }));
      // Ada likes Acme shoes around 90 and bought s1.
      batch.push(view('ada', 's1', NOW - 3 * MINUTE, { category: 'Shoes', brand: 'Acme', price: 85 }));
      batch.push(view('ada', 's2', NOW - 2 * MINUTE, { category: 'Shoes', brand: 'Acme', price: 95 }));
      batch.push(order('ada', 'ada-1', ['s1'], NOW - MINUTE));
      await engine.ingestBatch({ batch });

      const recs = await engine.recommend({ strategy: 'for-you', anonymousId: 'ada', limit: 3, filters: { excludePurchased: true } });
      expect(ids(recs)).toEqual(['s2', 's3', 'h1']);
      expect(recs.items[0]?.reason).toMatch(/^for-you:/);
      expect(recs.fallback).toBe(1);
      const withBought = await engine.recommend({ strategy: 'for-you', anonymousId: 'ada', limit: 2, fallback: false });
      expect(ids(withBought)).toEqual(['s1', 's2']);
      // A category filter applies to every strategy and to the fallback.
      expect(ids(await engine.recommend({ strategy: 'most-viewed', filters: { category: 'Shoes' } })).sort()).toEqual(shoes);
    });

    it('reads catalog products for more-like-this and the in-stock filter', async () => {
      const engine = fixedEngine(ctx);
      const product = (id: string, fields: Record<string, unknown>) => ({
        id,
        type: 'product',
        updatedAt: new Date(NOW).toISOString(),
        fields: Object.entries(fields).map(([name, value]) => ({ name, field: name, type: typeof value === 'number' ? 'number' : 'string', value })),
      });
      await engine.catalog.apply('shop', {
        items: [
          product('seed', { title: 'Trail runner', category: 'Shoes', brand: 'Acme', price: 100, stock: 5, material: 'mesh', use: 'trail' }),
          product('twin', { title: 'Trail runner 2', category: 'Shoes', brand: 'Acme', price: 110, stock: 3, material: 'mesh', use: 'trail' }),
          product('cousin', { title: 'Road runner', category: 'Shoes', brand: 'Other', price: 60, stock: 1, material: 'mesh', use: 'road' }),
          product('gone', { title: 'Trail runner 0', category: 'Shoes', brand: 'Acme', price: 100, stock: 0, material: 'mesh', use: 'trail' }),
          product('hat', { title: 'Hat', category: 'Hats', brand: 'Acme', price: 20, stock: 9 }),
          { id: 'article-1', type: 'article', updatedAt: new Date(NOW).toISOString(), fields: [] },
        ],
      });
      const seedItem = (await ctx.store.recommend.items(['seed'])).get('seed');
      expect(seedItem).toMatchObject({ category: 'Shoes', brand: 'Acme', price: 100, inStock: true, name: 'Trail runner', attributes: { material: 'mesh', use: 'trail' } });
      expect((await ctx.store.recommend.items(['article-1'])).size).toBe(0);

      const similar = await engine.recommend({ strategy: 'more-like-this', items: ['seed'], fallback: false });
      expect(ids(similar)).toEqual(['twin', 'cousin', 'hat']);
      const withOut = await engine.recommend({ strategy: 'more-like-this', items: ['seed'], fallback: false, filters: { inStock: false } });
      expect(ids(withOut)).toEqual(['gone', 'twin', 'cousin', 'hat']);

      // A tombstone removes the product from recommendations.
      await engine.catalog.apply('shop', { items: [{ id: 'twin', type: 'product', updatedAt: new Date(NOW + 1000).toISOString(), deleted: true, fields: [] }] });
      expect(ids(await engine.recommend({ strategy: 'more-like-this', items: ['seed'], fallback: false }))).toEqual(['cousin', 'hat']);
    });

    it('merges shopping memories when profiles merge', async () => {
      const engine = fixedEngine(ctx);
      await engine.ingestBatch({ batch: [view('phone', 'p1', NOW - 3 * MINUTE), view('laptop', 'p2', NOW - 2 * MINUTE)] });
      await engine.ingestBatch({
        batch: [
          { type: 'identify', anonymousId: 'phone', userId: 'u-1', timestamp: new Date(NOW - MINUTE).toISOString() },
          { type: 'identify', anonymousId: 'laptop', userId: 'u-1', timestamp: new Date(NOW - MINUTE).toISOString() },
        ],
      });
      expect(ids(await engine.recommend({ strategy: 'recently-viewed', userId: 'u-1' }))).toEqual(['p2', 'p1']);
    });

    it('re-ranks a list by affinity with pin, boost, bury and hide, giving a reason per item', async () => {
      const engine = fixedEngine(ctx);
      const batch: unknown[] = [];
      for (let i = 0; i < 3; i++) batch.push(view('ada', `s${i}`, NOW - (10 - i) * MINUTE, { category: 'Shoes', brand: 'Acme', price: 90 }));
      for (const id of ['x1', 'x2', 'x3', 'x4']) batch.push(view('crowd', id, NOW - DAY, { category: 'Other', brand: 'Zed', price: 5 }));
      await engine.ingestBatch({ batch });
      const r = await engine.rank({
        anonymousId: 'ada',
        items: ['x1', 'x2', 's0', 'x3', 'x4', 's1'],
        weights: { trending: 0 },
        rules: {
          pin: [{ id: 'x4', position: 1 }],
          boost: [{ match: { ids: ['x3'] }, weight: 2 }],
          bury: [{ match: { ids: ['x1'] } }],
          hide: [{ match: { brand: 'Nope' } }, { match: { ids: ['s1'] } }],
        },
      });
      expect(r.items.map((i) => [i.id, i.position, i.reason])).toEqual([
        ['x4', 1, 'pinned'],
        ['x3', 2, 'boosted'],
        ['s0', 3, 'affinity:category'],
        ['x2', 4, 'original'],
        ['x1', 5, 'buried'],
      ]);
      expect(r.hidden).toEqual([{ id: 's1', rule: 1 }]);
      await expect(engine.rank({ items: ['a', 'a'] })).rejects.toMatchObject({ code: 'VALIDATION' });
      await expect(engine.recommend({ strategy: 'nope' })).rejects.toMatchObject({ code: 'VALIDATION', message: expect.stringContaining('strategy') });
    });

    it('reuses global lists for the cache period, then serves the stale list once while it is recomputed', async () => {
      let now = NOW;
      const engine = engineOn(ctx.store, { clock: { now: () => now, defer: (f) => setImmediate(f) }, recommendCacheMs: 60_000 });
      await engine.ingestBatch({ batch: [view('a', 'p1', NOW - MINUTE), view('b', 'p1', NOW - MINUTE), view('c', 'p2', NOW - MINUTE)] });
      const mostViewed = async () => ids(await engine.recommend({ strategy: 'most-viewed', fallback: false }));
      expect(await mostViewed()).toEqual(['p1', 'p2']);
      await engine.ingestBatch({ batch: [view('d', 'p2', NOW), view('e', 'p2', NOW), view('f', 'p3', NOW)] });
      now += 30_000;
      expect(await mostViewed()).toEqual(['p1', 'p2']);
      now += 60_000;
      // Expired: this request gets the old list and starts the refresh; the next one sees it.
      expect(await mostViewed()).toEqual(['p1', 'p2']);
      await expect.poll(mostViewed, { interval: 5, timeout: 2000 }).toEqual(['p2', 'p1', 'p3']);
    });

    it('serves a recommendation slot through decide, so variants can compare strategies', async () => {
      const engine = fixedEngine(ctx);
      await engine.ingestBatch({ batch: [view('a', 'p1', NOW - 2 * MINUTE), view('a', 'p2', NOW - MINUTE), view('b', 'p3', NOW - MINUTE)] });
      await engine.decisions.create('experience', {
        id: 'pdp-recs',
        name: 'Product page recommendations',
        targeting: { pages: ['/products/**'] },
        variants: [
          { key: 'together', slots: { 'pdp-recs': { recommend: { strategy: 'viewed-together', limit: 4, fallback: false } } } },
          { key: 'popular', slots: { 'pdp-recs': { recommend: { strategy: 'most-viewed', limit: 4 } } } },
        ],
      });
      await engine.decisions.create('experiment', { id: 'recs-ab', name: 'Recs A/B', experienceId: 'pdp-recs', goals: [{ id: 'buy', event: 'Order Completed' }] });
      const seen = new Set<string>();
      for (let i = 0; i < 20 && seen.size < 2; i++) {
        const r = await engine.decide({ anonymousId: `v${i}`, context: { path: '/products/p1', productId: 'p1' }, slots: ['pdp-recs'], recordExposure: false, explain: true });
        const d = r.decisions['pdp-recs'];
        expect(d?.reason).toBe('experiment');
        expect(d?.content?.type).toBe('recommendations');
        const content = d?.content as { strategy: string; items: Array<{ id: string }> };
        if (d?.variant === 'together') expect(content.items.map((x) => x.id)).toEqual(['p2']);
        else expect(content.items.map((x) => x.id).sort()).toEqual(['p2', 'p3']);
        expect(d?.trace?.some((s) => s.step === 'recommend')).toBe(true);
        seen.add(d?.variant as string);
      }
      expect([...seen].sort()).toEqual(['popular', 'together']);
    });
  });
}
