import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, until } from '../activations/receiver.ts';
import { type Harness, STORE_KINDS, startHarness, uid } from '../http/harness.ts';

const prefs = (analytics: boolean, personalization: boolean, marketing: boolean) => ({
  consent: { categoryPreferences: { Analytics: analytics, Personalization: personalization, Marketing: marketing } },
});

describe.each(STORE_KINDS)('privacy over HTTP on %s', (kind) => {
  let h: Harness;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let adapter: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    h = await startHarness(kind, { activationPollMs: 50, webhookBaseDelayMs: 50, privacy: { erasureResendMs: 300 }, retention: { events: { 'Old Thing': 30 }, everyMs: 3600_000 } });
    receiver = await startReceiver();
    adapter = await startReceiver();
  });
  afterAll(async () => {
    await h.close();
    await receiver.close();
    await adapter.close();
  });

  const send = (method: string, path: string, body?: unknown) =>
    h.admin(path, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const json = async <T = Record<string, unknown>>(res: Response | Promise<Response>) => (await (await res).json()) as T;

  it('never sends a visitor without marketing consent to a marketing activation', async () => {
    const group = uid('g').toLowerCase();
    const audience = uid('vip').toLowerCase();
    expect((await send('POST', '/v1/segment-groups', { id: group, name: 'G' })).status).toBe(201);
    expect((await send('POST', '/v1/audiences', { id: audience, groupId: group, name: 'VIP', condition: { have: { trait: 'traits.vip', op: 'eq', value: true } } })).status).toBe(201);
    const marketing = await json<{ purpose: string }>(send('POST', '/v1/activations', { id: uid('ads').toLowerCase(), name: 'Ads', url: receiver.url, audienceIds: [audience] }));
    expect(marketing.purpose).toBe('marketing');
    const analytics = await json<{ id: string }>(send('POST', '/v1/activations', { id: uid('bi').toLowerCase(), name: 'BI', url: adapter.url, audienceIds: [audience], purpose: 'analytics' }));

    const [yes, no, last] = [uid('yes'), uid('no'), uid('last')];
    await h.track('/v1/identify', { userId: yes, traits: { vip: true }, context: prefs(true, true, true) });
    await h.track('/v1/identify', { userId: no, traits: { vip: true }, context: prefs(true, true, false) });
    await h.track('/v1/identify', { userId: last, traits: { vip: true }, context: prefs(true, true, true) });
    const inAudience = (r: typeof receiver) => r.unique().filter((d) => d.json.data.audienceId === audience);
    // Delivery is in outbox order: once the last visitor arrived, the one before it was decided on.
    await until(() => inAudience(receiver), (d) => d.length === 2);
    const bi = await until(() => inAudience(adapter), (d) => d.length === 3);
    const profileOf = async (userId: string) => (await h.adminJson<{ id: string }>(`/v1/profiles?userId=${userId}`)).body.id;
    const sent = inAudience(receiver).map((d) => d.json.data.profileId);
    expect(sent).toEqual([await profileOf(yes), await profileOf(last)]);
    expect(bi.map((d) => d.json.data.profileId)).toContain(await profileOf(no));
    expect(analytics.id).toBeTruthy();
    expect((await send('DELETE', `/v1/activations/${analytics.id}`)).status).toBe(204);
  });

  it('accepts only a configured consent purpose on an activation, on create and on update', async () => {
    const id = uid('purpose').toLowerCase();
    const bad = await send('POST', '/v1/activations', { id, name: 'P', url: receiver.url, purpose: 'advertising' });
    expect(bad.status).toBe(400);
    const error = ((await bad.json()) as { error: { message: string; issues: Array<{ path: string }> } }).error;
    expect(error.message).toMatch(/^purpose: unknown purpose "advertising" \(configured purposes: necessary, analytics, personalization, marketing\)/);
    expect(error.issues[0]?.path).toBe('purpose');
    expect((await h.adminJson(`/v1/activations/${id}`)).status).toBe(404);
    const made = await json<{ version: number; purpose: string }>(send('POST', '/v1/activations', { id, name: 'P', url: receiver.url, purpose: 'analytics', enabled: false }));
    expect(made.purpose).toBe('analytics');
    const update = await send('PUT', `/v1/activations/${id}`, { name: 'P', url: receiver.url, purpose: 'Marketing', enabled: false, version: made.version });
    expect(update.status).toBe(400);
    expect(((await update.json()) as { error: { message: string } }).error.message).toMatch(/^purpose: /);
    const ok = await send('PUT', `/v1/activations/${id}`, { name: 'P', url: receiver.url, purpose: 'personalization', enabled: false, version: made.version });
    expect(ok.status).toBe(200);
    expect((await send('DELETE', `/v1/activations/${id}`)).status).toBe(204);
  });

  it('records consent from events and the API, with its history, and switches decisions to default on the next request', async () => {
    const slot = uid('hero');
    const exp = uid('exp').toLowerCase();
    expect((await send('POST', '/v1/experiences', { id: exp, name: 'Gold hero', targeting: { condition: { have: { trait: 'traits.tier', op: 'eq', value: 'gold' } } }, variants: [{ key: 'gold', slots: { [slot]: { content: { title: 'Gold' } } } }] })).status).toBe(201);
    const userId = uid('u');
    await h.track('/v1/identify', { userId, traits: { tier: 'gold' }, context: prefs(true, true, false) });
    const id = (await h.adminJson<{ id: string }>(`/v1/profiles?userId=${userId}`)).body.id;
    const decide = () => json<{ decisions: Record<string, { reason: string; content: unknown; trace?: unknown[] }> }>(send('POST', '/v1/decide', { userId, slots: [slot], explain: true, recordExposure: false }));
    expect((await decide()).decisions[slot]).toMatchObject({ reason: 'targeted', content: { content: { title: 'Gold' } } });

    const revoked = await send('PUT', `/v1/profiles/${id}/consent`, { purposes: { personalization: false }, source: 'cmp:test' });
    expect(revoked.status).toBe(200);
    expect((await decide()).decisions[slot]).toMatchObject({ reason: 'no_consent', content: null, trace: [{ step: 'consent', granted: false, profileRead: false }] });
    const consent = await h.adminJson<{ purposes: Record<string, boolean>; history: Array<{ source: string; at: string }> }>(`/v1/profiles/${id}/consent`);
    expect(consent.body.purposes).toEqual({ necessary: true, analytics: true, personalization: false, marketing: false });
    expect(consent.body.history.map((x) => x.source)).toEqual([expect.stringMatching(/^event:/), 'cmp:test']);
    expect(Number.isFinite(Date.parse(consent.body.history[1]?.at ?? ''))).toBe(true);
    const bad = await send('PUT', `/v1/profiles/${id}/consent`, { purposes: { nonsense: true } });
    expect(bad.status).toBe(400);
    expect((await send('PUT', `/v1/profiles/${id}/consent`, { purposes: { personalization: true } })).status).toBe(200);
    expect((await decide()).decisions[slot]?.reason).toBe('targeted');
  });

  it('erases by identifier, reaches every destination, is confirmed on the receipt, and refuses a replay', async () => {
    const hook = await json<{ id: string }>(send('POST', '/v1/activations', { id: uid('crm').toLowerCase(), name: 'CRM', url: receiver.url, topics: ['audience.membership'] }));
    const cms = await json<{ id: string }>(send('POST', '/v1/activations', { id: uid('cms').toLowerCase(), name: 'CMS', url: adapter.url, topics: ['audience.membership'], erasureConfirmation: 'callback' }));
    const userId = uid('gone');
    const email = `${userId}@example.com`;
    const event = { userId, event: 'Viewed Thing', messageId: uid('m'), context: prefs(true, true, true) };
    expect(await json(h.track('/v1/track', event))).toMatchObject({ accepted: 1 });
    await h.track('/v1/identify', { userId, traits: { email }, context: prefs(true, true, true) });
    const id = (await h.adminJson<{ id: string }>(`/v1/profiles?userId=${userId}`)).body.id;

    receiver.failNext(2);
    const created = await send('POST', '/v1/privacy/requests', { type: 'erasure', identifier: { type: 'email', value: email } });
    expect(created.status).toBe(201);
    const receipt = await json<{ id: string; status: string; targets: Array<{ target: string; status: string; details?: Record<string, number> }> }>(created);
    expect(receipt.status).toBe('pending');
    expect(receipt.targets.find((t) => t.target === 'store')).toMatchObject({ status: 'confirmed', details: { events: 2 } });
    expect(receipt.targets.map((t) => t.target)).toEqual(expect.arrayContaining([`activation:${hook.id}`, `activation:${cms.id}`]));
    expect((await h.adminJson(`/v1/profiles/${id}`)).status).toBe(404);

    // The webhook's 2xx confirms it (after two failures and retries); the adapter confirms by calling back.
    const status = (r: { targets: Array<{ target: string; status: string }> }, t: string) => r.targets.find((x) => x.target === t)?.status;
    await until(() => h.adminJson<typeof receipt>(`/v1/privacy/requests/${receipt.id}`), (r) => status(r.body, `activation:${hook.id}`) === 'confirmed');
    const notices = await until(() => adapter.unique().filter((d) => d.json.type === 'profile.erased' && d.json.data.requestId === receipt.id), (d) => d.length >= 1);
    expect(notices[0]?.json.data.identities).toEqual(expect.arrayContaining([{ type: 'email', value: email }, { type: 'userId', value: userId }]));
    let now = await h.adminJson<typeof receipt>(`/v1/privacy/requests/${receipt.id}`);
    expect(status(now.body, `activation:${cms.id}`)).toBe('delivered');
    expect(now.body.status).toBe('pending');
    // Not confirmed: the notice is sent again to the adapter only, until it confirms.
    await until(() => adapter.unique().filter((d) => d.json.data.requestId === receipt.id), (d) => d.length >= 2);
    expect(receiver.unique().filter((d) => d.json.data.requestId === receipt.id && d.id.startsWith(`${hook.id}:`))).toHaveLength(1);
    const confirmed = await send('POST', `/v1/privacy/requests/${receipt.id}/confirmations`, { target: `activation:${cms.id}`, details: { entries: 1 } });
    expect(confirmed.status).toBe(200);
    now = await h.adminJson<typeof receipt>(`/v1/privacy/requests/${receipt.id}`);
    expect(now.body.status).toBe('completed');
    expect(JSON.stringify(now.body)).not.toContain(email);
    expect((await send('POST', `/v1/privacy/requests/${receipt.id}/confirmations`, { target: 'activation:unknown' })).status).toBe(404);

    // A replay of the erased event is refused; so is a new call naming the erased user.
    expect(await json(h.track('/v1/track', event))).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(await json(h.track('/v1/track', { ...event, messageId: uid('m2') }))).toMatchObject({ accepted: 0, dropped: 1 });
    expect((await h.adminJson(`/v1/profiles?userId=${userId}`)).status).toBe(404);
    for (const a of [hook.id, cms.id]) expect((await send('DELETE', `/v1/activations/${a}`)).status).toBe(204);
  });

  it('lists expired events in a dry run and deletes exactly those when the plan is applied', async () => {
    const userId = uid('rt');
    const old = { userId, event: 'Old Thing', messageId: uid('old'), timestamp: new Date(Date.now() - 60 * 86400_000).toISOString(), context: prefs(true, true, true) };
    const fresh = { userId, event: 'Old Thing', messageId: uid('fresh'), context: prefs(true, true, true) };
    await h.track('/v1/track', old);
    await h.track('/v1/track', fresh);
    const id = (await h.adminJson<{ id: string }>(`/v1/profiles?userId=${userId}`)).body.id;
    const planned = await send('POST', '/v1/privacy/retention/plans');
    expect(planned.status).toBe(201);
    const plan = (await planned.json()) as { id: string; events: Array<{ messageId: string }> };
    expect(plan.events.map((e) => e.messageId)).toContain(old.messageId);
    expect(plan.events.map((e) => e.messageId)).not.toContain(fresh.messageId);
    expect((await h.adminJson(`/v1/privacy/retention/plans/${plan.id}`)).body).toEqual(plan);
    const applied = await json<{ deletedEvents: number }>(send('POST', `/v1/privacy/retention/plans/${plan.id}/apply`));
    expect(applied.deletedEvents).toBe(plan.events.length);
    const left = (await h.adminJson<{ events: Array<{ messageId: string }> }>(`/v1/profiles/${id}/events`)).body.events.map((e) => e.messageId);
    expect(left).toContain(fresh.messageId);
    expect(left).not.toContain(old.messageId);
    expect((await send('POST', `/v1/privacy/retention/plans/${plan.id}/apply`)).status).toBe(409);
  });

  it('exports a person\'s data in the background with progress, as JSON and CSV', async () => {
    const userId = uid('acc');
    await h.track('/v1/identify', { userId, traits: { email: `${userId}@example.com`, plan: 'pro' }, context: prefs(true, true, true) });
    await h.track('/v1/batch', { batch: Array.from({ length: 30 }, (_, i) => ({ type: 'track', userId, event: 'Viewed', properties: { i } })) });
    const created = await send('POST', '/v1/privacy/requests', { type: 'access', identifier: { type: 'userId', value: userId } });
    expect(created.status).toBe(202);
    const request = (await created.json()) as { id: string };
    const done = await until(() => h.adminJson<{ status: string; progress: { phase: string; events: number } }>(`/v1/privacy/requests/${request.id}`), (r) => r.body.status === 'completed');
    expect(done.body.progress).toMatchObject({ phase: 'done', events: 31 });
    const exported = await h.adminJson<{ profile: { traits: Record<string, unknown> }; identities: unknown[]; consent: { purposes: Record<string, boolean> }; events: unknown[] }>(`/v1/privacy/requests/${request.id}/export`);
    expect(exported.body.profile.traits.plan).toBe('pro');
    expect(exported.body.identities).toHaveLength(2);
    expect(exported.body.consent.purposes.personalization).toBe(true);
    expect(exported.body.events).toHaveLength(31);
    const csv = await (await h.admin(`/v1/privacy/requests/${request.id}/export?format=csv`)).text();
    expect(csv.split('\n')[0]).toBe('record,id,name,time,data');
    expect(csv.split('\n').filter((l) => l.startsWith('event,'))).toHaveLength(31);
  });
});
