/**
 * Render benchmark: the storefront's added page latency from personalization. The same home and
 * product pages are requested with personalization on (decisions from Attune over HTTP, under the
 * 150 ms budget) and off, alternating, 200 requests each; medians and the difference are printed.
 * Attune runs in its own process on the embedded store, with the demo audiences and the
 * storefront's experiences.
 *
 *   pnpm bench:render [-- --requests 200]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createStorefront } from '@attune/example-storefront/app';
import { STOREFRONT_CONFIG } from '@attune/example-storefront/config';
import { DEMO_AUDIENCES, DEMO_SEGMENT_GROUPS } from '@attune/server/demo';
import { median, startChild, stopChild } from '../lib.ts';

const { values: args } = parseArgs({ args: process.argv.slice(2).filter((a) => a !== '--'), options: { requests: { type: 'string', default: '200' } } });
const requests = Number(args.requests);
const SECRET = 'sk_bench_secret_key_000000000000000000';
const WRITE = 'wk_bench_write_key_0000000000000000000';

async function api(base: string, method: string, path: string, body: unknown, auth = `Bearer ${SECRET}`) {
  const res = await fetch(base + path, { method, headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
}

async function listen(app: Awaited<ReturnType<typeof createStorefront>>): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
}

const dataDir = mkdtempSync(join(tmpdir(), 'attune-bench-render-'));
const attune = await startChild('ingest/attune-server.ts', { ATTUNE_DATA_DIR: dataDir });
const attuneUrl = `http://127.0.0.1:${attune.port}`;
try {
  for (const g of DEMO_SEGMENT_GROUPS) await api(attuneUrl, 'POST', '/v1/segment-groups', g);
  for (const a of DEMO_AUDIENCES) await api(attuneUrl, 'POST', '/v1/audiences', a);
  await api(attuneUrl, 'PUT', '/v1/config', STOREFRONT_CONFIG);
  // 100 returning visitors with some history.
  const visitors = Array.from({ length: 100 }, (_, i) => `render-bench-${i}`);
  const basic = `Basic ${Buffer.from(`${WRITE}:`).toString('base64')}`;
  await api(attuneUrl, 'POST', '/v1/batch', {
    batch: visitors.flatMap((v, i) => [
      { type: 'page', anonymousId: v, properties: { path: '/' } },
      { type: 'track', event: 'Product Added', anonymousId: v, properties: { product_id: `p-${i}`, price: 50 } },
    ]),
  }, basic);

  const on = await listen(await createStorefront({ attuneUrl, writeKey: WRITE }));
  const off = await listen(await createStorefront({ attuneUrl, writeKey: WRITE, personalize: false }));
  const paths = ['/', '/products/' + (await (await fetch(`${on.url}/category/shoes`)).text()).match(/href="\/products\/([^"]+)"/)?.[1]];
  const timings = { on: [] as number[], off: [] as number[] };
  const get = async (base: string, i: number) => {
    const started = performance.now();
    const res = await fetch(base + paths[i % paths.length], { headers: { cookie: `attune_aid=${visitors[i % visitors.length]}; shop_consent=accepted` } });
    await res.text();
    return performance.now() - started;
  };
  for (let i = 0; i < 20; i++) {
    await get(on.url, i);
    await get(off.url, i);
  }
  for (let i = 0; i < requests; i++) {
    timings.on.push(await get(on.url, i));
    timings.off.push(await get(off.url, i));
  }
  const mOn = median(timings.on);
  const mOff = median(timings.off);
  console.log(`Storefront pages (home and product), ${requests} requests each, alternating:`);
  console.log(`  personalization off: median ${mOff.toFixed(2)} ms`);
  console.log(`  personalization on:  median ${mOn.toFixed(2)} ms (p95 ${[...timings.on].sort((a, b) => a - b)[Math.floor(requests * 0.95)]?.toFixed(2)} ms)`);
  console.log(`  added latency: ${(mOn - mOff).toFixed(2)} ms per page (budget 150 ms)`);
  await on.close();
  await off.close();
} finally {
  await stopChild(attune.child);
  rmSync(dataDir, { recursive: true, force: true });
}
