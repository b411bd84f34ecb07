/**
 * Recommendation latency over HTTP. A 100,000-product catalog (through the catalog API's
 * engine path) and 1,000,000 storefront events (views, carts, orders of generated shoppers,
 * through the engine's real ingest path: validation, identity, profiles, counters) are seeded
 * into the embedded store; then Attune's server (its own process, as `attune start` runs it)
 * answers POST /v1/recommend for a mix of strategies and visitors at 50 connections, next to a
 * bare Express hello-world answering the same bodies. Rounds alternate the peers; medians and
 * ratios are printed.
 *
 *   pnpm bench:recommend-http [-- --products 100000 --events 1000000 --rounds 3 --seconds 8 --connections 50 --data DIR]
 *
 * With --data, the seeded store stays in DIR and later runs reuse it (seeding takes minutes).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createEngine, type RecommendStrategy } from '@attune/core';
import { createSqliteStore } from '@attune/storage-sqlite';
import autocannon from 'autocannon';
import { fmt, median, startChild, stopChild } from '../lib.ts';
import { type Product, productProps, Shop } from './shop.ts';

const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    products: { type: 'string', default: '100000' },
    events: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '8' },
    connections: { type: 'string', default: '50' },
    seed: { type: 'string', default: '11' },
    /** Keep the seeded store in this directory, and reuse it when it is already there. */
    data: { type: 'string' },
  },
});
const PRODUCTS = Number(args.products);
const EVENTS = Number(args.events);
const rounds = Number(args.rounds);
const seconds = Number(args.seconds);
const connections = Number(args.connections);
const WRITE = 'wk_bench_write_key_0000000000000000000';
const basic = `Basic ${Buffer.from(`${WRITE}:`).toString('base64')}`;
const DAY = 86_400_000;
const NOW = Date.now();

const shop = new Shop({ products: PRODUCTS, categories: 200, brands: 1000, bundles: PRODUCTS / 4, seed: Number(args.seed) });
const r = shop.random;

/** One shopper's 30 days: sessions of views, some carts and orders. */
function shopperEvents(i: number, seq: { n: number }): { events: unknown[]; viewed: string[] } {
  const s = shop.shopper(i);
  const anonymousId = `s-${i}`;
  const events: unknown[] = [];
  const viewed: string[] = [];
  const ev = (event: string, at: number, properties: Record<string, unknown>) =>
    events.push({ type: 'track', event, anonymousId, messageId: `e${++seq.n}`, timestamp: new Date(at).toISOString(), properties });
  let t = NOW - 30 * DAY + r() * 5 * DAY;
  for (let k = 2 + Math.floor(r() * 4); k > 0; k--) {
    t += r() * 5 * DAY;
    let last: Product | null = null;
    for (let j = 2 + Math.floor(r() * 5); j > 0; j--) {
      last = shop.browse(s);
      viewed.push(last.id);
      ev('Product Viewed', (t += 60_000), productProps(last));
    }
    if (last && r() < 0.35) {
      const basket = [last];
      const partner = shop.partner.get(last.id);
      if (partner && r() < 0.4) basket.push(partner);
      for (const b of basket) ev('Product Added', (t += 60_000), productProps(b));
      ev('Order Completed', (t += 60_000), { order_id: `o-${i}-${k}`, products: basket.map(productProps) });
    }
  }
  return { events, viewed };
}

/** The visitors and items the load asks about, generated as the seeding does (same seed) without ingesting. */
function sampleOnly(): Array<{ visitor: string; item: string }> {
  const seq = { n: 0 };
  const sample: Array<{ visitor: string; item: string }> = [];
  for (let shoppers = 0; seq.n < EVENTS; shoppers++) {
    const { viewed } = shopperEvents(shoppers, seq);
    if (shoppers % 10 === 0 && viewed.length > 0) sample.push({ visitor: `s-${shoppers}`, item: viewed[viewed.length - 1] as string });
  }
  return sample;
}

