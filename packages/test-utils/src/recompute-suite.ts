import {
  type CompiledAudiences,
  type Condition,
  type CounterRow,
  type CounterScanSpec,
  type CounterState,
  compileAudiences,
  counterScanOf,
  createEngine,
  type Engine,
  evaluateAudiences,
  type Filter,
  filterMatches,
  type Message,
  newProfile,
  type ProfileRecord,
  recomputeSetBased,
  recordInCounters,
  type Store,
  type StoredEvent,
  type Window,
} from '@attune/core';
import { describe, expect, it } from 'vitest';
import type { StoreContext } from './store-port-suite.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 6, 1, 9);

/** A seeded random source, so a failure replays. */
function random(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  return { next, pick, int };
}
type Random = ReturnType<typeof random>;

const EVENTS = ['Item Seen', 'Item Carted', 'Thing Bought', 'Page Viewed'] as const;

/** Filters of every operator, on values of every JSON type, missing and null: pushed to SQL or not. */
const FILTERS: Filter[] = [
  { property: 'kind', op: 'eq', value: 'Shoes' },
  { property: 'kind', op: 'eq', value: 7 },
  { property: 'kind', op: 'eq', value: true },
  { property: 'kind', op: 'in', value: ['Shoes', 'Hats'] },
  { property: 'kind', op: 'in', value: ['Shoes', 7] },
  { property: 'kind', op: 'neq', value: 'Bags' },
  { property: 'kind', op: 'not_in', value: ['Bags', 'Hats'] },
  { property: 'kind', op: 'exists' },
  { property: 'kind', op: 'exists', value: false },
  { property: 'kind', op: 'starts_with', value: 'Sh' },
  { property: 'price', op: 'gt', value: 10 },
  { property: 'price', op: 'gte', value: 12 },
  { property: 'price', op: 'lt', value: 20 },
  { property: 'price', op: 'lte', value: 12.5 },
  { property: 'price', op: 'eq', value: 12 },
  { property: 'price', op: 'gt', value: '11' },
  { property: 'tags', op: 'contains', value: 'sale' },
  { property: 'item.brand', op: 'eq', value: 'acme' },
  { property: 'size-eu', op: 'gte', value: 40 },
];

function properties(r: Random): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const maybe = (key: string, values: unknown[]) => {
    const v = r.pick(values);
    if (v !== undefined) out[key] = v;
  };
  maybe('kind', ['Shoes', 'Shoes', 'Bags', 'Hats', 'shoes', 7, true, null, undefined, ['Shoes']]);
  maybe('price', [5, 12, 12, 12.5, 30, '12', null, undefined]);
  maybe('tags', [['sale', 'new'], ['new'], [], 'sale', undefined]);
  maybe('item', [{ brand: 'acme' }, { brand: 'other' }, [{ brand: 'acme' }], undefined]);
  maybe('size-eu', [38, 42, '42', undefined]);
  return out;
}

function someWindow(r: Random): Window {
  const w = r.next();
  if (w < 0.6) return { last: { hours: r.int(1, 60) } };
  if (w < 0.8) return 'ever';
  return { between: { from: new Date(T0 - r.int(1, 3) * DAY).toISOString(), to: new Date(T0 + r.int(0, 2) * DAY).toISOString() } };
}

function where(r: Random): Filter[] | undefined {
  const n = r.pick([0, 1, 1, 2]);
  return n === 0 ? undefined : Array.from({ length: n }, () => r.pick(FILTERS));
}

function leaf(r: Random): Condition {
  const event = r.pick(EVENTS);
  const k = r.next();
  if (k < 0.4) {
    const count = r.next() < 0.5 ? undefined : { op: r.pick(['at_least', 'at_most', 'exactly'] as const), value: r.int(1, 3) };
    const w = where(r);
    return { did: { event, ...(w ? { where: w } : {}), ...(count ? { count } : {}), window: someWindow(r) } };
  }
  if (k < 0.55) {
    const w = where(r);
    return { did_not: { event, ...(w ? { where: w } : {}), window: someWindow(r) } };
  }
  if (k < 0.85) {
    const w = where(r);
    return {
      have: { aggregate: { fn: r.pick(['sum', 'count', 'avg', 'min', 'max'] as const), event, property: 'price', ...(w ? { where: w } : {}), window: someWindow(r) }, op: 'gte', value: r.pick([1, 12, 25]) },
    };
  }
  return { have: { top: { event, property: 'kind', window: someWindow(r) }, op: 'eq', value: 'Shoes' } };
}

