import { describe, expect, it } from 'vitest';
import { richProfile } from './fixtures.ts';
import type { StoreContext } from './store-port-suite.ts';

const T = Date.UTC(2025, 5, 1, 12);

/** Audience memberships, scheduled checks and the profile id scan. */
export function describeMemberships(ctx: StoreContext): void {
  describe('audience memberships', () => {
    it('adds, lists, counts, pages and removes members', async () => {
      await ctx.store.transaction((tx) =>
        tx.applyMemberships([
          { audienceId: 'gold', profileId: 'p-2', since: T + 2 },
          { audienceId: 'gold', profileId: 'p-1', since: T + 1 },
          { audienceId: 'gold', profileId: 'p-3', since: T + 3 },
          { audienceId: 'silver', profileId: 'p-1', since: T },
        ]),
      );
      expect(await ctx.store.memberships.count('gold')).toBe(3);
      expect(await ctx.store.memberships.members('gold', { limit: 2 })).toEqual([
        { profileId: 'p-1', since: T + 1 },
        { profileId: 'p-2', since: T + 2 },
      ]);
      expect(await ctx.store.memberships.members('gold', { after: 'p-2', limit: 2 })).toEqual([{ profileId: 'p-3', since: T + 3 }]);
      expect(await ctx.store.memberships.members('silver', { limit: 10 })).toEqual([{ profileId: 'p-1', since: T }]);
      // Entering again keeps the first entry time; an exit removes the row.
      await ctx.store.transaction((tx) =>
        tx.applyMemberships([
          { audienceId: 'gold', profileId: 'p-1', since: T + 99 },
          { audienceId: 'gold', profileId: 'p-2', since: null },
        ]),
      );
      expect(await ctx.store.memberships.members('gold', { limit: 10 })).toEqual([
        { profileId: 'p-1', since: T + 1 },
        { profileId: 'p-3', since: T + 3 },
      ]);
      expect(await ctx.store.memberships.count('nobody')).toBe(0);
    });

    it('rolls membership changes back with the transaction', async () => {
      await expect(
        ctx.store.transaction(async (tx) => {
          await tx.applyMemberships([{ audienceId: 'gold', profileId: 'p-1', since: T }]);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await ctx.store.memberships.count('gold')).toBe(0);
    });

    it('keeps one next check per profile and returns the due ones, earliest first', async () => {
      await ctx.store.transaction((tx) =>
        tx.scheduleChecks([
          { profileId: 'p-1', at: T + 300 },
          { profileId: 'p-2', at: T + 100 },
          { profileId: 'p-3', at: T + 200 },
        ]),
      );
      await ctx.store.transaction((tx) => tx.scheduleChecks([{ profileId: 'p-1', at: T + 50 }, { profileId: 'p-3', at: null }]));
      expect(await ctx.store.dueChecks(T + 100, 10)).toEqual([
        { profileId: 'p-1', at: T + 50 },
        { profileId: 'p-2', at: T + 100 },
      ]);
      expect(await ctx.store.dueChecks(T + 1000, 1)).toEqual([{ profileId: 'p-1', at: T + 50 }]);
      expect(await ctx.store.dueChecks(T, 10)).toEqual([]);
    });

    it('scans live profile ids in order, skipping merged-away profiles', async () => {
      await ctx.store.transaction((tx) =>
        tx.putProfiles([richProfile('b'), richProfile('a'), { ...richProfile('c'), mergedInto: 'a' }, richProfile('d')]),
      );
      expect(await ctx.store.profileIds(null, 10)).toEqual(['a', 'b', 'd']);
      expect(await ctx.store.profileIds('a', 1)).toEqual(['b']);
      expect(await ctx.store.profileIds('d', 10)).toEqual([]);
    });
  });
}
