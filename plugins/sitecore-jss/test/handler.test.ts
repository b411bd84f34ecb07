import type { AddressInfo } from 'node:net';
import { EMPTY_SNAPSHOT, manifestFromConfig } from '@attune/core';
import type { DecisionSource } from '@attune/render';
import { localDecisionSource } from '@attune/render/local';
import type { LayoutServiceData } from '@sitecore-jss/sitecore-jss/layout.js';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { componentTest, createJssHandler, createJssPersonalizer, type JssHandlerOptions, variantExperience } from '../src/index.ts';
import { jssPersonalizeMiddleware } from '../src/express.ts';
import { COMMUTERS, CTA_B, CTA_C, fixture, HOME_PAGE_ID } from './fixtures.ts';

/** The core's decide() on a manifest serving commuters their page variant and running the CTA test. */
function setup() {
  const test = componentTest({ id: 'cta-test', name: 'CTA', variantIds: [CTA_B, CTA_C], goals: [{ id: 'ride', event: 'Test Ride Booked' }] });
  const manifest = manifestFromConfig(
    {
      experiences: [variantExperience({ id: 'commuters', name: 'Commuters', pageId: HOME_PAGE_ID, variantId: COMMUTERS, targeting: { locales: ['da'] } }), test.experience],
      experiments: [test.experiment],
    },
    Date.now(),
  );
  const local = localDecisionSource({ manifest: () => manifest, snapshot: () => EMPTY_SNAPSHOT });
  const calls: Array<Parameters<DecisionSource['decide']>[0]> = [];
  // Records what was asked, to check the decide requests the handler makes (and when it makes none).
  const source: DecisionSource = { decide: (r) => (calls.push(r), local.decide(r)) };
  const personalizer = createJssPersonalizer({ source, budgetMs: 5_000 });
  const layouts: Record<string, LayoutServiceData> = { 'en:/': fixture('home', 'en'), 'da-DK:/': fixture('home', 'da-DK'), 'en:/bikes': fixture('bikes', 'en') };
  const options: JssHandlerOptions = { personalizer, mode: 'rewrite', layout: async (path, language) => layouts[`${language}:${path}`] ?? null, languages: ['en', 'da-DK'] };
  return { personalizer, calls, options };
}

