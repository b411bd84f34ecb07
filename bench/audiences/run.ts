/**
 * Audience cost at ingestion. One run ingests the same synthetic traffic into two fresh
 * embedded stores, one with no audiences and one with 50 (did / did not / have, windows,
 * aggregates, top values, traits), alternating for several rounds, and prints the medians
 * and the cost ratio. Target: at most 30% slower with 50 audiences.
 *
 *   pnpm bench:audiences [-- --rounds 3 --events 30000 --warmup 30000 --visitors 5000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createEngine, type Condition } from '@attune/core';
import { createSqliteStore } from '@attune/storage-sqlite';
import { createTraffic } from '../ingest/events.ts';

const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    rounds: { type: 'string', default: '3' },
    events: { type: 'string', default: '30000' },
    warmup: { type: 'string', default: '30000' },
    visitors: { type: 'string', default: '5000' },
    batch: { type: 'string', default: '100' },
  },
});
const rounds = Number(args.rounds);
const events = Number(args.events);
const batchSize = Number(args.batch);
const warmup = Number(args.warmup);
const visitors = Number(args.visitors);
const CATEGORIES = ['Shoes', 'Outerwear', 'Bags', 'Accessories', 'Electronics', 'Home'];

/** 50 audiences of the kinds marketers build, over the events the traffic sends. */
export function fiftyAudiences(): Array<{ id: string; condition: Condition }> {
  const out: Array<{ id: string; condition: Condition }> = [];
  CATEGORIES.forEach((category, i) => {
    const where = [{ property: 'category', op: 'eq' as const, value: category }];
    out.push({ id: `viewed-${i}-7d`, condition: { did: { event: 'Product Viewed', where, window: { last: { days: 7 } } } } });
    out.push({ id: `viewed-${i}-3x`, condition: { did: { event: 'Product Viewed', where, count: { op: 'at_least', value: 3 }, window: { last: { days: 30 } } } } });
    out.push({
      id: `prospect-${i}`,
      condition: { all: [{ did: { event: 'Product Viewed', where, window: { last: { days: 30 } } } }, { did_not: { event: 'Order Completed', window: { last: { days: 30 } } } }] },
    });
    out.push({ id: `top-${i}`, condition: { have: { top: { event: 'Product Viewed', property: 'category', window: { last: { days: 30 } } }, op: 'eq', value: category } } });
    out.push({ id: `carted-${i}`, condition: { did: { event: 'Product Added', where, window: { last: { hours: 1 } } } } });
  });
  for (const [i, threshold] of [50, 100, 200, 500, 1000].entries()) {
    out.push({ id: `spent-${i}`, condition: { have: { aggregate: { fn: 'sum', event: 'Order Completed', property: 'total', window: { last: { days: 365 } } }, op: 'gte', value: threshold } } });
    out.push({ id: `ltv-${i}`, condition: { have: { trait: 'computed.lifetimeValue', op: 'gte', value: threshold } } });
  }
  out.push({ id: 'abandoner', condition: { all: [{ did: { event: 'Product Added', window: { last: { days: 1 } } } }, { did_not: { event: 'Order Completed', window: { last: { days: 1 } } } }] } });
  out.push({ id: 'searcher', condition: { did: { event: 'Products Searched', count: { op: 'at_least', value: 2 }, window: { last: { days: 7 } } } } });
  out.push({ id: 'members', condition: { have: { trait: 'traits.plan', op: 'eq', value: 'member' } } });
  out.push({ id: 'mobile', condition: { context: { field: 'device.type', op: 'eq', value: 'mobile' } } });
  out.push({ id: 'multi-session', condition: { have: { trait: 'computed.sessions', op: 'gte', value: 3 } } });
  out.push({ id: 'no-orders', condition: { did_not: { event: 'Order Completed' } } });
  out.push({ id: 'member-buyer', condition: { all: [{ in_audience: 'members' }, { in_audience: 'spent-0' }] } });
  out.push({ id: 'big-basket', condition: { did: { event: 'Order Completed', where: [{ property: 'total', op: 'gte', value: 50 }] } } });
  return out.slice(0, 50);
}

async function run(withAudiences: boolean, round: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'attune-bench-aud-'));
  try {
    const store = createSqliteStore({ filename: join(dir, 'a.db') });
    await store.migrate();
    const engine = createEngine({ store, clock: { now: () => Date.now(), defer: (fn) => setImmediate(fn) } });
    if (withAudiences) {
      await engine.audiences.createGroup({ id: 'bench', name: 'Bench' });
      for (const a of fiftyAudiences()) await engine.audiences.createAudience({ ...a, groupId: 'bench', name: a.id });
      await engine.audiences.recompute();
    }
    // Steady state: the visitors are known and already in their audiences before the clock
    // starts (a first visit's entries are measured too, but not only them).
    const traffic = createTraffic({ visitors, runId: `r${round}-${withAudiences}`, seed: 11 + round });
    for (let i = 0; i < warmup / batchSize; i++) await engine.ingestBatch(traffic.batch(batchSize));
    const work = Array.from({ length: events / batchSize }, () => traffic.batch(batchSize));
    const start = performance.now();
    for (const body of work) await engine.ingestBatch(body);
    const rate = (events * 1000) / (performance.now() - start);
    if (withAudiences) {
      const sample = await store.memberships.count('viewed-0-7d');
      if (sample === 0) throw new Error('no memberships: the audiences did not run');
    }
    await store.close();
    return rate;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const none: number[] = [];
const fifty: number[] = [];
console.log(
  `Audience ingestion cost: ${rounds} rounds of ${events} events after ${warmup} warm-up events, ${visitors} visitors, batches of ${batchSize}, embedded store, ${process.version}`,
);
for (let r = 0; r < rounds; r++) {
  none.push(await run(false, r));
  fifty.push(await run(true, r));
  console.log(`  round ${r + 1}: no audiences ${Math.round(none[r] as number)} events/s; 50 audiences ${Math.round(fifty[r] as number)} events/s`);
}
const cost = 1 - median(fifty) / median(none);
console.log(
  `Median: no audiences ${Math.round(median(none))} events/s, 50 audiences ${Math.round(median(fifty))} events/s; cost ${(cost * 100).toFixed(1)}% (target <= 30%: ${cost <= 0.3 ? 'met' : 'NOT met'})`,
);
