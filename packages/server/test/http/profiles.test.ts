import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, type Harness, STORE_KINDS, startHarness, uid } from './harness.ts';

interface ProfileView {
  id: string;
  traits: Record<string, unknown>;
  computed: { eventCounts: Record<string, number>; orderCount: number; revenue: number };
  identities: Array<{ type: string; value: string }>;
}
interface EventView {
  messageId: string;
  profileId: string;
  name: string;
  timestamp: string;
  message: Record<string, unknown>;
}
interface EventPage {
  events: EventView[];
  nextCursor: string | null;
}

describe.each(STORE_KINDS)('profile API on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind, { externalIds: ['crm_id'] });
  });
  afterAll(() => h.close());

  const ok = async (res: Promise<Response> | Response) => {
    const r = await res;
    expect(r.status).toBe(200);
    return r;
  };

  it('finds a profile by every identifier', async () => {
    const userId = uid('u');
    const anonymousId = uid('a');
    const crm = uid('CRM');
    await ok(
      h.track('/v1/identify', {
        userId,
        anonymousId,
        traits: { email: `Ada.${userId}@Example.com`, phone: '+44 20 7946 0958', name: 'Ada' },
        context: { externalIds: [{ id: crm, type: 'crm_id', collection: 'users', encoding: 'none' }] },
      }),
    );
    const byUser = await h.adminJson<ProfileView>(`/v1/profiles?userId=${encodeURIComponent(userId)}`);
    expect(byUser.status).toBe(200);
    expect(byUser.body.traits.name).toBe('Ada');
    const id = byUser.body.id;
    const queries = [
      `anonymousId=${encodeURIComponent(anonymousId)}`,
      // Lookups normalise like ingestion does: case and spaces do not matter.
      `email=${encodeURIComponent(`ada.${userId}@example.COM`)}`,
      `phone=${encodeURIComponent('+442079460958')}`,
      `crm_id=${encodeURIComponent(crm)}`,
    ];
    for (const q of queries) {
      const res = await h.adminJson<ProfileView>(`/v1/profiles?${q}`);
      expect({ q, status: res.status, id: res.body.id }).toEqual({ q, status: 200, id });
    }
    expect(byUser.body.identities.map((i) => i.type).sort()).toEqual(['anonymousId', 'crm_id', 'email', 'phone', 'userId']);
  });

  it('answers 404 for an unknown identifier and 400 without exactly one identifier', async () => {
    await expectError(await h.admin(`/v1/profiles?userId=${uid('nobody')}`), 404, 'NOT_FOUND');
    await expectError(await h.admin('/v1/profiles?email=not-an-email'), 404, 'NOT_FOUND');
    const none = await expectError(await h.admin('/v1/profiles'), 400, 'VALIDATION');
    expect(none.error.message).toContain('crm_id');
    await expectError(await h.admin('/v1/profiles?nickname=ada'), 400, 'VALIDATION');
    await expectError(await h.admin('/v1/profiles?userId=a&email=b@c.d'), 400, 'VALIDATION');
    await expectError(await h.admin('/v1/profiles?userId=a&userId=b'), 400, 'VALIDATION');
  });

  it('reads a profile by its id, and a merged-away id resolves to the survivor', async () => {
    const anonymousId = uid('anon-merge');
    const userId = uid('user-merge');
    await ok(h.track('/v1/track', { anonymousId, event: 'Product Viewed', properties: { product_id: 'p1' } }));
    await ok(h.track('/v1/track', { userId, event: 'Signed In' }));
    const anonProfile = (await h.adminJson<ProfileView>(`/v1/profiles?anonymousId=${anonymousId}`)).body;
    const userProfile = (await h.adminJson<ProfileView>(`/v1/profiles?userId=${userId}`)).body;
    expect(anonProfile.id).not.toBe(userProfile.id);

    const byId = await h.adminJson<ProfileView>(`/v1/profiles/${anonProfile.id}`);
    expect(byId.status).toBe(200);
    expect(byId.body.id).toBe(anonProfile.id);

    await ok(h.track('/v1/identify', { userId, anonymousId }));
    const survivor = (await h.adminJson<ProfileView>(`/v1/profiles?userId=${userId}`)).body;
    expect(survivor.computed.eventCounts).toMatchObject({ 'Product Viewed': 1, 'Signed In': 1 });
    for (const id of [anonProfile.id, userProfile.id]) {
      const res = await h.adminJson<ProfileView>(`/v1/profiles/${id}`);
      expect({ status: res.status, id: res.body.id }).toEqual({ status: 200, id: survivor.id });
    }
    // Events of a merged-away id are the survivor's.
    const events = await h.adminJson<EventPage>(`/v1/profiles/${anonProfile.id === survivor.id ? userProfile.id : anonProfile.id}/events`);
    expect(events.status).toBe(200);
    expect(events.body.events.map((e) => e.name).sort()).toEqual(['Product Viewed', 'Signed In', 'identify']);
  });

  it('answers 404 for an unknown profile id', async () => {
    await expectError(await h.admin('/v1/profiles/01NOPE'), 404, 'NOT_FOUND');
    await expectError(await h.admin('/v1/profiles/01NOPE/events'), 404, 'NOT_FOUND');
  });

  it('pages through events newest first, filtered by name and time', async () => {
    const anonymousId = uid('pager');
    const base = Date.parse('2026-03-01T10:00:00.000Z');
    const batch = Array.from({ length: 7 }, (_, i) => ({
      type: 'track',
      anonymousId,
      event: i % 2 === 0 ? 'Even' : 'Odd',
      messageId: `${anonymousId}-${i}`,
      timestamp: new Date(base + i * 60_000).toISOString(),
    }));
    await ok(h.track('/v1/batch', { batch }));
    const { id } = (await h.adminJson<ProfileView>(`/v1/profiles?anonymousId=${anonymousId}`)).body;

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { status: number; body: EventPage } = await h.adminJson<EventPage>(
        `/v1/profiles/${id}/events?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.events.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.events.map((e) => e.messageId));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(batch.map((b) => b.messageId).reverse());

    const first = (await h.adminJson<EventPage>(`/v1/profiles/${id}/events?limit=1`)).body.events[0] as EventView;
    expect(first).toMatchObject({ messageId: `${anonymousId}-6`, profileId: id, name: 'Even', timestamp: new Date(base + 6 * 60_000).toISOString() });
    expect(first.message).toMatchObject({ type: 'track', event: 'Even', anonymousId });

    const odd = await h.adminJson<EventPage>(`/v1/profiles/${id}/events?name=Odd`);
    expect(odd.body.events.map((e) => e.messageId)).toEqual([5, 3, 1].map((i) => `${anonymousId}-${i}`));

    const since = new Date(base + 2 * 60_000).toISOString();
    const until = base + 5 * 60_000;
    const window = await h.adminJson<EventPage>(`/v1/profiles/${id}/events?since=${since}&until=${until}`);
    expect(window.body.events.map((e) => e.messageId)).toEqual([4, 3, 2].map((i) => `${anonymousId}-${i}`));
  });

  it('names invalid event query parameters', async () => {
    const anonymousId = uid('badq');
    await ok(h.track('/v1/track', { anonymousId, event: 'X' }));
    const { id } = (await h.adminJson<ProfileView>(`/v1/profiles?anonymousId=${anonymousId}`)).body;
    const body = await expectError(await h.admin(`/v1/profiles/${id}/events?limit=0&since=yesterday&cursor=nonsense`), 400, 'VALIDATION');
    expect(body.error.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['limit', 'since', 'cursor']));
    await expectError(await h.admin(`/v1/profiles/${id}/events?limit=5000`), 400, 'VALIDATION');
    await expectError(await h.admin(`/v1/profiles/${id}/events?limit=abc`), 400, 'VALIDATION');
  });
});
