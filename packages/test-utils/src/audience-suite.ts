import { type AttuneError, type Engine, isAttuneError } from '@attune/core';
import { describe, expect, it } from 'vitest';
import { engineOn } from './fixtures.ts';
import type { StoreContext } from './store-port-suite.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** An engine whose clock the test moves. */
function clocked(ctx: StoreContext, start: number): { engine: Engine; clock: { now: number } } {
  const clock = { now: start };
  const engine = engineOn(ctx.store, { clock: { now: () => clock.now, defer: (f) => setImmediate(f) } });
  return { engine, clock };
}

async function error(p: Promise<unknown>): Promise<AttuneError> {
  try {
    await p;
  } catch (e) {
    if (isAttuneError(e)) return e;
    throw e;
  }
  throw new Error('expected an AttuneError');
}

async function member(engine: Engine, anonymousId: string): Promise<string[]> {
  const id = await engine.findProfileId('anonymousId', anonymousId);
  const profile = id ? await engine.getProfile(id) : null;
  return (profile?.audiences ?? []).map((a) => a.id);
}

/** Audiences end to end on the store: definitions, real-time membership, timed exits, recompute. */
export function describeAudiences(ctx: StoreContext): void {
  describe('audiences', () => {
    const T0 = Date.UTC(2026, 5, 15, 12);

    it('enters in the ingest transaction and exits exactly when the window passes, with no batch job', async () => {
      const { engine, clock } = clocked(ctx, T0);
      await engine.audiences.createGroup({ id: 'shopping', name: 'Shopping behaviour' });
      await engine.audiences.createAudience({
        id: 'carted-recently',
        groupId: 'shopping',
        name: 'Added to cart in the last hour',
        condition: { did: { event: 'Product Added', window: { last: { hours: 1 } } } },
      });
      await engine.audiences.recompute();
      await engine.ingestCall({ anonymousId: 'v1', event: 'Product Added', properties: { product_id: 'p1' }, timestamp: new Date(T0).toISOString() }, 'track');
      expect(await member(engine, 'v1')).toEqual(['carted-recently']);
      expect(await ctx.store.memberships.count('carted-recently')).toBe(1);

      clock.now = T0 + HOUR - 1;
      await engine.audiences.runDueChecks();
      expect(await member(engine, 'v1')).toEqual(['carted-recently']);

      clock.now = T0 + HOUR + 5 * 60_000; // processed five minutes late
      expect(await engine.audiences.runDueChecks()).toBe(1);
      expect(await member(engine, 'v1')).toEqual([]);
      expect(await ctx.store.memberships.count('carted-recently')).toBe(0);
      const id = (await engine.findProfileId('anonymousId', 'v1')) as string;
      const events = (await engine.listEvents(id, { limit: 10 }))?.events ?? [];
      const exit = events.find((e) => e.name === 'Audience Exited');
      const entry = events.find((e) => e.name === 'Audience Entered');
      // The exit is recorded at the moment it happened, not when it was processed.
      expect(exit?.timestamp).toBe(T0 + HOUR);
      expect(entry?.timestamp).toBe(T0);
      expect((exit?.message as { properties: Record<string, unknown> }).properties).toMatchObject({ audience_id: 'carted-recently', segment_group_id: 'shopping' });
      // Nothing more is due.
      clock.now = T0 + 10 * DAY;
      expect(await engine.audiences.runDueChecks()).toBe(0);
      // Both changes went to the outbox for activations, with ids receivers can deduplicate on.
      const facts = (await ctx.store.outbox.read('test', 10)).map((e) => e.payload);
      expect(facts).toEqual([
        { id: `carted-recently:${id}:entered:${T0}`, audienceId: 'carted-recently', profileId: id, change: 'entered', at: new Date(T0).toISOString() },
        { id: `carted-recently:${id}:exited:${T0 + HOUR}`, audienceId: 'carted-recently', profileId: id, change: 'exited', at: new Date(T0 + HOUR).toISOString() },
      ]);
    });

    it('keeps have-aggregates live: the sum of orders in 365 days', async () => {
      const { engine } = clocked(ctx, T0);
      await engine.audiences.createGroup({ id: 'value', name: 'Value' });
      await engine.audiences.createAudience({
        id: 'big-spenders',
        groupId: 'value',
        name: 'Spent 500 in a year',
        condition: { have: { aggregate: { fn: 'sum', event: 'Order Completed', property: 'total', window: { last: { days: 365 } } }, op: 'gte', value: 500 } },
      });
      await engine.audiences.recompute();
      const order = (n: number, total: number, daysAgo: number) =>
        engine.ingestCall(
          { userId: 'buyer', event: 'Order Completed', properties: { order_id: `o${n}`, total }, timestamp: new Date(T0 - daysAgo * DAY).toISOString() },
          'track',
        );
      await order(1, 300, 400); // outside the year
      await order(2, 250, 100);
      const id = (await engine.findProfileId('userId', 'buyer')) as string;
      expect((await engine.getProfile(id))?.audiences).toEqual([]);
      await order(3, 260, 1);
      // The entry dates from the order that qualified the profile, not from when it was processed.
      expect((await engine.getProfile(id))?.audiences).toEqual([{ id: 'big-spenders', since: new Date(T0 - DAY).toISOString() }]);
    });

    it('recomputes over existing profiles when an audience is created, from their history', async () => {
      const { engine } = clocked(ctx, T0);
      for (const v of ['a', 'b', 'c']) {
        await engine.ingestCall(
          { anonymousId: `old-${v}`, event: 'Product Viewed', properties: { product_id: 'p', category: v === 'c' ? 'Bags' : 'Shoes' }, timestamp: new Date(T0 - DAY).toISOString() },
          'track',
        );
      }
      await engine.audiences.createGroup({ id: 'interest', name: 'Interest' });
      const preview = await engine.audiences.preview({ did: { event: 'Product Viewed', where: [{ property: 'category', op: 'eq', value: 'Shoes' }], window: { last: { days: 7 } } } });
      expect(preview.matching).toBe(2);
      expect(preview.scanned).toBe(3);
      expect(preview.examples).toHaveLength(2);
      await engine.audiences.createAudience({
        id: 'shoe-lovers',
        groupId: 'interest',
        name: 'Viewed shoes this week',
        condition: { did: { event: 'Product Viewed', where: [{ property: 'category', op: 'eq', value: 'Shoes' }], window: { last: { days: 7 } } } },
      });
      const status = await engine.audiences.recompute();
      expect(status).toMatchObject({ state: 'done', processed: 3, total: 3 });
      expect(await member(engine, 'old-a')).toEqual(['shoe-lovers']);
      expect(await member(engine, 'old-c')).toEqual([]);
      const page = await ctx.store.memberships.members('shoe-lovers', { limit: 10 });
      expect(page).toHaveLength(2);
    });

    it('evaluates context conditions on the latest page, also for profiles seen before the audience existed', async () => {
      const { engine } = clocked(ctx, T0);
      const page = (anonymousId: string, path: string, minutes: number) =>
        engine.ingestCall(
          { anonymousId, properties: { path }, context: { page: { path, url: `https://shop.test${path}` } }, timestamp: new Date(T0 - minutes * 60_000).toISOString() },
          'page',
        );
      await page('ctx-early', '/fr/shoes/boots', 10);
      await engine.audiences.createGroup({ id: 'ctx', name: 'Context' });
      await engine.audiences.createAudience({
        id: 'french-shoe-browsers',
        groupId: 'ctx',
        name: 'Browsing French shoe pages',
        condition: { context: { field: 'page.path', op: 'matches', value: '/fr/shoes/**' } },
      });
      await engine.audiences.recompute();
      expect(await member(engine, 'ctx-early')).toEqual(['french-shoe-browsers']);
      await page('ctx-late', '/fr/shoes/sneakers', 5);
      expect(await member(engine, 'ctx-late')).toEqual(['french-shoe-browsers']);
      await page('ctx-late', '/de/bags', 1);
      expect(await member(engine, 'ctx-late')).toEqual([]);
    });

    it('follows in_audience and a merge: the survivor is evaluated, the merged-away profile leaves', async () => {
      const { engine } = clocked(ctx, T0);
      await engine.audiences.createGroup({ id: 'g', name: 'G' });
      await engine.audiences.createAudience({ id: 'viewers', groupId: 'g', name: 'Viewers', condition: { did: { event: 'Product Viewed' } } });
      await engine.audiences.createAudience({
        id: 'known-viewers',
        groupId: 'g',
        name: 'Known viewers',
        condition: { all: [{ in_audience: 'viewers' }, { have: { trait: 'traits.email', op: 'exists' } }] },
      });
      await engine.audiences.recompute();
      await engine.ingestCall({ anonymousId: 'phone', event: 'Product Viewed', properties: { product_id: 'p' } }, 'track');
      expect(await member(engine, 'phone')).toEqual(['viewers']);
      await engine.ingestCall({ anonymousId: 'laptop', userId: 'u-m', traits: { email: 'm@example.com' } }, 'identify');
      await engine.ingestCall({ anonymousId: 'phone', userId: 'u-m' }, 'identify');
      expect(await member(engine, 'phone')).toEqual(['known-viewers', 'viewers']);
      expect(await ctx.store.memberships.count('viewers')).toBe(1);
    });

    it('refuses a changed identifier, unknown groups, bad conditions and cycles with the path', async () => {
      const { engine } = clocked(ctx, T0);
      const g = await engine.audiences.createGroup({ id: 'loyalty', name: 'Loyalty' });
      const idChange = await error(engine.audiences.updateGroup('loyalty', { id: 'loyalty-2', name: 'Loyalty' }, g.version));
      expect(idChange.code).toBe('VALIDATION');
      expect(idChange.issues[0]?.path).toBe('id');
      expect((await engine.audiences.updateGroup('loyalty', { name: 'Loyalty tiers' }, g.version)).version).toBe(2);
      expect((await error(engine.audiences.updateGroup('loyalty', { name: 'Stale' }, 1))).code).toBe('CONFLICT');
      expect((await error(engine.audiences.createGroup({ id: 'loyalty', name: 'Again' }))).code).toBe('CONFLICT');

      const noGroup = await error(engine.audiences.createAudience({ id: 'x', groupId: 'nope', name: 'X', condition: { did: { event: 'A' } } }));
      expect(noGroup.issues[0]?.path).toBe('groupId');
      const bad = await error(
        engine.audiences.createAudience({ id: 'x', groupId: 'loyalty', name: 'X', condition: { all: [{ did: { event: 'A', window: { last: { days: 0 } } } }] } }),
      );
      expect(bad.issues.map((i) => i.path)).toContain('condition.all[0].did.window.last.days');
      await engine.audiences.createAudience({ id: 'a', groupId: 'loyalty', name: 'A', condition: { did: { event: 'A' } } });
      await engine.audiences.createAudience({ id: 'b', groupId: 'loyalty', name: 'B', condition: { in_audience: 'a' } });
      const a = await engine.audiences.getAudience('a');
      const cycle = await error(engine.audiences.updateAudience('a', { groupId: 'loyalty', name: 'A', condition: { in_audience: 'b' } }, a.version));
      expect(cycle.issues[0]).toMatchObject({ path: 'condition.in_audience' });
      expect(cycle.issues[0]?.message).toMatch(/cycle/);
      expect((await error(engine.audiences.deleteAudience('a'))).code).toBe('CONFLICT');
      expect((await error(engine.audiences.deleteGroup('loyalty'))).code).toBe('CONFLICT');
      await engine.audiences.recompute();
    });
  });
}
