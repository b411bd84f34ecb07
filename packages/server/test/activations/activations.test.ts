import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, type Harness, STORE_KINDS, startHarness, uid } from '../http/harness.ts';
import { startReceiver, until, verify } from './receiver.ts';

describe.each(STORE_KINDS)('webhook activations on %s', (kind) => {
  let h: Harness;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    h = await startHarness(kind, { activationPollMs: 50, webhookBaseDelayMs: 50 });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await h.close();
    await receiver.close();
  });

  const send = (method: string, path: string, body?: unknown) =>
    h.admin(path, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

  it('delivers audience entries and exits, signed, in order, retrying until the receiver answers', async () => {
    const group = uid('g').toLowerCase();
    const audience = uid('vip').toLowerCase();
    expect((await send('POST', '/v1/segment-groups', { id: group, name: 'G' })).status).toBe(201);
    expect((await send('POST', '/v1/audiences', { id: audience, groupId: group, name: 'VIP', condition: { have: { trait: 'traits.vip', op: 'eq', value: true } } })).status).toBe(201);
    const created = await send('POST', '/v1/activations', { id: uid('hook').toLowerCase(), name: 'CRM', url: receiver.url, audienceIds: [audience] });
    expect(created.status).toBe(201);
    const hook = (await created.json()) as { id: string; secret: string };
    expect(hook.secret).toMatch(/^whsec_/);
    const listed = await h.adminJson<{ activations: Array<{ secret: string }> }>('/v1/activations');
    expect(listed.body.activations.every((a) => a.secret.startsWith('whsec_…'))).toBe(true);

    receiver.failNext(2);
    const userId = uid('u');
    await h.track('/v1/identify', { userId, traits: { vip: true } });
    await h.track('/v1/identify', { userId, traits: { vip: false } });
    const got = await until(() => receiver.unique().filter((d) => d.json.data.audienceId === audience), (d) => d.length === 2);
    expect(got.map((d) => d.json.data.change)).toEqual(['entered', 'exited']);
    for (const d of got) {
      expect(verify(hook.secret, d)).toBe(true);
      expect(d.json.type).toBe('audience.membership');
    }
    expect(verify('whsec_' + Buffer.from('wrong').toString('base64'), got[0] as (typeof got)[number])).toBe(false);
    // Deliveries for another audience are filtered out.
    const delivered = receiver.received.length;
    await h.track('/v1/identify', { userId: uid('u'), traits: { other: true } });
    expect(receiver.received.length).toBe(delivered);
  });

  it('parks an entry after maxAttempts and replays it on request', async () => {
    const created = await send('POST', '/v1/activations', { id: uid('dl').toLowerCase(), name: 'Flaky', url: receiver.url, topics: ['audience.membership'], maxAttempts: 2 });
    const hook = (await created.json()) as { id: string };
    receiver.failNext(2);
    expect((await send('POST', `/v1/activations/${hook.id}/test`)).status).toBe(202);
    const letters = await until(
      async () => (await h.adminJson<{ deadLetters: Array<{ id: string; attempts: number; error: string }> }>(`/v1/activations/${hook.id}/dead-letters`)).body.deadLetters,
      (l) => l.length === 1,
    );
    expect(letters[0]).toMatchObject({ attempts: 2, error: 'HTTP 503' });
    const replay = await send('POST', `/v1/activations/${hook.id}/dead-letters/${letters[0]?.id}/replay`);
    expect(await replay.json()).toEqual({ outcome: 'delivered' });
    expect(receiver.unique().some((d) => d.json.type === 'test' && d.json.data.activationId === hook.id)).toBe(true);
    await expectError(await send('POST', `/v1/activations/${hook.id}/dead-letters/${letters[0]?.id}/replay`), 404, 'NOT_FOUND');
  });

  it('forgets a deleted activation: recreated under the same id, it starts at the tail with no dead letters', async () => {
    const id = uid('gone').toLowerCase();
    await send('POST', '/v1/activations', { id, name: 'Gone', url: receiver.url, topics: ['audience.membership'], maxAttempts: 1 });
    receiver.failNext(1);
    expect((await send('POST', `/v1/activations/${id}/test`)).status).toBe(202);
    await until(
      async () => (await h.adminJson<{ deadLetters: unknown[] }>(`/v1/activations/${id}/dead-letters`)).body.deadLetters,
      (l) => l.length === 1,
    );
    expect((await send('DELETE', `/v1/activations/${id}`)).status).toBe(204);
    expect((await send('POST', '/v1/activations', { id, name: 'Back', url: receiver.url, topics: ['audience.membership'] })).status).toBe(201);
    expect((await h.adminJson<{ deadLetters: unknown[] }>(`/v1/activations/${id}/dead-letters`)).body.deadLetters).toEqual([]);
  });

  it('validates activations and keeps their id', async () => {
    const bad = await expectError(await send('POST', '/v1/activations', { id: 'x', name: 'X', url: 'ftp://nope' }), 400, 'VALIDATION');
    expect(bad.error.issues.map((i) => i.path)).toContain('url');
    const id = uid('keep').toLowerCase();
    await send('POST', '/v1/activations', { id, name: 'K', url: receiver.url });
    await expectError(await send('PUT', `/v1/activations/${id}`, { id: `${id}-2`, name: 'K', url: receiver.url, version: 1 }), 400, 'VALIDATION');
    const renamed = await send('PUT', `/v1/activations/${id}`, { name: 'Kept', url: receiver.url, version: 1 });
    expect(((await renamed.json()) as { name: string; version: number }).version).toBe(2);
    await expectError(await send('PUT', `/v1/activations/${id}`, { name: 'Stale', url: receiver.url, version: 1 }), 409, 'CONFLICT');
    expect((await send('DELETE', `/v1/activations/${id}`)).status).toBe(204);
  });
});

