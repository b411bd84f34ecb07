/**
 * The downstream-erasure protocol against a real Attune server process (the `attune start` CLI)
 * with Medusa booted by its integration runner: an erasure requested at Attune reaches the
 * plugin's activation endpoint, which removes what Attune put in Medusa and confirms. Run once
 * per Attune store (erasure-*.e2e.test.ts).
 */
import type { MedusaContainer } from '@medusajs/framework/types';
import { Modules } from '@medusajs/framework/utils';
import {
  completeCartWorkflow,
  createCartWorkflow,
  createCustomersWorkflow,
  createPaymentCollectionForCartWorkflow,
  createPaymentSessionsWorkflow,
  createProductsWorkflow,
  createRegionsWorkflow,
  createSalesChannelsWorkflow,
} from '@medusajs/medusa/core-flows';
import { createTestPostgresDatabase } from '@attune/test-utils';
import { type CliProcess, eventually, freePort, killAll, removeDir, SECRET_KEY, startCli, tempDataDir, WRITE_KEY, signWebhook, adminCall } from '@attune/test-utils/process';
import type { PrivacyRequest as Receipt } from '@attune/core';
import { afterAll, beforeAll, expect, it } from 'vitest';

interface Profile {
  id: string;
  identities: Array<{ type: string; value: string }>;
}

