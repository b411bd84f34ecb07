/**
 * Recommendation quality, offline. A generated shop with planted structure (shoppers with
 * category, brand and price preferences; complementary bundles bought together or soon after)
 * is ingested through the engine's real ingest path (and its catalog API), holding out each
 * shopper's last purchase (and the session that led to it). Every strategy then recommends 10
 * items per shopper; hit-rate@10 and NDCG@10 are compared with the popularity baseline measured
 * in the same run.
 *
 *   pnpm bench:recommend [-- --shoppers 3000 --products 2000 --seed 7]
 */
import { parseArgs } from 'node:util';
import { createEngine, type Engine, type RecommendStrategy } from '@attune/core';
import { createSqliteStore } from '@attune/storage-sqlite';
import { fmt } from '../lib.ts';
import { type Product, productProps, Shop } from './shop.ts';

const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    shoppers: { type: 'string', default: '3000' },
    products: { type: 'string', default: '2000' },
    categories: { type: 'string', default: '20' },
    brands: { type: 'string', default: '60' },
    seed: { type: 'string', default: '7' },
  },
});
const SHOPPERS = Number(args.shoppers);
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1, 12);

const shop = new Shop({ products: Number(args.products), categories: Number(args.categories), brands: Number(args.brands), bundles: Number(args.products) / 4, seed: Number(args.seed) });
const r = shop.random;

interface History {
  userId: string;
  events: unknown[];
  heldOut: Product;
}

let messageSeq = 0;
const track = (userId: string, event: string, at: number, properties: Record<string, unknown>) => ({
  type: 'track',
  event,
  userId,
  messageId: `m${++messageSeq}`,
  timestamp: new Date(at).toISOString(),
  properties,
});

/** One shopper's sessions over 30 days; the last one ends in the held-out purchase and is not ingested. */
function history(i: number): History {
  const s = shop.shopper(i);
  const sessions = 3 + Math.floor(r() * 5);
  const bought = new Set<string>();
  const events: unknown[] = [];
  let pending: Product | null = null;
  let t = NOW - 30 * DAY + r() * 2 * DAY;
  const gap = (28 * DAY) / sessions;
  for (let k = 0; k < sessions - 1; k++) {
    t += gap * (0.5 + r());
    const viewed: Product[] = [];
    for (let j = 3 + Math.floor(r() * 6); j > 0; j--) {
      const p = shop.browse(s);
      viewed.push(p);
      events.push(track(s.id, 'Product Viewed', (t += 60_000), productProps(p)));
    }
    if (r() < 0.6) {
      const p = viewed[Math.floor(r() * viewed.length)] as Product;
      if (bought.has(p.id)) continue;
      const basket = [p];
      const partner = shop.partner.get(p.id);
      if (partner && !bought.has(partner.id)) {
        if (r() < 0.4) basket.push(partner);
        else if (r() < 0.6) pending = partner;
      }
      for (const b of basket) {
        events.push(track(s.id, 'Product Added', (t += 60_000), productProps(b)));
        bought.add(b.id);
      }
      events.push(track(s.id, 'Order Completed', (t += 60_000), { order_id: `o-${i}-${k}`, products: basket.map(productProps), total: basket.reduce((a, b) => a + b.price, 0) }));
    }
  }
  const heldOut = pending && !bought.has(pending.id) && r() < 0.7 ? pending : shop.browse(s, bought);
  return { userId: s.id, events, heldOut };
}

async function seed(engine: Engine, histories: History[]): Promise<number> {
  const products = shop.products.map((p) => ({
    id: p.id,
    type: 'product',
    updatedAt: new Date(NOW - 40 * DAY).toISOString(),
    fields: [
      { name: 'title', field: 'title', type: 'string', value: `Product ${p.id}` },
      { name: 'category', field: 'category', type: 'string', value: p.category },
      { name: 'brand', field: 'brand', type: 'string', value: p.brand },
      { name: 'price', field: 'price', type: 'number', value: p.price },
      { name: 'inStock', field: 'inStock', type: 'boolean', value: true },
      { name: 'material', field: 'material', type: 'string', value: p.material },
      { name: 'style', field: 'style', type: 'string', value: p.style },
    ],
  }));
  for (let i = 0; i < products.length; i += 1000) await engine.catalog.apply('shop', { items: products.slice(i, i + 1000) });
  let n = 0;
  let batch: unknown[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await engine.ingestBatch({ batch });
    n += batch.length;
    batch = [];
  };
  // Shoppers interleaved in time order, as traffic arrives.
  const all = histories.flatMap((h) => h.events as Array<{ timestamp: string }>).sort((a, b) => (a.timestamp < b.timestamp ? -1 : 1));
  for (const e of all) {
    batch.push(e);
    if (batch.length >= 500) await flush();
  }
  await flush();
  await engine.drain();
  return n;
}

const STRATEGIES: RecommendStrategy[] = ['popular', 'most-purchased', 'most-viewed', 'trending', 'recently-viewed', 'viewed-together', 'bought-together', 'more-like-this', 'for-you'];

async function evaluate(engine: Engine, histories: History[]) {
  const out = new Map<RecommendStrategy, { hits: number; ndcg: number; ms: number }>();
  for (const strategy of STRATEGIES) {
    let hits = 0;
    let ndcg = 0;
    const start = performance.now();
    for (const h of histories) {
      const res = await engine.recommend({ strategy, userId: h.userId, limit: 10, filters: { excludePurchased: true } });
      const rank = res.items.findIndex((it) => it.id === h.heldOut.id);
      if (rank >= 0) {
        hits++;
        ndcg += 1 / Math.log2(rank + 2);
      }
    }
    out.set(strategy, { hits: hits / histories.length, ndcg: ndcg / histories.length, ms: (performance.now() - start) / histories.length });
  }
  return out;
}

const store = createSqliteStore({ filename: ':memory:' });
await store.migrate();
const engine = createEngine({ store, clock: { now: () => NOW, defer: (f) => setImmediate(f) } });
const histories = Array.from({ length: SHOPPERS }, (_, i) => history(i));
const t0 = performance.now();
const events = await seed(engine, histories);
console.log(
  `Recommendation quality: ${fmt(shop.products.length)} products (${shop.categories.length} categories, ${shop.brands.length} brands, ${shop.partner.size / 2} bundles), ${fmt(SHOPPERS)} shoppers, ${fmt(events)} events ingested in ${((performance.now() - t0) / 1000).toFixed(1)} s; each shopper's last purchase held out`,
);
const results = await evaluate(engine, histories);
const base = results.get('popular') as { hits: number; ndcg: number };
console.log('  strategy          hit@10   NDCG@10   hit vs popular   ms/request');
for (const [strategy, m] of results) {
  console.log(
    `  ${strategy.padEnd(16)} ${(m.hits * 100).toFixed(1).padStart(5)}%   ${m.ndcg.toFixed(4)}   ${(m.hits / base.hits).toFixed(2).padStart(6)}×        ${m.ms.toFixed(2)}`,
  );
}
const personal = ['for-you', 'bought-together', 'viewed-together', 'more-like-this'] as const;
const best = personal.map((s) => [s, results.get(s) as { hits: number }] as const).sort((a, b) => b[1].hits - a[1].hits)[0] as readonly [string, { hits: number }];
const forYou = results.get('for-you') as { hits: number };
console.log(`  ratio for-you/popular hit-rate: ${(forYou.hits / base.hits).toFixed(2)}× (target ≥ 1.20); best personalized: ${best[0]} ${(best[1].hits / base.hits).toFixed(2)}×`);
await store.close();