describe('request handler', () => {
  it('rewrites to the JSS variant path, keeping the language prefix and the query; decide gets path, locale, url and UTM', async () => {
    const { calls, options } = setup();
    const r = await createJssHandler(options).handle({ url: 'https://bikes.example.com/da-DK/?utm_source=mail&utm_campaign=spring', headers: { cookie: 'other=1; attune_aid=v%201', referer: 'https://news.example.com/' } });
    if (r.action !== 'rewrite') throw new Error(r.action);
    expect(r.path).toMatch(new RegExp(`^/da-DK/_variantId_${COMMUTERS}/_variantId_c0a801647d1f4b8e9a2b3c4d5e6f7a8b_[0-9a-f]{32}/\\?utm_source=mail&utm_campaign=spring$|^/da-DK/_variantId_${COMMUTERS}/\\?utm_source=mail&utm_campaign=spring$`));
    expect(calls[0]).toMatchObject({
      anonymousId: 'v 1',
      slots: [`page:${HOME_PAGE_ID.replaceAll('-', '')}`, 'component:c0a801647d1f4b8e9a2b3c4d5e6f7a8b'],
      context: { path: '/', locale: 'da-DK', url: 'https://bikes.example.com/da-DK/?utm_source=mail&utm_campaign=spring', referrer: 'https://news.example.com/', utm: { source: 'mail', campaign: 'spring' } },
    });
  });

  it('accepts a Fetch Request; English (the default language) has no prefix and no commuters variant', async () => {
    const { options } = setup();
    const r = await createJssHandler(options).handle(new Request('https://bikes.example.com/', { headers: { cookie: 'attune_aid=v2' } }));
    if (r.action !== 'rewrite') throw new Error(r.action);
    expect(r.variants.variantId).toBe('_default');
    expect(r.path === '/' || r.path.startsWith('/_variantId_c0a801647d1f4b8e9a2b3c4d5e6f7a8b_')).toBe(true);
  });

  it('passes files, excluded routes, prefetches, disabled requests, editing and unknown routes without deciding', async () => {
    const { calls, options } = setup();
    const h = createJssHandler({ ...options, exclude: (p) => p.startsWith('/api'), enabled: (r) => !String((r.headers as Record<string, string>).cookie ?? '').includes('optout=1') });
    const editing = structuredClone(fixture('home', 'en'));
    editing.sitecore.context.pageEditing = true;
    const edit = createJssHandler({ ...options, layout: async () => editing });
    expect(await h.handle({ url: '/favicon.ico', headers: {} })).toMatchObject({ action: 'pass', reason: 'excluded' });
    expect(await h.handle({ url: '/api/x', headers: {} })).toMatchObject({ action: 'pass', reason: 'excluded' });
    expect(await h.handle({ url: '/', headers: { purpose: 'prefetch' } })).toMatchObject({ action: 'pass', reason: 'prefetch' });
    expect(await h.handle({ url: '/', headers: { 'x-middleware-prefetch': '1' } })).toMatchObject({ action: 'pass', reason: 'prefetch' });
    expect(await h.handle({ url: '/', headers: { cookie: 'optout=1' } })).toMatchObject({ action: 'pass', reason: 'disabled' });
    expect(await h.handle({ url: '/nowhere', headers: {} })).toMatchObject({ action: 'pass', reason: 'not-found', path: '/nowhere', language: 'en' });
    expect(await edit.handle({ url: '/', headers: {} })).toMatchObject({ action: 'pass', reason: 'editing' });
    expect(calls).toHaveLength(0);
  });

  it('a route without variants makes no decide call and renders unchanged', async () => {
    const { calls, personalizer } = setup();
    const plain = fixture('bikes', 'en');
    plain.sitecore.route = { ...plain.sitecore.route, placeholders: { 'headless-main': [] } } as never;
    const r = await createJssHandler({ personalizer, mode: 'layout', layout: async () => plain }).handle({ url: '/bikes', headers: {} });
    expect(r.action === 'layout' && r.layout).toEqual({ ...plain, sitecore: { ...plain.sitecore, context: { ...plain.sitecore.context, variantId: '_default' } } });
    expect(calls).toHaveLength(0);
  });

  it('options are checked', () => {
    const { personalizer } = setup();
    expect(() => createJssHandler({ personalizer, mode: 'layout' })).toThrow(/mode "layout" needs a `layout` loader/);
    expect(() => createJssHandler({ personalizer, mode: 'rewrite' })).toThrow(/give `personalizeInfo` or `layout`/);
  });
});

describe('Express middleware', () => {
  it('rewrites req.url for the routes after it and marks the response private', async () => {
    const { options } = setup();
    const app = express();
    app.use(jssPersonalizeMiddleware(options));
    app.get('/{*rest}', (req, res) => {
      res.json({ url: req.url, original: req.originalUrl, variantIds: res.locals.attune?.variants?.variantIds ?? null });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const res = await fetch(`${base}/da-DK/`, { headers: { cookie: 'attune_aid=v3' } });
      const body = (await res.json()) as { url: string; original: string; variantIds: string[] };
      expect(body.original).toBe('/da-DK/');
      expect(body.url.startsWith(`/da-DK/_variantId_${COMMUTERS}/`)).toBe(true);
      expect(body.variantIds[0]).toBe(COMMUTERS);
      expect(res.headers.get('cache-control')).toBe('private, no-store');
      const file = await fetch(`${base}/robots.txt`);
      expect(((await file.json()) as { url: string }).url).toBe('/robots.txt');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
