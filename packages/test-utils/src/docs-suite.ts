import { describe, expect, it } from 'vitest';
import type { StoreContext } from './store-port-suite.ts';

const T = Date.UTC(2025, 5, 1, 12);

/** Config documents: create, read, list, versioned update, delete. */
export function describeConfigDocuments(ctx: StoreContext): void {
  describe('config documents', () => {
    it('creates a document at version 1 and reads it back', async () => {
      const body = { name: 'Gold members', nested: { list: [1, 'two', { three: true }] } };
      const doc = await ctx.store.docs.put('audience', 'gold', body, 0, T);
      expect(doc).toEqual({ kind: 'audience', id: 'gold', body, version: 1, createdAt: T, updatedAt: T });
      expect(await ctx.store.docs.get('audience', 'gold')).toEqual(doc);
      expect(await ctx.store.docs.get('audience', 'missing')).toBeNull();
      expect(await ctx.store.docs.get('segment-group', 'gold')).toBeNull();
    });

    it('refuses a second create of the same id', async () => {
      await ctx.store.docs.put('audience', 'a', { v: 1 }, 0, T);
      expect(await ctx.store.docs.put('audience', 'a', { v: 2 }, 0, T + 1)).toBeNull();
      expect((await ctx.store.docs.get('audience', 'a'))?.body).toEqual({ v: 1 });
    });

    it('updates only the expected version, and counts versions', async () => {
      await ctx.store.docs.put('audience', 'a', { v: 1 }, 0, T);
      const v2 = await ctx.store.docs.put('audience', 'a', { v: 2 }, 1, T + 10);
      expect(v2).toMatchObject({ version: 2, body: { v: 2 }, createdAt: T, updatedAt: T + 10 });
      // A writer that read version 1 loses: its change would overwrite version 2 unseen.
      expect(await ctx.store.docs.put('audience', 'a', { v: 'stale' }, 1, T + 20)).toBeNull();
      expect(await ctx.store.docs.put('audience', 'missing', { v: 1 }, 1, T)).toBeNull();
      expect((await ctx.store.docs.get('audience', 'a'))?.body).toEqual({ v: 2 });
    });

    it('lists one kind, ordered by id, and deletes', async () => {
      for (const id of ['b', 'a', 'c']) await ctx.store.docs.put('audience', id, { id }, 0, T);
      await ctx.store.docs.put('segment-group', 'x', {}, 0, T);
      expect((await ctx.store.docs.list('audience')).map((d) => d.id)).toEqual(['a', 'b', 'c']);
      expect(await ctx.store.docs.delete('audience', 'b')).toBe(true);
      expect(await ctx.store.docs.delete('audience', 'b')).toBe(false);
      expect((await ctx.store.docs.list('audience')).map((d) => d.id)).toEqual(['a', 'c']);
      expect((await ctx.store.docs.list('segment-group')).map((d) => d.id)).toEqual(['x']);
    });
  });
}
