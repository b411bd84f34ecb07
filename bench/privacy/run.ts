/**
 * Erasure cost: time to erase one profile holding 100,000 events, on the embedded store and on
 * PostgreSQL. Each round fills a fresh profile (outside the timing) and erases it; the baseline,
 * measured in the same run, erases a profile of 1,000 events, so the ratio shows how erasure
 * scales with history. Other profiles' events sit around it (`--others`).
 *
 *   pnpm bench:privacy [-- --rounds 3 --events 100000 --baseline 1000 --stores sqlite,postgres]
 *
 * PostgreSQL: ATTUNE_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres); a
 * fresh database is created and dropped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createEngine, type Engine, type Store } from '@attune/core';
import { createPostgresStore } from '@attune/storage-postgres';
import { createSqliteStore } from '@attune/storage-sqlite';
import { createTestPostgresDatabase } from '@attune/test-utils';
import { fmt, median } from '../lib.ts';

const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    rounds: { type: 'string', default: '3' },
    events: { type: 'string', default: '100000' },
    baseline: { type: 'string', default: '1000' },
    others: { type: 'string', default: '20000' },
    stores: { type: 'string', default: 'sqlite,postgres' },
  },
});
const rounds = Number(args.rounds);
const events = Number(args.events);
const baseline = Number(args.baseline);
const others = Number(args.others);

let seq = 0;
async function fill(engine: Engine, userId: string, n: number): Promise<string> {
  const start = Date.now() - n * 1000;
  for (let i = 0; i < n; i += 1000) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 1000); j++) {
      batch.push({ type: 'track', userId, event: j % 3 === 0 ? 'Product Viewed' : 'Page Scrolled', messageId: `bench-${seq++}`, timestamp: new Date(start + j * 1000).toISOString(), properties: { product_id: `p${j % 500}`, depth: j % 100 } });
    }
    await engine.ingestBatch({ batch });
  }
  return (await engine.findProfileId('userId', userId)) as string;
}

async function timeErase(engine: Engine, userId: string, n: number): Promise<number> {
  const id = await fill(engine, userId, n);
  const t0 = performance.now();
  const erased = await engine.eraseProfile(id);
  const ms = performance.now() - t0;
  if (erased?.events !== n) throw new Error(`erased ${erased?.events} events, expected ${n}`);
  return ms;
}

async function benchStore(name: string, open: () => Promise<{ store: Store; close: () => Promise<void> }>): Promise<void> {
  const { store, close } = await open();
  try {
    await store.migrate();
    const engine = createEngine({ store, privacy: { suppressForMs: 0 } });
    for (let i = 0; i < others; i += 1000) await fill(engine, `other-${i}`, Math.min(1000, others - i));
    const big: number[] = [];
    const small: number[] = [];
    for (let r = 0; r < rounds; r++) {
      small.push(await timeErase(engine, `small-${r}`, baseline));
      big.push(await timeErase(engine, `big-${r}`, events));
    }
    const mBig = median(big);
    const mSmall = median(small);
    console.log(
      `${name.padEnd(8)} erase ${fmt(events)} events: median ${fmt(mBig)} ms (${big.map(fmt).join(', ')}); baseline ${fmt(baseline)} events: ${fmt(mSmall)} ms; ratio ${(mBig / mSmall).toFixed(1)}x; ${fmt((events / mBig) * 1000)} events/s`,
    );
  } finally {
    await close();
  }
}

const stores = args.stores.split(',');
console.log(`bench:privacy — ${rounds} rounds, ${fmt(events)} events per erased profile, ${fmt(others)} other events`);
if (stores.includes('sqlite')) {
  await benchStore('sqlite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attune-bench-privacy-'));
    const store = createSqliteStore({ filename: join(dir, 'attune.db') });
    return { store, close: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
  });
}
if (stores.includes('postgres')) {
  await benchStore('postgres', async () => {
    const db = await createTestPostgresDatabase();
    const store = createPostgresStore({ connectionString: db.url });
    return { store, close: async () => { await store.close(); await db.drop(); } };
  });
}
