import { COMMERCE_EVENT_NAMES, type Engine, isAttuneError } from '@attune/core';
import { describe, expect, it } from 'vitest';
import { allEvents, COMMERCE_PROPERTIES, DAY, engineOn, iso, MINUTE, shuffled, UA_DESKTOP_CHROME } from './fixtures.ts';
import type { StoreContext } from './store-port-suite.ts';

const T0 = Date.UTC(2025, 2, 10, 9);

async function profileOf(engine: Engine, type: string, value: string): Promise<string> {
  const id = await engine.findProfileId(type, value);
  if (id === null) throw new Error(`no profile holds ${type}:${value}`);
  return id;
}

/** The engine end to end on the store: what a server node does with it. */
export function describeEngine(ctx: StoreContext): void {
  describe('engine on this store', () => {
    it('reads the decision profile by any identifier, following merges, without the counters', async () => {
      const engine = engineOn(ctx.store);
      await engine.ingestCall({ anonymousId: 'dp-anon-1', event: 'Experiment Viewed', properties: { experiment_id: 'x1', variation_id: 'b' } }, 'track');
      await engine.ingestCall({ anonymousId: 'dp-anon-2', traits: { tier: 'gold' } }, 'identify');
      await engine.ingestCall({ anonymousId: 'dp-anon-2', event: 'Offer Viewed', properties: { offer_id: 'o1' } }, 'track');
      // A login joins the two devices: the older profile survives.
      await engine.ingestCall({ anonymousId: 'dp-anon-2', userId: 'dp-user' }, 'identify');
      await engine.ingestCall({ anonymousId: 'dp-anon-1', userId: 'dp-user' }, 'identify');
      const id = await profileOf(engine, 'userId', 'dp-user');
      for (const value of ['dp-anon-1', 'dp-anon-2']) {
        const p = await ctx.store.decisionProfile({ type: 'anonymousId', value });
        expect(p?.id).toBe(id);
        expect(p?.traits).toMatchObject({ tier: 'gold' });
        expect(p?.experiments).toMatchObject({ x1: { variant: 'b' } });
        expect(p?.offerImpressions.o1?.total).toBe(1);
        expect(typeof p?.computed.sessions).toBe('number');
        expect(p).not.toHaveProperty('counters');
      }
      expect(await ctx.store.decisionProfile({ type: 'anonymousId', value: 'dp-nobody' })).toBeNull();
      const snap = await engine.snapshot({ anonymousId: 'dp-anon-1' });
      expect(snap).toMatchObject({ profileId: id, traits: { tier: 'gold' }, assignments: { x1: { variant: 'b' } } });
    });

    it('routes every Segment call type to the right profile', async () => {
      const engine = engineOn(ctx.store);
      const who = { userId: 'u-calls', anonymousId: 'anon-calls' };
      const results = [
        await engine.ingestCall({ ...who, traits: { email: 'Calls@Example.com', name: 'Ada' } }, 'identify'),
        await engine.ingestCall({ anonymousId: 'anon-calls', event: 'Custom Thing', properties: { a: 1 } }, 'track'),
        await engine.ingestCall({ userId: 'u-calls', name: 'Home', properties: { path: '/' }, context: { userAgent: UA_DESKTOP_CHROME } }, 'page'),
        await engine.ingestCall({ userId: 'u-calls', name: 'Settings' }, 'screen'),
        await engine.ingestCall({ userId: 'u-calls', groupId: 'acme', traits: { name: 'Acme Inc', plan: 'enterprise' } }, 'group'),
        await engine.ingestCall({ previousId: 'anon-calls-2', userId: 'u-calls' }, 'alias'),
        await engine.ingestBatch({
          batch: [
            { type: 'track', anonymousId: 'anon-calls-2', event: 'Batch Thing' },
            { type: 'identify', userId: 'u-calls', traits: { plan: 'pro' } },
          ],
        }),
      ];
      const other = await engine.ingestCall({ userId: 'someone-else', event: 'Custom Thing' }, 'track');

      const id = await profileOf(engine, 'userId', 'u-calls');
      for (const r of results) {
        expect(r.duplicates).toBe(0);
        expect(r.profileIds.every((p) => p === id)).toBe(true);
      }
      expect(other.profileIds).toEqual([await profileOf(engine, 'userId', 'someone-else')]);
      expect(other.profileIds[0]).not.toBe(id);
      expect(await engine.findProfileId('email', 'CALLS@example.com')).toBe(id);
      expect(await engine.findProfileId('anonymousId', 'anon-calls-2')).toBe(id);

      const view = await engine.getProfile(id);
      expect(view?.traits).toMatchObject({ email: 'calls@example.com', name: 'Ada', plan: 'pro' });
      expect(view?.accounts).toEqual([{ id: 'acme', traits: { name: 'Acme Inc', plan: 'enterprise' } }]);
      expect(await ctx.store.getAccount('acme')).toMatchObject({ id: 'acme', traits: { plan: 'enterprise' } });
      expect(view?.identities.map((i) => `${i.type}:${i.value}`).sort()).toEqual([
        'anonymousId:anon-calls',
        'anonymousId:anon-calls-2',
        'email:calls@example.com',
        'userId:u-calls',
      ]);
      expect(view?.computed.eventCounts).toEqual({ 'Custom Thing': 1, 'Page Viewed': 1, 'Screen Viewed': 1, 'Batch Thing': 1 });
      const events = await allEvents(engine, id);
      expect(events.map((e) => e.name).sort()).toEqual(
        ['Batch Thing', 'Custom Thing', 'Page Viewed', 'Screen Viewed', 'alias', 'group', 'identify', 'identify'].sort(),
      );
      expect(new Set(events.map((e) => e.type))).toEqual(new Set(['identify', 'track', 'page', 'screen', 'group', 'alias']));
      expect(events.every((e) => e.profileId === id)).toBe(true);
      expect(await allEvents(engine, other.profileIds[0] as string)).toHaveLength(1);
      expect(await ctx.store.countProfiles()).toBe(2);
    });

    it('accepts every commerce event of the taxonomy and folds it into the profile', async () => {
      const engine = engineOn(ctx.store);
      // Submitted together: the group commit writes them in one transaction, in this order.
      const results = await Promise.all(
        COMMERCE_EVENT_NAMES.map((event, i) =>
          engine.ingestCall(
            { userId: 'shopper', event, properties: COMMERCE_PROPERTIES[event], timestamp: iso(T0 + i * MINUTE) },
            'track',
          ),
        ),
      );
      const id = await profileOf(engine, 'userId', 'shopper');
      expect(results.every((r) => r.accepted === 1 && r.profileIds[0] === id)).toBe(true);
      const view = await engine.getProfile(id);
      expect(view?.computed.eventCounts).toEqual(Object.fromEntries(COMMERCE_EVENT_NAMES.map((n) => [n, 1])));
      expect(view?.computed).toMatchObject({
        orderCount: 2,
        revenue: 200,
        refunded: 20,
        cancelled: 80,
        lifetimeValue: 100,
        averageOrderValue: 100,
        currency: 'EUR',
        lastOrderAt: iso(T0 + COMMERCE_EVENT_NAMES.indexOf('Order Placed') * MINUTE),
        topCategories: [{ value: 'Shoes', views: 2 }],
        topBrands: [{ value: 'Acme', views: 1 }],
        accountDeletedAt: iso(T0 + COMMERCE_EVENT_NAMES.indexOf('Account Deleted') * MINUTE),
      });
      expect(view?.traits).toMatchObject({ email: 'shopper@example.com', first_name: 'Sam', last_name: 'Shop', newsletter: true });
      expect(await engine.findProfileId('email', 'shopper@example.com')).toBe(id);
      const events = await allEvents(engine, id);
      expect(events.map((e) => e.name).sort()).toEqual([...COMMERCE_EVENT_NAMES].sort());
      const viewed = events.find((e) => e.name === 'Product Viewed');
      expect(viewed?.message).toMatchObject({ type: 'track', properties: { product_id: '501', price: 89.9 } });
    });

    it('rejects a commerce event with invalid properties and stores nothing', async () => {
      const engine = engineOn(ctx.store);
      // Wrapped: the engine throws validation errors synchronously rather than rejecting.
      const bad = (async () => engine.ingestCall({ userId: 'shopper', event: 'Order Completed', properties: { total: 5 } }, 'track'))();
      await expect(bad).rejects.toSatisfy((e) => isAttuneError(e) && e.code === 'VALIDATION' && e.issues[0]?.path === 'properties.order_id');
      await expect((async () => engine.ingestCall({ userId: 'shopper', event: 'Product Viewed', properties: {} }, 'track'))()).rejects.toThrow(
        /product_id/,
      );
      expect(await ctx.store.countProfiles()).toBe(0);
    });

    it('joins anonymous browsing on two devices into one profile after a login on each', async () => {
      const engine = engineOn(ctx.store);
      const web = { anonymousId: 'dev-a', context: { userAgent: UA_DESKTOP_CHROME, page: { path: '/' } } };
      const app = {
        anonymousId: 'dev-b',
        context: { app: { name: 'Shop', version: '1.0' }, device: { id: 'phone-1', type: 'ios' }, os: { name: 'iOS' } },
      };
      const at = (ms: number) => ({ timestamp: iso(T0 + ms) });
      const call = (raw: Record<string, unknown>, type: 'track' | 'page' | 'screen' | 'identify') => engine.ingestCall(raw, type);

      const a = [
        await call({ ...web, ...at(0), name: 'Home' }, 'page'),
        await call({ ...web, ...at(MINUTE), event: 'Product Viewed', properties: { product_id: 'p1', category: 'Shoes', brand: 'Acme', price: 50 } }, 'track'),
        await call({ ...web, ...at(2 * MINUTE), event: 'Product Viewed', properties: { product_id: 'p2', category: 'Shoes', brand: 'Acme' } }, 'track'),
        await call({ ...web, ...at(3 * MINUTE), event: 'Product Viewed', properties: { product_id: 'p3', category: 'Bags', brand: 'Zed' } }, 'track'),
      ];
      const b = [
        await call({ ...app, ...at(120 * MINUTE), name: 'Home' }, 'screen'),
        await call({ ...app, ...at(121 * MINUTE), event: 'Product List Viewed', properties: { category: 'Bags' } }, 'track'),
        await call({ ...app, ...at(122 * MINUTE), event: 'Product Viewed', properties: { product_id: 'p9', category: 'Hats' } }, 'track'),
      ];
      const anonA = a[0]?.profileIds[0] as string;
      const anonB = b[0]?.profileIds[0] as string;
      expect(anonA).not.toBe(anonB);
      expect(await ctx.store.countProfiles()).toBe(2);

      await call({ ...web, ...at(4 * MINUTE), userId: 'shopper-2d', traits: { email: 'Two@Devices.test', first_name: 'Grace' } }, 'identify');
      await call({ ...app, ...at(123 * MINUTE), userId: 'shopper-2d' }, 'identify');
      await call(
        { ...app, ...at(125 * MINUTE), userId: 'shopper-2d', event: 'Order Completed', properties: { order_id: '2d-1', total: 150, currency: 'EUR' } },
        'track',
      );
      // The back office reports the same order: counted once.
      await call({ userId: 'shopper-2d', ...at(126 * MINUTE), event: 'Order Placed', properties: { order_id: '2d-1', total: 150, currency: 'EUR' } }, 'track');
      await call({ userId: 'shopper-2d', ...at(3 * DAY), event: 'Order Refunded', properties: { order_id: '2d-1', total: 30 } }, 'track');

      expect(await ctx.store.countProfiles()).toBe(1);
      const id = await profileOf(engine, 'userId', 'shopper-2d');
      for (const [type, value] of [['anonymousId', 'dev-a'], ['anonymousId', 'dev-b'], ['email', 'two@devices.test']] as const) {
        expect(await engine.findProfileId(type, value)).toBe(id);
      }
      const view = await engine.getProfile(id);
      expect(view?.computed.eventCounts).toEqual({
        'Page Viewed': 1,
        'Product Viewed': 4,
        'Screen Viewed': 1,
        'Product List Viewed': 1,
        'Order Completed': 1,
        'Order Placed': 1,
        'Order Refunded': 1,
      });
      expect(view?.computed).toMatchObject({
        sessions: 3,
        orderCount: 1,
        revenue: 150,
        refunded: 30,
        lifetimeValue: 120,
        averageOrderValue: 150,
        currency: 'EUR',
        firstSeen: iso(T0),
        lastSeen: iso(T0 + 3 * DAY),
        lastOrderAt: iso(T0 + 125 * MINUTE),
        topCategories: [
          { value: 'Bags', views: 2 },
          { value: 'Shoes', views: 2 },
          { value: 'Hats', views: 1 },
        ],
        topBrands: [
          { value: 'Acme', views: 2 },
          { value: 'Zed', views: 1 },
        ],
      });
      expect(view?.computed.devices).toHaveLength(2);
      expect(view?.computed.devices).toEqual(
        expect.arrayContaining([
          { key: 'desktop|Windows|Chrome', type: 'desktop', os: 'Windows', browser: 'Chrome', lastSeen: iso(T0 + 4 * MINUTE) },
          expect.objectContaining({ key: 'phone-1', type: 'mobile', os: 'iOS', lastSeen: iso(T0 + 125 * MINUTE) }),
        ]),
      );
      expect([...(view?.computed.channels ?? [])].sort()).toEqual(['app', 'back_office', 'web']);
      expect(view?.traits).toMatchObject({ email: 'two@devices.test', first_name: 'Grace' });

      const events = await allEvents(engine, id);
      expect(events).toHaveLength(12);
      expect(events.every((e) => e.profileId === id)).toBe(true);
      // Both anonymous ids keep resolving, whichever profile survived.
      for (const old of [anonA, anonB]) {
        expect((await engine.getProfile(old))?.id).toBe(id);
        expect((await allEvents(engine, old)).map((e) => e.messageId)).toEqual(events.map((e) => e.messageId));
      }
    });

    it('counts a repeated messageId once, within a batch, across calls and across concurrent calls', async () => {
      const engine = engineOn(ctx.store);
      const track = { type: 'track', userId: 'dup-user', event: 'Clicked', messageId: 'dup-1' };
      const batch = await engine.ingestBatch({ batch: [track, { ...track, properties: { again: true } }] });
      expect(batch.accepted).toBe(1);
      expect(batch.duplicates).toBe(1);
      expect(batch.profileIds[1]).toBeNull();
      const again = await engine.ingestCall(track, 'track');
      expect(again).toEqual({ accepted: 0, duplicates: 1, dropped: 0, profileIds: [null] });

      const concurrent = await Promise.all(
        Array.from({ length: 6 }, () => engine.ingestCall({ ...track, messageId: 'dup-2' }, 'track')),
      );
      expect(concurrent.reduce((n, r) => n + r.accepted, 0)).toBe(1);
      const id = await profileOf(engine, 'userId', 'dup-user');
      expect((await engine.getProfile(id))?.computed.eventCounts).toEqual({ Clicked: 2 });
      expect((await allEvents(engine, id)).map((e) => e.messageId).sort()).toEqual(['dup-1', 'dup-2']);
    });

    it('keeps two users of one shared browser apart (identity limit userId: 1)', async () => {
      const engine = engineOn(ctx.store);
      await engine.ingestCall({ anonymousId: 'shared-browser', event: 'Browsed' }, 'track');
      await engine.ingestCall({ userId: 'alice', anonymousId: 'shared-browser', traits: { name: 'Alice' } }, 'identify');
      const bob = await engine.ingestCall({ userId: 'bob', anonymousId: 'shared-browser', traits: { name: 'Bob' } }, 'identify');
      await engine.ingestCall({ userId: 'bob', anonymousId: 'shared-browser', event: 'Bob Clicked' }, 'track');

      const alice = await profileOf(engine, 'userId', 'alice');
      const bobId = await profileOf(engine, 'userId', 'bob');
      expect(bobId).not.toBe(alice);
      expect(bob.profileIds).toEqual([bobId]);
      expect(await engine.findProfileId('anonymousId', 'shared-browser')).toBe(alice);
      expect(await ctx.store.countProfiles()).toBe(2);
      expect((await engine.getProfile(alice))?.traits).toMatchObject({ name: 'Alice' });
      expect((await engine.getProfile(bobId))?.traits).toMatchObject({ name: 'Bob' });
      expect((await engine.getProfile(alice))?.computed.eventCounts).toEqual({ Browsed: 1 });
      expect((await engine.getProfile(bobId))?.computed.eventCounts).toEqual({ 'Bob Clicked': 1 });
    });

    it('merges two known profiles on alias, and links a new userId to an earlier one', async () => {
      const engine = engineOn(ctx.store);
      const visitor = await engine.ingestCall({ anonymousId: 'visitor-9', event: 'Viewed A' }, 'track');
      const member = await engine.ingestCall({ userId: 'member-9', traits: { plan: 'gold' } }, 'identify');
      expect(visitor.profileIds[0]).not.toBe(member.profileIds[0]);
      const alias = await engine.ingestCall({ previousId: 'visitor-9', userId: 'member-9' }, 'alias');

      const id = await profileOf(engine, 'userId', 'member-9');
      expect(alias.profileIds).toEqual([id]);
      expect(await engine.findProfileId('anonymousId', 'visitor-9')).toBe(id);
      for (const old of [visitor.profileIds[0], member.profileIds[0]] as string[]) {
        expect((await engine.getProfile(old))?.id).toBe(id);
      }
      const view = await engine.getProfile(id);
      expect(view?.traits).toMatchObject({ plan: 'gold' });
      expect(view?.computed.eventCounts).toEqual({ 'Viewed A': 1 });
      expect(await allEvents(engine, visitor.profileIds[0] as string)).toHaveLength(3);

      await engine.ingestCall({ userId: 'old-login', event: 'Signed In' }, 'track');
      const renamed = await engine.ingestCall({ previousId: 'old-login', userId: 'new-login' }, 'alias');
      const oldId = await profileOf(engine, 'userId', 'old-login');
      expect(renamed.profileIds).toEqual([oldId]);
      expect(await engine.findProfileId('userId', 'new-login')).toBe(oldId);
      expect(await ctx.store.countProfiles()).toBe(2);
    });

    it('keeps the latest trait by event time, the earliest for setOnce, across merges too', async () => {
      const engine = engineOn(ctx.store);
      const identify = (hours: number, body: Record<string, unknown>) =>
        engine.ingestCall({ userId: 'timely', timestamp: iso(T0 + hours * 3600_000), ...body }, 'identify');
      await identify(2, { traits: { plan: 'pro', city: 'Paris' }, setOnce: { first_source: 'ads' }, increment: { visits: 2 } });
      await identify(1, { traits: { plan: 'free' }, setOnce: { first_source: 'newsletter' } }); // arrives late
      await identify(3, { traits: { city: 'Lyon' }, setOnce: { first_source: 'later' }, increment: { visits: 3 } });
      await identify(4, { unset: ['city'] });
      const id = await profileOf(engine, 'userId', 'timely');
      let traits = (await engine.getProfile(id))?.traits ?? {};
      expect(traits).toMatchObject({ plan: 'pro', first_source: 'newsletter', visits: 5 });
      expect(traits).not.toHaveProperty('city');

      // An anonymous profile with a newer value merges in: the newer value wins.
      await engine.ingestCall({ anonymousId: 'timely-anon', traits: { plan: 'enterprise' }, timestamp: iso(T0 + 10 * 3600_000) }, 'identify');
      await engine.ingestCall({ anonymousId: 'timely-anon', traits: { plan: 'stale' }, timestamp: iso(T0) }, 'identify');
      await identify(11, { anonymousId: 'timely-anon' });
      expect(await ctx.store.countProfiles()).toBe(1);
      traits = (await engine.getProfile(id))?.traits ?? {};
      expect(traits).toMatchObject({ plan: 'enterprise', first_source: 'newsletter', visits: 5 });
    });

    it('imports profile records: valid rows upserted, invalid rows reported, older data never wins', async () => {
      const engine = engineOn(ctx.store);
      const first = await engine.importRecords([
        { email: 'Record@Example.com', traits: { tier: 'gold', score: 10 }, timestamp: '2024-05-01T00:00:00Z', messageId: 'rec-1' },
        { userId: 'rec-user', traits: { tier: 'bronze' } },
        {},
        { email: 'record@example.com', traits: { tier: 'silver' }, timestamp: '2023-01-01T00:00:00Z' },
        { email: 'x@example.com', unknownField: 1 },
      ]);
      expect(first).toMatchObject({ rows: 5, accepted: 3, duplicates: 0 });
      expect(first.errors.map((e) => e.row)).toEqual([3, 5]);
      const id = await profileOf(engine, 'email', 'record@example.com');
      expect((await engine.getProfile(id))?.traits).toMatchObject({ email: 'record@example.com', tier: 'gold', score: 10 });
      expect((await engine.getProfile(await profileOf(engine, 'userId', 'rec-user')))?.traits).toMatchObject({ tier: 'bronze' });

      const again = await engine.importRecords([{ email: 'record@example.com', traits: { tier: 'platinum' }, messageId: 'rec-1' }]);
      expect(again).toMatchObject({ rows: 1, accepted: 0, duplicates: 1, errors: [] });
      // A later login carrying the email lands on the imported profile.
      await engine.ingestCall({ userId: 'rec-login', traits: { email: 'RECORD@example.com' } }, 'identify');
      expect(await engine.findProfileId('userId', 'rec-login')).toBe(id);
      expect(await ctx.store.countProfiles()).toBe(2);
    });

    it('imports order history once: a re-import is a no-op', async () => {
      const engine = engineOn(ctx.store);
      await engine.ingestCall({ userId: 'buyer-h', traits: { email: 'buyer-h@example.com' } }, 'identify');
      const rows = [
        { order_id: 'h-1', userId: 'buyer-h', timestamp: '2024-01-05T10:00:00Z', total: 50, currency: 'USD' },
        { order_id: 'h-2', userId: 'buyer-h', timestamp: '2024-02-05T10:00:00Z', total: 30, status: 'refunded' },
        { order_id: 'h-3', email: 'Buyer-H@example.com', timestamp: '2024-03-05T10:00:00Z', total: 20, status: 'cancelled' },
        { order_id: 'h-4', timestamp: '2024-03-06T00:00:00Z', total: 5 },
      ];
      const first = await engine.importOrders(rows);
      expect(first).toMatchObject({ rows: 4, accepted: 5, duplicates: 0 });
      expect(first.errors.map((e) => e.row)).toEqual([4]);
      const id = await profileOf(engine, 'userId', 'buyer-h');
      const before = await engine.getProfile(id);
      expect(before?.computed).toMatchObject({
        orderCount: 3,
        revenue: 100,
        refunded: 30,
        cancelled: 20,
        lifetimeValue: 50,
        lastOrderAt: '2024-03-05T10:00:00.000Z',
        channels: ['back_office'],
        eventCounts: { 'Order Placed': 3, 'Order Refunded': 1, 'Order Cancelled': 1 },
      });

      const second = await engine.importOrders(rows);
      expect(second).toMatchObject({ rows: 4, accepted: 0, duplicates: 5 });
      // The storefront reporting an imported order later does not count it again either.
      await engine.ingestCall({ userId: 'buyer-h', event: 'Order Completed', properties: { order_id: 'h-1', total: 50 }, timestamp: '2024-01-05T10:00:00Z' }, 'track');
      const after = await engine.getProfile(id);
      expect(after?.computed.orderCount).toBe(3);
      expect(after?.computed.revenue).toBe(100);
      expect(await allEvents(engine, id)).toHaveLength(7);
      const placed = (await allEvents(engine, id)).find((e) => e.name === 'Order Placed');
      expect(placed?.message).toMatchObject({ properties: { imported: true }, context: { channel: 'back_office' } });
      expect(await ctx.store.countProfiles()).toBe(1);
    });

    it('ingests many concurrent calls of many visitors without losing or duplicating any', async () => {
      const engine = engineOn(ctx.store);
      const calls: Array<{ raw: Record<string, unknown>; type: 'track' | 'identify' }> = [];
      for (let v = 0; v < 30; v++) {
        for (let s = 0; s < 8; s++) calls.push({ raw: { anonymousId: `v-${v}`, event: 'Step', properties: { s } }, type: 'track' });
        calls.push({ raw: { anonymousId: `v-${v}`, userId: `user-${v}` }, type: 'identify' });
        calls.push({ raw: { userId: `user-${v}`, event: 'Step', properties: { s: 8 } }, type: 'track' });
      }
      const results = await Promise.all(shuffled(calls, 7).map((c) => engine.ingestCall(c.raw, c.type)));
      expect(results.reduce((n, r) => n + r.accepted, 0)).toBe(calls.length);
      expect(await ctx.store.countProfiles()).toBe(30);
      for (const v of [0, 13, 29]) {
        const id = await profileOf(engine, 'userId', `user-${v}`);
        expect(await engine.findProfileId('anonymousId', `v-${v}`)).toBe(id);
        expect((await engine.getProfile(id))?.computed.eventCounts).toEqual({ Step: 9 });
        expect(await allEvents(engine, id)).toHaveLength(10);
      }
    });

    it('answers null for a profile that does not exist', async () => {
      const engine = engineOn(ctx.store);
      expect(await engine.getProfile('no-such-profile')).toBeNull();
      expect(await engine.listEvents('no-such-profile', {})).toBeNull();
      expect(await engine.findProfileId('email', 'not an email')).toBeNull();
    });
  });
}
