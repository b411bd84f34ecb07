/**
 * The downstream-erasure protocol against a real Attune server process (the `attune start` CLI),
 * once on the embedded store and once on PostgreSQL, with Vendure in-process on sql.js: an
 * erasure requested at Attune reaches the plugin's activation endpoint, which removes what Attune
 * put in Vendure and confirms; the receipt shows the store and the activation confirmed.
 */
import { createTestPostgresDatabase, type TestPostgresDatabase } from '@attune/test-utils';
import { type CliProcess, killAll, removeDir, SECRET_KEY, startCli, tempDataDir, WRITE_KEY, signWebhook, adminCall } from '@attune/test-utils/process';
import { Order, TransactionalConnection } from '@vendure/core';
import type { PrivacyRequest as Receipt } from '@attune/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttuneErasureNotice, AttuneOutboxEntry, AttuneService } from '../src/index.ts';
import { ADMIN, dbId, eventually, freePort, placeOrder, type Shop, startVendure, stopVendure } from './harness.ts';

interface Profile {
  id: string;
  identities: Array<{ type: string; value: string }>;
}

type StoreSetup = { name: string; start(): Promise<{ env: Record<string, string>; cleanup(): Promise<void> }> };

const STORES: StoreSetup[] = [
  {
    name: 'SQLite',
    async start() {
      const dir = tempDataDir();
      return { env: { ATTUNE_DATA_DIR: dir }, cleanup: async () => removeDir(dir) };
    },
  },
  {
    name: 'PostgreSQL',
    async start() {
      const db: TestPostgresDatabase = await createTestPostgresDatabase();
      return { env: { DATABASE_URL: db.url }, cleanup: () => db.drop() };
    },
  },
];


