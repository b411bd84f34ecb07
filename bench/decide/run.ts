/**
 * Decide benchmark. One run measures, side by side on this machine:
 *  1. HTTP: POST /v1/decide (5 slots, 200 experiences, 50 audiences, known visitors with traits,
 *     history and memberships, on the embedded store) vs. a bare Express hello-world answering
 *     the same bodies, both in their own process, at 50 connections: requests/s and p99.
 *  2. In-process: the core decide() for one experience with a targeting condition and an A/B
 *     experiment vs. GrowthBook's JavaScript SDK evaluating the equivalent feature (a targeting
 *     condition and an experiment rule), microseconds per evaluation.
 * Rounds alternate the peers; medians and ratios are printed.
 *
 *   pnpm bench:decide [-- --rounds 3 --seconds 8 --connections 50 --visitors 5000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type DecisionSnapshot, decide, manifestFromConfig } from '@attune/core';
import { GrowthBookClient } from '@growthbook/growthbook';
import autocannon from 'autocannon';
import { fmt, median, startChild, stopChild } from '../lib.ts';
import { audiences, decisionConfig, pages, SLOTS, visitorEvents, visitorTraits } from './workload.ts';

const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '8' },
    connections: { type: 'string', default: '50' },
    visitors: { type: 'string', default: '5000' },
    evaluations: { type: 'string', default: '200000' },
    only: { type: 'string' },
  },
});
const rounds = Number(args.rounds);
const seconds = Number(args.seconds);
const connections = Number(args.connections);
const visitors = Number(args.visitors);
const evaluations = Number(args.evaluations);
const SECRET = 'sk_bench_secret_key_000000000000000000';
const WRITE = 'wk_bench_write_key_0000000000000000000';
const basic = `Basic ${Buffer.from(`${WRITE}:`).toString('base64')}`;
const RUN = 'bench';

async function api(base: string, method: string, path: string, body: unknown, auth = `Bearer ${SECRET}`): Promise<unknown> {
  const res = await fetch(base + path, { method, headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

function decideBodies(count: number, recordExposure = true): string[] {
  const p = pages();
  let seed = 12345;
  const rand = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  return Array.from({ length: count }, () => {
    const v = Math.floor(rand() * visitors);
    return JSON.stringify({
      anonymousId: `${RUN}-v${v}`,
      context: { url: `https://shop.example.com${p[Math.floor(rand() * p.length)]}`, geo: { country: ['US', 'FR', 'GB'][v % 3] }, device: { type: 'mobile' }, locale: 'en-US' },
      slots: SLOTS,
      ...(recordExposure ? {} : { recordExposure: false }),
    });
  });
}

async function load(port: number, bodies: string[]): Promise<{ rps: number; p99: number; non2xx: number; errors: number }> {
  let next = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration: seconds,
    requests: [{ method: 'POST', path: '/v1/decide', headers: { 'content-type': 'application/json', authorization: basic }, setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] as string }) }],
  });
  return { rps: result['2xx'] / seconds, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors + result.timeouts };
}

async function httpBench() {
  const dataDir = mkdtempSync(join(tmpdir(), 'attune-bench-decide-'));
  const attune = await startChild('ingest/attune-server.ts', { ATTUNE_DATA_DIR: dataDir });
  const base = `http://127.0.0.1:${attune.port}`;
  const results = { hello: [] as number[], helloP99: [] as number[], attune: [] as number[], attuneP99: [] as number[] };
  try {
    console.log(`  configuring 50 audiences and 200 experiences; seeding ${fmt(visitors)} visitors …`);
    await api(base, 'POST', '/v1/segment-groups', { id: 'bench', name: 'bench' });
    for (const a of audiences()) await api(base, 'POST', '/v1/audiences', { id: a.id, groupId: 'bench', name: a.id, condition: a.condition });
    await api(base, 'PUT', '/v1/config', decisionConfig());
    for (let i = 0; i < visitors; i += 100) {
      const batch: unknown[] = [];
      for (let v = i; v < Math.min(visitors, i + 100); v++) {
        batch.push({ type: 'identify', anonymousId: `${RUN}-v${v}`, traits: visitorTraits(v) }, ...visitorEvents(v, RUN));
      }
      await api(base, 'POST', '/v1/batch', { batch }, basic);
    }
    // Every visitor has been on the site before: their first exposures are recorded here.
    const warm = decideBodies(visitors * 2);
    await load(attune.port, warm);
    const bodies = decideBodies(50_000, process.env.BENCH_RECORD !== "0");
    for (let r = 0; r < rounds; r++) {
      const h = await startChild('decide/hello-server.ts', {});
      const hr = await load(h.port, bodies);
      await stopChild(h.child);
      const ar = await load(attune.port, bodies);
      if (ar.non2xx > 0 || ar.errors > 0) console.log(`  round ${r + 1}: attune non-2xx ${ar.non2xx}, errors ${ar.errors}`);
      results.hello.push(hr.rps);
      results.helloP99.push(hr.p99);
      results.attune.push(ar.rps);
      results.attuneP99.push(ar.p99);
      console.log(`  round ${r + 1}: hello-world ${fmt(hr.rps)} req/s (p99 ${hr.p99} ms); attune /v1/decide ${fmt(ar.rps)} req/s (p99 ${ar.p99} ms)`);
    }
    // What the load asked: how many slots got content, and why.
    const reasons = new Map<string, number>();
    for (const body of bodies.slice(0, 200)) {
      const answer = (await api(base, 'POST', '/v1/decide', JSON.parse(body), basic)) as { decisions: Record<string, { reason: string }> };
      for (const d of Object.values(answer.decisions)) reasons.set(d.reason, (reasons.get(d.reason) ?? 0) + 1);
    }
    console.log(`  slot outcomes over 200 requests: ${[...reasons].map(([r, n]) => `${r} ${n}`).join(', ')}`);
  } finally {
    await stopChild(attune.child);
    rmSync(dataDir, { recursive: true, force: true });
  }
  return { hello: median(results.hello), helloP99: median(results.helloP99), attune: median(results.attune), attuneP99: median(results.attuneP99) };
}

/** One experience with a targeting condition and a 50/50 experiment, in both engines. */
async function inProcessBench() {
  const now = Date.now();
  const manifest = manifestFromConfig(
    {
      experiences: [
        {
          id: 'hero',
          name: 'hero',
          targeting: { condition: { have: { trait: 'traits.country', op: 'in', value: ['US', 'GB', 'FR'] } } },
          variants: [
            { key: 'control', slots: { hero: { content: { title: 'control' } } } },
            { key: 'b', slots: { hero: { content: { title: 'b' } } } },
          ],
        },
      ],
      experiments: [{ id: 'hero-test', name: 'hero test', experienceId: 'hero', goals: [{ id: 'buy', event: 'Order Completed' }] }],
    },
    now,
  );
  const gb = new GrowthBookClient().initSync({
    payload: {
      features: {
        hero: {
          defaultValue: { title: 'default' },
          rules: [
            {
              condition: { country: { $in: ['US', 'GB', 'FR'] } },
              key: 'hero-test',
              hashAttribute: 'id',
              variations: [{ title: 'control' }, { title: 'b' }],
              weights: [0.5, 0.5],
              coverage: 1,
            },
          ],
        },
      },
    },
  });
  const ids = Array.from({ length: evaluations }, (_, i) => `visitor-${i}`);
  const countries = ['US', 'FR', 'DE', 'GB'];
  const snapshots: DecisionSnapshot[] = ids.map((_, i) => ({ profileId: null, traits: { country: countries[i % 4] }, computed: {}, audiences: [], assignments: {}, offers: {} }));
  const context = {};
  const slots = ['hero'];

  const runAttune = async () => {
    let b = 0;
    const start = performance.now();
    for (let i = 0; i < ids.length; i++) {
      const r = await decide(manifest, snapshots[i] as DecisionSnapshot, { anonymousId: ids[i] as string, context, slots }, now);
      if (r.decisions.hero?.variant === 'b') b++;
    }
    return { us: ((performance.now() - start) * 1000) / ids.length, b };
  };
  const runGrowthBook = () => {
    let b = 0;
    const noop = () => undefined;
    const start = performance.now();
    for (let i = 0; i < ids.length; i++) {
      const r = gb.evalFeature('hero', { attributes: { id: ids[i], country: countries[i % 4] }, trackingCallback: noop });
      if ((r.value as { title: string } | null)?.title === 'b') b++;
    }
    return { us: ((performance.now() - start) * 1000) / ids.length, b };
  };
  await runAttune();
  runGrowthBook();
  const a: number[] = [];
  const g: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const ar = await runAttune();
    const gr = runGrowthBook();
    a.push(ar.us);
    g.push(gr.us);
    console.log(`  round ${r + 1}: attune decide() ${ar.us.toFixed(2)} µs (variant b ${ar.b}); growthbook evalFeature ${gr.us.toFixed(2)} µs (variant b ${gr.b})`);
  }
  return { attune: median(a), growthbook: median(g) };
}

if (args.only !== 'inproc') {
  console.log(`HTTP /v1/decide vs. Express hello-world (${rounds} rounds × ${seconds} s, ${connections} connections, 5 slots, 200 experiences, 50 audiences)`);
  const h = await httpBench();
  console.log(`  median: hello-world ${fmt(h.hello)} req/s (p99 ${h.helloP99} ms); attune ${fmt(h.attune)} req/s (p99 ${h.attuneP99} ms)`);
  console.log(`  ratio attune/hello-world: ${(h.attune / h.hello).toFixed(3)} (target ≥ 0.5)`);
}
if (args.only !== 'http') {
  console.log(`In-process: decide() vs. GrowthBook evalFeature (${rounds} rounds × ${fmt(evaluations)} evaluations)`);
  const p = await inProcessBench();
  console.log(`  median: attune ${p.attune.toFixed(2)} µs; growthbook ${p.growthbook.toFixed(2)} µs per evaluation`);
  console.log(`  ratio growthbook/attune: ${(p.growthbook / p.attune).toFixed(2)}× (target > 1: attune faster)`);
}
