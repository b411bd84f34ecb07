/**
 * Content export into a real Attune server process: Sitecore items from the golden layouts (three
 * languages) and from an Experience Edge search result, through field rules, to the catalog;
 * then incremental runs that send only what changed.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExportCheckpoint, FieldRules } from '@attune/core';
import { type CliProcess, freePort, killAll, removeDir, SECRET_KEY, startCli, tempDataDir, WRITE_KEY } from '@attune/test-utils/process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSitecoreContent, itemsFromEdge, itemsFromLayout, type SitecoreItem, sitecoreDate, sitecoreField, sitecoreSchemas } from '../src/export.ts';
import { FIXTURES, HOME_PAGE_ID, loadFixtures } from './fixtures.ts';

const edge = () => JSON.parse(readFileSync(join(FIXTURES, 'edge', 'search-articles.json'), 'utf8')) as unknown;
const HASH_KEY = 'catalog-hash-key';
const hmac = (v: string) => createHmac('sha256', HASH_KEY).update(v).digest('hex');

let attune: CliProcess;
let dataDir: string;

function memoryState() {
  let saved: ExportCheckpoint | null = null;
  return { load: async () => saved, save: async (c: ExportCheckpoint) => void (saved = structuredClone(c)), get: () => saved };
}

async function catalog(path: string): Promise<{ items: Array<{ id: string; type: string; locale?: string; updatedAt: string; fields: Array<{ name: string; field: string; type: string; value: unknown }> }>; next: string | null }> {
  const res = await fetch(`${attune.url}/v1/catalog/${path}`, { headers: { authorization: `Bearer ${SECRET_KEY}` } });
  if (!res.ok) throw new Error(`GET /v1/catalog/${path}: ${res.status} ${await res.text()}`);
  return res.json() as never;
}

beforeAll(async () => {
  dataDir = tempDataDir();
  attune = await startCli({ port: await freePort(), env: { ATTUNE_DATA_DIR: dataDir, ATTUNE_SECRET_KEY: SECRET_KEY, ATTUNE_WRITE_KEY: WRITE_KEY } });
}, 120_000);

afterAll(async () => {
  await attune?.stop();
  killAll();
  if (dataDir) removeDir(dataDir);
});

describe('reading Sitecore items', () => {
  it('a layout yields its route and every datasource, variants and nested placeholders included, once each', () => {
    const home = loadFixtures().find((f) => f.file === 'home.da-DK.json')?.layout;
    if (!home) throw new Error('fixture missing');
    const items = itemsFromLayout(home, { updatedAt: '2026-12-01T10:00:00Z' });
    expect(items[0]).toMatchObject({ id: HOME_PAGE_ID.replaceAll('-', ''), type: 'Page', language: 'da-DK', fields: { pageTitle: { type: 'string', value: 'Forside' } } });
    const types = items.map((i) => i.type);
    // Hero default + 2 page variants, promo, loyalty variant, teaser + variant, CTA default + 2 test variants, navigation, footer.
    expect(types.filter((t) => t === 'Hero')).toHaveLength(3);
    expect(types).toContain('LoyaltyBanner');
    expect(types.filter((t) => t.startsWith('CallToAction'))).toHaveLength(3);
    expect(new Set(items.map((i) => i.id)).size).toBe(items.length);
    expect(items.find((i) => i.type === 'Hero')?.fields.image).toEqual({ type: 'media', value: { url: '/-/media/bikes/road.jpg', alt: 'Road bike' } });
    expect(() => itemsFromLayout(home, { updatedAt: 'yesterday' })).toThrow(/updatedAt "yesterday" is not an ISO-8601 date-time/);
  });

  it('an Experience Edge result yields typed fields, normalized ids and ISO dates', () => {
    const items = itemsFromEdge(edge());
    expect(items).toHaveLength(3);
    expect(items[0]).toMatchObject({ id: '9b6f2d1e4c3a4f5b8e7d6c5b4a392817', type: 'Article', language: 'en', updatedAt: '2026-11-15T09:30:00.000Z' });
    expect(items[0]?.fields.categories).toEqual({ type: 'relation', value: [{ id: '1f2e3d4c5b6a47988a7b6c5d4e3f2a1b', name: 'mountain', url: '/categories/mountain' }, { id: '2a3b4c5d6e7f4a8b9c0d1e2f3a4b5c6d', name: 'guides', url: '/categories/guides' }] });
    expect(sitecoreSchemas(items).Article).toMatchObject({ title: { type: 'string' }, body: { type: 'richtext' }, image: { type: 'media' }, featured: { type: 'boolean' }, readingMinutes: { type: 'number' }, cta: { type: 'json' }, publishDate: { type: 'datetime' } });
    expect(sitecoreDate('20261115T093000Z')).toBe('2026-11-15T09:30:00.000Z');
    expect(() => sitecoreDate('15/11/2026')).toThrow(/not a Sitecore date/);
    expect(() => itemsFromEdge({ data: { layout: {} } })).toThrow(/expected an Experience Edge result/);
    expect(sitecoreField({ value: '<p>x</p>' })).toEqual({ type: 'richtext', value: '<p>x</p>' });
  });
});

describe('export to the Attune catalog', () => {
  const rules: FieldRules = {
    Article: {
      fields: {
        body: { transform: 'richtext-to-text' },
        image: { transform: 'media-to-url', rename: 'imageUrl' },
        author: { transform: 'hash', rename: 'authorHash' },
        categories: { transform: 'relation-to-ids' },
        cta: { include: false },
      },
    },
    Hero: { default: 'skip', fields: { heading: { rename: 'title' }, image: { transform: 'media-to-url' } } },
  };

  it('sends layouts and Edge items through the field rules; a second incremental run sends nothing; a change sends one item', async () => {
    const layouts = loadFixtures().flatMap((f) => itemsFromLayout(f.layout, { updatedAt: '2026-12-01T10:00:00Z' }));
    let items: SitecoreItem[] = [...layouts, ...itemsFromEdge(edge())];
    const state = memoryState();
    const run = () => exportSitecoreContent({ items: () => items, apiHost: attune.url, secretKey: SECRET_KEY, streamId: 'sitecore', rules, hashKey: HASH_KEY, mediaBaseUrl: 'https://cdn.bikes.example.com', state, batchSize: 7 });

    const first = await run();
    expect(first.complete).toBe(true);
    // Datasources shared by several layouts of one language are one catalog item.
    const distinct = new Set(items.map((i) => `${i.type}/${i.id}/${i.language}`)).size;
    expect(first.items).toBe(distinct);
    expect(first.batches).toBe(Math.ceil(distinct / 7));

    const articles = await catalog('sitecore?type=Article&limit=10');
    expect(articles.items).toHaveLength(3);
    const en = articles.items.find((i) => i.id === '9b6f2d1e4c3a4f5b8e7d6c5b4a392817' && i.locale === 'en');
    const fields = Object.fromEntries((en?.fields ?? []).map((f) => [f.name, f]));
    expect(fields.body?.value).toBe('Suspension travel matters less than fit.\nStart with the frame.');
    expect(fields.imageUrl).toEqual({ name: 'imageUrl', field: 'image', type: 'media', value: 'https://cdn.bikes.example.com/-/media/bikes/journal/trail.jpg' });
    expect(fields.authorHash?.value).toBe(hmac('maya.lindqvist@example.com'));
    expect(fields.categories?.value).toEqual(['1f2e3d4c5b6a47988a7b6c5d4e3f2a1b', '2a3b4c5d6e7f4a8b9c0d1e2f3a4b5c6d']);
    expect(fields.cta).toBeUndefined();
    expect(fields.featured?.value).toBe(true);
    const de = articles.items.find((i) => i.locale === 'de-DE');
    expect(de?.fields.find((f) => f.name === 'title')?.value).toBe('Das richtige Trailbike');

    const heroes = await catalog('sitecore?type=Hero&limit=100');
    expect(heroes.items.length).toBe(6 * 3); // per language: home's hero and its 2 page variants, bikes' hero, its page variant and its test variant
    const hero = heroes.items.find((i) => i.locale === 'de-DE' && i.fields.some((f) => f.value === 'Die Trails rufen'));
    expect(hero?.fields.map((f) => f.name).sort()).toEqual(['image', 'title']);
    expect(hero?.fields.find((f) => f.name === 'image')?.value).toBe('https://cdn.bikes.example.com/-/media/bikes/trail.jpg');
    const pages = await catalog('sitecore?type=Page&limit=10');
    expect(pages.items.map((p) => p.locale).sort()).toEqual(['da-DK', 'da-DK', 'de-DE', 'de-DE', 'en', 'en']);

    const again = await run();
    expect(again.sent).toBe(0);

    items = items.map((i) => (i.id === '3d2c1b0a9f8e4d7c8b6a5f4e3d2c1b0a' ? { ...i, updatedAt: '2026-12-02T08:00:00.000Z', fields: { ...i.fields, title: { type: 'string', value: 'Commuting through winter' } } } : i));
    const third = await run();
    expect(third.sent).toBe(1);
    const changed = await catalog('sitecore/items/Article/3d2c1b0a9f8e4d7c8b6a5f4e3d2c1b0a?locale=en');
    expect((changed as unknown as { fields: Array<{ name: string; value: unknown }> }).fields.find((f) => f.name === 'title')?.value).toBe('Commuting through winter');

    // An unpublished item goes as a tombstone.
    items = items.map((i) => (i.id === '3d2c1b0a9f8e4d7c8b6a5f4e3d2c1b0a' ? { ...i, updatedAt: '2026-12-03T08:00:00.000Z', deleted: true } : i));
    expect((await run()).deleted).toBe(1);
    expect((await catalog('sitecore?type=Article&limit=10')).items.map((i) => i.id)).not.toContain('3d2c1b0a9f8e4d7c8b6a5f4e3d2c1b0a');
  });

  it('a rule naming an unknown field or an inapplicable transform stops the run before anything is sent', async () => {
    const state = memoryState();
    await expect(
      exportSitecoreContent({ items: () => itemsFromEdge(edge()), apiHost: attune.url, secretKey: SECRET_KEY, streamId: 'sitecore-bad', rules: { Article: { fields: { subtitle: { rename: 'x' }, featured: { transform: 'media-to-url' } } } }, state }),
    ).rejects.toThrow(/Article\.fields\.subtitle: "Article" has no field "subtitle".*Article\.fields\.featured\.transform: "media-to-url" does not apply to a boolean field/);
    expect(state.get()).toBeNull();
  });
});
