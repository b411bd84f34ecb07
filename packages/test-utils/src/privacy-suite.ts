import { accessCsv, accessEventPages, EXPOSURES_METRIC, type FieldCipher, PROFILE_ERASED_TOPIC } from '@attune/core';
import { describe, expect, it } from 'vitest';
import { engineOn } from './fixtures.ts';
import type { StoreContext } from './store-port-suite.ts';

const consent = (prefs: Record<string, boolean>) => ({ consent: { categoryPreferences: prefs } });
const NONE = { Analytics: false, Personalization: false, Marketing: false };
const ALL = { Analytics: true, Personalization: true, Marketing: true };
/** A test hasher (the server passes HMAC-SHA256): reversible-looking output is enough to tell hashed from clear. */
const hash = (v: string) => `h:${[...v].reverse().join('')}`;

/** A test cipher (the server's is AES-256-GCM): a fresh "IV" per call, as a real one has, so equal values never encrypt alike. */
let iv = 0;
const cipher: FieldCipher = {
  encrypt: (p) => `enc:v1:t:${iv++}:${Buffer.from(p).toString('base64url')}`,
  decrypt: (c) => Buffer.from(c.split(':')[4] ?? '', 'base64url').toString(),
};
const PROTECTED = { 'traits.email': { policy: 'encrypt' as const }, 'traits.phone': { policy: 'hash' as const } };

