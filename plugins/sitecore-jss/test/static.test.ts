import { EMPTY_SNAPSHOT, manifestFromConfig } from '@attune/core';
import { localDecisionSource } from '@attune/render/local';
import jssPersonalize from '@sitecore-jss/sitecore-jss/personalize.js';
import { describe, expect, it } from 'vitest';
import { createJssHandler, createJssPersonalizer, personalizeInfoOf, pickPermutation, variantExperience, variantManifest } from '../src/index.ts';
import { COMMUTERS, CTA_B, CTA_C, CYCLISTS, fixture, HOME_PAGE_ID, MTB } from './fixtures.ts';

const { getPersonalizedRewriteData } = jssPersonalize;
const homeInfo = () => personalizeInfoOf(fixture('home', 'en')) as NonNullable<ReturnType<typeof personalizeInfoOf>>;

describe('variant manifest for static builds', () => {
  it('lists every permutation when under the cap, the default first, in JSS rewrite paths', () => {
    const m = variantManifest(homeInfo(), { path: '/', language: 'en', cap: 100 });
    expect(m).toMatchObject({ path: '/', language: 'en', pageId: HOME_PAGE_ID, total: 9, truncated: false });
    expect(m.permutations.map((p) => p.variantIds)).toEqual([
      [],
      [CYCLISTS],
      [COMMUTERS],
      [CTA_B],
      [CTA_C],
      [CYCLISTS, CTA_B],
      [CYCLISTS, CTA_C],
      [COMMUTERS, CTA_B],
      [COMMUTERS, CTA_C],
    ]);
    expect(m.permutations[0]?.path).toBe('/');
    expect(m.permutations[5]?.path).toBe(`/_variantId_${CYCLISTS}/_variantId_${CTA_B}/`);
    // JSS parses each path back into the permutation's ids.
    for (const p of m.permutations.slice(1)) {
      const d = getPersonalizedRewriteData(p.path);
      expect([...(d.variantId === '_default' ? [] : [d.variantId]), ...(d.componentVariantIds ?? [])]).toEqual(p.variantIds);
    }
  });

  it('caps the list, keeping the default and single variants first', () => {
    const m = variantManifest(homeInfo(), { path: '/', language: 'en', cap: 4 });
    expect(m.truncated).toBe(true);
    expect(m.total).toBe(9);
    expect(m.permutations.map((p) => p.variantIds)).toEqual([[], [CYCLISTS], [COMMUTERS], [CTA_B]]);
  });

  it('picks the exact permutation when built, else the closest one without variants the visitor was not given', () => {
    const full = variantManifest(homeInfo(), { path: '/', language: 'en', cap: 100 });
    expect(pickPermutation(full, [COMMUTERS, CTA_C])).toEqual({ exact: true, permutation: { variantIds: [COMMUTERS, CTA_C], path: `/_variantId_${COMMUTERS}/_variantId_${CTA_C}/` } });
    const capped = variantManifest(homeInfo(), { path: '/', language: 'en', cap: 4 });
    expect(pickPermutation(capped, [COMMUTERS, CTA_C])).toEqual({ exact: false, permutation: { variantIds: [COMMUTERS], path: `/_variantId_${COMMUTERS}/` } });
    expect(pickPermutation(capped, [CTA_C]).permutation.variantIds).toEqual([]);
    expect(pickPermutation(capped, []).exact).toBe(true);
  });

  it('a route without variants has one permutation; a bad cap is an error', () => {
    expect(variantManifest({ pageId: 'x', variantIds: [] }, { path: '/about', language: 'en' }).permutations).toEqual([{ variantIds: [], path: '/about' }]);
    expect(() => variantManifest(homeInfo(), { path: '/', language: 'en', cap: 0 })).toThrow(/cap must be a positive integer, got 0/);
    expect(variantManifest(personalizeInfoOf(fixture('bikes', 'da-DK')) as never, { path: '/bikes', language: 'da-DK' }).permutations[1]?.variantIds).toEqual([MTB]);
  });

  it('the request handler rewrites to the built permutation closest to the visitor', async () => {
    const layout = fixture('home', 'en');
    const manifest = manifestFromConfig(
      { experiences: [COMMUTERS, CTA_C].map((variantId, i) => variantExperience({ id: `x${i}`, name: variantId, variantId, pageId: HOME_PAGE_ID })) },
      Date.now(),
    );
    const personalizer = createJssPersonalizer({ source: localDecisionSource({ manifest: () => manifest, snapshot: () => EMPTY_SNAPSHOT }) });
    const handler = (cap: number) =>
      createJssHandler({ personalizer, mode: 'rewrite', layout: async () => layout, permutations: (path, language) => variantManifest(homeInfo(), { path, language, cap }) });
    const capped = await handler(4).handle({ url: '/', headers: { cookie: 'attune_aid=s1' } });
    expect(capped).toMatchObject({ action: 'rewrite', path: `/_variantId_${COMMUTERS}/`, exact: false });
    const full = await handler(9).handle({ url: '/', headers: { cookie: 'attune_aid=s1' } });
    expect(full).toMatchObject({ action: 'rewrite', path: `/_variantId_${COMMUTERS}/_variantId_${CTA_C}/`, exact: true });
  });
});
