import { type DecisionProfile, type IdentityKey, type Store, withDecisionProfileCache } from '@attune/core';
import { describe, expect, it } from 'vitest';
import { engineOn } from './fixtures.ts';
import type { StoreContext } from './store-port-suite.ts';

/** Decide's profile cache on this store: every local write is seen by the next decision. */
export function describeDecisionCache(ctx: StoreContext): void {
  describe('decision profile cache', () => {
    it('serves repeated reads from memory and sees every committed change at once: traits, merges, exposures, erasure', async () => {
      const engine = engineOn(ctx.store, { decisionCache: { ttlMs: 3_600_000 } });
      expect((await engine.snapshot({ anonymousId: 'dc-a' })).profileId).toBeNull();
      await engine.ingestCall({ anonymousId: 'dc-a', traits: { tier: 'silver' } }, 'identify');
      expect((await engine.snapshot({ anonymousId: 'dc-a' })).traits).toMatchObject({ tier: 'silver' });
      await engine.ingestCall({ anonymousId: 'dc-a', traits: { tier: 'gold' } }, 'identify');
      expect((await engine.snapshot({ anonymousId: 'dc-a' })).traits).toMatchObject({ tier: 'gold' });

      // A second device, then a login on both: the merged-away device reads the survivor.
      await engine.ingestCall({ anonymousId: 'dc-b', traits: { color: 'red' } }, 'identify');
      const b = await engine.snapshot({ anonymousId: 'dc-b' });
      await engine.ingestCall({ anonymousId: 'dc-a', userId: 'dc-user' }, 'identify');
      await engine.ingestCall({ anonymousId: 'dc-b', userId: 'dc-user' }, 'identify');
      const merged = await engine.snapshot({ anonymousId: 'dc-b' });
      // Either profile may survive (created in the same millisecond); both devices read the survivor.
      expect(b.traits).not.toHaveProperty('tier');
      expect(merged.traits).toMatchObject({ tier: 'gold', color: 'red' });
      expect((await engine.snapshot({ anonymousId: 'dc-a' })).profileId).toBe(merged.profileId);
      expect((await engine.snapshot({ userId: 'dc-user' })).profileId).toBe(merged.profileId);

      await engine.ingestCall({ userId: 'dc-user', event: 'Experiment Viewed', properties: { experiment_id: 'x', variation_id: 'b' } }, 'track');
      expect((await engine.snapshot({ anonymousId: 'dc-a' })).assignments).toMatchObject({ x: { variant: 'b' } });

      await engine.eraseProfile(merged.profileId as string);
      expect((await engine.snapshot({ anonymousId: 'dc-a' })).profileId).toBeNull();
      expect((await engine.snapshot({ userId: 'dc-user' })).profileId).toBeNull();
    });

    it('replaces a cached profile with what a committed write stored: no read, and equal to what the store reads back', async () => {
      const { store, stats } = withDecisionProfileCache(ctx.store, { ttlMs: 3_600_000, maxEntries: 10, now: () => Date.now() });
      const engine = engineOn(store, { decisionCache: false });
      const key = { type: 'anonymousId', value: 'dc-wt' };
      await engine.ingestCall({ anonymousId: 'dc-wt', traits: { tier: 'silver' }, context: { consent: { categoryPreferences: { analytics: true, personalization: true } } } }, 'identify');
      expect((await store.decisionProfile(key))?.traits.tier).toBe('silver');
      await engine.ingestCall({ anonymousId: 'dc-wt', event: 'Experiment Viewed', properties: { experiment_id: 'x', variation_id: 'b' } }, 'track');
      await engine.ingestCall({ anonymousId: 'dc-wt', event: 'Product Viewed', properties: { product_id: 'p1', category: 'shoes' } }, 'track');
      await engine.ingestCall({ anonymousId: 'dc-wt', traits: { tier: 'gold' } }, 'identify');
      const { misses, refreshes } = stats();
      const cached = await store.decisionProfile(key);
      expect(stats().misses).toBe(misses);
      expect(refreshes).toBeGreaterThanOrEqual(3);
      expect(cached?.traits.tier).toBe('gold');
      expect(cached?.experiments).toMatchObject({ x: { variant: 'b' } });
      expect(cached?.consent).toMatchObject({ analytics: true, personalization: true });
      // Exactly what a read would have returned (JSON round trip: absent and undefined alike).
      expect(JSON.parse(JSON.stringify(cached))).toEqual(await ctx.store.decisionProfile(key));
    });

    it("commits decide's exposures without waiting for the disk, and any group holding a client's calls durably", async () => {
      const seen: Array<boolean | undefined> = [];
      const recording: Store = { ...ctx.store, transaction: (fn, options) => (seen.push(options?.durable), ctx.store.transaction(fn, options)) };
      const engine = engineOn(recording, { decisionCache: false });
      await engine.decisions.create('experience', {
        id: 'dur-x',
        name: 'x',
        variants: [
          { key: 'control', slots: { hero: { content: { v: 'a' } } } },
          { key: 'b', slots: { hero: { content: { v: 'b' } } } },
        ],
      });
      await engine.decisions.create('experiment', { id: 'dur-test', name: 'test', experienceId: 'dur-x', goals: [{ id: 'buy', event: 'Order Completed' }] });
      await engine.ingestCall({ anonymousId: 'dur-a', traits: { n: 1 } }, 'identify');
      seen.length = 0;
      const answer = await engine.decide({ anonymousId: 'dur-a', slots: ['hero'] });
      expect(answer.decisions.hero?.experiment).toBe('dur-test');
      expect(seen).toEqual([false]);
      // Committed before the answer: the next decision sees the assignment.
      expect((await engine.snapshot({ anonymousId: 'dur-a' })).assignments['dur-test']).toBeDefined();
      // A client's call is committed durably, whether or not an exposure shares its group.
      seen.length = 0;
      await Promise.all([engine.decide({ anonymousId: 'dur-b', slots: ['hero'] }), engine.ingestCall({ anonymousId: 'dur-c', event: 'X' }, 'track')]);
      expect(seen).toContain(true);
      expect(seen).not.toContain(undefined);
    });

    it('replaces a cached profile with the audience state a recompute stored: no read, and equal to what the store reads back', async () => {
      const { store, stats } = withDecisionProfileCache(ctx.store, { ttlMs: 3_600_000, maxEntries: 10, now: () => Date.now() });
      const engine = engineOn(store, { decisionCache: false });
      const key = { type: 'anonymousId', value: 'dc-rc' };
      await engine.ingestCall({ anonymousId: 'dc-rc', event: 'Cache Probe Liked', properties: {} }, 'track');
      expect((await store.decisionProfile(key))?.audiences).toEqual({});
      await engine.audiences.createGroup({ id: 'dc-rc', name: 'dc-rc' });
      await engine.audiences.createAudience({ id: 'dc-rc-liked', groupId: 'dc-rc', name: 'Liked', condition: { did: { event: 'Cache Probe Liked' } } });
      await engine.audiences.recompute();
      const { misses } = stats();
      const cached = await store.decisionProfile(key);
      expect(stats().misses).toBe(misses);
      expect(Object.keys(cached?.audiences ?? {})).toEqual(['dc-rc-liked']);
      expect(JSON.parse(JSON.stringify(cached))).toEqual(await ctx.store.decisionProfile(key));
      await engine.audiences.deleteAudience('dc-rc-liked');
      await engine.audiences.recompute();
    });

    it('does not keep a read that raced a commit, and counts hits', async () => {
      let release: () => void = () => undefined;
      let gate: Promise<void> | null = null;
      const slow = {
        ...ctx.store,
        async decisionProfile(key: IdentityKey): Promise<DecisionProfile | null> {
          const value = await ctx.store.decisionProfile(key);
          if (gate) await gate;
          return value;
        },
      };
      const { store, stats } = withDecisionProfileCache(slow, { ttlMs: 3_600_000, maxEntries: 10, now: () => Date.now() });
      const engine = engineOn(store, { decisionCache: false });
      await engine.ingestCall({ anonymousId: 'dc-race', traits: { n: 1 } }, 'identify');
      gate = new Promise((r) => {
        release = r;
      });
      const inFlight = store.decisionProfile({ type: 'anonymousId', value: 'dc-race' });
      await new Promise((r) => setTimeout(r, 20));
      await engine.ingestCall({ anonymousId: 'dc-race', traits: { n: 2 } }, 'identify');
      release();
      gate = null;
      expect((await inFlight)?.traits.n).toBe(1);
      // The stale read was not kept: the next read goes to the store and sees the commit.
      expect((await store.decisionProfile({ type: 'anonymousId', value: 'dc-race' }))?.traits.n).toBe(2);
      const before = stats().hits;
      expect((await store.decisionProfile({ type: 'anonymousId', value: 'dc-race' }))?.traits.n).toBe(2);
      expect(stats().hits).toBe(before + 1);
    });

    it('expires entries after the TTL, for writers outside this process', async () => {
      let now = 1_000_000;
      const { store } = withDecisionProfileCache(ctx.store, { ttlMs: 1000, maxEntries: 10, now: () => now });
      const outside = engineOn(ctx.store, { decisionCache: false });
      await outside.ingestCall({ anonymousId: 'dc-ttl', traits: { v: 1 } }, 'identify');
      expect((await store.decisionProfile({ type: 'anonymousId', value: 'dc-ttl' }))?.traits.v).toBe(1);
      await outside.ingestCall({ anonymousId: 'dc-ttl', traits: { v: 2 } }, 'identify');
      expect((await store.decisionProfile({ type: 'anonymousId', value: 'dc-ttl' }))?.traits.v).toBe(1);
      now += 1000;
      expect((await store.decisionProfile({ type: 'anonymousId', value: 'dc-ttl' }))?.traits.v).toBe(2);
    });
  });
}