describe('webhook hosts', () => {
  let h: Harness;
  let listed: Harness;
  beforeAll(async () => {
    // No webhook allow-list: the default a server starts with.
    h = await startHarness('sqlite', { webhookHosts: {} });
    listed = await startHarness('sqlite', { webhookHosts: { allowHosts: ['hooks.example.com', '*.crm.example'] } });
  });
  afterAll(async () => {
    await h.close();
    await listed.close();
  });
  const create = (on: Harness, url: string) =>
    on.admin('/v1/activations', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: uid('h').toLowerCase(), name: 'H', url }) });

  it('refuses a webhook to an internal address unless its host is listed, when the activation is saved', async () => {
    for (const url of ['http://127.0.0.1:8080/hook', 'http://localhost/hook', 'http://169.254.169.254/latest/meta-data', 'http://10.1.2.3/x', 'http://[::1]/x', 'http://[::ffff:192.168.0.1]/x']) {
      const bad = await expectError(await create(h, url), 400, 'VALIDATION');
      expect(bad.error.issues).toEqual([{ path: 'url', message: 'the host resolves to an internal address (list it in the webhooks allow-list to call it)' }]);
    }
    expect((await create(h, 'https://hooks.example.com/attune')).status).toBe(201);
    const created = await create(h, 'https://crm.example.org/in');
    expect(created.status).toBe(201);
    // An update is checked the same way.
    const { id, version } = (await created.json()) as { id: string; version: number };
    const moved = await h.admin(`/v1/activations/${id}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'H', url: 'http://192.168.1.10/in', version }) });
    await expectError(moved, 400, 'VALIDATION');
  });

  it('with an allow-list, accepts only the listed hosts', async () => {
    expect((await create(listed, 'https://hooks.example.com/attune')).status).toBe(201);
    expect((await create(listed, 'https://eu.crm.example/in')).status).toBe(201);
    const bad = await expectError(await create(listed, 'https://other.example.org/in'), 400, 'VALIDATION');
    expect(bad.error.issues).toEqual([{ path: 'url', message: 'the host is not on the webhooks allow-list' }]);
  });
});