describe.each(STORES)('erasure reaches Vendure (Attune on $name)', (store) => {
  let attune: CliProcess;
  let cleanup: () => Promise<void>;
  let shop: Shop;
  let service: AttuneService;
  let activationSecret: string;
  let customer: { id: string; emailAddress: string };
  let other: { id: string; emailAddress: string };
  let profile: Profile;
  let receipt: Receipt;

  const admin = <T>(path: string, init: RequestInit = {}) => adminCall<T>(attune.url, path, init);
  const outbox = () => shop.server.app.get(TransactionalConnection).rawConnection.getRepository(AttuneOutboxEntry);
  const orders = () => shop.server.app.get(TransactionalConnection).rawConnection.getRepository(Order);
  const groupsOf = async (id: string) => ((await shop.adminClient.query(ADMIN.customer, { id })).customer.groups as Array<{ name: string }>).map((g) => g.name);
  const post = (body: string, headers: Record<string, string>) =>
    fetch(`http://127.0.0.1:${shop.port}/attune/activations`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const signedPost = (body: string, webhookId: string, secret = activationSecret) => {
    const ts = Math.floor(Date.now() / 1000);
    return post(body, { 'webhook-id': webhookId, 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(secret, webhookId, ts, body) });
  };
  /** What Vendure holds of a customer that came from Attune. */
  const attuneCopy = async (c: { id: string; emailAddress: string }) => {
    const calls = (await outbox().find()).map((e) => e.call).filter((call) => call.includes(c.emailAddress) || call.includes(`"userId":"${dbId(c.id)}"`));
    const anonymous = (await orders().find({ where: { customerId: Number(dbId(c.id)) } })).map((o) => (o.customFields as Record<string, unknown>).attuneAnonymousId).filter(Boolean);
    return { groups: await groupsOf(c.id), calls: calls.length, anonymous };
  };

  beforeAll(async () => {
    const s = await store.start();
    cleanup = s.cleanup;
    attune = await startCli({ port: await freePort(), env: { ...s.env, ATTUNE_SECRET_KEY: SECRET_KEY, ATTUNE_WRITE_KEY: WRITE_KEY, ATTUNE_EXTERNAL_IDS: 'vendure_customer_id', ATTUNE_WEBHOOK_HOSTS: '127.0.0.1' }, timeoutMs: 60_000 });
    // The plugin runs with a marketer key: enough for its catalog and for confirming erasures.
    const key = await admin<{ key: string }>('/v1/keys', { method: 'POST', body: JSON.stringify({ kind: 'secret', name: 'vendure', role: 'marketer' }) });
    expect(key.status).toBe(201);
    expect((await admin('/v1/segment-groups', { method: 'POST', body: JSON.stringify({ id: 'shop', name: 'Shop' }) })).status).toBe(201);
    const audience = { id: 'buyers', groupId: 'shop', name: 'Buyers', condition: { did: { event: 'Order Completed' } } };
    expect((await admin('/v1/audiences', { method: 'POST', body: JSON.stringify(audience) })).status).toBe(201);
    const port = await freePort();
    const hook = await admin<{ secret: string }>('/v1/activations', {
      method: 'POST',
      body: JSON.stringify({ id: 'vendure', name: 'Vendure', url: `http://127.0.0.1:${port}/attune/activations`, audienceIds: ['buyers'], erasureConfirmation: 'callback' }),
    });
    expect(hook.status).toBe(201);
    activationSecret = hook.body.secret;
    shop = await startVendure(port, {
      attuneUrl: attune.url,
      writeKey: WRITE_KEY,
      secretKey: key.body.key,
      delivery: { pollMs: 100, baseDelayMs: 100 },
      activation: { secret: activationSecret, id: 'vendure', groups: { buyers: 'Attune buyers' } },
      erasure: { confirmBaseDelayMs: 100 },
    });
    service = shop.server.app.get(AttuneService);
    [customer, other] = (await shop.adminClient.query(ADMIN.customers)).customers.items;
  }, 180_000);

  afterAll(async () => {
    await stopVendure(shop);
    await attune?.stop();
    killAll();
    await cleanup?.();
  });

  it("a customer's order reaches Attune and Attune's audience puts them in a Vendure group", async () => {
    await shop.shopClient.asUserWithCredentials(customer.emailAddress, 'test');
    const variants = (await shop.adminClient.query(ADMIN.products)).products.items.flatMap((p: { variants: Array<{ id: string }> }) => p.variants);
    await placeOrder(shop, [{ variantId: variants[0].id, quantity: 1 }], 'browser-erase-1');
    profile = await eventually(
      async () => {
        const r = await admin<Profile>(`/v1/profiles?email=${encodeURIComponent(customer.emailAddress.toLowerCase())}`);
        return r.status === 200 && r.body.identities.some((i) => i.type === 'anonymousId') ? r.body : null;
      },
      20_000,
      'the customer profile at Attune',
    );
    await eventually(async () => (await groupsOf(customer.id)).includes('Attune buyers'), 20_000, 'customer in "Attune buyers"');
    // Calls Attune refused stay parked in the outbox with the person's data: one of theirs, one of another customer.
    const parked = (call: unknown) => ({ call: JSON.stringify(call), attempts: 1, nextAttemptAt: 0, failed: true, lastError: 'HTTP 400', createdAt: Date.now() });
    await outbox().save([
      parked({ type: 'identify', userId: dbId(customer.id), traits: { email: customer.emailAddress } }),
      parked({ type: 'identify', userId: dbId(other.id), traits: { email: other.emailAddress } }),
    ]);
    expect(await attuneCopy(customer)).toEqual({ groups: ['Attune buyers'], calls: 1, anonymous: ['browser-erase-1'] });
  });

  it('a notice with a bad signature is refused with 401 and deletes nothing', async () => {
    const body = JSON.stringify({
      type: 'profile.erased',
      timestamp: new Date().toISOString(),
      data: { id: 'forged', requestId: 'er_forged', profileId: profile.id, profileIds: [profile.id], identities: profile.identities, at: new Date().toISOString() },
    });
    const res = await signedPost(body, 'forged-1', `whsec_${Buffer.from('not the secret, 32 bytes long!!').toString('base64')}`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('signature does not match');
    expect(await attuneCopy(customer)).toEqual({ groups: ['Attune buyers'], calls: 1, anonymous: ['browser-erase-1'] });
  });

  it('an erasure by email empties Attune and Vendure of the person, and the receipt shows both confirmed', async () => {
    const requested = await admin<Receipt>('/v1/privacy/requests', { method: 'POST', body: JSON.stringify({ type: 'erasure', identifier: { type: 'email', value: customer.emailAddress } }) });
    expect(requested.status).toBe(201);
    expect(requested.body.targets.map((t) => t.target).sort()).toEqual(['activation:vendure', 'store']);
    receipt = await eventually(
      async () => {
        const r = await admin<Receipt>(`/v1/privacy/requests/${requested.body.id}`);
        return r.body.status === 'completed' ? r.body : null;
      },
      30_000,
      'the receipt completed',
    );
    const byTarget = Object.fromEntries(receipt.targets.map((t) => [t.target, t]));
    expect(byTarget.store?.status).toBe('confirmed');
    expect(byTarget.store?.details?.events).toBeGreaterThan(0);
    expect(byTarget['activation:vendure']).toMatchObject({ status: 'confirmed', details: { customers: 1, groupMemberships: 1, orderAnonymousIds: 1, outboxEntries: 1 } });

    // Attune holds nothing: no profile by any of the identifiers, no events.
    expect((await admin(`/v1/profiles?email=${encodeURIComponent(customer.emailAddress.toLowerCase())}`)).status).toBe(404);
    expect((await admin(`/v1/profiles?userId=${dbId(customer.id)}`)).status).toBe(404);
    expect((await admin(`/v1/profiles/${profile.id}/events`)).status).toBe(404);
    // Vendure holds nothing Attune derived; the customer account and the other customer's parked call stay.
    expect(await attuneCopy(customer)).toEqual({ groups: [], calls: 0, anonymous: [] });
    expect((await attuneCopy(other)).calls).toBe(1);
    expect((await shop.adminClient.query(ADMIN.customer, { id: customer.id })).customer.id).toBe(customer.id);
    // The plugin records the confirmation once Attune's answer is back, a moment after the receipt completed.
    const notices = await eventually(async () => {
      const rows = await shop.server.app.get(TransactionalConnection).rawConnection.getRepository(AttuneErasureNotice).find();
      return rows.every((n) => n.confirmedAt !== null) ? rows : null;
    }, 10_000, 'the notice recorded as confirmed');
    expect(notices.map((n) => ({ requestId: n.requestId, confirmed: n.confirmedAt !== null }))).toEqual([{ requestId: receipt.id, confirmed: true }]);
  });

  it('a resent notice (same data, a new webhook-id) is harmless, and a redelivery of it is answered without a second run', async () => {
    const data = { id: `erased:${profile.id}:resend`, requestId: receipt.id, profileId: profile.id, profileIds: [profile.id], identities: profile.identities, at: new Date().toISOString(), resendTo: 'vendure' };
    const body = JSON.stringify({ type: 'profile.erased', timestamp: new Date().toISOString(), data });
    const first = await signedPost(body, `vendure:${data.id}`);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ status: 'erased', details: { customers: 1, groupMemberships: 0, orderAnonymousIds: 0, outboxEntries: 0 } });
    const again = await signedPost(body, `vendure:${data.id}`);
    expect(await again.json()).toMatchObject({ status: 'duplicate' });
    await eventually(async () => {
      const rows = await shop.server.app.get(TransactionalConnection).rawConnection.getRepository(AttuneErasureNotice).find();
      return rows.length === 2 && rows.every((r) => r.confirmedAt !== null);
    }, 10_000, 'the resend confirmed');
    const after = await admin<Receipt>(`/v1/privacy/requests/${receipt.id}`);
    expect(after.body.status).toBe('completed');
    expect((await attuneCopy(other)).calls).toBe(1);
    expect(await service.delivery.pending()).toMatchObject({ failed: 1 });
  });
});
