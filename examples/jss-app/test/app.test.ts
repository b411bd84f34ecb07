/**
 * The example site end to end over HTTP: a real Attune server process, the site's configuration
 * applied as `pnpm jss-app` applies it, and a visitor with a cookie jar.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CliProcess, freePort, killAll, removeDir, SECRET_KEY, startCli, tempDataDir, WRITE_KEY } from '@attune/test-utils/process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJssApp } from '../src/app.ts';
import { configureAttune } from '../src/config.ts';

let attune: CliProcess;
let dataDir: string;
let server: Server;
let site: string;

/** A browser's worth of cookies for one visitor. */
function visitor() {
  const jar = new Map<string, string>();
  const remember = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const [k, v] = (pair as string).split('=') as [string, string];
      if (/Expires=Thu, 01 Jan 1970/i.test(c)) jar.delete(k);
      else jar.set(k, v);
    }
  };
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  return {
    jar,
    async get(path: string): Promise<string> {
      const res = await fetch(site + path, { headers: { cookie: cookie() } });
      remember(res);
      expect(res.status).toBe(200);
      return res.text();
    },
    async post(path: string, form: Record<string, string> = {}, from = '/'): Promise<void> {
      const res = await fetch(site + path, { method: 'POST', redirect: 'manual', headers: { cookie: cookie(), referer: site + from, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
      remember(res);
      expect(res.status).toBe(303);
    },
  };
}

const h1 = (html: string) => /<h1>([^<]*)<\/h1>/.exec(html)?.[1];
const cta = (html: string) => /<button data-component="([^"]+)">([^<]*)<\/button>/.exec(html)?.slice(1).join(': ');
const sources = (html: string) => [...html.matchAll(/class="source">([^<]*)</g)].map((m) => m[1]);

async function results(): Promise<Array<{ variant: string; exposures: number; conversions: number }>> {
  const res = await fetch(`${attune.url}/v1/experiments/home-cta-test/results`, { headers: { authorization: `Bearer ${SECRET_KEY}` } });
  return ((await res.json()) as { variants: Array<{ variant: string; exposures: number; conversions: number }> }).variants;
}

beforeAll(async () => {
  dataDir = tempDataDir();
  attune = await startCli({ port: await freePort(), env: { ATTUNE_DATA_DIR: dataDir, ATTUNE_SECRET_KEY: SECRET_KEY, ATTUNE_WRITE_KEY: WRITE_KEY } });
  await configureAttune(attune.url, SECRET_KEY);
  server = createJssApp({ attuneUrl: attune.url, writeKey: WRITE_KEY, budgetMs: 150 }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  site = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await attune?.stop();
  killAll();
  if (dataDir) removeDir(dataDir);
});

describe('examples/jss-app', () => {
  it('a first visit gets an anonymous id and the default page, decided live', async () => {
    const v = visitor();
    const html = await v.get('/');
    expect(v.jar.get('attune_aid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(h1(html)).toBe('Ride further');
    expect(html).toContain('Free servicing for a year');
    expect(html).not.toContain('class="loyalty"');
    expect(sources(html)).toEqual(['live', 'live']);
  });

  it('viewing a mountain bike makes a trail rider: their home and bikes pages change, in every language', async () => {
    const v = visitor();
    await v.get('/');
    await v.post('/actions/view?category=Mountain');
    expect(h1(await v.get('/'))).toBe('Trails are calling');
    const de = await v.get('/de-DE');
    expect(h1(de)).toBe('Die Trails rufen');
    expect(de).toContain('Mitglieder fahren sonntags gratis');
    expect(h1(await v.get('/da-DK/bikes'))).toBe('Bygget til bjerget');

    const c = visitor();
    await c.post('/actions/view?category=City');
    const commuter = await c.get('/');
    expect(h1(commuter)).toBe('Your commute, faster');
    expect(commuter).not.toContain('Free servicing'); // hidden for commuters
  });

  it('keeps the call-to-action variant across requests and after sign-in; booking a test ride converts once', async () => {
    const before = await results();
    const v = visitor();
    const first = cta(await v.get('/'));
    for (let i = 0; i < 4; i++) expect(cta(await v.get('/'))).toBe(first);
    await v.post('/actions/sign-in', { email: 'ada@example.com' });
    expect(v.jar.get('jss_user')).toBe('ada%40example.com');
    for (let i = 0; i < 3; i++) expect(cta(await v.get('/'))).toBe(first);
    await v.post('/actions/test-ride');
    const after = await (async () => {
      for (let i = 0; i < 100; i++) {
        const r = await results();
        if (r.reduce((n, x) => n + x.conversions, 0) > before.reduce((n, x) => n + x.conversions, 0)) return r;
        await new Promise((res) => setTimeout(res, 100));
      }
      throw new Error('the conversion was not counted');
    })();
    const delta = after.map((x) => ({ variant: x.variant, exposures: x.exposures - (before.find((b) => b.variant === x.variant)?.exposures ?? 0), conversions: x.conversions - (before.find((b) => b.variant === x.variant)?.conversions ?? 0) }));
    expect(delta.filter((d) => d.exposures !== 0)).toHaveLength(1);
    expect(delta.find((d) => d.exposures === 1)?.conversions).toBe(1);
  });

  it('with Attune paused, pages still render within the budget: last good decisions, else defaults', async () => {
    const v = visitor();
    await v.post('/actions/view?category=Mountain');
    expect(h1(await v.get('/'))).toBe('Trails are calling');
    attune.child.kill('SIGSTOP');
    try {
      let t = performance.now();
      const html = await v.get('/');
      expect(performance.now() - t).toBeLessThan(400);
      expect(h1(html)).toBe('Trails are calling');
      expect(sources(html)).toEqual(['last-good', 'last-good']);
      t = performance.now();
      const fresh = await visitor().get('/');
      expect(performance.now() - t).toBeLessThan(400);
      expect(h1(fresh)).toBe('Ride further');
      expect(sources(fresh)).toEqual(['default', 'default']);
    } finally {
      attune.child.kill('SIGCONT');
    }
  });

  it('lists the variant permutations a static build would render', async () => {
    const res = await fetch(`${site}/_manifest`);
    const manifests = (await res.json()) as Array<{ path: string; language: string; total: number; permutations: Array<{ path: string }> }>;
    expect(manifests).toHaveLength(6);
    expect(manifests.find((m) => m.path === '/' && m.language === 'de-DE')).toMatchObject({ total: 9 });
  });
});
