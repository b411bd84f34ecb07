/**
 * Against a real Attune server process (the `attune start` CLI on an embedded store): an audience
 * member gets the audience's page variant, an A/B visitor keeps their component variant across
 * requests and after login on another device, exposures and conversions land in the experiment's
 * results, and a paused or stopped engine yields the last good decision or the default within the
 * latency budget.
 */
import { httpDecisionSource, memoryCache } from '@attune/render';
import { type CliProcess, eventually, freePort, killAll, postBatch, removeDir, SECRET_KEY, startCli, tempDataDir, WRITE_KEY } from '@attune/test-utils/process';
import type { ComponentRendering, LayoutServiceData } from '@sitecore-jss/sitecore-jss/layout.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { componentTest, createJssHandler, createJssPersonalizer, type JssPersonalizer, variantExperience, variantsOfPath } from '../src/index.ts';
import { CTA_B, CTA_C, CYCLISTS, fixture, HOME_PAGE_ID } from './fixtures.ts';

const BUDGET = 150;
let attune: CliProcess;
let dataDir: string;

async function admin(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(attune.url + path, { method, headers: { authorization: `Bearer ${SECRET_KEY}`, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}


const home = () => fixture('home', 'en');
const heroHeading = (layout: LayoutServiceData) => ((layout.sitecore.route?.placeholders['headless-main']?.[0] as ComponentRendering).fields?.heading as { value: string }).value;

function personalizer(budgetMs: number, cache = memoryCache()): JssPersonalizer {
  return createJssPersonalizer({ source: httpDecisionSource({ apiHost: attune.url, key: WRITE_KEY, recordExposure: true }), budgetMs, cache });
}

beforeAll(async () => {
  dataDir = tempDataDir();
  attune = await startCli({ port: await freePort(), env: { ATTUNE_DATA_DIR: dataDir, ATTUNE_SECRET_KEY: SECRET_KEY, ATTUNE_WRITE_KEY: WRITE_KEY } });
  await admin('POST', '/v1/segment-groups', { id: 'riding', name: 'Riding' });
  await admin('POST', '/v1/audiences', {
    id: 'trail-riders',
    groupId: 'riding',
    name: 'Viewed mountain bikes',
    condition: { did: { event: 'Product Viewed', where: [{ property: 'category', op: 'eq', value: 'Mountain' }] } },
  });
  await admin('POST', '/v1/audiences', {
    id: 'commuters',
    groupId: 'riding',
    name: 'Viewed city bikes',
    condition: { did: { event: 'Product Viewed', where: [{ property: 'category', op: 'eq', value: 'City' }] } },
  });
  const test = componentTest({ id: 'cta-test', name: 'Test ride call to action', variantIds: [CTA_B, CTA_C], goals: [{ id: 'test-ride', event: 'Test Ride Booked' }] });
  await admin('PUT', '/v1/config', {
    experiences: [
      variantExperience({ id: 'trail-home', name: 'Trail riders home', pageId: HOME_PAGE_ID, variantId: CYCLISTS, targeting: { audiences: ['trail-riders'] } }),
      // Commuters always get the CTA's variant B, ahead of the test (a higher priority wins the slot).
      variantExperience({ id: 'commuter-cta', name: 'Commuters CTA', variantId: CTA_B, targeting: { audiences: ['commuters'] }, priority: 10 }),
      test.experience,
    ],
    experiments: [test.experiment],
  });
}, 120_000);

afterAll(async () => {
  await attune?.stop();
  killAll();
  if (dataDir) removeDir(dataDir);
});

describe('JSS personalization decided by a real Attune server', () => {
  it("an audience member gets the audience's page variant; others get the default", async () => {
    const p = personalizer(5_000);
    await postBatch(attune.url, WRITE_KEY, [{ type: 'track', anonymousId: 'rider-1', event: 'Product Viewed', properties: { product_id: 'summit-29', category: 'Mountain' } }]);
    const member = await eventually(async () => {
      const r = await p.personalize(home(), { anonymousId: 'rider-1' });
      return r.variants.variantId === CYCLISTS ? r : null;
    });
    expect(member.variants.slots[`page:${HOME_PAGE_ID.replaceAll('-', '')}`]?.source).toBe('live');
    expect(heroHeading(member.layout)).toBe('Trails are calling');

    const stranger = await p.personalize(home(), { anonymousId: 'walker-1' });
    expect(stranger.variants.variantId).toBe('_default');
    expect(heroHeading(stranger.layout)).toBe('Ride further');
  });

  it("an audience member gets the audience's component variant, ahead of the component's A/B test", async () => {
    const p = personalizer(5_000);
    await postBatch(attune.url, WRITE_KEY, [{ type: 'track', anonymousId: 'commuter-1', event: 'Product Viewed', properties: { product_id: 'metro-7', category: 'City' } }]);
    const member = await eventually(async () => {
      const r = await p.personalize(home(), { anonymousId: 'commuter-1' });
      return r.variants.componentVariantIds.includes(CTA_B) ? r : null;
    });
    const slot = member.variants.slots['component:c0a801647d1f4b8e9a2b3c4d5e6f7a8b'];
    expect(slot).toMatchObject({ source: 'live', variantId: CTA_B, decision: { experience: 'commuter-cta', reason: 'targeted' } });
    expect(member.layout).toEqual(p.apply(home(), { variantId: '_default', componentVariantIds: [CTA_B] }));
    expect(JSON.stringify(member.layout)).toContain('Try one this weekend');
  });

  it('keeps an A/B visitor in their component variant across requests and after login on another device; exposure and conversion are measured', async () => {
    const p = personalizer(5_000);
    type Results = { variants: Array<{ variant: string; exposures: number; conversions: number }> };
    const baseline = (await admin('GET', '/v1/experiments/cta-test/results')) as Results;
    const count = (r: Results, variant: string, field: 'exposures' | 'conversions') => r.variants.find((v) => v.variant === variant)?.[field] ?? 0;
    const first = await p.personalize(home(), { anonymousId: 'ab-device-1' });
    const slot = first.variants.slots['component:c0a801647d1f4b8e9a2b3c4d5e6f7a8b'];
    expect(slot?.decision?.experiment).toBe('cta-test');
    const mine = slot?.variantId ?? null; // null: the control
    for (let i = 0; i < 5; i++) {
      const again = await p.personalize(home(), { anonymousId: 'ab-device-1' });
      expect(again.variants.slots['component:c0a801647d1f4b8e9a2b3c4d5e6f7a8b']?.variantId ?? null).toBe(mine);
    }

    // A second device whose own bucket is another variant (asked without recording an exposure).
    const peek = httpDecisionSource({ apiHost: attune.url, key: WRITE_KEY, recordExposure: false });
    let device2 = '';
    for (let n = 0; n < 200 && !device2; n++) {
      const d = await peek.decide({ anonymousId: `ab-device-2-${n}`, context: { path: '/' }, slots: ['component:c0a801647d1f4b8e9a2b3c4d5e6f7a8b'] });
      const v = d['component:c0a801647d1f4b8e9a2b3c4d5e6f7a8b']?.variant;
      const id = v === 'default' ? null : `c0a801647d1f4b8e9a2b3c4d5e6f7a8b_${v}`;
      if (id !== mine) device2 = `ab-device-2-${n}`;
    }
    expect(device2).not.toBe('');

    // Login on the first device ties it to the user; the second device signs in as the same user.
    await postBatch(attune.url, WRITE_KEY, [{ type: 'identify', anonymousId: 'ab-device-1', userId: 'rider-42', traits: { email: 'rider42@example.com' } }]);
    await postBatch(attune.url, WRITE_KEY, [{ type: 'identify', anonymousId: device2, userId: 'rider-42' }]);
    const afterLogin = await eventually(async () => {
      const r = await p.personalize(home(), { anonymousId: device2, userId: 'rider-42' });
      const s = r.variants.slots['component:c0a801647d1f4b8e9a2b3c4d5e6f7a8b'];
      return s?.decision?.reason === 'sticky' ? s : null;
    });
    expect(afterLogin.variantId).toBe(mine);

    await postBatch(attune.url, WRITE_KEY, [{ type: 'track', userId: 'rider-42', event: 'Test Ride Booked', properties: { model: 'summit-29' } }]);
    const key = mine === null ? 'default' : (mine.split('_')[1] as string);
    const results = await eventually(async () => {
      const r = (await admin('GET', '/v1/experiments/cta-test/results')) as Results;
      return count(r, key, 'conversions') > count(baseline, key, 'conversions') ? r : null;
    });
    // One visitor: one exposure in the variant they saw, however many requests and devices; one conversion.
    for (const v of results.variants) {
      expect(count(results, v.variant, 'exposures') - count(baseline, v.variant, 'exposures')).toBe(v.variant === key ? 1 : 0);
      expect(count(results, v.variant, 'conversions') - count(baseline, v.variant, 'conversions')).toBe(v.variant === key ? 1 : 0);
    }
  });

  it('a paused engine yields the last good variant, else the default, within the budget', async () => {
    const cache = memoryCache();
    const p = personalizer(BUDGET, cache);
    const warm = personalizer(5_000, cache); // fills the shared last-good cache while the engine answers
    const live = await warm.personalize(home(), { anonymousId: 'rider-1' });
    expect(live.variants.variantId).toBe(CYCLISTS);

    attune.child.kill('SIGSTOP');
    try {
      let t = performance.now();
      const known = await p.personalize(home(), { anonymousId: 'rider-1' });
      const knownMs = performance.now() - t;
      expect(knownMs).toBeLessThan(BUDGET + 150);
      expect(Object.values(known.variants.slots).map((s) => s.source)).toEqual(['last-good', 'last-good']);
      expect(known.variants.variantId).toBe(CYCLISTS);
      expect(heroHeading(known.layout)).toBe('Trails are calling');

      t = performance.now();
      const unknown = await p.personalize(home(), { anonymousId: 'never-seen' });
      expect(performance.now() - t).toBeLessThan(BUDGET + 150);
      expect(Object.values(unknown.variants.slots).map((s) => s.source)).toEqual(['default', 'default']);
      expect(unknown.layout).toEqual(p.apply(home(), { variantId: '_default', componentVariantIds: [] }));
    } finally {
      attune.child.kill('SIGCONT');
    }
  });

  it('a stopped engine: the request handler still rewrites to the last good variants, immediately', async () => {
    const cache = memoryCache();
    const handler = (budgetMs: number) =>
      createJssHandler({ personalizer: personalizer(budgetMs, cache), mode: 'rewrite', layout: async (path) => (path === '/' ? home() : null) });
    const req = { url: 'http://bikes.example.com/?utm_source=newsletter', headers: { cookie: 'attune_aid=rider-1' } };
    const before = await handler(5_000).handle(req);
    if (before.action !== 'rewrite') throw new Error(`expected a rewrite, got ${before.action}`);
    expect(variantsOfPath(before.path.split('?')[0] as string).variantId).toBe(CYCLISTS);
    expect(before.path.endsWith('/?utm_source=newsletter')).toBe(true);

    await attune.stop('SIGKILL');
    const t = performance.now();
    const after = await handler(BUDGET).handle(req);
    expect(performance.now() - t).toBeLessThan(BUDGET + 150);
    expect(after.action === 'rewrite' && after.path).toBe(before.path);
    expect(after.action === 'rewrite' && Object.values(after.variants.slots).map((s) => s.source)).toEqual(['last-good', 'last-good']);
  });
});
