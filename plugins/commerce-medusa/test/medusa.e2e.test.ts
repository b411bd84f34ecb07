import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { MedusaContainer } from '@medusajs/framework/types';
import { Modules } from '@medusajs/framework/utils';
import {
  cancelOrderWorkflow,
  capturePaymentWorkflow,
  completeCartWorkflow,
  createCartWorkflow,
  createCustomersWorkflow,
  createPaymentCollectionForCartWorkflow,
  createPaymentSessionsWorkflow,
  createProductsWorkflow,
  createRegionsWorkflow,
  createSalesChannelsWorkflow,
  deleteProductsWorkflow,
  refundPaymentWorkflow,
} from '@medusajs/medusa/core-flows';
import { medusaIntegrationTestRunner } from '@medusajs/test-utils';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCatalogExport, importOrderHistory } from '../src/index.ts';
import { eventually, SECRET_KEY, startAttune, WRITE_KEY } from './harness.ts';

interface Profile {
  id: string;
  traits: Record<string, unknown>;
  identities: Array<{ type: string; value: string }>;
}
interface EventRow {
  name: string;
  timestamp: string;
  message: { properties?: Record<string, unknown> };
}

// Attune runs before Medusa loads its config: the plugin options come from these variables.
const attune = await startAttune();
await attune.admin('/v1/segment-groups', { method: 'POST', body: JSON.stringify({ id: 'shop', name: 'Shop' }) });
await attune.admin('/v1/audiences', { method: 'POST', body: JSON.stringify({ id: 'buyers', groupId: 'shop', name: 'Buyers', condition: { did: { event: 'Order Completed' } } }) });
const hook = await attune.admin<{ secret: string }>('/v1/activations', {
  method: 'POST',
  // The Medusa port is known once it runs: the URL is set in beforeAll.
  body: JSON.stringify({ id: 'medusa', name: 'Medusa groups', url: 'http://127.0.0.1:9/attune/activations', audienceIds: ['buyers'] }),
});
Object.assign(process.env, { ATTUNE_URL: attune.server.url, ATTUNE_WRITE_KEY: WRITE_KEY, ATTUNE_SECRET_KEY: SECRET_KEY, ATTUNE_ACTIVATION_SECRET: hook.body.secret });

const profileOf = async (type: string, value: string) => {
  const r = await attune.admin<Profile>(`/v1/profiles?${type}=${encodeURIComponent(value)}`);
  return r.status === 200 ? r.body : null;
};
const eventsOf = async (profileId: string) => (await attune.admin<{ events: EventRow[] }>(`/v1/profiles/${profileId}/events?limit=200`)).body.events;

/** A region, a sales channel, two products and a customer with an account: what a checkout needs. */
async function seedShop(container: MedusaContainer) {
  const { result: [region] } = await createRegionsWorkflow(container).run({ input: { regions: [{ name: 'Europe', currency_code: 'eur', countries: ['at'], payment_providers: ['pp_system_default'] }] } });
  const { result: [channel] } = await createSalesChannelsWorkflow(container).run({ input: { salesChannelsData: [{ name: 'Web' }] } });
  const product = (title: string, sku: string, price: number) => ({
    title,
    description: `  ${title}, made to last.  `,
    status: 'published' as const,
    options: [{ title: 'Default', values: ['Default'] }],
    variants: [{ title, sku, options: { Default: 'Default' }, manage_inventory: false, prices: [{ amount: price, currency_code: 'eur' }] }],
    sales_channels: [{ id: channel!.id }],
  });
  const { result: products } = await createProductsWorkflow(container).run({ input: { products: [product('Desk Lamp', 'LAMP-1', 40), product('Wool Rug', 'RUG-1', 120)] } });
  const { result: [customer] } = await createCustomersWorkflow(container).run({
    input: { customersData: [{ email: 'ada@example.com', first_name: 'Ada', last_name: 'Lovelace', phone: '+43 1 234567', has_account: true }] },
  });
  return { region: region!, channel: channel!, products, customer: customer! };
}