/** Consent at ingestion and decision time, erasure completeness, suppression and receipts. */
export function describePrivacy(ctx: StoreContext): void {
  describe('consent', () => {
    it('drops calls of ungranted purposes, hashes or drops fields by policy, and never stitches without consent', async () => {
      const engine = engineOn(ctx.store, {
        privacy: {
          hash,
          consent: {
            events: {
              '*': { purpose: 'analytics' },
              identify: { purpose: 'personalization' },
              'Order Completed': { purpose: 'necessary', fields: { 'properties.email': { purpose: 'marketing', otherwise: 'hash' }, 'properties.coupon': { purpose: 'marketing' } } },
            },
          },
        },
      });
      // Nothing beyond necessary: the page view and identify are dropped, the order kept, reduced.
      const page = await engine.ingestCall({ anonymousId: 'c-anon', name: 'Home', context: consent(NONE) }, 'page');
      expect(page).toMatchObject({ accepted: 0, dropped: 1, duplicates: 0 });
      const ident = await engine.ingestCall({ anonymousId: 'c-anon', userId: 'c-user', traits: { email: 'c@example.com' }, context: consent(NONE) }, 'identify');
      expect(ident.dropped).toBe(1);
      const order = await engine.ingestCall(
        { anonymousId: 'c-anon', userId: 'c-user', event: 'Order Completed', properties: { order_id: 'o-c1', total: 10, email: 'c@example.com', coupon: 'X' }, context: consent(NONE) },
        'track',
      );
      expect(order.accepted).toBe(1);
      const id = order.profileIds[0] as string;
      // One identifier only: the anonymous id; the user id was not stitched to it.
      expect((await ctx.store.listIdentities(id)).map((i) => i.type)).toEqual(['anonymousId']);
      expect(await engine.findProfileId('userId', 'c-user')).toBeNull();
      const stored = (await engine.listEvents(id, {}))?.events ?? [];
      expect(stored.map((e) => e.name)).toEqual(['Order Completed']);
      const props = stored[0]?.message as unknown as { properties: Record<string, unknown> };
      expect(props.properties).toEqual({ order_id: 'o-c1', total: 10, email: hash('c@example.com') });

      // Consent granted later: the same kinds of calls are kept whole and identifiers stitched.
      await engine.ingestCall({ anonymousId: 'c-anon', userId: 'c-user', traits: { email: 'c@example.com' }, context: consent(ALL) }, 'identify');
      expect(await engine.findProfileId('userId', 'c-user')).toBe(id);
      const view = await engine.privacy.getConsent(id);
      expect(view?.purposes).toEqual({ necessary: true, analytics: true, personalization: true, marketing: true });
      expect(view?.history.map((h) => h.source.split(':')[0])).toEqual(['event', 'event']);
      expect(view?.history[0]?.purposes).toEqual({ analytics: false, personalization: false, marketing: false });
      // A call without consent context follows what the profile holds.
      expect((await engine.ingestCall({ anonymousId: 'c-anon', name: 'Again' }, 'page')).accepted).toBe(1);
    });

    it('keeps the history of grants and revocations from the API, and revoking personalization switches decisions to default', async () => {
      const engine = engineOn(ctx.store);
      await engine.decisions.create('experience', {
        id: 'hero-vip',
        name: 'Hero',
        targeting: { condition: { have: { trait: 'traits.tier', op: 'eq', value: 'gold' } } },
        variants: [{ key: 'gold', slots: { hero: { content: { title: 'Gold' } } } }],
      });
      await engine.ingestCall({ userId: 'd-user', traits: { tier: 'gold' } }, 'identify');
      const id = (await engine.findProfileId('userId', 'd-user')) as string;
      const ask = { userId: 'd-user', slots: ['hero'], explain: true, recordExposure: false };
      const before = await engine.decide(ask);
      expect(before.decisions.hero).toMatchObject({ reason: 'targeted', content: { type: 'content', content: { title: 'Gold' } } });
      expect(before.profileId).toBe(id);

      await engine.privacy.setConsent(id, { purposes: { personalization: false }, source: 'cmp:onetrust' });
      const after = await engine.decide(ask);
      expect(after.decisions.hero).toMatchObject({ content: null, reason: 'no_consent', trace: [{ step: 'consent', purpose: 'personalization', granted: false, profileRead: false }] });
      // Consent sent on the request itself is honoured without reading the profile.
      const sent = await engine.decide({ ...ask, context: consent({ Personalization: false }) });
      expect(sent).toMatchObject({ profileId: null, decisions: { hero: { reason: 'no_consent' } } });

      await engine.privacy.setConsent(id, { purposes: { personalization: true }, source: 'api' });
      expect((await engine.decide(ask)).decisions.hero?.reason).toBe('targeted');
      const view = await engine.privacy.getConsent(id);
      expect(view?.history.map((h) => [h.source, h.purposes.personalization])).toEqual([
        ['cmp:onetrust', false],
        ['api', true],
      ]);
      await expect(engine.privacy.setConsent(id, { purposes: { advertising_x: true } })).rejects.toThrow(/unknown purpose/);
    });
  });

  describe('erasure completeness', () => {
    it('withdraws statistics contributions, refuses a replay and suppresses the erased identifiers', async () => {
      const engine = engineOn(ctx.store, { privacy: { suppressForMs: 60_000 } });
      const exposure = (who: string, variant: string) => ({ anonymousId: who, event: 'Experiment Viewed', properties: { experiment_id: 'px', variation_id: variant } });
      await engine.ingestCall({ ...exposure('e-keep', 'a') }, 'track');
      const sent = { ...exposure('e-gone', 'a'), messageId: 'e-gone-1' };
      await engine.ingestCall(sent, 'track');
      await engine.ingestCall({ anonymousId: 'e-gone', userId: 'e-gone-user', traits: { email: 'gone@example.com' } }, 'identify');
      const rows = async () => (await ctx.store.experimentStats('px')).find((r) => r.variant === 'a' && r.metric === EXPOSURES_METRIC)?.count;
      expect(await rows()).toBe(2);
      const id = (await engine.findProfileId('anonymousId', 'e-gone')) as string;
      const erased = await engine.eraseProfile(id);
      expect(erased?.statistics).toBe(1);
      expect(await rows()).toBe(1);
      // The same messageId: a duplicate. A new call naming an erased identifier: refused.
      expect((await engine.ingestCall(sent, 'track')).duplicates).toBe(1);
      expect((await engine.ingestCall({ userId: 'e-gone-user', event: 'Back Again' }, 'track')).dropped).toBe(1);
      expect((await engine.ingestCall({ anonymousId: 'e-new', traits: { email: 'GONE@example.com' } }, 'identify')).dropped).toBe(1);
      expect(await engine.findProfileId('userId', 'e-gone-user')).toBeNull();
      expect(await engine.findProfileId('email', 'gone@example.com')).toBeNull();
      expect((await engine.ingestCall({ anonymousId: 'e-keep', event: 'Still Here' }, 'track')).accepted).toBe(1);
    });

    it('opens a request whose receipt lists the store and each destination until each confirms', async () => {
      const engine = engineOn(ctx.store);
      await engine.ingestCall({ userId: 'r-user', traits: { email: 'receipt@example.com' } }, 'identify');
      // A CMS exported its user record to a catalog stream: it becomes a tombstone.
      await ctx.store.catalog.apply('cms-users', [{ id: 'r-user', type: 'user', updatedAt: '2030-01-01T00:00:00.000Z', fields: [{ name: 'email', field: 'email', type: 'string', value: 'receipt@example.com' }] }], Date.now());
      await ctx.store.catalog.apply('cms-users', [{ id: 'r-other', type: 'user', updatedAt: '2030-01-01T00:00:00.000Z', fields: [] }], Date.now());
      const request = await engine.privacy.requestErasure({ type: 'email', value: 'receipt@example.com' }, [
        { id: 'crm', confirm: 'delivery' },
        { id: 'cms', confirm: 'callback' },
      ]);
      expect(request).toMatchObject({ type: 'erasure', status: 'pending', identifier: { type: 'email', value: 'r***@example.com' } });
      expect(request.targets.map((t) => [t.target, t.status])).toEqual([
        ['store', 'confirmed'],
        ['activation:crm', 'pending'],
        ['activation:cms', 'pending'],
      ]);
      expect(await engine.findProfileId('email', 'receipt@example.com')).toBeNull();
      expect(request.targets[0]?.details).toMatchObject({ catalogTombstones: 1 });
      expect(await ctx.store.catalog.get('cms-users', { type: 'user', id: 'r-user' })).toMatchObject({ deleted: true, fields: [] });
      expect(await ctx.store.catalog.get('cms-users', { type: 'user', id: 'r-other' })).toMatchObject({ deleted: false });
      const notice = (await ctx.store.outbox.read('receipt-test', 1000)).filter((e) => e.topic === PROFILE_ERASED_TOPIC).pop();
      expect(notice?.payload).toMatchObject({ requestId: request.id, identities: expect.arrayContaining([{ type: 'email', value: 'receipt@example.com' }]) });

      await engine.privacy.noticeDelivered(request.id, 'activation:crm');
      await engine.privacy.noticeDelivered(request.id, 'activation:cms');
      let r = await engine.privacy.getRequest(request.id);
      expect(r?.targets.map((t) => t.status)).toEqual(['confirmed', 'confirmed', 'delivered']);
      // Unconfirmed past the resend delay: the notice goes again, to that destination only.
      expect(await engine.privacy.resendUnconfirmed(0)).toBe(1);
      const resent = (await ctx.store.outbox.read('receipt-test', 1000)).filter((e) => e.topic === PROFILE_ERASED_TOPIC).pop();
      expect(resent?.payload).toMatchObject({ requestId: request.id, resendTo: 'cms' });
      await expect(engine.privacy.confirm(request.id, 'activation:nope')).rejects.toThrow(/no target/);
      r = await engine.privacy.confirm(request.id, 'activation:cms', { deleted: 3 });
      expect(r).toMatchObject({ status: 'completed' });
      expect(r?.completedAt).not.toBeNull();
      // The resend's delivery reported after the destination already confirmed it: still counted, still confirmed.
      r = await engine.privacy.noticeDelivered(request.id, 'activation:cms');
      expect(r?.targets.find((t) => t.target === 'activation:cms')).toMatchObject({ status: 'confirmed', attempts: 2, details: { deleted: 3 } });
      expect(r?.status).toBe('completed');
      expect(await engine.privacy.resendUnconfirmed(0)).toBe(0);
      expect(JSON.stringify(await ctx.store.docs.get('privacy-request', request.id))).not.toContain('receipt@example.com');

      const none = await engine.privacy.requestErasure({ type: 'email', value: 'nobody@example.com' }, []);
      expect(none).toMatchObject({ status: 'not_found', targets: [] });
    });
  });

  describe('protected identifiers', () => {
    it('link devices, answer lookups and erasures, and stay suppressed by their blind index, never in clear', async () => {
      const engine = engineOn(ctx.store, { privacy: { hash, cipher, fields: PROTECTED, suppressForMs: 60_000 } });
      await engine.ingestCall({ anonymousId: 'bi-phone', event: 'Product Viewed', properties: { product_id: 'p1' } }, 'track');
      const first = await engine.ingestCall({ anonymousId: 'bi-phone', traits: { email: 'Ada@Blind.example', phone: '+1 555 010 0000' } }, 'identify');
      await engine.ingestCall({ anonymousId: 'bi-laptop', event: 'Product Viewed', properties: { product_id: 'p2' } }, 'track');
      const second = await engine.ingestCall({ anonymousId: 'bi-laptop', traits: { email: ' ada@blind.EXAMPLE' } }, 'identify');
      // An account event carries the email in its properties; a record import knows only the email.
      await engine.ingestCall({ anonymousId: 'bi-tablet', event: 'Account Created', properties: { email: 'ADA@blind.example' } }, 'track');
      const imported = await engine.importRecords([{ email: 'ada@blind.example', traits: { tier: 'gold' } }]);
      expect(imported).toMatchObject({ accepted: 1, errors: [] });
      const id = first.profileIds[0] as string;
      expect(second.profileIds[0]).toBe(id);
      expect(await engine.findProfileId('email', 'ADA@blind.example')).toBe(id);
      expect(await engine.findProfileId('phone', '+15550100000')).toBe(id);
      expect(await engine.findProfileId('anonymousId', 'bi-tablet')).toBe(id);
      const view = await engine.getProfile(id);
      expect(view?.traits.tier).toBe('gold');
      expect(view?.computed.eventCounts).toMatchObject({ 'Product Viewed': 2 });
      const identities = view?.identities ?? [];
      expect(identities.filter((i) => i.type === 'email')).toEqual([{ type: 'email', value: expect.stringMatching(/^h:/), firstSeen: expect.any(String), blind: true }]);
      expect(identities.find((i) => i.type === 'phone')).toMatchObject({ value: expect.stringMatching(/^h:/), blind: true });
      expect(identities.filter((i) => i.type === 'anonymousId')).toHaveLength(4);
      expect(identities.find((i) => i.type === 'anonymousId')?.blind).toBeUndefined();
      // Nothing the identities or the stored events hold names the person in clear.
      const stored = JSON.stringify([identities, (await ctx.store.queryEvents({ profileId: id, limit: 100 })).events]).toLowerCase();
      for (const clear of ['ada@blind.example', '5550100000']) expect(stored).not.toContain(clear);

      const receipt = await engine.privacy.requestErasure({ type: 'email', value: 'Ada@Blind.example ' }, []);
      expect(receipt).toMatchObject({ status: 'completed', profileIds: expect.arrayContaining([id]) });
      expect(await engine.findProfileId('email', 'ada@blind.example')).toBeNull();
      // Suppressed: a new device naming the erased email (any spelling) or phone is refused.
      expect((await engine.ingestCall({ anonymousId: 'bi-new', traits: { email: 'ADA@blind.example' } }, 'identify')).dropped).toBe(1);
      expect((await engine.ingestCall({ anonymousId: 'bi-new', traits: { phone: '+1 (555) 010-0000' } }, 'identify')).dropped).toBe(1);
      expect((await engine.ingestCall({ anonymousId: 'bi-new', traits: { email: 'someone.else@blind.example' } }, 'identify')).accepted).toBe(1);
    });

    it('still reach identities stored in clear before the protection was turned on: lookups, erasure of every profile, suppression', async () => {
      const before = engineOn(ctx.store, { privacy: { hash, suppressForMs: 60_000 } });
      const old = (await before.ingestCall({ anonymousId: 'bl-old', traits: { email: 'legacy@blind.example' } }, 'identify')).profileIds[0] as string;
      await before.ingestCall({ anonymousId: 'bl-gone', traits: { email: 'gone@blind.example' } }, 'identify');
      await before.privacy.requestErasure({ type: 'email', value: 'gone@blind.example' }, []);

      const after = engineOn(ctx.store, { privacy: { hash, cipher, fields: PROTECTED, suppressForMs: 60_000 } });
      expect(await after.findProfileId('email', 'Legacy@blind.example')).toBe(old);
      // The stored identity keeps its plain form (nothing rewrites it) and is shown as it is.
      expect((await after.getProfile(old))?.identities.find((i) => i.type === 'email')).toMatchObject({ value: 'legacy@blind.example' });
      // Erased before the change, suppressed in the plain form: still refused.
      expect((await after.ingestCall({ anonymousId: 'bl-gone-2', traits: { email: 'GONE@blind.example' } }, 'identify')).dropped).toBe(1);
      // A new device with only the email: the blind key is new, a second profile (documented).
      const fresh = (await after.ingestCall({ anonymousId: 'bl-new', traits: { email: 'legacy@blind.example' } }, 'identify')).profileIds[0] as string;
      expect(fresh).not.toBe(old);
      expect(await after.findProfileId('email', 'legacy@blind.example')).toBe(fresh);
      const access = await after.privacy.requestAccess({ type: 'email', value: 'legacy@blind.example' });
      expect(access.profileIds).toEqual([fresh]);
      // An erasure by the email reaches both, in one receipt and one notice.
      const receipt = await after.privacy.requestErasure({ type: 'email', value: 'legacy@blind.example' }, [{ id: 'bl-crm', confirm: 'delivery' }]);
      expect(receipt.profileIds.sort()).toEqual([old, fresh].sort());
      expect(receipt.targets[0]?.details).toMatchObject({ identities: 4 });
      expect(await ctx.store.getProfile(old)).toBeNull();
      expect(await ctx.store.getProfile(fresh)).toBeNull();
      expect(await after.findProfileId('anonymousId', 'bl-old')).toBeNull();
      const request = await ctx.store.docs.get('privacy-request', receipt.id);
      expect((request?.body as { notice?: { profileIds: string[] } }).notice?.profileIds.sort()).toEqual([old, fresh].sort());
      expect((await after.ingestCall({ anonymousId: 'bl-back', traits: { email: 'legacy@blind.example' } }, 'identify')).dropped).toBe(1);
    });
  });

  describe('access requests', () => {
    it('exports profile, identities, events, audiences, consent and decisions served in the background, with progress, as JSON and CSV', async () => {
      const engine = engineOn(ctx.store);
      await engine.audiences.createGroup({ id: 'acc', name: 'Acc' });
      await engine.audiences.createAudience({ id: 'acc-gold', groupId: 'acc', name: 'Gold', condition: { have: { trait: 'traits.tier', op: 'eq', value: 'gold' } } });
      await engine.ingestCall({ userId: 'acc-user', traits: { tier: 'gold', email: 'acc@example.com' }, context: consent(ALL) }, 'identify');
      const batch = Array.from({ length: 2500 }, (_, i) => ({ type: 'track', userId: 'acc-user', event: 'Viewed', messageId: `acc-${i}`, properties: { i } }));
      await engine.ingestBatch({ batch });
      await engine.ingestCall({ userId: 'acc-user', event: 'Experiment Viewed', properties: { experiment_id: 'acc-x', variation_id: 'b' } }, 'track');
      const request = await engine.privacy.requestAccess({ type: 'email', value: 'acc@example.com' });
      expect(request).toMatchObject({ type: 'access', status: 'pending', progress: { phase: 'queued' } });
      let r = await engine.privacy.getRequest(request.id);
      for (let i = 0; i < 200 && r?.status === 'pending'; i++) {
        await new Promise((ok) => setTimeout(ok, 25));
        r = await engine.privacy.getRequest(request.id);
      }
      // 2,502 calls plus the audience entry stored as an event.
      expect(r).toMatchObject({ status: 'completed', progress: { phase: 'done', events: 2503, pages: 3 } });
      const done = await engine.privacy.accessSummary(request.id);
      expect(done?.summary.identities.map((i) => i.type).sort()).toEqual(['email', 'userId']);
      expect(done?.summary.audiences.map((a) => a.id)).toEqual(['acc-gold']);
      expect(done?.summary.consent?.purposes.marketing).toBe(true);
      expect(done?.summary.decisions.experiments['acc-x']?.variant).toBe('b');
      const events = [];
      for await (const page of accessEventPages(ctx.store, request.id, r?.progress?.pages ?? 0)) events.push(...page);
      expect(events).toHaveLength(2503);
      expect(events.filter((e) => e.decision).map((e) => e.name)).toEqual(['Experiment Viewed']);
      let csv = '';
      for await (const chunk of accessCsv(done!.summary, accessEventPages(ctx.store, request.id, 3))) csv += chunk;
      const lines = csv.trim().split('\n');
      expect(lines[0]).toBe('record,id,name,time,data');
      expect(lines.filter((l) => l.startsWith('event,'))).toHaveLength(2503);
      expect(lines.some((l) => l.startsWith('identity,acc@example.com,email,'))).toBe(true);
      expect(await engine.privacy.requestAccess({ type: 'email', value: 'nobody@example.com' })).toMatchObject({ status: 'not_found' });
      // Erasing the person erases the export too.
      await engine.privacy.requestErasure({ type: 'userId', value: 'acc-user' }, []);
      expect(await engine.privacy.accessSummary(request.id)).toBeNull();
      expect(await ctx.store.docs.get('access-export-page', `${request.id}:0`)).toBeNull();
      expect(JSON.stringify(await ctx.store.docs.get('privacy-request', request.id))).not.toContain('acc@example.com');
    });
  });

  describe('retention', () => {
    it('deletes exactly what its dry run listed: expired events, inactive anonymous profiles; nothing that expired or woke up since', async () => {
      const DAY = 24 * 3600_000;
      const T = Date.UTC(2026, 5, 1);
      let now = T - 400 * DAY;
      const engine = engineOn(ctx.store, {
        clock: { now: () => now, defer: (f) => setImmediate(f) },
        retention: { events: { 'Page Viewed': 30 }, anonymousProfilesInactiveDays: 365 },
      });
      const at = (ms: number) => new Date(ms).toISOString();
      // Long ago: an anonymous visitor (expires), one who comes back later, and a known customer.
      await engine.ingestCall({ anonymousId: 'rt-old', name: 'Home', timestamp: at(now) }, 'page');
      await engine.ingestCall({ anonymousId: 'rt-back', name: 'Home', timestamp: at(now) }, 'page');
      await engine.ingestCall({ userId: 'rt-known', name: 'Home', timestamp: at(now) }, 'page');
      now = T - 5 * DAY;
      await engine.ingestCall({ userId: 'rt-known', name: 'Recent', timestamp: at(now) }, 'page');
      await engine.ingestCall({ userId: 'rt-known', event: 'Order Completed', properties: { order_id: 'rt-o' }, timestamp: at(T - 100 * DAY) }, 'track');
      now = T;
      const ids = Object.fromEntries(await Promise.all(['rt-old', 'rt-back'].map(async (a) => [a, await engine.findProfileId('anonymousId', a)] as const)));
      const known = (await engine.findProfileId('userId', 'rt-known')) as string;
      const all = async () => {
        const out = new Set<string>();
        for (const id of [...Object.values(ids), known]) for (const e of (await ctx.store.queryEvents({ profileId: id as string, limit: 100 })).events) out.add(e.messageId);
        return out;
      };
      const before = await all();

      const plan = await engine.retention.plan();
      expect(plan.profiles.sort()).toEqual([ids['rt-old'], ids['rt-back']].sort());
      expect(plan.events.map((e) => e.profileId).sort()).toEqual([ids['rt-old'], ids['rt-back'], known].sort());
      expect(plan.events.every((e) => e.name === 'Page Viewed')).toBe(true);
      expect(await engine.retention.getPlan(plan.id)).toEqual(plan);

      // After the dry run: one listed visitor comes back, and an event expires that was not listed.
      await engine.ingestCall({ anonymousId: 'rt-back', event: 'Returned', timestamp: at(T) }, 'track');
      await engine.ingestCall({ userId: 'rt-known', name: 'Late', messageId: 'rt-late', timestamp: at(T - 60 * DAY) }, 'page');

      const result = await engine.retention.apply(plan.id);
      expect(result).toMatchObject({ deletedEvents: plan.events.length, erasedProfiles: 1, skippedProfiles: [ids['rt-back']] });
      const after = await all();
      const removed = [...before].filter((m) => !after.has(m)).sort();
      expect(removed).toEqual(plan.events.map((e) => e.messageId).sort());
      expect(after.has('rt-late')).toBe(true);
      expect(await ctx.store.getProfile(ids['rt-old'] as string)).toBeNull();
      expect(await engine.findProfileId('anonymousId', 'rt-back')).toBe(ids['rt-back']);
      // Expired, not forgotten on request: the visitor may come back and be tracked anew.
      expect((await engine.ingestCall({ anonymousId: 'rt-old', event: 'New Visit' }, 'track')).accepted).toBe(1);
      await expect(engine.retention.apply(plan.id)).rejects.toThrow(/was applied/);
    });
  });
}