function condition(r: Random): Condition {
  const k = r.next();
  if (k < 0.5) return leaf(r);
  if (k < 0.7) return { all: [leaf(r), leaf(r)] };
  if (k < 0.9) return { any: [leaf(r), leaf(r)] };
  return { not: leaf(r) };
}

/** A counter's entries inside its window, in a canonical order: how two counters are compared. */
function normalized(counters: Record<string, CounterState>, compiled: CompiledAudiences, now: number) {
  const out: Record<string, { entries: string[]; dropped: number }> = {};
  for (const spec of compiled.specs) {
    const state = counters[spec.key];
    const entries = (state?.entries ?? [])
      .filter((e) => spec.windowMs === null || e.t > now - spec.windowMs)
      .map((e) => `${e.t}:${JSON.stringify(e.p ?? null)}`)
      .sort();
    if (entries.length > 0 || (state?.dropped ?? 0) > 0) out[spec.key] = { entries, dropped: state?.dropped ?? 0 };
  }
  return out;
}

interface ProfileState {
  counters: ReturnType<typeof normalized>;
  audiences: string[];
}

async function liveProfileIds(store: Store): Promise<string[]> {
  const ids: string[] = [];
  for (let after: string | null = null; ; ) {
    const page = await store.profileIds(after, 100);
    if (page.length === 0) return ids;
    ids.push(...page);
    after = page[page.length - 1] as string;
  }
}

/** What the store holds now, per live profile. */
async function stored(store: Store, compiled: CompiledAudiences, now: number): Promise<Record<string, ProfileState>> {
  const out: Record<string, ProfileState> = {};
  for (const id of await liveProfileIds(store)) {
    const p = await store.getProfile(id);
    if (p) out[id] = { counters: normalized(p.counters, compiled, now), audiences: Object.keys(p.audiences).sort() };
  }
  return out;
}

/**
 * The definition: every profile's history replayed through ingestion's own counter code at
 * `now`, then every audience evaluated in full.
 */
async function replayed(store: Store, compiled: CompiledAudiences, now: number): Promise<Record<string, ProfileState>> {
  const out: Record<string, ProfileState> = {};
  for (const id of await liveProfileIds(store)) {
    const p = await store.getProfile(id);
    if (!p) continue;
    const counters: Record<string, CounterState> = {};
    for (const e of (await store.historyOf([id], null)).get(id) ?? []) {
      if (e.type !== 'track' && e.type !== 'page' && e.type !== 'screen') continue;
      const props = ((e.message as { properties?: Record<string, unknown> }).properties ?? {}) as Record<string, unknown>;
      recordInCounters(counters, compiled.specs, { name: e.name, timestamp: e.timestamp, properties: props }, now);
    }
    const outcome = evaluateAudiences({ ...p, counters, audiences: {}, nextCheckAt: null }, compiled, now);
    out[id] = { counters: normalized(counters, compiled, now), audiences: Object.keys(outcome.members).sort() };
  }
  return out;
}

async function outboxSize(store: Store): Promise<number> {
  return (await store.outbox.read('recompute-test', 100_000)).length;
}

/** Random traffic: track and page calls (some late), identifies that merge two visitors. */
async function traffic(engine: Engine, clock: { now: number }, r: Random, steps: number, prefix: string): Promise<void> {
  const visitors = Array.from({ length: 12 }, (_, i) => `${prefix}-v${i}`);
  for (let step = 0; step < steps; step++) {
    clock.now += r.int(0, 40) * MINUTE;
    const anonymousId = r.pick(visitors);
    const timestamp = new Date(clock.now - (r.next() < 0.2 ? r.int(1, 72) * HOUR : 0)).toISOString();
    const k = r.next();
    if (k < 0.75) await engine.ingestCall({ anonymousId, timestamp, event: r.pick(EVENTS.slice(0, 3)), properties: properties(r) }, 'track');
    else if (k < 0.92) await engine.ingestCall({ anonymousId, timestamp, name: 'Home', properties: properties(r) }, 'page');
    else await engine.ingestCall({ anonymousId, timestamp, userId: `${prefix}-u${r.int(0, 3)}` }, 'identify');
  }
}

