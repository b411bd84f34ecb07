import type { IdentityKey, ProfileRecord, Store, StoredEvent } from '@attune/core';
import { describe, expect, it } from 'vitest';
import { account, apiKey, DAY, MINUTE, newestFirst, richProfile, storedEvent } from './fixtures.ts';

export interface StoreContext {
  /** The store of the running test: fresh and migrated. */
  readonly store: Store;
}

const T = Date.UTC(2025, 5, 1, 12);

function links(profileId: string, keys: IdentityKey[], firstSeen: number) {
  return keys.map((k) => ({ ...k, profileId, firstSeen }));
}

/** Every method of the Store port, called directly. */
export function describeStorePort(ctx: StoreContext): void {
  describe('migrate', () => {
    it('can run again on a migrated store and keeps the data', async () => {
      await ctx.store.transaction((tx) => tx.putProfiles([richProfile('p-1')]));
      await ctx.store.migrate();
      expect(await ctx.store.getProfile('p-1')).toEqual(richProfile('p-1'));
      expect(typeof ctx.store.kind).toBe('string');
    });
  });

  describe('claims', () => {
    it('returns the keys not claimed before, each once, within one transaction', async () => {
      await ctx.store.transaction(async (tx) => {
        expect(await tx.claim('message', ['a', 'b', 'a'])).toEqual(new Set(['a', 'b']));
        expect(await tx.claim('message', ['b', 'c'])).toEqual(new Set(['c']));
        expect(await tx.claim('message', ['a', 'b', 'c'])).toEqual(new Set());
      });
    });

    it('is idempotent across transactions, and scopes are independent', async () => {
      await ctx.store.transaction((tx) => tx.claim('message', ['m-1', 'm-2']));
      const again = await ctx.store.transaction((tx) => tx.claim('message', ['m-2', 'm-3']));
      expect(again).toEqual(new Set(['m-3']));
      const otherScope = await ctx.store.transaction((tx) => tx.claim('order', ['m-1', 'm-2']));
      expect(otherScope).toEqual(new Set(['m-1', 'm-2']));
    });

    it('claims nothing for no keys, and thousands of keys in one call', async () => {
      expect(await ctx.store.transaction((tx) => tx.claim('message', []))).toEqual(new Set());
      const keys = Array.from({ length: 2500 }, (_, i) => `bulk-${i}`);
      expect((await ctx.store.transaction((tx) => tx.claim('message', keys))).size).toBe(2500);
      const half = [...keys.slice(1250), 'bulk-new'];
      expect(await ctx.store.transaction((tx) => tx.claim('message', half))).toEqual(new Set(['bulk-new']));
    });
  });

  describe('transactions', () => {
    it("returns the function's value", async () => {
      expect(await ctx.store.transaction(async () => ({ answer: 42 }))).toEqual({ answer: 42 });
    });

    it('discards every write when the function throws, and rethrows its error', async () => {
      // Committed state the failed transaction will try to change.
      await ctx.store.transaction(async (tx) => {
        await tx.putProfiles([richProfile('keep-1'), richProfile('keep-2')]);
        await tx.linkIdentities(links('keep-1', [{ type: 'userId', value: 'u-keep' }], T));
        await tx.appendEvents([storedEvent('keep-1', 'e-keep', T)]);
        await tx.putAccounts([account('acc-keep', T, { plan: 'basic' })]);
      });
      const boom = new Error('boom');
      const failed = ctx.store.transaction(async (tx) => {
        await tx.claim('message', ['claimed-then-lost']);
        await tx.putProfiles([richProfile('lost'), { ...richProfile('keep-1'), traits: { changed: true } }]);
        await tx.linkIdentities(links('lost', [{ type: 'anonymousId', value: 'anon-lost' }], T));
        await tx.moveIdentities('keep-1', 'lost');
        await tx.appendEvents([storedEvent('lost', 'e-lost', T), storedEvent('keep-1', 'e-lost-2', T - 400 * DAY)]);
        await tx.moveEvents('keep-1', 'lost');
        await tx.putAccounts([account('acc-lost', T), account('acc-keep', T, { plan: 'changed' })]);
        throw boom;
      });
      await expect(failed).rejects.toBe(boom);

      expect(await ctx.store.transaction((tx) => tx.claim('message', ['claimed-then-lost']))).toEqual(
        new Set(['claimed-then-lost']),
      );
      expect(await ctx.store.getProfile('lost')).toBeNull();
      expect(await ctx.store.getProfile('keep-1')).toEqual(richProfile('keep-1'));
      expect(await ctx.store.findProfileId({ type: 'anonymousId', value: 'anon-lost' })).toBeNull();
      expect(await ctx.store.findProfileId({ type: 'userId', value: 'u-keep' })).toBe('keep-1');
      expect((await ctx.store.queryEvents({ profileId: 'lost', limit: 10 })).events).toEqual([]);
      const kept = await ctx.store.queryEvents({ profileId: 'keep-1', limit: 10 });
      expect(kept.events.map((e) => e.messageId)).toEqual(['e-keep']);
      expect(await ctx.store.getAccount('acc-lost')).toBeNull();
      expect((await ctx.store.getAccount('acc-keep'))?.traits).toEqual({ plan: 'basic' });
      expect(await ctx.store.countProfiles()).toBe(2);
    });

    it('commits a transaction that need not wait for the disk like any other; a failed one leaves nothing; durable ones follow', async () => {
      await ctx.store.transaction(
        async (tx) => {
          await tx.putProfiles([richProfile('relaxed-1')]);
          await tx.appendEvents([storedEvent('relaxed-1', 'e-relaxed', T)]);
        },
        { durable: false },
      );
      await expect(
        ctx.store.transaction(
          async (tx) => {
            await tx.putProfiles([richProfile('relaxed-lost')]);
            throw new Error('no');
          },
          { durable: false },
        ),
      ).rejects.toThrow('no');
      await ctx.store.transaction((tx) => tx.putProfiles([richProfile('durable-after')]));
      expect(await ctx.store.getProfile('relaxed-1')).toEqual(richProfile('relaxed-1'));
      expect((await ctx.store.queryEvents({ profileId: 'relaxed-1', limit: 10 })).events.map((e) => e.messageId)).toEqual(['e-relaxed']);
      expect(await ctx.store.getProfile('relaxed-lost')).toBeNull();
      expect(await ctx.store.getProfile('durable-after')).toEqual(richProfile('durable-after'));
    });

    it('serializes read-modify-write of a profile: concurrent transactions lose no update', async () => {
      await ctx.store.transaction((tx) => tx.putProfiles([{ ...richProfile('counter'), traits: { n: 0 } }]));
      await Promise.all(
        Array.from({ length: 12 }, () =>
          ctx.store.transaction(async (tx) => {
            const p = (await tx.getProfiles(['counter'])).get('counter') as ProfileRecord;
            await new Promise((resolve) => setTimeout(resolve, 2));
            await tx.putProfiles([{ ...p, traits: { n: (p.traits.n as number) + 1 } }]);
          }),
        ),
      );
      expect((await ctx.store.getProfile('counter'))?.traits).toEqual({ n: 12 });
    });
  });

  describe('identities', () => {
    const userKey = { type: 'userId', value: 'u-1' };
    const emailKey = { type: 'email', value: 'ada@example.com' };
    const colonKey = { type: 'crm_id', value: 'tenant:42:x' };

    it('links identifiers and looks them up as type:value → profile id', async () => {
      await ctx.store.transaction(async (tx) => {
        await tx.linkIdentities(links('p-1', [userKey, emailKey], T));
        await tx.linkIdentities(links('p-2', [colonKey], T));
        const found = await tx.lookupIdentities([userKey, emailKey, colonKey, { type: 'userId', value: 'nobody' }]);
        expect(found).toEqual(
          new Map([
            ['userId:u-1', 'p-1'],
            ['email:ada@example.com', 'p-1'],
            ['crm_id:tenant:42:x', 'p-2'],
          ]),
        );
        expect(await tx.lookupIdentities([])).toEqual(new Map());
      });
      const later = await ctx.store.transaction((tx) => tx.lookupIdentities([emailKey, { type: 'email', value: 'ADA@example.com' }]));
      expect(later).toEqual(new Map([['email:ada@example.com', 'p-1']]));
      expect(await ctx.store.findProfileId(colonKey)).toBe('p-2');
      expect(await ctx.store.findProfileId({ type: 'phone', value: '123456' })).toBeNull();
    });

    it('lists the identifiers of a profile by first seen, type and value', async () => {
      await ctx.store.transaction(async (tx) => {
        await tx.linkIdentities(links('p-1', [{ type: 'anonymousId', value: 'b' }, { type: 'anonymousId', value: 'a' }], T + 10));
        await tx.linkIdentities(links('p-1', [emailKey, userKey], T));
        await tx.linkIdentities(links('p-other', [{ type: 'anonymousId', value: 'c' }], T));
      });
      expect(await ctx.store.listIdentities('p-1')).toEqual([
        { type: 'email', value: 'ada@example.com', profileId: 'p-1', firstSeen: T },
        { type: 'userId', value: 'u-1', profileId: 'p-1', firstSeen: T },
        { type: 'anonymousId', value: 'a', profileId: 'p-1', firstSeen: T + 10 },
        { type: 'anonymousId', value: 'b', profileId: 'p-1', firstSeen: T + 10 },
      ]);
      expect(await ctx.store.listIdentities('p-none')).toEqual([]);
    });

    it('re-linking an identifier points it to the new profile and keeps its first sighting', async () => {
      await ctx.store.transaction((tx) => tx.linkIdentities(links('p-1', [userKey], T)));
      await ctx.store.transaction((tx) => tx.linkIdentities(links('p-2', [userKey], T + DAY)));
      expect(await ctx.store.listIdentities('p-2')).toEqual([{ ...userKey, profileId: 'p-2', firstSeen: T }]);
      expect(await ctx.store.listIdentities('p-1')).toEqual([]);
    });

    it('moves every identifier of one profile to another', async () => {
      await ctx.store.transaction(async (tx) => {
        await tx.linkIdentities(links('from', [userKey, emailKey], T));
        await tx.linkIdentities(links('to', [{ type: 'anonymousId', value: 'anon-to' }], T));
        await tx.linkIdentities(links('bystander', [colonKey], T));
        await tx.moveIdentities('from', 'to');
        const seen = await tx.lookupIdentities([userKey, emailKey, colonKey]);
        expect(seen.get('userId:u-1')).toBe('to');
        expect(seen.get('crm_id:tenant:42:x')).toBe('bystander');
      });
      expect(await ctx.store.listIdentities('from')).toEqual([]);
      expect((await ctx.store.listIdentities('to')).map((i) => `${i.type}:${i.value}`).sort()).toEqual([
        'anonymousId:anon-to',
        'email:ada@example.com',
        'userId:u-1',
      ]);
      expect(await ctx.store.findProfileId(colonKey)).toBe('bystander');
    });

    it('links identifiers of several profiles in one call', async () => {
      await ctx.store.transaction((tx) =>
        tx.linkIdentities([...links('p-a', [userKey], T), ...links('p-b', [emailKey, colonKey], T + 1)]),
      );
      expect(await ctx.store.findProfileId(userKey)).toBe('p-a');
      expect(await ctx.store.findProfileId(emailKey)).toBe('p-b');
      expect(await ctx.store.findProfileId(colonKey)).toBe('p-b');
    });

    it('links and looks up thousands of identifiers in one call each', async () => {
      const keys: IdentityKey[] = Array.from({ length: 3000 }, (_, i) => ({ type: 'anonymousId', value: `bulk-${i}` }));
      await ctx.store.transaction((tx) => tx.linkIdentities(links('bulk', keys, T)));
      const found = await ctx.store.transaction((tx) => tx.lookupIdentities(keys));
      expect(found.size).toBe(3000);
      expect(new Set(found.values())).toEqual(new Set(['bulk']));
    });
  });

  describe('profiles', () => {
    it('round-trips every field, nested computed traits included', async () => {
      const p = richProfile('p-rich');
      await ctx.store.transaction((tx) => tx.putProfiles([p]));
      expect(await ctx.store.getProfile('p-rich')).toEqual(p);
      const inTx = await ctx.store.transaction((tx) => tx.getProfiles(['p-rich', 'p-missing']));
      expect(inTx).toEqual(new Map([['p-rich', p]]));
      expect(await ctx.store.getProfile('p-missing')).toBeNull();
    });

    it('upserts: a second put replaces every field', async () => {
      await ctx.store.transaction((tx) => tx.putProfiles([richProfile('p-1'), richProfile('p-2')]));
      const changed: ProfileRecord = {
        ...richProfile('p-1', T),
        createdAt: T - DAY,
        mergedInto: 'p-2',
        traits: { only: 'this' },
        traitMeta: { only: { at: T, once: true } },
        accountIds: [],
        identityCounts: {},
      };
      changed.computed.eventCounts = { 'Signed In': 1 };
      await ctx.store.transaction((tx) => tx.putProfiles([changed]));
      expect(await ctx.store.getProfile('p-1')).toEqual(changed);
      expect(await ctx.store.getProfile('p-2')).toEqual(richProfile('p-2'));
    });

    it('reads many profiles at once, and counts the ones not merged away', async () => {
      const ids = Array.from({ length: 50 }, (_, i) => `p-${String(i).padStart(3, '0')}`);
      await ctx.store.transaction((tx) =>
        tx.putProfiles(ids.map((id, i) => ({ ...richProfile(id), mergedInto: i % 5 === 0 ? 'p-001' : null }))),
      );
      const read = await ctx.store.transaction((tx) => tx.getProfiles([...ids].reverse()));
      expect([...read.keys()].sort()).toEqual(ids);
      expect(read.get('p-010')?.mergedInto).toBe('p-001');
      expect(await ctx.store.countProfiles()).toBe(40);
    });
  });

  describe('events', () => {
    // Same-millisecond events, events months and years apart, and ids that sort by bytes.
    const times = [T, T, T, T - MINUTE, T + MINUTE, T - 40 * DAY, T + 70 * DAY, T - 900 * DAY, T, T - 40 * DAY];
    function sample(profileId: string): StoredEvent[] {
      return times.map((ts, i) =>
        storedEvent(profileId, `msg-${String.fromCharCode(97 + ((i * 7) % 26))}${i}`, ts, i % 3 === 0 ? 'Product Viewed' : 'Page Viewed'),
      );
    }

    it('appends events and lists them newest first by (timestamp, messageId), every field intact', async () => {
      const events = sample('p-1');
      await ctx.store.transaction((tx) => tx.appendEvents([...events, storedEvent('p-2', 'other', T)]));
      const page = await ctx.store.queryEvents({ profileId: 'p-1', limit: 100 });
      expect(page.nextCursor).toBeNull();
      expect(page.events).toEqual([...events].sort(newestFirst));
    });

    it('filters by name, since (inclusive) and until (exclusive)', async () => {
      const events = sample('p-1');
      await ctx.store.transaction((tx) => tx.appendEvents(events));
      const q = (extra: { name?: string; since?: number; until?: number }) =>
        ctx.store.queryEvents({ profileId: 'p-1', limit: 100, ...extra }).then((p) => p.events.map((e) => e.messageId));
      const expected = (keep: (e: StoredEvent) => boolean) => events.filter(keep).sort(newestFirst).map((e) => e.messageId);
      expect(await q({ name: 'Product Viewed' })).toEqual(expected((e) => e.name === 'Product Viewed'));
      expect(await q({ since: T })).toEqual(expected((e) => e.timestamp >= T));
      expect(await q({ until: T })).toEqual(expected((e) => e.timestamp < T));
      expect(await q({ since: T - 40 * DAY, until: T + MINUTE, name: 'Page Viewed' })).toEqual(
        expected((e) => e.timestamp >= T - 40 * DAY && e.timestamp < T + MINUTE && e.name === 'Page Viewed'),
      );
      expect(await q({ name: 'Never Happened' })).toEqual([]);
    });

    it('pages through every event with the cursor, without gaps or duplicates', async () => {
      const many: StoredEvent[] = [];
      for (let i = 0; i < 57; i++) {
        many.push(storedEvent('p-1', `id-${String(i % 13).padStart(2, '0')}-${i}`, T - Math.floor(i / 4) * 13 * DAY, i % 2 ? 'A' : 'B'));
      }
      await ctx.store.transaction((tx) => tx.appendEvents(many));
      for (const [limit, name] of [[1, undefined], [4, undefined], [7, 'A'], [57, undefined], [100, 'B']] as const) {
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await ctx.store.queryEvents({ profileId: 'p-1', limit, name, cursor });
          expect(page.events.length).toBeLessThanOrEqual(limit);
          seen.push(...page.events.map((e) => e.messageId));
          cursor = page.nextCursor ?? undefined;
          pages++;
        } while (cursor !== undefined && pages < 100);
        const expected = many.filter((e) => name === undefined || e.name === name).sort(newestFirst);
        expect(seen).toEqual(expected.map((e) => e.messageId));
        expect(pages).toBe(Math.max(1, Math.ceil(expected.length / limit)));
      }
    });

    it('starts from the newest when the cursor cannot be read', async () => {
      await ctx.store.transaction((tx) => tx.appendEvents(sample('p-1')));
      const first = await ctx.store.queryEvents({ profileId: 'p-1', limit: 3 });
      const garbled = await ctx.store.queryEvents({ profileId: 'p-1', limit: 3, cursor: 'not-a-cursor' });
      expect(garbled.events).toEqual(first.events);
    });

    it('keeps events of any time, 1970 to 9999, in one append', async () => {
      const stamps = [0, Date.UTC(1999, 11, 31, 23, 59, 59, 999), Date.UTC(2038, 0, 19), Date.UTC(9999, 11, 31, 23, 59, 59, 999)];
      const events = stamps.map((ts, i) => storedEvent('p-t', `t-${i}`, ts));
      await ctx.store.transaction((tx) => tx.appendEvents(events));
      const page = await ctx.store.queryEvents({ profileId: 'p-t', limit: 10 });
      expect(page.events.map((e) => e.timestamp)).toEqual([...stamps].reverse());
      const y2k = await ctx.store.queryEvents({ profileId: 'p-t', limit: 10, since: Date.UTC(1999, 0), until: Date.UTC(2000, 0) });
      expect(y2k.events.map((e) => e.messageId)).toEqual(['t-1']);
    });

    it('appends thousands of events in one call', async () => {
      const events = Array.from({ length: 2500 }, (_, i) => storedEvent('p-bulk', `bulk-${String(i).padStart(5, '0')}`, T + i * 7 * MINUTE));
      await ctx.store.transaction((tx) => tx.appendEvents(events));
      let total = 0;
      let cursor: string | undefined;
      do {
        const page = await ctx.store.queryEvents({ profileId: 'p-bulk', limit: 1000, cursor });
        total += page.events.length;
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(total).toBe(2500);
    });

    it('moves every event of one profile to another', async () => {
      await ctx.store.transaction(async (tx) => {
        await tx.appendEvents([...sample('from'), storedEvent('to', 'to-1', T), storedEvent('bystander', 'b-1', T)]);
        await tx.moveEvents('from', 'to');
      });
      expect((await ctx.store.queryEvents({ profileId: 'from', limit: 100 })).events).toEqual([]);
      const moved = await ctx.store.queryEvents({ profileId: 'to', limit: 100 });
      expect(moved.events).toHaveLength(times.length + 1);
      expect(moved.events.every((e) => e.profileId === 'to')).toBe(true);
      expect((await ctx.store.queryEvents({ profileId: 'bystander', limit: 100 })).events).toHaveLength(1);
    });
  });

  describe('accounts', () => {
    it('round-trips accounts, and an upsert changes traits and updatedAt but not createdAt', async () => {
      const acme = account('acme', T, { name: 'Acme', plan: 'pro', seats: 12, tags: ['b2b'], address: { city: 'Oslo' } });
      await ctx.store.transaction((tx) => tx.putAccounts([acme, account('globex', T)]));
      expect(await ctx.store.getAccount('acme')).toEqual(acme);
      expect(await ctx.store.transaction((tx) => tx.getAccounts(['acme', 'initech']))).toEqual(new Map([['acme', acme]]));
      expect(await ctx.store.getAccount('initech')).toBeNull();
      await ctx.store.transaction((tx) => tx.putAccounts([{ id: 'acme', createdAt: T + DAY, updatedAt: T + DAY, traits: { plan: 'enterprise' } }]));
      expect(await ctx.store.getAccount('acme')).toEqual({ id: 'acme', createdAt: T, updatedAt: T + DAY, traits: { plan: 'enterprise' } });
    });
  });

  describe('API keys', () => {
    it('puts, lists in creation order and finds keys by hash', async () => {
      const b = apiKey('key-b', T + 1, 'secret');
      const a = apiKey('key-a', T);
      const c = apiKey('key-c', T + 1);
      for (const k of [b, a, c]) await ctx.store.keys.put(k);
      expect(await ctx.store.keys.list()).toEqual([a, b, c]);
      expect(await ctx.store.keys.findByHash(b.hash)).toEqual(b);
      expect(await ctx.store.keys.findByHash('0'.repeat(64))).toBeNull();
    });

    it('rejects a second key with the same hash', async () => {
      const a = apiKey('key-a', T);
      await ctx.store.keys.put(a);
      await expect(ctx.store.keys.put({ ...a, id: 'key-z' })).rejects.toThrow();
      expect(await ctx.store.keys.list()).toEqual([a]);
    });

    it('revokes a key once: true the first time, false after and for unknown ids', async () => {
      const a = apiKey('key-a', T);
      await ctx.store.keys.put(a);
      expect(await ctx.store.keys.revoke('key-a', T + DAY)).toBe(true);
      expect(await ctx.store.keys.revoke('key-a', T + 2 * DAY)).toBe(false);
      expect(await ctx.store.keys.revoke('key-unknown', T)).toBe(false);
      expect(await ctx.store.keys.findByHash(a.hash)).toEqual({ ...a, revokedAt: T + DAY });
    });

    it('keeps a key scope, and an earlier end (revocation) replaces a later one (rotation overlap)', async () => {
      const a = { ...apiKey('key-s', T), scope: { role: 'analyst' as const, rateLimit: 10 } };
      const w = { ...apiKey('key-w', T + 1), kind: 'write' as const, scope: { origins: ['https://shop.example.com'], source: 'web' } };
      await ctx.store.keys.put(a);
      await ctx.store.keys.put(w);
      expect(await ctx.store.keys.findByHash(a.hash)).toEqual(a);
      expect(await ctx.store.keys.findByHash(w.hash)).toEqual(w);
      expect(await ctx.store.keys.revoke('key-s', T + DAY)).toBe(true);
      expect(await ctx.store.keys.revoke('key-s', T + 1)).toBe(true);
      expect((await ctx.store.keys.findByHash(a.hash))?.revokedAt).toBe(T + 1);
    });
  });

  describe('audit log', () => {
    const entry = (n: number, kind: string, resourceId: string | null, keyId: string) => ({
      id: `${String(T + n * MINUTE).padStart(15, '0')}-${n.toString(16).padStart(4, '0')}`,
      at: T + n * MINUTE,
      kind,
      resourceId,
      keyId,
      body: { n, kind, resourceId, nested: { before: { name: `v${n}` }, after: null } },
    });

    it('appends entries and reads them back newest first, filtered by kind, resource, key and time', async () => {
      const all = [entry(1, 'audience', 'vip', 'k-1'), entry(2, 'api-key', 'k-9', 'k-1'), entry(3, 'audience', 'vip', 'k-2'), entry(4, 'request', null, 'k-2'), entry(5, 'audience', 'churn', 'k-1')];
      await ctx.store.audit.append(all.slice(0, 2));
      await ctx.store.audit.append(all.slice(2));
      await ctx.store.audit.append([]);
      const ids = async (q: Partial<Parameters<Store['audit']['list']>[0]>) => (await ctx.store.audit.list({ limit: 100, ...q })).map((r) => r.body as { n: number }).map((b) => b.n);
      expect(await ctx.store.audit.list({ limit: 100 })).toEqual([...all].reverse());
      expect(await ids({ kind: 'audience' })).toEqual([5, 3, 1]);
      expect(await ids({ resourceId: 'vip' })).toEqual([3, 1]);
      expect(await ids({ keyId: 'k-2' })).toEqual([4, 3]);
      expect(await ids({ since: T + 3 * MINUTE })).toEqual([5, 4, 3]);
      expect(await ids({ kind: 'audience', keyId: 'k-1', since: T + 2 * MINUTE })).toEqual([5]);
      expect(await ids({ kind: 'nothing' })).toEqual([]);
    });

    it('pages through every entry with the last id as cursor, without gaps or duplicates', async () => {
      const all = Array.from({ length: 25 }, (_, i) => entry(i, i % 2 ? 'audience' : 'experience', `r-${i % 3}`, 'k'));
      await ctx.store.audit.append(all);
      const seen: number[] = [];
      let before: string | undefined;
      for (let pages = 0; pages < 10; pages++) {
        const page = await ctx.store.audit.list({ limit: 7, ...(before ? { before } : {}) });
        seen.push(...page.map((r) => (r.body as { n: number }).n));
        if (page.length < 7) break;
        before = page[page.length - 1]?.id;
      }
      expect(seen).toEqual(all.map((_, i) => 24 - i));
      const audiences = await ctx.store.audit.list({ kind: 'audience', limit: 5, before: all[20]?.id });
      expect(audiences.map((r) => (r.body as { n: number }).n)).toEqual([19, 17, 15, 13, 11]);
    });

    it('refuses a second entry with the same id: entries are never replaced', async () => {
      const e = entry(1, 'audience', 'vip', 'k');
      await ctx.store.audit.append([e]);
      await expect(ctx.store.audit.append([{ ...e, body: { forged: true } }])).rejects.toThrow();
      expect((await ctx.store.audit.list({ limit: 10 })).map((r) => r.body)).toEqual([e.body]);
    });
  });
}