async function placeOrder(container: MedusaContainer, shop: Awaited<ReturnType<typeof seedShop>>, items: Array<{ variant_id: string; quantity: number }>) {
  const { result: cart } = await createCartWorkflow(container).run({
    input: { region_id: shop.region.id, sales_channel_id: shop.channel.id, customer_id: shop.customer.id, email: shop.customer.email, currency_code: 'eur', items, metadata: { attune_anonymous_id: 'browser-7' } },
  });
  const { result: collection } = await createPaymentCollectionForCartWorkflow(container).run({ input: { cart_id: cart.id } });
  await createPaymentSessionsWorkflow(container).run({ input: { payment_collection_id: collection.id, provider_id: 'pp_system_default' } });
  const { result } = await completeCartWorkflow(container).run({ input: { id: cart.id } });
  return result.id;
}

medusaIntegrationTestRunner({
  cwd: join(import.meta.dirname, 'app'),
  testSuite: ({ getContainer, api }) => {
    beforeAll(async () => {
      const url = `${api.defaults.baseURL}/attune/activations`;
      const r = await attune.admin('/v1/activations/medusa', { method: 'PUT', body: JSON.stringify({ name: 'Medusa groups', url, audienceIds: ['buyers'], version: 1 }) });
      expect(r.status).toBe(200);
    });
    afterAll(async () => {
      await attune.server.close();
      rmSync(attune.dataDir, { recursive: true, force: true });
    });

    it('sends orders, exports products and customers with customized fields, imports the order history, and puts audience members in a customer group', async () => {
      const container = getContainer();
      const shop = await seedShop(container);
      const [lamp, rug] = shop.products.map((p) => p.variants[0]!);

      // The storefront saw this browser first.
      const browser = await fetch(`${attune.server.url}/v1/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ writeKey: WRITE_KEY, batch: [{ type: 'track', event: 'Product Viewed', anonymousId: 'browser-7', properties: { product_id: shop.products[0]!.id } }] }),
      });
      expect(browser.status).toBe(200);

      const orderId = await placeOrder(container, shop, [{ variant_id: lamp!.id, quantity: 2 }, { variant_id: rug!.id, quantity: 1 }]);

      // 1. The order appears as Order Completed on the customer's profile, with its products.
      const completed = await eventually(
        async () => {
          const p = await profileOf('userId', shop.customer.id);
          if (!p) return null;
          const e = (await eventsOf(p.id)).find((x) => x.name === 'Order Completed');
          return e ? { profile: p, event: e } : null;
        },
        20_000,
        'Order Completed at Attune',
      );
      expect(completed.event.message.properties).toMatchObject({
        currency: 'EUR',
        total: 200,
      });
      expect(completed.event.message.properties?.products).toHaveLength(2);
      expect(completed.event.message.properties?.products).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ product_id: shop.products[0]!.id, sku: 'LAMP-1', name: 'Desk Lamp', price: 40, quantity: 2 }),
          expect.objectContaining({ product_id: shop.products[1]!.id, sku: 'RUG-1', name: 'Wool Rug', price: 120, quantity: 1 }),
        ]),
      );
      const identities = completed.profile.identities.map((i) => `${i.type}:${i.value}`);
      expect(identities).toEqual(expect.arrayContaining([`userId:${shop.customer.id}`, `medusa_customer_id:${shop.customer.id}`, 'email:ada@example.com']));
      expect((await profileOf('anonymousId', 'browser-7'))?.id).toBe(completed.profile.id);
      const names = (await eventsOf(completed.profile.id)).map((e) => e.name);
      expect(names).toEqual(expect.arrayContaining(['Product Viewed', 'Account Created', 'Order Completed']));

      // 2. The buyer entered the "buyers" audience; the activation put them in the Medusa group.
      const customers = container.resolve(Modules.CUSTOMER);
      const groups = await eventually(
        async () => {
          const [c] = await customers.listCustomers({ id: shop.customer.id }, { relations: ['groups'] });
          const names = (c?.groups ?? []).map((g) => g.name);
          return names.includes('Attune buyers') ? names : null;
        },
        20_000,
        'customer in the "Attune buyers" group',
      );
      expect(groups).toEqual(['Attune buyers']);

      // 3. Product export with the customized fields; incremental; a deleted product becomes a tombstone.
      const exporter = createCatalogExport(container);
      expect(await exporter.run('products')).toMatchObject({ items: 2, sent: 2, complete: true });
      const item = await attune.admin<{ fields: Array<{ name: string; field: string; value: unknown }> }>(`/v1/catalog/medusa-products/items/product/${shop.products[0]!.id}`);
      expect(item.status).toBe(200);
      const fields = Object.fromEntries(item.body.fields.map((f) => [f.name, f]));
      expect(fields.name).toMatchObject({ field: 'title', value: 'Desk Lamp' });
      expect(fields.description?.value).toBe('Desk Lamp, made to last.');
      expect(fields.handle).toBeUndefined();
      expect(fields.price?.value).toBe(40);
      expect(await exporter.run('products')).toMatchObject({ sent: 0 });
      await deleteProductsWorkflow(container).run({ input: { ids: [shop.products[1]!.id] } });
      expect(await exporter.run('products')).toMatchObject({ sent: 1, deleted: 1 });
      expect((await attune.admin(`/v1/catalog/medusa-products/items/product/${shop.products[1]!.id}`)).status).toBe(404);

      // 4. Customer export to profiles with the customized fields.
      expect(await exporter.run('customers', 'full')).toMatchObject({ sent: 1 });
      const exported = (await profileOf('userId', shop.customer.id))!;
      expect(exported.traits).toMatchObject({ given_name: 'Ada', email: 'ada@example.com', medusa_customer_id: shop.customer.id });
      expect(exported.traits.lastName).toMatch(/^[0-9a-f]{64}$/);
      // The live Account Created carried the phone; the export itself left it out.
      const exportCall = (await eventsOf(exported.id)).find((e) => (e.message as { context?: { source?: string } }).context?.source === 'medusa-customer-export');
      expect((exportCall?.message as { traits?: Record<string, unknown> }).traits).not.toHaveProperty('phone');

      // 5. Order history import of the past five years, with progress.
      const progress: number[] = [];
      const history = await importOrderHistory(container, { chunkSize: 1, onProgress: (p) => progress.push(p.done) });
      expect(history).toMatchObject({ total: 1, sent: 1, errors: 0 });
      expect(progress).toEqual([1]);
      const placed = (await eventsOf(completed.profile.id)).filter((e) => e.name === 'Order Placed');
      expect(placed).toHaveLength(1);
      expect(placed[0]!.message.properties).toMatchObject({ imported: true, total: 200 });
      expect(orderId).toMatch(/^order_/);
    });

    it('maps refunds and cancellations of orders', async () => {
      const container = getContainer();
      const shop = await seedShop(container);
      const lamp = shop.products[0]!.variants[0]!;
      const refundedId = await placeOrder(container, shop, [{ variant_id: lamp.id, quantity: 1 }]);
      const cancelledId = await placeOrder(container, shop, [{ variant_id: lamp.id, quantity: 3 }]);
      const query = container.resolve('query');
      const { data: [order] } = await query.graph({ entity: 'order', fields: ['id', 'display_id', 'payment_collections.payments.id'], filters: { id: refundedId } });
      const paymentId = order!.payment_collections![0]!.payments![0]!.id;
      await capturePaymentWorkflow(container).run({ input: { payment_id: paymentId } });
      await refundPaymentWorkflow(container).run({ input: { payment_id: paymentId, amount: 15, note: 'scratched' } });
      await cancelOrderWorkflow(container).run({ input: { order_id: cancelledId } });
      const { data: [cancelled] } = await query.graph({ entity: 'order', fields: ['display_id'], filters: { id: cancelledId } });

      const events = await eventually(
        async () => {
          const p = await profileOf('userId', shop.customer.id);
          if (!p) return null;
          const e = await eventsOf(p.id);
          return e.some((x) => x.name === 'Order Refunded') && e.some((x) => x.name === 'Order Cancelled') ? e : null;
        },
        20_000,
        'Order Refunded and Order Cancelled at Attune',
      );
      expect(events.find((e) => e.name === 'Order Refunded')?.message.properties).toMatchObject({ order_id: String(order!.display_id), total: 15, reason: 'scratched', returned: false });
      expect(events.find((e) => e.name === 'Order Cancelled')?.message.properties).toMatchObject({
        order_id: String(cancelled!.display_id),
        products: [expect.objectContaining({ sku: 'LAMP-1', quantity: 3 })],
      });
    });
  },
});
