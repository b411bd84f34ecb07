import { rmSync } from 'node:fs';
import type { StartedServer } from '@attune/server';
import { Order, TransactionalConnection } from '@vendure/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttuneService } from '../src/index.ts';
import { ADMIN, dbId, eventually, freePort, placeOrder, type Shop, startAttune, startVendure, stopVendure, WRITE_KEY } from './harness.ts';

interface Profile {
  id: string;
  traits: Record<string, unknown>;
  identities: Array<{ type: string; value: string }>;
  audiences: Array<{ id: string }>;
}
interface EventRow {
  name: string;
  timestamp: string;
  message: { properties?: Record<string, unknown>; traits?: Record<string, unknown> };
}

describe('Attune plugin for Vendure (in-process Vendure on sql.js, a real Attune server)', () => {
  let attune: StartedServer;
  let attuneDir: string;
  let admin: Awaited<ReturnType<typeof startAttune>>['admin'];
  let shop: Shop;
  let service: AttuneService;
  let customers: Array<{ id: string; emailAddress: string; firstName: string; lastName: string; phoneNumber: string }>;
  let variants: Array<{ id: string; sku: string }>;

  const profileOf = async (userId: string) => {
    const r = await admin<Profile>(`/v1/profiles?userId=${encodeURIComponent(userId)}`);
    return r.status === 200 ? r.body : null;
  };
  const eventsOf = async (profileId: string) => (await admin<{ events: EventRow[] }>(`/v1/profiles/${profileId}/events?limit=200`)).body.events;

  beforeAll(async () => {
    ({ attune, dataDir: attuneDir, admin } = await startAttune());
    const port = await freePort();
    expect((await admin('/v1/segment-groups', { method: 'POST', body: JSON.stringify({ id: 'shop', name: 'Shop' }) })).status).toBe(201);
    const audience = { id: 'buyers', groupId: 'shop', name: 'Buyers', condition: { did: { event: 'Order Completed' } } };
    expect((await admin('/v1/audiences', { method: 'POST', body: JSON.stringify(audience) })).status).toBe(201);
    const hook = await admin<{ secret: string }>('/v1/activations', {
      method: 'POST',
      body: JSON.stringify({ id: 'vendure', name: 'Vendure groups', url: `http://127.0.0.1:${port}/attune/activations`, audienceIds: ['buyers'] }),
    });
    expect(hook.status).toBe(201);
    shop = await startVendure(port, {
      attuneUrl: attune.url,
      writeKey: WRITE_KEY,
      secretKey: 'sk_vendure_test_0123456789abcdef',
      delivery: { pollMs: 100, baseDelayMs: 100 },
      catalog: {
        schedule: '0 3 * * *',
        hashKey: 'attune-test-hash-key-0123456789',
        products: { streamId: 'vendure-products', fields: { fields: { name: { rename: 'title' }, description: { transform: 'richtext-to-text' }, slug: { include: false } } } },
        customers: { streamId: 'vendure-customers', fields: { fields: { firstName: { rename: 'given_name' }, lastName: { transform: 'hash' }, phoneNumber: { include: false } } } },
      },
      activation: { secret: hook.body.secret, groups: { buyers: 'Attune buyers' } },
    });
    service = shop.server.app.get(AttuneService);
    customers = (await shop.adminClient.query(ADMIN.customers)).customers.items;
    variants = (await shop.adminClient.query(ADMIN.products)).products.items.flatMap((p: { variants: Array<{ id: string; sku: string }> }) => p.variants);
  });

  afterAll(async () => {
    await stopVendure(shop);
    await attune?.close();
    if (attuneDir) rmSync(attuneDir, { recursive: true, force: true });
  });

  it('an order placed in Vendure appears as Order Completed on the customer profile, with its products, joined to the browser profile', async () => {
    const customer = customers[0]!;
    const userId = dbId(customer.id);
    // The storefront tracked this browser before the shopper signed in.
    const browser = await fetch(`${attune.url}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ writeKey: WRITE_KEY, batch: [{ type: 'track', event: 'Product Viewed', anonymousId: 'browser-1', properties: { product_id: '1', name: 'Desk Lamp' } }] }),
    });
    expect(browser.status).toBe(200);

    await shop.shopClient.asUserWithCredentials(customer.emailAddress, 'test');
    const lamp = variants.find((v) => v.sku === 'LAMP-1')!;
    const rug = variants.find((v) => v.sku === 'RUG-1')!;
    const order = await placeOrder(shop, [{ variantId: lamp.id, quantity: 2 }, { variantId: rug.id, quantity: 1 }], 'browser-1');

    const completed = await eventually(
      async () => {
        const p = await profileOf(userId);
        if (!p) return null;
        const e = (await eventsOf(p.id)).find((x) => x.name === 'Order Completed');
        return e ? { profile: p, event: e } : null;
      },
      15_000,
      'Order Completed at Attune',
    );
    expect(completed.event.message.properties).toMatchObject({
      order_id: order.code,
      currency: 'USD',
      products: [
        { product_id: '1', sku: 'LAMP-1', name: 'Desk Lamp', price: 48, quantity: 2 },
        { product_id: '2', sku: 'RUG-1', name: 'Wool Rug', price: 144, quantity: 1 },
      ],
    });
    expect(completed.event.message.properties?.total).toBe(48 * 2 + 144 + 5);
    const identities = completed.profile.identities.map((i) => `${i.type}:${i.value}`);
    expect(identities).toEqual(expect.arrayContaining([`userId:${userId}`, `vendure_customer_id:${userId}`, `email:${customer.emailAddress.toLowerCase()}`]));
    // The browser's profile was merged into the customer's: its anonymousId resolves to the same profile.
    expect((await admin<Profile>('/v1/profiles?anonymousId=browser-1')).body.id).toBe(completed.profile.id);
    const names = (await eventsOf(completed.profile.id)).map((e) => e.name);
    // The browser's history and the server-side cart changes are on the same profile.
    expect(names).toEqual(expect.arrayContaining(['Product Viewed', 'Product Added', 'Order Completed']));
    expect(names.filter((n) => n === 'Product Added')).toHaveLength(2);
    expect(await service.delivery.pending()).toEqual({ due: 0, failed: 0 });
  });

  it('an audience member lands in the Vendure customer group', async () => {
    const customer = customers[0]!;
    const groups = await eventually(
      async () => {
        const { customer: c } = await shop.adminClient.query(ADMIN.customer, { id: customer.id });
        const names = (c.groups as Array<{ name: string }>).map((g) => g.name);
        return names.includes('Attune buyers') ? names : null;
      },
      15_000,
      'customer in the "Attune buyers" group',
    );
    expect(groups).toEqual(['Attune buyers']);
    // Nobody else was added.
    const { customer: other } = await shop.adminClient.query(ADMIN.customer, { id: customers[1]!.id });
    expect(other.groups).toEqual([]);
  });

  it('refuses an activation webhook that is not signed with the activation secret', async () => {
    const body = JSON.stringify({ type: 'audience.membership', timestamp: new Date().toISOString(), data: { id: 'x', audienceId: 'buyers', profileId: 'p', change: 'entered', at: new Date().toISOString() } });
    const res = await fetch(`http://127.0.0.1:${shop.port}/attune/activations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-id': 'forged', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': 'v1,Zm9yZ2Vk' },
      body,
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('signature does not match');
  });

  it('exports products with the customized fields, incrementally, with tombstones', async () => {
    expect(service.nextExportAt()?.getUTCHours()).toBe(3);
    const first = await service.catalog.run('products', 'incremental');
    expect(first).toMatchObject({ items: 3, sent: 3, deleted: 0, complete: true });
    const lamp = await admin<{ fields: Array<{ name: string; field: string; type: string; value: unknown }> }>('/v1/catalog/vendure-products/items/product/1?locale=en');
    expect(lamp.status).toBe(200);
    const fields = Object.fromEntries(lamp.body.fields.map((f) => [f.name, f]));
    expect(fields.title).toEqual({ name: 'title', field: 'name', type: 'string', value: 'Desk Lamp' });
    expect(fields.description?.value).toBe('A bright lamp for the desk.');
    expect(fields.slug).toBeUndefined();
    expect(fields.price?.value).toBe(40);
    expect(fields.facets?.value).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'lighting' })]));

    // Nothing changed: an incremental run sends nothing.
    expect(await service.catalog.run('products')).toMatchObject({ sent: 0 });

    // A price change is saved on the variant only: the export still sees it.
    const products = (await shop.adminClient.query(ADMIN.products)).products.items as Array<{ id: string; name: string; variants: Array<{ id: string }> }>;
    await shop.adminClient.query(ADMIN.updateVariants, { input: [{ id: products[0]!.variants[0]!.id, price: 4500 }] });
    expect(await service.catalog.run('products')).toMatchObject({ sent: 1 });
    const repriced = await admin<{ fields: Array<{ name: string; value: unknown }> }>('/v1/catalog/vendure-products/items/product/1?locale=en');
    expect(repriced.body.fields.find((f) => f.name === 'price')?.value).toBe(45);

    await shop.adminClient.query(ADMIN.updateProduct, { input: { id: products[1]!.id, translations: [{ languageCode: 'en', name: 'Wool Rug XL' }] } });
    await shop.adminClient.query(ADMIN.deleteProduct, { id: products[2]!.id });
    const next = await service.catalog.run('products');
    expect(next).toMatchObject({ sent: 2, deleted: 1 });
    const rug = await admin<{ fields: Array<{ name: string; value: unknown }> }>('/v1/catalog/vendure-products/items/product/2?locale=en');
    expect(rug.body.fields.find((f) => f.name === 'title')?.value).toBe('Wool Rug XL');
    expect((await admin('/v1/catalog/vendure-products/items/product/3?locale=en')).status).toBe(404);
  });

  it('exports customers to their profiles with the customized fields', async () => {
    const result = await service.catalog.run('customers', 'full');
    expect(result.sent).toBe(customers.length);
    const customer = customers[1]!;
    const profile = await eventually(() => profileOf(dbId(customer.id)), 5_000, 'exported customer profile');
    expect(profile.traits).toMatchObject({ given_name: customer.firstName, email: customer.emailAddress, vendure_customer_id: dbId(customer.id) });
    expect(profile.traits.lastName).toMatch(/^[0-9a-f]{64}$/);
    expect(profile.traits.lastName).not.toBe(customer.lastName);
    expect(profile.traits).not.toHaveProperty('phoneNumber');
    expect(profile.traits).not.toHaveProperty('firstName');

    await shop.adminClient.query(ADMIN.updateCustomer, { input: { id: customer.id, firstName: 'Grace' } });
    const again = await service.catalog.run('customers');
    expect(again.sent).toBeGreaterThanOrEqual(1);
    const updated = await profileOf(dbId(customer.id));
    expect(updated?.traits.given_name).toBe('Grace');
  });

  it('imports the order history of the past five years in bulk, with progress', async () => {
    const customer = customers[1]!;
    await shop.shopClient.asUserWithCredentials(customer.emailAddress, 'test');
    const rug = variants.find((v) => v.sku === 'RUG-1')!;
    const lamp = variants.find((v) => v.sku === 'LAMP-1')!;
    const threeYears = await placeOrder(shop, [{ variantId: rug.id, quantity: 1 }]);
    const sixYears = await placeOrder(shop, [{ variantId: lamp.id, quantity: 1 }]);
    // Backdate them, as if they were placed long before the plugin was installed.
    const orders = shop.server.app.get(TransactionalConnection).rawConnection.getRepository(Order);
    const year = 365 * 24 * 3600 * 1000;
    const threeYearsAgo = new Date(Date.now() - 3 * year);
    await orders.update({ code: threeYears.code }, { orderPlacedAt: threeYearsAgo });
    await orders.update({ code: sixYears.code }, { orderPlacedAt: new Date(Date.now() - 6 * year) });

    const progress: Array<{ done: number; total: number }> = [];
    const result = await service.importOrderHistory({ chunkSize: 1, onProgress: (p) => progress.push({ done: p.done, total: p.total }) });
    // The first test's order and the three-year-old one; the six-year-old one is outside the window.
    expect(result).toMatchObject({ total: 2, sent: 2, errors: 0 });
    expect(progress).toEqual([
      { done: 1, total: 2 },
      { done: 2, total: 2 },
    ]);
    const profile = (await profileOf(dbId(customer.id)))!;
    const placed = (await eventsOf(profile.id)).filter((e) => e.name === 'Order Placed');
    const imported = placed.find((e) => e.message.properties?.order_id === threeYears.code);
    expect(imported?.message.properties).toMatchObject({ imported: true, products: [{ sku: 'RUG-1', quantity: 1 }] });
    expect(imported!.timestamp).toBe(threeYearsAgo.toISOString());
    expect(placed.some((e) => e.message.properties?.order_id === sixYears.code)).toBe(false);

    // A second run is a no-op at Attune.
    const again = await service.importOrderHistory();
    expect(again).toMatchObject({ total: 2, accepted: 0 });
  });

  it('maps the later life of orders: shipped, refunded and cancelled', async () => {
    const customer = customers[2]!;
    await shop.shopClient.asUserWithCredentials(customer.emailAddress, 'test');
    const lamp = variants.find((v) => v.sku === 'LAMP-1')!;
    const shipped = await placeOrder(shop, [{ variantId: lamp.id, quantity: 1 }]);
    const cancelled = await placeOrder(shop, [{ variantId: lamp.id, quantity: 3 }]);
    const a = shop.adminClient;
    const { order } = await a.query(ADMIN.order, { id: shipped.id });
    const { addFulfillmentToOrder: fulfillment } = await a.query(ADMIN.fulfill, {
      input: {
        lines: [{ orderLineId: order.lines[0].id, quantity: 1 }],
        handler: { code: 'manual-fulfillment', arguments: [{ name: 'method', value: 'DHL' }, { name: 'trackingCode', value: 'TRACK-1' }] },
      },
    });
    expect(fulfillment.state).toBe('Pending');
    expect((await a.query(ADMIN.transitionFulfillment, { id: fulfillment.id, state: 'Shipped' })).transitionFulfillmentToState.state).toBe('Shipped');
    const { refundOrder: refund } = await a.query(ADMIN.refund, { input: { paymentId: order.payments[0].id, amount: 1000, shipping: 0, adjustment: 0, reason: 'scratched' } });
    expect(refund.state).toBe('Settled');
    const { cancelOrder } = await a.query(ADMIN.cancel, { input: { orderId: cancelled.id, reason: 'changed mind', cancelShipping: true } });
    expect(cancelOrder.state).toBe('Cancelled');

    const events = await eventually(
      async () => {
        const p = await profileOf(dbId(customer.id));
        if (!p) return null;
        const e = await eventsOf(p.id);
        const names = e.map((x) => x.name);
        return ['Order Shipped', 'Order Refunded', 'Order Cancelled'].every((n) => names.includes(n)) ? e : null;
      },
      15_000,
      'Order Shipped, Order Refunded and Order Cancelled at Attune',
    );
    const props = (name: string) => events.find((e) => e.name === name)?.message.properties;
    expect(props('Order Shipped')).toMatchObject({ order_id: shipped.code, shipment_id: dbId(fulfillment.id), carrier: 'DHL', tracking_number: 'TRACK-1' });
    expect(props('Order Refunded')).toMatchObject({ order_id: shipped.code, total: 10, returned: false, reason: 'scratched' });
    expect(props('Order Cancelled')).toMatchObject({ order_id: cancelled.code, reason: 'changed mind', products: [{ sku: 'LAMP-1', quantity: 3 }] });
  });

  it('keeps calls in the outbox while Attune is unreachable and delivers them when it is back', async () => {
    const customer = customers[2]!;
    const port = attune.port;
    await attune.close();
    await shop.adminClient.query(ADMIN.updateCustomer, { input: { id: customer.id, lastName: 'Hopper' } });
    const pending = await eventually(async () => {
      const p = await service.delivery.pending();
      return p.due > 0 ? p : null;
    }, 5_000, 'an entry waiting in the outbox');
    expect(pending.failed).toBe(0);
    // An export started while Attune is down fails at its first batch and keeps its checkpoint.
    await expect(service.catalog.run('products', 'full')).rejects.toThrow(/no answer from/);
    const { startServer } = await import('@attune/server');
    const { silentLogger } = await import('@attune/core');
    attune = await startServer({ port, host: '127.0.0.1', dataDir: attuneDir, secretKey: 'sk_vendure_test_0123456789abcdef', writeKey: WRITE_KEY, logger: silentLogger, externalIds: ['vendure_customer_id'], webhookHosts: { allowHosts: ['127.0.0.1'] } });
    const events = await eventually(
      async () => {
        const p = await profileOf(dbId(customer.id));
        if (!p) return null;
        const e = await eventsOf(p.id);
        return e.some((x) => x.name === 'Account Updated') ? e : null;
      },
      20_000,
      'Account Updated delivered after Attune came back',
    );
    expect(events.find((e) => e.name === 'Account Updated')?.message.properties).toMatchObject({ email: customer.emailAddress });
    // The next run resumes the interrupted full run (same run, from its checkpoint) and completes it.
    const resumed = await service.catalog.run('products');
    expect(resumed).toMatchObject({ resumed: true, mode: 'full', complete: true, items: 3, deleted: 1 });
    // The outbox row goes once the plugin has read Attune's answer, a moment after Attune stored the call.
    const drained = await eventually(
      async () => {
        const p = await service.delivery.pending();
        return p.due === 0 && p.failed === 0 ? p : null;
      },
      10_000,
      'the outbox drained',
    );
    expect(drained).toEqual({ due: 0, failed: 0 });
  });
});
