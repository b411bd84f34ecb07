import { type CatalogItem, MEMBERSHIP_TOPIC, PROFILE_ERASED_TOPIC } from '@attune/core';
import { describe, expect, it } from 'vitest';
import { engineOn } from './fixtures.ts';
import type { StoreContext } from './store-port-suite.ts';

const AT = Date.UTC(2026, 0, 5, 12);
const t = (minutes: number) => new Date(AT + minutes * 60_000).toISOString();

function article(id: string, minutes: number, title: string, extra: Partial<CatalogItem> = {}): CatalogItem {
  return { id, type: 'article', updatedAt: t(minutes), fields: [{ name: 'title', field: 'title', type: 'string', value: title }], ...extra };
}

/** The catalog port (idempotent upserts, tombstones, ordering) and erasure, on this store. */
export function describeCatalogAndErasure(ctx: StoreContext): void {
  describe('catalog', () => {
    it('upserts idempotently, ignores older versions and keeps tombstones so nothing is revived', async () => {
      const c = ctx.store.catalog;
      expect(await c.apply('cms', [article('a1', 1, 'One'), article('a2', 1, 'Two')], AT)).toEqual({ upserted: 2, deleted: 0, ignored: 0 });
      // The same batch again (a resumed run) changes nothing visible and duplicates nothing.
      expect(await c.apply('cms', [article('a1', 1, 'One'), article('a2', 1, 'Two')], AT + 1)).toEqual({ upserted: 2, deleted: 0, ignored: 0 });
      expect(await c.apply('cms', [article('a1', 5, 'One, edited')], AT + 2)).toEqual({ upserted: 1, deleted: 0, ignored: 0 });
      expect(await c.apply('cms', [article('a1', 3, 'stale')], AT + 3)).toEqual({ upserted: 0, deleted: 0, ignored: 1 });
      const a1 = await c.get('cms', { type: 'article', id: 'a1' });
      expect(a1).toMatchObject({ streamId: 'cms', id: 'a1', type: 'article', updatedAt: t(5), deleted: false, receivedAt: AT + 2 });
      expect(a1?.fields).toEqual([{ name: 'title', field: 'title', type: 'string', value: 'One, edited' }]);

      expect(await c.apply('cms', [{ id: 'a2', type: 'article', updatedAt: t(6), deleted: true, fields: [] }], AT + 4)).toEqual({
        upserted: 0,
        deleted: 1,
        ignored: 0,
      });
      // A late update older than the deletion, and the deletion repeated, are both ignored.
      expect(await c.apply('cms', [article('a2', 4, 'late'), { id: 'a2', type: 'article', updatedAt: t(6), deleted: true, fields: [] }], AT + 5)).toEqual({
        upserted: 0,
        deleted: 0,
        ignored: 2,
      });
      expect((await c.list('cms', { limit: 10 })).map((i) => i.id)).toEqual(['a1']);
      expect((await c.list('cms', { limit: 10, includeDeleted: true })).map((i) => [i.id, i.deleted])).toEqual([
        ['a1', false],
        ['a2', true],
      ]);
      // Recreated after the deletion: a later version wins.
      expect(await c.apply('cms', [article('a2', 7, 'Back')], AT + 6)).toEqual({ upserted: 1, deleted: 0, ignored: 0 });
      expect((await c.get('cms', { type: 'article', id: 'a2' }))?.deleted).toBe(false);
    });

    it('keys items by stream, type, id and locale, and pages them in order', async () => {
      const c = ctx.store.catalog;
      await c.apply(
        'cms',
        [
          article('b', 1, 'B en', { locale: 'en' }),
          article('b', 1, 'B fr', { locale: 'fr' }),
          article('a', 1, 'A'),
          { id: 'a', type: 'product', updatedAt: t(1), fields: [{ name: 'price', field: 'price', type: 'number', value: 9.5 }] },
        ],
        AT,
      );
      await c.apply('shop', [{ id: 'a', type: 'product', updatedAt: t(2), fields: [] }], AT);
      expect((await c.get('cms', { type: 'article', id: 'b', locale: 'fr' }))?.fields[0]?.value).toBe('B fr');
      expect(await c.get('cms', { type: 'article', id: 'b' })).toBeNull();
      const all = await c.list('cms', { limit: 10 });
      expect(all.map((i) => [i.type, i.id, i.locale ?? ''])).toEqual([
        ['article', 'a', ''],
        ['article', 'b', 'en'],
        ['article', 'b', 'fr'],
        ['product', 'a', ''],
      ]);
      const page2 = await c.list('cms', { limit: 2, after: { type: 'article', id: 'b', locale: 'en' } });
      expect(page2.map((i) => [i.type, i.id, i.locale ?? ''])).toEqual([
        ['article', 'b', 'fr'],
        ['product', 'a', ''],
      ]);
      expect((await c.list('cms', { limit: 10, type: 'product' })).map((i) => i.fields[0]?.value)).toEqual([9.5]);
      expect(await c.streams()).toEqual([
        { streamId: 'cms', items: 4, deleted: 0, lastReceivedAt: AT },
        { streamId: 'shop', items: 1, deleted: 0, lastReceivedAt: AT },
      ]);
    });

    it('applies a batch holding several versions of one item as if one by one', async () => {
      const c = ctx.store.catalog;
      const r = await c.apply('cms', [article('x', 2, 'second'), article('x', 1, 'first'), article('x', 3, 'third')], AT);
      expect(r.upserted + r.ignored).toBe(3);
      expect((await c.get('cms', { type: 'article', id: 'x' }))?.fields[0]?.value).toBe('third');
    });
  });

  describe('history of several profiles', () => {
    it('reads the events of a chunk of profiles, oldest first, limited to some names', async () => {
      const engine = engineOn(ctx.store);
      const at = (m: number) => new Date(AT + m * 60_000).toISOString();
      await engine.ingestCall({ anonymousId: 'h-1', event: 'B', timestamp: at(3) }, 'track');
      await engine.ingestCall({ anonymousId: 'h-1', event: 'A', timestamp: at(1) }, 'track');
      await engine.ingestCall({ anonymousId: 'h-1', event: 'C', timestamp: at(2) }, 'track');
      await engine.ingestCall({ anonymousId: 'h-2', event: 'A', timestamp: at(5) }, 'track');
      const p1 = (await engine.findProfileId('anonymousId', 'h-1')) as string;
      const p2 = (await engine.findProfileId('anonymousId', 'h-2')) as string;
      const some = await ctx.store.historyOf([p1, p2, 'nobody'], ['A', 'B']);
      expect(some.get(p1)?.map((e) => e.name)).toEqual(['A', 'B']);
      expect(some.get(p2)?.map((e) => e.name)).toEqual(['A']);
      expect(some.get('nobody') ?? []).toEqual([]);
      const all = await ctx.store.historyOf([p1], null);
      expect(all.get(p1)?.map((e) => e.name)).toEqual(['A', 'C', 'B']);
      expect(all.get(p1)?.[0]?.message).toMatchObject({ event: 'A' });
    });
  });

  describe('erasure', () => {
    it('removes the profile, the profiles merged into it, their events, identifiers and memberships; a replay stays out', async () => {
      const engine = engineOn(ctx.store);
      await engine.audiences.createGroup({ id: 'erase', name: 'Erase' });
      await engine.audiences.createAudience({ id: 'viewers', groupId: 'erase', name: 'Viewers', condition: { did: { event: 'Product Viewed' } } });
      await engine.audiences.recompute();
      const viewed = { anonymousId: 'er-phone', event: 'Product Viewed', properties: { product_id: 'p1' }, messageId: 'er-m1' };
      await engine.ingestCall(viewed, 'track');
      await engine.ingestCall({ anonymousId: 'er-laptop', event: 'Product Viewed', properties: { product_id: 'p2' } }, 'track');
      await engine.ingestCall({ anonymousId: 'er-phone', userId: 'er-user', traits: { email: 'erase.me@example.com' } }, 'identify');
      await engine.ingestCall({ anonymousId: 'er-laptop', userId: 'er-user' }, 'identify');
      await engine.ingestCall({ anonymousId: 'er-other', event: 'Product Viewed', properties: { product_id: 'p3' } }, 'track');
      const id = (await engine.findProfileId('email', 'erase.me@example.com')) as string;
      const other = (await engine.findProfileId('anonymousId', 'er-other')) as string;
      expect((await engine.getProfile(id))?.audiences.map((a) => a.id)).toEqual(['viewers']);
      const before = await ctx.store.outbox.read('erase-test', 1000);

      // By a merged-away device id: the whole person goes.
      const laptopProfile = (await engine.findProfileId('anonymousId', 'er-laptop')) as string;
      const erased = await engine.eraseProfile(laptopProfile);
      expect(erased?.profileIds.length).toBeGreaterThanOrEqual(1);
      expect(erased?.profileIds).toContain(id);
      expect(erased?.events).toBeGreaterThanOrEqual(4);
      expect(erased?.audiences).toEqual(['viewers']);
      expect(erased?.identities.map((i) => `${i.type}:${i.value}`).sort()).toEqual(
        ['anonymousId:er-laptop', 'anonymousId:er-phone', 'email:erase.me@example.com', 'userId:er-user'].sort(),
      );
      for (const [type, value] of [['email', 'erase.me@example.com'], ['userId', 'er-user'], ['anonymousId', 'er-phone'], ['anonymousId', 'er-laptop']] as const) {
        expect(await engine.findProfileId(type, value)).toBeNull();
      }
      for (const pid of erased?.profileIds ?? []) {
        expect(await ctx.store.getProfile(pid)).toBeNull();
        expect((await ctx.store.queryEvents({ profileId: pid, limit: 10 })).events).toEqual([]);
        expect((await ctx.store.memberships.members('viewers', { limit: 10 })).map((m) => m.profileId)).not.toContain(pid);
      }
      expect(await ctx.store.memberships.count('viewers')).toBe(1);
      expect(await engine.getProfile(other)).not.toBeNull();

      const after = (await ctx.store.outbox.read('erase-test', 1000)).slice(before.length);
      expect(after.map((e) => e.topic).sort()).toEqual([MEMBERSHIP_TOPIC, PROFILE_ERASED_TOPIC].sort());
      expect(after.find((e) => e.topic === MEMBERSHIP_TOPIC)?.payload).toMatchObject({ audienceId: 'viewers', profileId: id, change: 'exited' });
      expect(after.find((e) => e.topic === PROFILE_ERASED_TOPIC)?.payload).toMatchObject({ profileId: id });

      // The same event sent again is a duplicate: its messageId is still claimed.
      const replay = await engine.ingestCall(viewed, 'track');
      expect(replay.duplicates).toBe(1);
      expect(await engine.findProfileId('anonymousId', 'er-phone')).toBeNull();
      expect(await engine.eraseProfile(id)).toBeNull();
    });
  });
}