export interface ErasureAttune {
  process: CliProcess;
  secret: string;
  admin<T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

/** Attune on the given store, before Medusa loads its config (the plugin options come from ATTUNE_*). */
export async function startErasureAttune(store: 'sqlite' | 'postgres'): Promise<ErasureAttune> {
  const dir = store === 'sqlite' ? tempDataDir() : null;
  const db = store === 'postgres' ? await createTestPostgresDatabase() : null;
  const process_ = await startCli({
    port: await freePort(),
    env: { ...(dir ? { ATTUNE_DATA_DIR: dir } : { DATABASE_URL: db!.url }), ATTUNE_SECRET_KEY: SECRET_KEY, ATTUNE_WRITE_KEY: WRITE_KEY, ATTUNE_EXTERNAL_IDS: 'medusa_customer_id', ATTUNE_WEBHOOK_HOSTS: '127.0.0.1,localhost' },
    timeoutMs: 60_000,
  });
  const admin = <T>(path: string, init: RequestInit = {}) => adminCall<T>(process_.url, path, init);
  const key = await admin<{ key: string }>('/v1/keys', { method: 'POST', body: JSON.stringify({ kind: 'secret', name: 'medusa', role: 'marketer' }) });
  await admin('/v1/segment-groups', { method: 'POST', body: JSON.stringify({ id: 'shop', name: 'Shop' }) });
  await admin('/v1/audiences', { method: 'POST', body: JSON.stringify({ id: 'buyers', groupId: 'shop', name: 'Buyers', condition: { did: { event: 'Order Completed' } } }) });
  // The Medusa port is known once it runs: the URL is set in beforeAll.
  const hook = await admin<{ secret: string }>('/v1/activations', {
    method: 'POST',
    body: JSON.stringify({ id: 'medusa', name: 'Medusa', url: 'http://127.0.0.1:9/attune/activations', audienceIds: ['buyers'], erasureConfirmation: 'callback' }),
  });
  // The plugin runs with a marketer key: enough for its catalog and for confirming erasures.
  Object.assign(process.env, { ATTUNE_URL: process_.url, ATTUNE_WRITE_KEY: WRITE_KEY, ATTUNE_SECRET_KEY: key.body.key, ATTUNE_ACTIVATION_SECRET: hook.body.secret });
  return {
    process: process_,
    secret: hook.body.secret,
    admin,
    async close() {
      await process_.stop();
      killAll();
      if (dir) removeDir(dir);
      await db?.drop();
    },
  };
}


async function seedShop(container: MedusaContainer) {
  const { result: [region] } = await createRegionsWorkflow(container).run({ input: { regions: [{ name: 'Europe', currency_code: 'eur', countries: ['at'], payment_providers: ['pp_system_default'] }] } });
  const { result: [channel] } = await createSalesChannelsWorkflow(container).run({ input: { salesChannelsData: [{ name: 'Web' }] } });
  const { result: [product] } = await createProductsWorkflow(container).run({
    input: {
      products: [
        {
          title: 'Desk Lamp',
          status: 'published' as const,
          options: [{ title: 'Default', values: ['Default'] }],
          variants: [{ title: 'Desk Lamp', sku: 'LAMP-1', options: { Default: 'Default' }, manage_inventory: false, prices: [{ amount: 40, currency_code: 'eur' }] }],
          sales_channels: [{ id: channel!.id }],
        },
      ],
    },
  });
  const { result: [customer] } = await createCustomersWorkflow(container).run({ input: { customersData: [{ email: 'ada@example.com', first_name: 'Ada', last_name: 'Lovelace', has_account: true }] } });
  const { result: cart } = await createCartWorkflow(container).run({
    input: { region_id: region!.id, sales_channel_id: channel!.id, customer_id: customer!.id, email: customer!.email, currency_code: 'eur', items: [{ variant_id: product!.variants[0]!.id, quantity: 1 }], metadata: { attune_anonymous_id: 'browser-erase-1' } },
  });
  const { result: collection } = await createPaymentCollectionForCartWorkflow(container).run({ input: { cart_id: cart.id } });
  await createPaymentSessionsWorkflow(container).run({ input: { payment_collection_id: collection.id, provider_id: 'pp_system_default' } });
  const { result: order } = await completeCartWorkflow(container).run({ input: { id: cart.id } });
  return { customer: customer!, orderId: order.id };
}

/** The tests, for medusaIntegrationTestRunner's testSuite. */
export function erasureTests(attune: ErasureAttune) {
  return ({ getContainer, api }: { getContainer: () => MedusaContainer; api: { defaults: { baseURL?: string } } }) => {
    let endpoint: string;
    let shop: Awaited<ReturnType<typeof seedShop>>;
    let profile: Profile;
    let receipt: Receipt;

    /** What Medusa holds of the customer that came from Attune. */
    const attuneCopy = async () => {
      const container = getContainer();
      const [c] = await container.resolve<import('@medusajs/framework/types').ICustomerModuleService>(Modules.CUSTOMER).listCustomers({ id: shop.customer.id }, { relations: ['groups'] });
      const orders = await container.resolve<import('@medusajs/framework/types').IOrderModuleService>(Modules.ORDER).listOrders({ customer_id: shop.customer.id }, { select: ['id', 'metadata'] });
      const carts = await container.resolve<import('@medusajs/framework/types').ICartModuleService>(Modules.CART).listCarts({ customer_id: shop.customer.id }, { select: ['id', 'metadata'] });
      return {
        groups: (c?.groups ?? []).map((g) => g.name),
        anonymous: [...orders, ...carts].map((x) => x.metadata?.attune_anonymous_id).filter(Boolean),
      };
    };
    const signedPost = (body: string, webhookId: string, secret = attune.secret) => {
      const ts = Math.floor(Date.now() / 1000);
      return fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json', 'webhook-id': webhookId, 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(secret, webhookId, ts, body) }, body });
    };

    beforeAll(async () => {
      endpoint = `${api.defaults.baseURL}/attune/activations`;
      const r = await attune.admin('/v1/activations/medusa', { method: 'PUT', body: JSON.stringify({ name: 'Medusa', url: endpoint, audienceIds: ['buyers'], erasureConfirmation: 'callback', version: 1 }) });
      expect(r.status).toBe(200);
    });
    afterAll(() => attune.close());

    // The runner empties Medusa's database after each test: the story is one test, in steps.
    it('an erasure by email reaches Medusa: a bad signature deletes nothing, the receipt shows both confirmed, a resend is harmless', async () => {
      // 1. A customer's order reaches Attune and Attune's audience puts them in a Medusa group.
      shop = await seedShop(getContainer());
      profile = await eventually(async () => {
        const r = await attune.admin<Profile>('/v1/profiles?email=ada@example.com');
        return r.status === 200 && r.body.identities.some((i) => i.type === 'anonymousId') ? r.body : null;
      }, 30_000);
      await eventually(async () => (await attuneCopy()).groups.includes('Attune buyers'), 30_000);
      const copy = await attuneCopy();
      expect(copy.groups).toEqual(['Attune buyers']);
      expect(copy.anonymous).toContain('browser-erase-1');

      // 2. A notice with a bad signature is refused with 401 and deletes nothing.
      const forged = JSON.stringify({ type: 'profile.erased', timestamp: new Date().toISOString(), data: { id: 'forged', requestId: 'er_forged', profileId: profile.id, profileIds: [profile.id], identities: profile.identities, at: new Date().toISOString() } });
      const res = await signedPost(forged, 'forged-1', `whsec_${Buffer.from('not the secret, 32 bytes long!!').toString('base64')}`);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain('signature does not match');
      expect(await attuneCopy()).toEqual(copy);

      // 3. An erasure by email empties Attune and Medusa of the person; the receipt shows both confirmed.
      const requested = await attune.admin<Receipt>('/v1/privacy/requests', { method: 'POST', body: JSON.stringify({ type: 'erasure', identifier: { type: 'email', value: 'ada@example.com' } }) });
      expect(requested.status).toBe(201);
      expect(requested.body.targets.map((t) => t.target).sort()).toEqual(['activation:medusa', 'store']);
      receipt = await eventually(async () => {
        const r = await attune.admin<Receipt>(`/v1/privacy/requests/${requested.body.id}`);
        return r.body.status === 'completed' ? r.body : null;
      }, 30_000);
      const byTarget = Object.fromEntries(receipt.targets.map((t) => [t.target, t]));
      expect(byTarget.store?.status).toBe('confirmed');
      expect(byTarget.store?.details?.events).toBeGreaterThan(0);
      expect(byTarget['activation:medusa']).toMatchObject({ status: 'confirmed', details: { customers: 1, groupMemberships: 1 } });
      expect(byTarget['activation:medusa']?.details?.anonymousIds).toBeGreaterThan(0);
      expect((await attune.admin('/v1/profiles?email=ada@example.com')).status).toBe(404);
      expect((await attune.admin(`/v1/profiles/${profile.id}/events`)).status).toBe(404);
      expect(await attuneCopy()).toEqual({ groups: [], anonymous: [] });
      // The customer account is the shop's own record.
      const [still] = await getContainer().resolve<import('@medusajs/framework/types').ICustomerModuleService>(Modules.CUSTOMER).listCustomers({ id: shop.customer.id });
      expect(still?.email).toBe('ada@example.com');

      // 4. A resent notice (same data, a new webhook-id) is harmless; a redelivery of it is answered without a second run.
      const data = { id: `erased:${profile.id}:resend`, requestId: receipt.id, profileId: profile.id, profileIds: [profile.id], identities: profile.identities, at: new Date().toISOString(), resendTo: 'medusa' };
      const body = JSON.stringify({ type: 'profile.erased', timestamp: new Date().toISOString(), data });
      const first = await signedPost(body, `medusa:${data.id}`);
      expect(first.status).toBe(200);
      expect(await first.json()).toMatchObject({ status: 'erased', details: { customers: 1, groupMemberships: 0, anonymousIds: 0 } });
      expect(await (await signedPost(body, `medusa:${data.id}`)).json()).toMatchObject({ status: 'duplicate' });
      expect((await attune.admin<Receipt>(`/v1/privacy/requests/${receipt.id}`)).body.status).toBe('completed');
    });
  };
}
