import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerAuth, expectError, type Harness, STORE_KINDS, startHarness, uid, WRITE_KEY } from './harness.ts';

interface StoredItem {
  id: string;
  type: string;
  locale?: string;
  deleted: boolean;
  updatedAt: string;
  fields: Array<{ name: string; field: string; type: string; value: unknown }>;
}

describe.each(STORE_KINDS)('catalog and erasure API on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind);
  });
  afterAll(() => h.close());

  const post = (path: string, body: unknown) => h.admin(path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

  it('takes idempotent upserts and tombstones per stream and pages them back', async () => {
    const stream = uid('cms');
    const items = Array.from({ length: 5 }, (_, i) => ({
      id: `art-${i}`,
      type: 'article',
      locale: 'en',
      updatedAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
      fields: [{ name: 'headline', field: 'title', type: 'string', value: `Title ${i}` }],
    }));
    const first = await post(`/v1/catalog/${stream}`, { items, run: { id: 'run-1', source: 'strapi' } });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ upserted: 5, deleted: 0, ignored: 0 });
    const again = await post(`/v1/catalog/${stream}`, { items });
    expect(await again.json()).toEqual({ upserted: 5, deleted: 0, ignored: 0 });
    const tomb = await post(`/v1/catalog/${stream}`, { items: [{ id: 'art-1', type: 'article', locale: 'en', updatedAt: '2026-02-01T00:00:00Z', deleted: true }] });
    expect(await tomb.json()).toEqual({ upserted: 0, deleted: 1, ignored: 0 });

    const page1 = await h.adminJson<{ items: StoredItem[]; next: string | null }>(`/v1/catalog/${stream}?limit=2`);
    expect(page1.body.items.map((i) => i.id)).toEqual(['art-0', 'art-2']);
    const page2 = await h.adminJson<{ items: StoredItem[]; next: string | null }>(`/v1/catalog/${stream}?limit=2&after=${encodeURIComponent(page1.body.next as string)}`);
    expect(page2.body.items.map((i) => i.id)).toEqual(['art-3', 'art-4']);
    expect(page2.body.next).toBeNull();

    const one = await h.adminJson<StoredItem>(`/v1/catalog/${stream}/items/article/art-0?locale=en`);
    expect(one.body.fields).toEqual([{ name: 'headline', field: 'title', type: 'string', value: 'Title 0' }]);
    await expectError(await h.admin(`/v1/catalog/${stream}/items/article/art-1?locale=en`), 404, 'NOT_FOUND');
    const streams = await h.adminJson<{ streams: Array<{ streamId: string; items: number; deleted: number }> }>('/v1/catalog');
    expect(streams.body.streams.find((s) => s.streamId === stream)).toMatchObject({ items: 4, deleted: 1 });
  });

  it('names what is wrong in a bad batch and refuses the write key', async () => {
    const bad = await post('/v1/catalog/cms', { items: [{ id: '', type: 'article', updatedAt: 'yesterday', fields: [{ name: 'x', field: 'x', type: 'string', value: 1 }, { name: 'x', field: 'y', type: 'string', value: 2 }] }] });
    const err = await expectError(bad, 400, 'VALIDATION');
    expect(err.error.issues.map((i) => i.path).sort()).toEqual(['items[0].fields[1].name', 'items[0].id', 'items[0].updatedAt']);
    await expectError(await post('/v1/catalog/bad stream!', { items: [{ id: 'a', type: 't', updatedAt: '2026-01-01T00:00:00Z' }] }), 400, 'VALIDATION');
    const asWriter = await fetch(`${h.url}/v1/catalog/cms`, { method: 'POST', headers: { authorization: bearerAuth(WRITE_KEY), 'content-type': 'application/json' }, body: '{"items":[]}' });
    expect([401, 403]).toContain(asWriter.status);
  });

  it('erases a profile by identifier; its id and identifiers stop resolving', async () => {
    const userId = uid('erase');
    const email = `${userId}@example.com`;
    expect((await h.track('/v1/identify', { userId, anonymousId: `${userId}-anon`, traits: { email } })).status).toBe(200);
    expect((await h.track('/v1/track', { userId, event: 'Signed In' })).status).toBe(200);
    const profile = await h.adminJson<{ id: string }>(`/v1/profiles?email=${encodeURIComponent(email)}`);
    const erased = await post('/v1/profiles/erase', { identifier: { type: 'email', value: email } });
    expect(erased.status).toBe(200);
    expect(await erased.json()).toMatchObject({ erased: true, profileIds: [profile.body.id], identities: 3 });
    expect((await h.admin(`/v1/profiles/${profile.body.id}`)).status).toBe(404);
    expect((await h.admin(`/v1/profiles?userId=${encodeURIComponent(userId)}`)).status).toBe(404);
    await expectError(await post('/v1/profiles/erase', { identifier: { type: 'email', value: email } }), 404, 'NOT_FOUND');
    await expectError(await post('/v1/profiles/erase', { identifier: { type: 'shoe_size', value: '42' } }), 400, 'VALIDATION');
    await expectError(await h.admin(`/v1/profiles/${profile.body.id}`, { method: 'DELETE' }), 404, 'NOT_FOUND');
  });
});
