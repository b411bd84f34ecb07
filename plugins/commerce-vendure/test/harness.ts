import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@attune/core';
import { type StartedServer, startServer } from '@attune/server';
import { LanguageCode, mergeConfig, PaymentMethodHandler, type VendureConfig } from '@vendure/core';
import { createTestEnvironment, registerInitializer, SqljsInitializer, type TestEnvironment, testConfig } from '@vendure/testing';
import type { DocumentNode } from 'graphql';
import { gql } from 'graphql-tag';
import { type AttuneVendureOptions, AttunePlugin } from '../src/index.ts';
import { initialData } from './fixtures/initial-data.ts';

export const SECRET_KEY = 'sk_vendure_test_0123456789abcdef';
export const WRITE_KEY = 'wk_vendure_test_0123456789abcdef';

/** Settles at once: the shop's payment provider (Vendure needs one to place an order; there is no PSP here). */
export const testPaymentHandler = new PaymentMethodHandler({
  code: 'attune-test-payment',
  description: [{ languageCode: LanguageCode.en, value: 'Settles immediately' }],
  args: {},
  createPayment: (_ctx, _order, amount) => ({ amount, state: 'Settled' as const, transactionId: `tx-${Date.now()}` }),
  settlePayment: () => ({ success: true }),
  createRefund: () => ({ state: 'Settled' as const, transactionId: `refund-${Date.now()}` }),
});

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function startAttune(): Promise<{ attune: StartedServer; dataDir: string; admin: <T>(path: string, init?: RequestInit) => Promise<{ status: number; body: T }> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'attune-vendure-'));
  const attune = await startServer({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    secretKey: SECRET_KEY,
    writeKey: WRITE_KEY,
    logger: silentLogger,
    externalIds: ['vendure_customer_id'],
    // The shop's activation endpoint listens on loopback: listed, so webhooks may reach it.
    webhookHosts: { allowHosts: ['127.0.0.1'] },
    activationPollMs: 50,
    webhookBaseDelayMs: 100,
    audienceCheckMs: 100,
  });
  const admin = async <T>(path: string, init: RequestInit = {}) => {
    const res = await fetch(attune.url + path, { ...init, headers: { authorization: `Bearer ${SECRET_KEY}`, 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  };
  return { attune, dataDir, admin };
}

export interface Shop extends TestEnvironment {
  port: number;
  dataDir: string;
}

/** Vendure in-process on sql.js (@vendure/testing), with the plugin and a fresh populated database. */
export async function startVendure(port: number, plugin: AttuneVendureOptions): Promise<Shop> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vendure-sqljs-'));
  registerInitializer('sqljs', new SqljsInitializer(dataDir));
  const config: Required<VendureConfig> = mergeConfig(testConfig, {
    apiOptions: { port },
    paymentOptions: { paymentMethodHandlers: [testPaymentHandler] },
    plugins: [AttunePlugin.init(plugin)],
  });
  const env = createTestEnvironment(config);
  await env.server.init({ initialData, productsCsvPath: join(import.meta.dirname, 'fixtures', 'products.csv'), customerCount: 3, logging: false });
  await env.adminClient.asSuperAdmin();
  return { ...env, port, dataDir };
}

export async function stopVendure(shop: Shop | undefined): Promise<void> {
  if (!shop) return;
  await shop.server.destroy();
  rmSync(shop.dataDir, { recursive: true, force: true });
}

/** Waits until `check` returns something truthy (polling), for what happens in the background. */
export async function eventually<T>(check: () => Promise<T | null | undefined | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (error) {
      last = error;
    }
    if (Date.now() > until) throw new Error(`${what} not met in ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The database id behind an API id (the testing id strategy shows 1 as "T_1"). */
export function dbId(apiId: string): string {
  return apiId.replace(/^T_/, '');
}

const ORDER_FIELDS = `... on Order { id code state active totalWithTax lines { id quantity productVariant { id sku } } } ... on ErrorResult { errorCode message }`;

const SHOP: Record<'addItem' | 'removeLine' | 'setAddress' | 'shippingMethods' | 'setShipping' | 'transition' | 'pay' | 'setCustomFields', DocumentNode> = {
  addItem: gql`mutation ($id: ID!, $qty: Int!) { addItemToOrder(productVariantId: $id, quantity: $qty) { ${ORDER_FIELDS} } }`,
  removeLine: gql`mutation ($id: ID!) { removeOrderLine(orderLineId: $id) { ${ORDER_FIELDS} } }`,
  setAddress: gql`mutation ($input: CreateAddressInput!) { setOrderShippingAddress(input: $input) { ${ORDER_FIELDS} } }`,
  shippingMethods: gql`query { eligibleShippingMethods { id } }`,
  setShipping: gql`mutation ($ids: [ID!]!) { setOrderShippingMethod(shippingMethodId: $ids) { ${ORDER_FIELDS} } }`,
  transition: gql`mutation ($state: String!) { transitionOrderToState(state: $state) { ${ORDER_FIELDS} ... on OrderStateTransitionError { transitionError } } }`,
  pay: gql`mutation { addPaymentToOrder(input: { method: "attune-test-payment", metadata: {} }) { ${ORDER_FIELDS} } }`,
  setCustomFields: gql`mutation ($input: UpdateOrderInput!) { setOrderCustomFields(input: $input) { ${ORDER_FIELDS} } }`,
};

export const ADMIN: Record<
  'customers' | 'customer' | 'products' | 'deleteProduct' | 'updateProduct' | 'updateVariants' | 'updateCustomer' | 'order' | 'fulfill' | 'transitionFulfillment' | 'refund' | 'cancel',
  DocumentNode
> = {
  order: gql`query ($id: ID!) { order(id: $id) { id code state lines { id quantity } payments { id } } }`,
  fulfill: gql`mutation ($input: FulfillOrderInput!) { addFulfillmentToOrder(input: $input) { ... on Fulfillment { id state } ... on ErrorResult { errorCode message } } }`,
  transitionFulfillment: gql`mutation ($id: ID!, $state: String!) { transitionFulfillmentToState(id: $id, state: $state) { ... on Fulfillment { id state } ... on ErrorResult { errorCode message } } }`,
  refund: gql`mutation ($input: RefundOrderInput!) { refundOrder(input: $input) { ... on Refund { id state total } ... on ErrorResult { errorCode message } } }`,
  cancel: gql`mutation ($input: CancelOrderInput!) { cancelOrder(input: $input) { ... on Order { id state } ... on ErrorResult { errorCode message } } }`,
  customers: gql`query { customers(options: { sort: { id: ASC } }) { items { id emailAddress firstName lastName phoneNumber groups { id name } } } }`,
  customer: gql`query ($id: ID!) { customer(id: $id) { id groups { id name } } }`,
  products: gql`query { products(options: { sort: { id: ASC } }) { items { id name slug variants { id sku price } } } }`,
  deleteProduct: gql`mutation ($id: ID!) { deleteProduct(id: $id) { result } }`,
  updateProduct: gql`mutation ($input: UpdateProductInput!) { updateProduct(input: $input) { id } }`,
  updateVariants: gql`mutation ($input: [UpdateProductVariantInput!]!) { updateProductVariants(input: $input) { id price } }`,
  updateCustomer: gql`mutation ($input: UpdateCustomerInput!) { updateCustomer(input: $input) { ... on Customer { id } ... on ErrorResult { errorCode message } } }`,
};

type OrderResult = { id: string; code: string; state: string; errorCode?: string; message?: string; lines: Array<{ id: string }> };

function orderOf(result: Record<string, OrderResult>): OrderResult {
  const order = Object.values(result)[0] as OrderResult;
  if (order.errorCode) throw new Error(`${order.errorCode}: ${order.message}`);
  return order;
}

/** Places an order through the Shop API as the logged-in customer: items, address, shipping, payment. */
export async function placeOrder(shop: Shop, items: Array<{ variantId: string; quantity: number }>, anonymousId?: string): Promise<OrderResult> {
  const c = shop.shopClient;
  let order: OrderResult | undefined;
  for (const item of items) order = orderOf(await c.query(SHOP.addItem, { id: item.variantId, qty: item.quantity }));
  if (anonymousId) orderOf(await c.query(SHOP.setCustomFields, { input: { customFields: { attuneAnonymousId: anonymousId } } }));
  orderOf(await c.query(SHOP.setAddress, { input: { fullName: 'Ada Lovelace', streetLine1: 'Ring 1', city: 'Wien', postalCode: '1010', countryCode: 'AT' } }));
  const { eligibleShippingMethods } = await c.query(SHOP.shippingMethods);
  orderOf(await c.query(SHOP.setShipping, { ids: [eligibleShippingMethods[0].id] }));
  orderOf(await c.query(SHOP.transition, { state: 'ArrangingPayment' }));
  order = orderOf(await c.query(SHOP.pay));
  if (order.state !== 'PaymentSettled') throw new Error(`order ${order.code} is ${order.state}, not PaymentSettled`);
  return order;
}
