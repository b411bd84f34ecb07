/**
 * Differential tests: for every fixture and every permutation of its variants, Attune decides
 * (the core's decide() on a manifest that serves that permutation) and the adapter applies the
 * decision; the result must equal JSS's own personalizeLayout applied to the same variant ids,
 * both as a personalized layout and through the `/_variantId_…` rewrite a page then parses.
 */
import { EMPTY_SNAPSHOT, manifestFromConfig } from '@attune/core';
import { localDecisionSource } from '@attune/render/local';
import type { ComponentRendering, LayoutServiceData } from '@sitecore-jss/sitecore-jss/layout.js';
import jssPersonalize from '@sitecore-jss/sitecore-jss/personalize.js';
import { describe, expect, it } from 'vitest';
import { createJssHandler, createJssPersonalizer, personalizeInfoOf, variantExperience, variantManifest, variantsOfPath } from '../src/index.ts';
import { COMMUTERS, CTA_B, CTA_C, CYCLISTS, fixture, HERO_AB_B, HOME_PAGE_ID, loadFixtures, MTB } from './fixtures.ts';

const { personalizeLayout, getGroomedVariantIds } = jssPersonalize;

/** JSS alone: its grooming and personalizeLayout on a copy. */
function jssApplies(layout: LayoutServiceData, variantIds: string[]): LayoutServiceData {
  const copy = structuredClone(layout);
  const groomed = getGroomedVariantIds(variantIds);
  personalizeLayout(copy, groomed.variantId, groomed.componentVariantIds);
  return copy;
}

/** A personalizer whose decisions come from the core's decide() on a manifest serving `variantIds` to everyone. */
function attuneServing(layout: LayoutServiceData, variantIds: string[]) {
  const pageId = layout.sitecore.route?.itemId as string;
  const manifest = manifestFromConfig({ experiences: variantIds.map((variantId, i) => variantExperience({ id: `x${i}`, name: variantId, variantId, pageId })) }, Date.now());
  return createJssPersonalizer({ source: localDecisionSource({ manifest: () => manifest, snapshot: () => EMPTY_SNAPSHOT }), budgetMs: 5_000 });
}

const cases = loadFixtures().flatMap((f) => {
  const info = personalizeInfoOf(f.layout);
  if (!info) throw new Error(`${f.file} has no route`);
  const m = variantManifest(info, { path: f.layout.sitecore.context.itemPath as string, language: f.language, cap: 1000 });
  return m.permutations.map((p) => ({ name: `${f.file} [${p.variantIds.join(', ') || 'default'}]`, ...f, variantIds: p.variantIds }));
});

describe('adapter output equals JSS personalizeLayout with the same variant ids', () => {
  it('covers every permutation of the golden fixtures (3 languages, page and component variants)', () => {
    expect(new Set(cases.map((c) => c.language))).toEqual(new Set(['en', 'da-DK', 'de-DE']));
    // home: page (cyclists | commuters | default) × CTA test (B | C | control); bikes: page (mtb | default) × hero test (B | control).
    expect(cases.length).toBe(3 * (9 + 4));
  });

  it.each(cases)('$name', async ({ layout, variantIds, language }) => {
    const before = structuredClone(layout);
    const expected = jssApplies(layout, variantIds);
    const personalizer = attuneServing(layout, variantIds);

    // Layout mode.
    const { layout: ours, variants } = await personalizer.personalize(layout, { anonymousId: 'visitor-1' });
    expect(variants.variantIds.slice().sort()).toEqual(variantIds.slice().sort());
    expect(Object.values(variants.slots).every((s) => s.source === 'live')).toBe(true);
    expect(ours).toEqual(expected);
    expect(layout).toEqual(before); // the caller's layout is not changed

    // Rewrite mode: the page parses the path back with JSS and applies it.
    const path = personalizer.rewrite(variants);
    for (const id of variantIds) expect(path).toContain(`/_variantId_${id}`);
    const parsed = variantsOfPath(path);
    expect(parsed.path).toBe(layout.sitecore.context.itemPath);
    expect(personalizer.apply(layout, parsed)).toEqual(expected);

    // The request handler, both modes, with the language in the URL.
    const load = async (p: string, lang: string) => (p === layout.sitecore.context.itemPath && lang === language ? layout : null);
    const url = `https://bikes.example.com/${language}${layout.sitecore.context.itemPath}`;
    const request = { url, headers: { cookie: 'attune_aid=visitor-1' } };
    const asLayout = await createJssHandler({ personalizer, mode: 'layout', layout: load, languages: ['en', 'da-DK', 'de-DE'] }).handle(request);
    expect(asLayout.action).toBe('layout');
    expect(asLayout.action === 'layout' && asLayout.layout).toEqual(expected);
    const asRewrite = await createJssHandler({ personalizer, mode: 'rewrite', layout: load, languages: ['en', 'da-DK', 'de-DE'] }).handle(request);
    if (asRewrite.action !== 'rewrite') throw new Error(`expected a rewrite, got ${JSON.stringify(asRewrite)}`);
    expect(asRewrite.path.startsWith(`/${language}`)).toBe(true);
    expect(personalizer.apply(layout, variantsOfPath(asRewrite.path.slice(language.length + 1)))).toEqual(expected);
  });
});

