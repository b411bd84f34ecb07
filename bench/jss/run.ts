/**
 * JSS benchmark: the Sitecore JSS adapter's added latency per request. The example JSS site
 * renders the same layouts with the adapter on (Attune decides the page and component variants
 * over HTTP, the request is rewritten to JSS's variant path, JSS's personalizeLayout applies it)
 * and off (the layout rendered as authored), alternating, 1,000 requests each; then the adapter
 * alone in-process (the core's decide() from a manifest + JSS's personalizeLayout) against the
 * same render without it. Medians side by side, and the difference.
 *
 *   pnpm bench:jss [-- --requests 1000]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EMPTY_SNAPSHOT, manifestFromConfig } from '@attune/core';
import { createJssApp } from '@attune/example-jss-app/app';
import { configureAttune, JSS_APP_CONFIG } from '@attune/example-jss-app/config';
import { renderRoute } from '@attune/example-jss-app/render';
import { localDecisionSource } from '@attune/render/local';
import { createJssPersonalizer, variantsOfPath } from '@attune/sitecore-jss';
import type { LayoutServiceData } from '@sitecore-jss/sitecore-jss/layout.js';
import { median, startChild, stopChild } from '../lib.ts';

const { values: args } = parseArgs({ args: process.argv.slice(2).filter((a) => a !== '--'), options: { requests: { type: 'string', default: '1000' } } });
const requests = Number(args.requests);
const SECRET = 'sk_bench_secret_key_000000000000000000';
const WRITE = 'wk_bench_write_key_0000000000000000000';
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)] as number;

async function listen(app: ReturnType<typeof createJssApp>): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
}

const dataDir = mkdtempSync(join(tmpdir(), 'attune-bench-jss-'));
const attune = await startChild('ingest/attune-server.ts', { ATTUNE_DATA_DIR: dataDir });
const attuneUrl = `http://127.0.0.1:${attune.port}`;
try {
  await configureAttune(attuneUrl, SECRET);
  // 100 returning visitors: a third trail riders, a third commuters, a third without history.
  const visitors = Array.from({ length: 100 }, (_, i) => `jss-bench-${i}`);
  const categories = ['Mountain', 'City', null];
  const res = await fetch(`${attuneUrl}/v1/batch`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${WRITE}:`).toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      batch: visitors.flatMap((v, i) => {
        const category = categories[i % 3];
        return category ? [{ type: 'track', event: 'Product Viewed', anonymousId: v, properties: { product_id: `p-${i}`, category } }] : [];
      }),
    }),
  });
  if (!res.ok) throw new Error(`seeding visitors: ${res.status} ${await res.text()}`);

  // 1. Over HTTP: the example site with the adapter on and off.
  const on = await listen(createJssApp({ attuneUrl, writeKey: WRITE }));
  const off = await listen(createJssApp({ attuneUrl, writeKey: WRITE, personalize: false }));
  const paths = ['/', '/bikes', '/de-DE', '/da-DK/bikes'];
  const get = async (base: string, i: number) => {
    const started = performance.now();
    const r = await fetch(base + paths[i % paths.length], { headers: { cookie: `attune_aid=${visitors[i % visitors.length]}` } });
    await r.text();
    if (r.status !== 200) throw new Error(`${paths[i % paths.length]} answered ${r.status}`);
    return performance.now() - started;
  };
  for (let i = 0; i < 50; i++) {
    await get(on.url, i);
    await get(off.url, i);
  }
  const http = { on: [] as number[], off: [] as number[] };
  for (let i = 0; i < requests; i++) {
    http.on.push(await get(on.url, i));
    http.off.push(await get(off.url, i));
  }
  await on.close();
  await off.close();

  // 2. In process: resolve + personalizeLayout + render against render alone, same layouts.
  const require = createRequire(import.meta.url);
  const layouts = ['home.en', 'bikes.en', 'home.de-DE', 'bikes.da-DK'].map(
    (f) => JSON.parse(readFileSync(require.resolve(`@attune/sitecore-jss/fixtures/${f}.json`), 'utf8')) as LayoutServiceData,
  );
  const manifest = manifestFromConfig(JSS_APP_CONFIG, Date.now());
  const personalizer = createJssPersonalizer({ source: localDecisionSource({ manifest: () => manifest, snapshot: () => EMPTY_SNAPSHOT }) });
  const local = { on: [] as number[], off: [] as number[] };
  const renderOn = async (i: number) => {
    const t = performance.now();
    const { layout } = await personalizer.personalize(layouts[i % layouts.length] as LayoutServiceData, { anonymousId: visitors[i % visitors.length] });
    renderRoute(layout);
    return performance.now() - t;
  };
  const renderOff = (i: number) => {
    const t = performance.now();
    // Without the adapter a JSS page still runs personalizeLayout with the default variant.
    renderRoute(personalizer.apply(layouts[i % layouts.length] as LayoutServiceData, variantsOfPath('/')));
    return performance.now() - t;
  };
  for (let i = 0; i < 200; i++) {
    await renderOn(i);
    renderOff(i);
  }
  for (let i = 0; i < requests; i++) {
    local.on.push(await renderOn(i));
    local.off.push(renderOff(i));
  }

  const row = (label: string, xs: number[]) => `  ${label.padEnd(28)} median ${median(xs).toFixed(3).padStart(8)} ms   p95 ${p95(xs).toFixed(3).padStart(8)} ms`;
  console.log(`JSS pages (${paths.join(', ')}), ${requests} requests each, alternating, 100 visitors:`);
  console.log(row('without personalization', http.off));
  console.log(row('with @attune/sitecore-jss', http.on));
  console.log(`  added latency: ${(median(http.on) - median(http.off)).toFixed(3)} ms per request (median; ratio ${(median(http.on) / median(http.off)).toFixed(2)}x; budget 150 ms)`);
  console.log(`In process (decide from the manifest + personalizeLayout + render), ${requests} renders each:`);
  console.log(row('render only', local.off));
  console.log(row('adapter + render', local.on));
  console.log(`  added by the adapter: ${(median(local.on) - median(local.off)).toFixed(3)} ms per render (median; ratio ${(median(local.on) / median(local.off)).toFixed(2)}x)`);
} finally {
  await stopChild(attune.child);
  rmSync(dataDir, { recursive: true, force: true });
}