async function defineAudiences(engine: Engine, r: Random, n: number): Promise<void> {
  await engine.audiences.createGroup({ id: 'random', name: 'Random' });
  for (let i = 0; i < n; i++) await engine.audiences.createAudience({ id: `a${i}`, groupId: 'random', name: `a${i}`, condition: condition(r) });
  await engine.audiences.recompute();
}

function clocked(store: Store, start: number) {
  const clock = { now: start };
  const engine = createEngine({ store, clock: { now: () => clock.now, defer: (f) => setImmediate(f) } });
  return { engine, clock };
}

/** The set-based audience recompute against ingestion's incremental counters, on the store. */
export function describeRecompute(ctx: StoreContext): void {
  describe('set-based audience recompute', () => {
    it('returns every event a pushed-down spec accepts, in profile, time and message order, with the properties asked', async () => {
      const r = random(11);
      const events: StoredEvent[] = [];
      for (let i = 0; i < 120; i++) {
        const profileId = `sp-${r.int(0, 5)}`;
        const props = properties(r);
        const type = r.next() < 0.8 ? 'track' : 'page';
        const name = type === 'page' ? 'Page Viewed' : r.pick(EVENTS.slice(0, 2));
        const ts = T0 - r.int(0, 5) * HOUR; // ties on purpose
        const message = { type, ...(type === 'track' ? { event: name } : {}), messageId: `sp-m${i}`, anonymousId: profileId, timestamp: new Date(ts).toISOString(), receivedAt: new Date(ts).toISOString(), context: {}, properties: props } as unknown as Message;
        events.push({ messageId: `sp-m${i}`, profileId, type, name, timestamp: ts, receivedAt: ts, message });
      }
      // An identify of the same name is no counter event.
      events.push({ messageId: 'sp-identify', profileId: 'sp-0', type: 'identify', name: 'Item Seen', timestamp: T0, receivedAt: T0, message: { type: 'identify', messageId: 'sp-identify', anonymousId: 'sp-0', timestamp: new Date(T0).toISOString(), receivedAt: new Date(T0).toISOString(), context: {}, traits: {} } as unknown as Message });
      await ctx.store.transaction(async (tx) => {
        await tx.putProfiles(['sp-0', 'sp-1', 'sp-2', 'sp-3', 'sp-4', 'sp-5'].map((id) => newProfile(id, T0)));
        await tx.appendEvents(events);
      });
      for (const filter of FILTERS) {
        for (const name of ['Item Seen', 'Page Viewed']) {
          const spec = { key: 'k', event: name, where: [filter], paths: ['price'], windowMs: 3 * HOUR };
          const [scan] = counterScanOf([spec], T0) as [CounterScanSpec];
          const snapshot = await ctx.store.counterSnapshot([scan]);
          const got: CounterRow[] = [];
          try {
            for await (const batch of snapshot.rows()) got.push(...batch);
          } finally {
            await snapshot.close();
          }
          const expected = events
            .filter((e) => e.type !== 'identify' && e.name === name && e.timestamp > T0 - 3 * HOUR)
            .filter((e) => filterMatches((e.message as { properties: Record<string, unknown> }).properties, filter))
            .sort((a, b) => (a.profileId < b.profileId ? -1 : a.profileId > b.profileId ? 1 : a.timestamp - b.timestamp || (a.messageId < b.messageId ? -1 : 1)));
          // The store may let more through (the core checks again), never fewer, and keeps the order.
          const accepted = got.filter((row) => filterMatches(row.properties, filter));
          expect({ filter, name, rows: accepted.map((row) => `${row.profileId}@${row.ts}`) }).toEqual({
            filter,
            name,
            rows: expected.map((e) => `${e.profileId}@${e.timestamp}`),
          });
          // Each asked property as stored: a missing one stays missing, null stays null.
          const asked = (props: Record<string, unknown>) => JSON.stringify(scan.properties.map((h) => (Object.hasOwn(props, h) ? [h, props[h]] : [h])));
          expect(accepted.map((row) => `${row.profileId}@${row.ts}:${asked(row.properties)}`).sort()).toEqual(
            expected.map((e) => `${e.profileId}@${e.timestamp}:${asked((e.message as { properties: Record<string, unknown> }).properties)}`).sort(),
          );
          const inTx = await ctx.store.transaction((tx) => tx.counterRows([scan], ['sp-3', 'sp-1']));
          expect(inTx.filter((row) => filterMatches(row.properties, filter)).map((row) => `${row.profileId}@${row.ts}`)).toEqual(
            accepted.filter((row) => row.profileId === 'sp-1' || row.profileId === 'sp-3').map((row) => `${row.profileId}@${row.ts}`),
          );
        }
      }
      // The audience state is written only where the row still holds the snapshot's version:
      // a row written since (sp-1), a merged-away one (sp-3) and a missing one are left alone.
      const snapshot = await ctx.store.counterSnapshot([]);
      let versions: Map<string, string>;
      try {
        versions = new Map((await snapshot.profilesById(['sp-1', 'sp-2', 'sp-3'])).map((v) => [v.id, v.version]));
      } finally {
        await snapshot.close();
      }
      expect([...versions.keys()]).toEqual(['sp-1', 'sp-2', 'sp-3']);
      await ctx.store.transaction(async (tx) => {
        const p = await tx.getProfiles(['sp-1', 'sp-3']);
        await tx.putProfiles([
          { ...(p.get('sp-1') as ProfileRecord), traits: { touched: true } },
          { ...(p.get('sp-3') as ProfileRecord), mergedInto: 'sp-2' },
        ]);
      });
      const state = (id: string): ProfileRecord => ({
        ...newProfile(id, T0),
        traits: { untouched: id },
        counters: { k: { entries: [{ t: T0 - HOUR, p: { price: 12 } }], dropped: 3 } },
        audiences: { a: T0 },
        nextCheckAt: T0 + DAY,
      });
      const stored = await ctx.store.transaction((tx) =>
        tx.putAudienceStates(['sp-1', 'sp-2', 'sp-3', 'nobody'].map((id) => ({ profile: state(id), version: versions.get(id) ?? versions.get('sp-2') ?? '' }))),
      );
      expect([...stored]).toEqual(['sp-2']);
      const sp2 = (await ctx.store.getProfile('sp-2')) as ProfileRecord;
      expect({ traits: sp2.traits, counters: sp2.counters, audiences: sp2.audiences, nextCheckAt: sp2.nextCheckAt }).toEqual({
        traits: {},
        counters: { k: { entries: [{ t: T0 - HOUR, p: { price: 12 } }], dropped: 3 } },
        audiences: { a: T0 },
        nextCheckAt: T0 + DAY,
      });
      expect(sp2.computed).toEqual(newProfile('sp-2', T0).computed);
      const sp1 = (await ctx.store.getProfile('sp-1')) as ProfileRecord;
      expect({ traits: sp1.traits, audiences: sp1.audiences, counters: sp1.counters }).toEqual({ traits: { touched: true }, audiences: {}, counters: {} });
      expect(await ctx.store.getProfile('nobody')).toBeNull();
      // A row written by putAudienceStates has a new version.
      const again = await ctx.store.transaction((tx) => tx.putAudienceStates([{ profile: { ...state('sp-2'), nextCheckAt: null }, version: versions.get('sp-2') as string }]));
      expect(again.size).toBe(0);

      // A store that can tell a row is still the snapshot's without reading it gives an
      // unreadVersion: it stands for every row as the snapshot saw it, and for no row since.
      const later = await ctx.store.counterSnapshot([]);
      const unread = later.unreadVersion;
      await later.close();
      if (unread !== undefined) {
        await ctx.store.transaction(async (tx) => {
          const p = await tx.getProfiles(['sp-1']);
          await tx.putProfiles([{ ...(p.get('sp-1') as ProfileRecord), traits: { touched: 2 } }]);
        });
        const blank = (id: string): ProfileRecord => ({ ...state(id), traits: {}, audiences: { b: T0 }, nextCheckAt: null });
        const unreadWrite = (ids: string[]) => ctx.store.transaction((tx) => tx.putAudienceStates(ids.map((id) => ({ profile: blank(id), version: unread, unread: true }))));
        expect([...(await unreadWrite(['sp-1', 'sp-2', 'sp-3', 'nobody']))]).toEqual(['sp-2']);
        const written = (await ctx.store.getProfile('sp-2')) as ProfileRecord;
        // Only the audience state is replaced: the rest of the row stays as stored.
        expect({ traits: written.traits, audiences: written.audiences, nextCheckAt: written.nextCheckAt }).toEqual({ traits: {}, audiences: { b: T0 }, nextCheckAt: null });
        expect(((await ctx.store.getProfile('sp-1')) as ProfileRecord).traits).toEqual({ touched: 2 });
        expect((await unreadWrite(['sp-2'])).size).toBe(0);
      }
    });

    for (const seed of [1, 2, 3]) {
      it(`builds from history exactly the counters and memberships ingestion keeps, over random audiences and traffic (seed ${seed})`, async () => {
        const r = random(seed * 7919);
        const { engine, clock } = clocked(ctx.store, T0 - 2 * DAY);
        // History first, with no audience: the recompute alone builds the counters.
        await traffic(engine, clock, r, 120, `s${seed}`);
        await defineAudiences(engine, r, 6);
        const compiled = engine.audiences.compiled();
        const rebuilt = await stored(ctx.store, compiled, clock.now);
        expect(rebuilt).toEqual(await replayed(ctx.store, compiled, clock.now));
        // Not a vacuous comparison: counters hold entries and some profiles are members.
        expect(Object.values(rebuilt).some((p) => Object.keys(p.counters).length > 0)).toBe(true);
        expect(Object.values(rebuilt).some((p) => p.audiences.length > 0)).toBe(true);
        // Each entry went to the outbox once, as an Audience Entered event on the profile.
        const members = Object.values(await stored(ctx.store, compiled, clock.now)).reduce((n, p) => n + p.audiences.length, 0);
        expect(await outboxSize(ctx.store)).toBe(members);

        // Later events continue on the rebuilt counters; timed exits come from the schedule.
        await traffic(engine, clock, r, 120, `s${seed}`);
        clock.now += r.int(1, 30) * HOUR;
        await engine.audiences.runDueChecks();
        const incremental = await stored(ctx.store, compiled, clock.now);
        expect(incremental).toEqual(await replayed(ctx.store, compiled, clock.now));

        // Recomputing now changes nothing: no membership change, no outbox entry.
        const outbox = await outboxSize(ctx.store);
        expect(await engine.audiences.recompute()).toMatchObject({ state: 'done' });
        expect(await stored(ctx.store, compiled, clock.now)).toEqual(incremental);
        expect(await outboxSize(ctx.store)).toBe(outbox);

        // And its schedule stays right: checks as time passes agree with the definition.
        for (let i = 0; i < 3; i++) {
          clock.now += r.int(1, 20) * HOUR;
          await engine.audiences.runDueChecks();
          const now = await stored(ctx.store, compiled, clock.now);
          const expected = await replayed(ctx.store, compiled, clock.now);
          expect(Object.fromEntries(Object.entries(now).map(([id, p]) => [id, p.audiences]))).toEqual(Object.fromEntries(Object.entries(expected).map(([id, p]) => [id, p.audiences])));
        }
      });
    }

    it('commits every chunk but the last without waiting for the disk, and the last one, durable, after all others', async () => {
      const r = random(77);
      const { engine, clock } = clocked(ctx.store, T0);
      await traffic(engine, clock, r, 150, 'd');
      const compiled = compileAudiences(
        [
          { id: 'd-seen', groupId: 'g', name: 'Seen', condition: { did: { event: 'Item Seen', window: { last: { hours: 48 } } } } },
          { id: 'd-bought', groupId: 'g', name: 'Bought', condition: { did: { event: 'Thing Bought', window: 'ever' } } },
        ],
        'durability',
      );
      const log: Array<{ event: 'begin' | 'end'; durable: boolean }> = [];
      const recording: Store = {
        ...ctx.store,
        async transaction(fn, options) {
          const durable = options?.durable !== false;
          log.push({ event: 'begin', durable });
          try {
            return await ctx.store.transaction(fn, options);
          } finally {
            log.push({ event: 'end', durable });
          }
        },
      };
      await recomputeSetBased(recording, compiled, clock.now, () => undefined, { chunk: 3 });
      const begun = log.filter((e) => e.event === 'begin').map((e) => e.durable);
      expect(begun.length).toBeGreaterThan(2);
      expect(begun).toEqual([...begun.slice(0, -1).map(() => false), true]);
      // The durable commit starts once every other one has ended, so its flush covers them all.
      expect(log.slice(log.findIndex((e) => e.durable))).toEqual([
        { event: 'begin', durable: true },
        { event: 'end', durable: true },
      ]);
      expect(await stored(ctx.store, compiled, clock.now)).toEqual(await replayed(ctx.store, compiled, clock.now));
    });

    it('loses nothing ingested while it runs, and counts nothing twice', async () => {
      const r = random(4242);
      const { engine, clock } = clocked(ctx.store, T0);
      await traffic(engine, clock, r, 80, 'c');
      const viewers = { did: { event: 'Product Viewed', count: { op: 'at_least', value: 2 }, window: { last: { hours: 24 } } } } satisfies Condition;
      // Events arrive right after each snapshot is taken, from a node that may or may not know the
      // audience yet: the recompute must read those profiles again under lock.
      let rounds = 0;
      const during: Store = {
        ...ctx.store,
        async counterSnapshot(specs) {
          const snapshot = await ctx.store.counterSnapshot(specs);
          const round = ++rounds;
          for (const v of ['c-v1', 'c-v2', `c-new${round}`]) {
            await engine.ingestCall({ anonymousId: v, timestamp: new Date(clock.now).toISOString(), event: 'Product Viewed', properties: { product_id: 'p1', category: 'Shoes' } }, 'track');
            await engine.ingestCall({ anonymousId: v, timestamp: new Date(clock.now - round * MINUTE).toISOString(), event: 'Product Viewed', properties: { product_id: 'p2', category: 'Bags' } }, 'track');
          }
          // And a merge of two visitors.
          await engine.ingestCall({ anonymousId: `c-v${2 + 2 * round}`, userId: `c-merged${round}`, timestamp: new Date(clock.now).toISOString() }, 'identify');
          await engine.ingestCall({ anonymousId: `c-v${3 + 2 * round}`, userId: `c-merged${round}`, timestamp: new Date(clock.now).toISOString() }, 'identify');
          return snapshot;
        },
      };
      const recomputing = createEngine({ store: during, clock: { now: () => clock.now, defer: (f) => setImmediate(f) } });
      await recomputing.audiences.createGroup({ id: 'g', name: 'G' });
      await recomputing.audiences.createAudience({ id: 'viewers', groupId: 'g', name: 'Viewers', condition: viewers });
      const first = await recomputing.audiences.recompute();
      expect(first.error).toBeUndefined();
      expect(first).toMatchObject({ state: 'done' });
      // Now the ingesting node knows the audience and counts the new events itself.
      await engine.audiences.reload();
      expect(await recomputing.audiences.recompute()).toMatchObject({ state: 'done' });
      expect(rounds).toBeGreaterThanOrEqual(2);
      const compiled = recomputing.audiences.compiled();
      const now = await stored(ctx.store, compiled, clock.now);
      expect(now).toEqual(await replayed(ctx.store, compiled, clock.now));
      for (const v of ['c-v1', 'c-new1', 'c-new2']) {
        const id = (await engine.findProfileId('anonymousId', v)) as string;
        expect(now[id]?.audiences).toEqual(['viewers']);
      }
    });
  });
}