/** The components of a placeholder path, e.g. ['headless-main'] or ['headless-main', 3, 'column-2-{*}']. */
function components(layout: LayoutServiceData, ...path: Array<string | number>): ComponentRendering[] {
  let node: unknown = layout.sitecore.route?.placeholders;
  for (const step of path) node = typeof step === 'number' ? (node as ComponentRendering[])[step]?.placeholders : (node as Record<string, unknown>)[step];
  return node as ComponentRendering[];
}
const heading = (c: ComponentRendering | undefined) => (c?.fields?.heading as { value: string } | undefined)?.value;

describe('what the golden fixtures show once personalized', () => {
  it('page variants swap, hide and reveal components, also in nested placeholders', async () => {
    const en = fixture('home', 'en');
    const commuters = (await attuneServing(en, [COMMUTERS]).personalize(en, { anonymousId: 'a' })).layout;
    const main = components(commuters, 'headless-main');
    expect(main.map((c) => c.componentName)).toEqual(['Hero', 'ColumnSplitter']); // promo hidden, loyalty hidden by default
    expect(heading(main[0])).toBe('Your commute, faster');
    expect(commuters.sitecore.context.variantId).toBe(COMMUTERS);

    const cyclists = (await attuneServing(en, [CYCLISTS]).personalize(en, { anonymousId: 'a' })).layout;
    const cmain = components(cyclists, 'headless-main');
    expect(cmain.map((c) => c.componentName)).toEqual(['Hero', 'Promo', 'LoyaltyBanner', 'ColumnSplitter']);
    const teaser = components(cyclists, 'headless-main', 3, 'column-1-{*}')[0];
    expect((teaser?.fields?.title as { value: string }).value).toBe('Carbon frames, now in stock');
    // Every experiences node is emptied, as JSS leaves it.
    expect(JSON.stringify(cyclists)).not.toMatch(/"experiences":\{"/);
  });

  it('a component A/B variant applies two placeholders deep, in each language', async () => {
    for (const [language, label] of [
      ['en', 'Ride it home today'],
      ['da-DK', 'Kør den hjem i dag'],
      ['de-DE', 'Heute noch mitnehmen'],
    ] as const) {
      const layout = fixture('home', language);
      const out = (await attuneServing(layout, [CTA_C]).personalize(layout, { anonymousId: 'a' })).layout;
      const splitter = components(out, 'headless-main').find((c) => c.componentName === 'ColumnSplitter');
      const inner = splitter?.placeholders?.['column-2-{*}']?.[0] as ComponentRendering;
      const cta = inner.placeholders?.['container-1'] as ComponentRendering[];
      expect(cta[0]?.componentName).toBe('CallToActionLarge');
      expect((cta[0]?.fields?.label as { value: string }).value).toBe(label);
      expect(out.sitecore.context.variantId).toBe('_default');
    }
  });

  it('a page variant and a component test on one component: the page variant is matched first when both are given', async () => {
    const layout = fixture('bikes', 'en');
    const out = (await attuneServing(layout, [MTB, HERO_AB_B]).personalize(layout, { anonymousId: 'a' })).layout;
    expect(heading(components(out, 'headless-main')[0])).toBe(heading(jssApplies(layout, [MTB, HERO_AB_B]).sitecore.route?.placeholders['headless-main']?.[0] as ComponentRendering));
  });

  it('variant ids the route does not have are ignored, as JSS ignores an unknown variant', async () => {
    const layout = fixture('home', 'en');
    const personalizer = attuneServing(layout, [MTB, CTA_B]); // MTB belongs to /bikes
    const { variants, layout: out } = await personalizer.personalize(layout, { anonymousId: 'a' });
    expect(variants.variantIds).toEqual([CTA_B]);
    expect(out).toEqual(jssApplies(layout, [CTA_B]));
  });

  it('reads the variant ids of a route from its layout, as Experience Edge lists them', () => {
    const info = personalizeInfoOf(fixture('home', 'de-DE'));
    expect(info).toEqual({ pageId: HOME_PAGE_ID, variantIds: [CYCLISTS, COMMUTERS, CTA_B, CTA_C] });
  });
});
