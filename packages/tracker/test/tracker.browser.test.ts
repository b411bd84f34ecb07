import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@attune/core';
import { type StartedServer, startServer } from '@attune/server';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTracker } from '../build.ts';
import { trackerSnippet } from '../src/snippet.ts';

const SECRET = 'sk_tracker_test_0123456789abcdef0123';
const WRITE = 'wk_tracker_test_0123456789abcdef0123';

/**
 * The tracker in Debian's headless Chromium against a real Attune server. Between them, a proxy
 * the tests can make fail (503) to exercise retries; the browser's own offline mode covers the
 * offline queue.
 */
describe('tracker in a real browser', () => {
  let attune: StartedServer;
  let dataDir: string;
  let browser: Browser;
  let site: Server;
  let proxy: Server;
  let siteUrl = '';
  let failNext = 0;
  let batchesSeen = 0;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'attune-tracker-'));
    attune = await startServer({ port: 0, host: '127.0.0.1', dataDir, secretKey: SECRET, writeKey: WRITE, logger: silentLogger });
    proxy = createServer(async (req, res) => {
      res.setHeader('access-control-allow-origin', '*');
      if (req.method === 'OPTIONS') return void res.end();
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      batchesSeen++;
      if (failNext > 0) {
        failNext--;
        res.statusCode = 503;
        return void res.end();
      }
      const up = await fetch(attune.url + (req.url ?? '/'), { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? 'text/plain' }, body: Buffer.concat(chunks) });
      res.statusCode = up.status;
      res.end(await up.text());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const apiHost = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const { script } = await buildTracker();
    site = createServer((req, res) => {
      if (req.url === '/attune.js') {
        res.setHeader('content-type', 'application/javascript');
        return void res.end(script);
      }
      const consentRequired = (req.url ?? '').includes('consent=required');
      res.setHeader('content-type', 'text/html');
      res.end(
        `<!doctype html><html><head><title>t</title><script>${trackerSnippet({ writeKey: WRITE, apiHost, scriptUrl: '/attune.js', consentRequired })}</script>` +
          `</head><body><a id="away" href="/other">away</a></body></html>`,
      );
    });
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    site?.closeAllConnections();
    proxy?.closeAllConnections();
    await Promise.all([new Promise((r) => site?.close(r)), new Promise((r) => proxy?.close(r))]);
    await attune?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const ready = (page: Page) => page.waitForFunction(() => !Array.isArray((window as unknown as { attune: unknown }).attune));
  const anonymousIdOf = (page: Page) => page.evaluate(() => (window as unknown as { attune: { anonymousId(): string } }).attune.anonymousId());
  async function eventsOf(anonymousId: string): Promise<Array<{ name: string; message: { messageId: string; properties?: Record<string, unknown> } }>> {
    const found = await fetch(`${attune.url}/v1/profiles?anonymousId=${encodeURIComponent(anonymousId)}`, { headers: { authorization: `Bearer ${SECRET}` } });
    if (found.status !== 200) return [];
    const { id } = (await found.json()) as { id: string };
    const res = await fetch(`${attune.url}/v1/profiles/${id}/events?limit=500`, { headers: { authorization: `Bearer ${SECRET}` } });
    return ((await res.json()) as { events: Array<{ name: string; message: { messageId: string } }> }).events;
  }
  async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
    const until = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (ok(v) || Date.now() > until) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('batches calls made before and after it loads, tracks single-page route changes, and sets a first-party cookie', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(siteUrl);
    await page.evaluate(() => {
      const a = (window as unknown as { attune: { track(e: string, p: object): void } }).attune;
      a.track('Early Call', { n: 1 });
    });
    await ready(page);
    await page.evaluate(() => {
      const a = (window as unknown as { attune: { track(e: string, p: object): void; identify(u: string, t: object): void } }).attune;
      for (let i = 0; i < 5; i++) a.track('Button Clicked', { i });
      a.identify('user-77', { plan: 'pro' });
      history.pushState({}, '', '/spa/route');
    });
    const aid = await anonymousIdOf(page);
    expect((await context.cookies()).find((c) => c.name === 'attune_aid')).toMatchObject({ value: aid, sameSite: 'Lax' });
    const events = await eventually(() => eventsOf(aid), (e) => e.filter((x) => x.name === 'Page Viewed').length >= 2 && e.some((x) => x.name === 'identify'));
    const names = events.map((e) => e.name);
    expect(names.filter((n) => n === 'Button Clicked')).toHaveLength(5);
    expect(names).toContain('Early Call');
    expect(events.filter((e) => e.name === 'Page Viewed').map((e) => e.message.properties?.path).sort()).toEqual(['/', '/spa/route']);
    await context.close();
  });

  it('retries with backoff when the server fails, and delivers each call once', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(siteUrl);
    await ready(page);
    const aid = await anonymousIdOf(page);
    await eventually(() => eventsOf(aid), (e) => e.length >= 1);
    failNext = 2;
    const before = batchesSeen;
    await page.evaluate(() => (window as unknown as { attune: { track(e: string): void } }).attune.track('Retried Event'));
    const events = await eventually(() => eventsOf(aid), (e) => e.some((x) => x.name === 'Retried Event'), 15_000);
    expect(events.filter((e) => e.name === 'Retried Event')).toHaveLength(1);
    expect(batchesSeen - before).toBeGreaterThanOrEqual(3); // two refusals, then the delivery
    await context.close();
  });

  it('keeps calls made offline in localStorage and replays them once on the next page, deduplicated', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(siteUrl);
    await ready(page);
    const aid = await anonymousIdOf(page);
    await eventually(() => eventsOf(aid), (e) => e.length >= 1);
    await context.setOffline(true);
    await page.evaluate(() => {
      const a = (window as unknown as { attune: { track(e: string, p: object): void; flush(): Promise<void> } }).attune;
      for (let i = 0; i < 3; i++) a.track('Offline Event', { i });
      return a.flush();
    });
    const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('attune.queue') ?? '[]') as unknown[]);
    expect(stored.length).toBeGreaterThanOrEqual(3);
    await context.setOffline(false);
    // Two pages come back at once: both see the stored queue; the server keeps each messageId once.
    const [p1, p2] = [await context.newPage(), await context.newPage()];
    await Promise.all([p1.goto(siteUrl), p2.goto(siteUrl)]);
    await page.close();
    const events = await eventually(() => eventsOf(aid), (e) => e.filter((x) => x.name === 'Offline Event').length >= 3);
    await new Promise((r) => setTimeout(r, 1500));
    const offline = (await eventsOf(aid)).filter((x) => x.name === 'Offline Event');
    expect(offline).toHaveLength(3);
    expect(new Set(offline.map((e) => e.message.messageId)).size).toBe(3);
    expect(events.length).toBeGreaterThan(0);
    await context.close();
  });

  it('sends what is pending with a beacon when the page is left', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(siteUrl);
    await ready(page);
    const aid = await anonymousIdOf(page);
    await page.evaluate(() => (window as unknown as { attune: { track(e: string): void } }).attune.track('Left Quickly'));
    await page.click('#away'); // before the 1 s flush interval
    const events = await eventually(() => eventsOf(aid), (e) => e.some((x) => x.name === 'Left Quickly'));
    expect(events.filter((e) => e.name === 'Left Quickly')).toHaveLength(1);
    await context.close();
  });

  it('sends nothing before consent, records the consent change, and forgets the visitor when consent is withdrawn', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const posts: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST') posts.push(r.postData() ?? '');
    });
    await page.goto(`${siteUrl}/?consent=required`);
    await ready(page);
    await page.evaluate(() => (window as unknown as { attune: { track(e: string): void; flush(): Promise<void> } }).attune.track('Before Consent'));
    await page.waitForTimeout(1300);
    expect(posts).toEqual([]);
    expect((await context.cookies()).find((c) => c.name === 'attune_aid')).toBeUndefined();

    await page.evaluate(() => {
      const a = (window as unknown as { attune: { consent: { set(c: object): void }; track(e: string): void } }).attune;
      a.consent.set({ analytics: true, personalization: true });
      a.track('After Consent');
    });
    const aid = await anonymousIdOf(page);
    const events = await eventually(() => eventsOf(aid), (e) => e.some((x) => x.name === 'After Consent'));
    expect(events.map((e) => e.name)).toEqual(expect.arrayContaining(['Consent Updated', 'After Consent']));
    expect(events.map((e) => e.name)).not.toContain('Before Consent');

    await page.evaluate(() => (window as unknown as { attune: { consent: { set(c: object): void } } }).attune.consent.set({ analytics: false, personalization: false, marketing: false }));
    await eventually(async () => (await context.cookies()).some((c) => c.name === 'attune_aid'), (v) => !v);
    expect((await context.cookies()).find((c) => c.name === 'attune_aid')).toBeUndefined();
    const withdrawn = await eventually(() => eventsOf(aid), (e) => e.filter((x) => x.name === 'Consent Updated').length >= 2);
    expect(withdrawn.filter((e) => e.name === 'Consent Updated')).toHaveLength(2);
    const sentBefore = posts.length;
    await page.evaluate(() => (window as unknown as { attune: { track(e: string): void } }).attune.track('After Withdrawal'));
    await page.waitForTimeout(1300);
    expect(posts.length).toBe(sentBefore);
    await context.close();
  });
});