async function seed(dataDir: string): Promise<{ shoppers: number; sample: Array<{ visitor: string; item: string }> }> {
  const store = createSqliteStore({ filename: join(dataDir, 'attune.db'), synchronous: 'normal' });
  await store.migrate();
  const engine = createEngine({ store });
  let t = performance.now();
  for (let i = 0; i < shop.products.length; i += 1000) {
    const items = shop.products.slice(i, i + 1000).map((p, j) => ({
      id: p.id,
      type: 'product',
      updatedAt: new Date(NOW - 40 * DAY).toISOString(),
      fields: [
        { name: 'title', field: 'title', type: 'string', value: `Product ${p.id}` },
        { name: 'category', field: 'category', type: 'string', value: p.category },
        { name: 'brand', field: 'brand', type: 'string', value: p.brand },
        { name: 'price', field: 'price', type: 'number', value: p.price },
        // One product in 20 is sold out.
        { name: 'inStock', field: 'inStock', type: 'boolean', value: (i + j) % 20 !== 0 },
        { name: 'material', field: 'material', type: 'string', value: p.material },
        { name: 'style', field: 'style', type: 'string', value: p.style },
      ],
    }));
    await engine.catalog.apply('shop', { items });
  }
  console.log(`  catalog: ${fmt(shop.products.length)} products in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  t = performance.now();
  const seq = { n: 0 };
  const sample: Array<{ visitor: string; item: string }> = [];
  let shoppers = 0;
  let batch: unknown[] = [];
  const pending: Array<Promise<unknown>> = [];
  while (seq.n < EVENTS) {
    const { events, viewed } = shopperEvents(shoppers, seq);
    if (shoppers % 10 === 0 && viewed.length > 0) sample.push({ visitor: `s-${shoppers}`, item: viewed[viewed.length - 1] as string });
    shoppers++;
    batch.push(...events);
    if (batch.length >= 500) {
      // A few batches in flight, as concurrent requests would be: the committer groups them.
      pending.push(engine.ingestBatch({ batch }));
      batch = [];
      if (pending.length >= 4) await Promise.all(pending.splice(0));
      if (seq.n % 100_000 < 500) process.stdout.write(`\r  events: ${fmt(seq.n)} …`);
    }
  }
  if (batch.length > 0) pending.push(engine.ingestBatch({ batch }));
  await Promise.all(pending);
  await engine.drain();
  const secs = (performance.now() - t) / 1000;
  console.log(`\r  events: ${fmt(seq.n)} from ${fmt(shoppers)} shoppers through the ingest path in ${secs.toFixed(1)} s (${fmt(seq.n / secs)} events/s)`);
  await store.close();
  return { shoppers, sample };
}

const STRATEGIES: RecommendStrategy[] = ['for-you', 'viewed-together', 'bought-together', 'more-like-this', 'recently-viewed', 'most-viewed', 'most-purchased', 'trending', 'popular'];

function bodies(sample: Array<{ visitor: string; item: string }>, count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const s = sample[Math.floor(r() * sample.length)] as { visitor: string; item: string };
    const strategy = STRATEGIES[i % STRATEGIES.length] as RecommendStrategy;
    const seeded = strategy === 'viewed-together' || strategy === 'bought-together' || strategy === 'more-like-this';
    return JSON.stringify({ strategy, anonymousId: s.visitor, limit: 10, ...(seeded ? { items: [s.item] } : {}), filters: { excludePurchased: true } });
  });
}

async function load(port: number, list: string[], warmUp = false): Promise<{ rps: number; p99: number; p50: number; non2xx: number; errors: number }> {
  let next = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    // The warm-up sends every body once; a measured round runs for `seconds`.
    ...(warmUp ? { amount: list.length } : { duration: seconds }),
    requests: [{ method: 'POST', path: '/v1/recommend', headers: { 'content-type': 'application/json', authorization: basic }, setupRequest: (req) => ({ ...req, body: list[next++ % list.length] as string }) }],
  });
  return { rps: result['2xx'] / seconds, p99: result.latency.p99, p50: result.latency.p50, non2xx: result.non2xx, errors: result.errors + result.timeouts };
}

const dataDir = args.data ?? mkdtempSync(join(tmpdir(), 'attune-bench-recommend-'));
try {
  let sample: Array<{ visitor: string; item: string }>;
  if (args.data && existsSync(join(dataDir, 'attune.db'))) {
    console.log(`HTTP /v1/recommend vs. Express hello-world: reusing the store seeded in ${dataDir} (${fmt(PRODUCTS)} products, ${fmt(EVENTS)} events)`);
    sample = sampleOnly();
  } else {
    mkdirSync(dataDir, { recursive: true });
    console.log(`HTTP /v1/recommend vs. Express hello-world: seeding ${fmt(PRODUCTS)} products and ${fmt(EVENTS)} events …`);
    ({ sample } = await seed(dataDir));
  }
  const attune = await startChild('ingest/attune-server.ts', { ATTUNE_DATA_DIR: dataDir });
  const list = bodies(sample, 20_000);
  const res = { hello: [] as number[], helloP99: [] as number[], attune: [] as number[], attuneP99: [] as number[], attuneP50: [] as number[] };
  try {
    // Warm-up, one pass over the request bodies: lists (popular, trending, per category and
    // brand, each item's related items) and item attributes are then cached, as on a server
    // that has been up for a while; they are recomputed every 5 minutes, served stale meanwhile.
    const warm = await load(attune.port, list, true);
    console.log(`  warm-up: ${fmt(list.length)} requests, p99 ${warm.p99} ms (lists computed on first use)`);
    for (let i = 0; i < rounds; i++) {
      const h = await startChild('recommend/hello-server.ts', {});
      const hr = await load(h.port, list);
      await stopChild(h.child);
      const ar = await load(attune.port, list);
      if (ar.non2xx > 0 || ar.errors > 0) console.log(`  round ${i + 1}: attune non-2xx ${ar.non2xx}, errors ${ar.errors}`);
      res.hello.push(hr.rps);
      res.helloP99.push(hr.p99);
      res.attune.push(ar.rps);
      res.attuneP99.push(ar.p99);
      res.attuneP50.push(ar.p50);
      console.log(`  round ${i + 1}: hello-world ${fmt(hr.rps)} req/s (p99 ${hr.p99} ms); attune /v1/recommend ${fmt(ar.rps)} req/s (p50 ${ar.p50} ms, p99 ${ar.p99} ms)`);
    }
    // What the load got back: items per answer and how many came from the fallback, per strategy.
    const seen = new Map<string, { n: number; items: number; fallback: number }>();
    for (const body of list.slice(0, 180)) {
      const answer = (await (
        await fetch(`http://127.0.0.1:${attune.port}/v1/recommend`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/json' }, body })
      ).json()) as { strategy: string; items: unknown[]; fallback: number };
      const m = seen.get(answer.strategy) ?? { n: 0, items: 0, fallback: 0 };
      m.n++;
      m.items += answer.items.length;
      m.fallback += answer.fallback;
      seen.set(answer.strategy, m);
    }
    console.log(`  answers (items, of which fallback, per request): ${[...seen].map(([s, m]) => `${s} ${(m.items / m.n).toFixed(1)}/${(m.fallback / m.n).toFixed(1)}`).join(', ')}`);
  } finally {
    await stopChild(attune.child);
  }
  if (rounds > 0) console.log(`  median: hello-world ${fmt(median(res.hello))} req/s (p99 ${median(res.helloP99)} ms); attune ${fmt(median(res.attune))} req/s (p50 ${median(res.attuneP50)} ms, p99 ${median(res.attuneP99)} ms)`);
  if (rounds > 0) console.log(`  ratio attune/hello-world: throughput ${(median(res.attune) / median(res.hello)).toFixed(3)}, p99 ${(median(res.attuneP99) / Math.max(median(res.helloP99), 1)).toFixed(1)}×`);
} finally {
  if (!args.data) rmSync(dataDir, { recursive: true, force: true });
}
