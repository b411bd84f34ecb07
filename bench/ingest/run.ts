/**
 * Ingest benchmark. One run measures, side by side on this machine:
 *  1. HTTP: POST /v1/batch into Attune on the embedded store vs. a bare Express hello-world
 *     receiving the same bodies (both in their own process, same load generator).
 *  2. In-process: engine.ingestBatch() (validation, identity, profiles, events) vs. raw
 *     batched INSERTs of the same event rows into the same SQLite schema.
 * Each pair alternates for several rounds; medians and ratios are printed.
 *
 *   pnpm bench:ingest [-- --rounds 3 --seconds 8 --batch 100 --connections 16]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createEngine } from '@attune/core';
import { createSqliteStore } from '@attune/storage-sqlite';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { fmt, median, startChild, stopChild } from '../lib.ts';
import { createTraffic } from './events.ts';

const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '8' },
    batch: { type: 'string', default: '100' },
    connections: { type: 'string', default: '16' },
    visitors: { type: 'string', default: '20000' },
    'inproc-events': { type: 'string', default: '100000' },
    only: { type: 'string' },
  },
});
const rounds = Number(args.rounds);
const seconds = Number(args.seconds);
const batchSize = Number(args.batch);
const connections = Number(args.connections);
const visitors = Number(args.visitors);
const inprocEvents = Number(args['inproc-events']);
const WRITE_KEY = 'wk_bench_write_key_0000000000000000000';

/**
 * Request bodies are made before the clock starts, so the load generator's own cost does not
 * cap the rate. Each body is sent once: every call has a fresh messageId.
 */
function makeBodies(runId: string): string[] {
  const traffic = createTraffic({ visitors, runId, seed: runId.length + 7 });
  // Unique bodies for 600 requests/s, three times what Attune answers here; the hello-world
  // peer, faster, cycles through them (it ignores the content).
  return Array.from({ length: seconds * 600 }, () => JSON.stringify(traffic.batch(batchSize)));
}

async function load(port: number, runId: string): Promise<{ rps: number; non2xx: number; errors: number }> {
  const bodies = makeBodies(runId);
  let next = 0;
  const auth = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: '/v1/batch',
        headers: { 'content-type': 'application/json', authorization: auth },
        setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] as string }),
      },
    ],
  });
  const ok = result['2xx'];
  if (runId.startsWith('attune') && ok > bodies.length) console.log('  warning: bodies were reused; raise the pool in makeBodies');
  return { rps: ok / seconds, non2xx: result.non2xx, errors: result.errors + result.timeouts };
}

async function httpBench() {
  const hello: number[] = [];
  const attune: number[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'attune-bench-http-'));
  try {
    for (let r = 0; r < rounds; r++) {
      const h = await startChild('ingest/hello-server.ts', {});
      const hr = await load(h.port, `hello-${r}`);
      await stopChild(h.child);
      const a = await startChild('ingest/attune-server.ts', { ATTUNE_DATA_DIR: dataDir });
      const ar = await load(a.port, `attune-${r}`);
      await stopChild(a.child);
      if (ar.non2xx > 0 || ar.errors > 0) console.log(`  round ${r + 1}: attune non-2xx ${ar.non2xx}, errors ${ar.errors}`);
      hello.push(hr.rps);
      attune.push(ar.rps * batchSize);
      console.log(
        `  round ${r + 1}: hello-world ${fmt(hr.rps)} req/s; attune ${fmt(ar.rps)} req/s = ${fmt(ar.rps * batchSize)} events/s`,
      );
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  return { hello: median(hello), attuneEvents: median(attune), attuneRequests: median(attune) / batchSize };
}

function batches(runId: string, events: number) {
  const traffic = createTraffic({ visitors, runId, seed: 99 });
  const out: Array<{ batch: Record<string, unknown>[] }> = [];
  for (let i = 0; i < events / batchSize; i++) out.push(traffic.batch(batchSize));
  return out;
}

async function rawInserts(file: string, work: Array<{ batch: Record<string, unknown>[] }>): Promise<number> {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // The same settings the embedded store uses.
  db.pragma('synchronous = FULL');
  db.pragma('cache_size = -65536');
  db.pragma('temp_store = MEMORY');
  db.pragma('wal_autocheckpoint = 10000');
  const insert = db.prepare(
    'INSERT INTO events (message_id, profile_id, type, name, ts, received_at, message) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const start = performance.now();
  for (const { batch } of work) {
    begin.run();
    for (const m of batch) {
      insert.run(m.messageId, m.anonymousId, m.type, (m.event as string) ?? m.type, Date.parse(m.timestamp as string), Date.now(), JSON.stringify(m));
    }
    commit.run();
  }
  const elapsed = performance.now() - start;
  db.close();
  return (work.length * batchSize * 1000) / elapsed;
}

async function engineIngest(file: string, work: Array<{ batch: Record<string, unknown>[] }>): Promise<number> {
  const store = createSqliteStore({ filename: file });
  await store.migrate();
  const engine = createEngine({ store, clock: { now: () => Date.now(), defer: (fn) => setImmediate(fn) } });
  const start = performance.now();
  for (const body of work) await engine.ingestBatch(body);
  // Recommendation counters are queued at ingestion and folded in bulk (the server does it
  // every second): the fold is part of the work, so it is inside the timing.
  await engine.recommendations.fold();
  const elapsed = performance.now() - start;
  await store.close();
  return (work.length * batchSize * 1000) / elapsed;
}

async function inProcessBench() {
  const raw: number[] = [];
  const engine: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const dir = mkdtempSync(join(tmpdir(), 'attune-bench-inproc-'));
    try {
      const rawFile = join(dir, 'raw.db');
      const schema = createSqliteStore({ filename: rawFile });
      await schema.migrate();
      await schema.close();
      const rawRate = await rawInserts(rawFile, batches(`raw-${r}`, inprocEvents));
      const engineRate = await engineIngest(join(dir, 'engine.db'), batches(`eng-${r}`, inprocEvents));
      raw.push(rawRate);
      engine.push(engineRate);
      console.log(`  round ${r + 1}: raw inserts ${fmt(rawRate)} events/s; engine.ingestBatch ${fmt(engineRate)} events/s`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { raw: median(raw), engine: median(engine) };
}

console.log(
  `Attune ingest benchmark: ${rounds} rounds, batches of ${batchSize}, ${visitors} visitors, SQLite WAL synchronous=FULL, ${process.version}`,
);
if (args.only !== 'inproc') {
  console.log(`HTTP (${connections} connections, ${seconds}s per peer per round):`);
  const h = await httpBench();
  console.log(
    `HTTP median: attune ${fmt(h.attuneEvents)} events/s (${fmt(h.attuneRequests)} req/s) vs hello-world ${fmt(h.hello)} req/s; ` +
      `request ratio attune/hello = ${(h.attuneRequests / h.hello).toFixed(3)}; target >= 20,000 events/s: ${h.attuneEvents >= 20_000 ? 'met' : 'NOT met'}`,
  );
}
if (args.only !== 'http') {
  console.log(`In-process (${fmt(inprocEvents)} events per side per round):`);
  const p = await inProcessBench();
  console.log(
    `In-process median: engine ${fmt(p.engine)} events/s vs raw inserts ${fmt(p.raw)} events/s; ratio engine/raw = ${(p.engine / p.raw).toFixed(3)}; target >= 0.5: ${p.engine / p.raw >= 0.5 ? 'met' : 'NOT met'}`,
  );
}
