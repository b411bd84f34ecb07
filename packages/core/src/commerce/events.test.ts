import { describe, expect, it } from 'vitest';
import { AttuneError } from '../errors.ts';
import { extractIdentifiers } from '../identity/identifiers.ts';
import { parseBatchOrThrow } from '../protocol/parse.ts';
import { createCommerceMapper, customerExportCalls } from './events.ts';
import type { CommerceOrder } from './shapes.ts';
import { fromMinorUnits } from './shapes.ts';

const mapper = createCommerceMapper({ source: 'shop' });
const parseOptions = { receivedAt: Date.parse('2026-11-01T12:00:00Z'), newId: () => 'generated' };
const identity = { externalIds: ['shop_customer_id', 'crm_id'], limits: { userId: 1 }, traitStrategies: {} };

const order: CommerceOrder = {
  id: 42,
  code: 'ORD-42',
  customer: { id: 7, email: 'Ada@Example.com', firstName: 'Ada', externalIds: { crm_id: 'C-1' } },
  anonymousId: 'anon-1',
  currency: 'EUR',
  total: 119,
  subtotal: 100,
  shipping: 5,
  tax: 14,
  coupons: ['WELCOME'],
  lines: [
    { productId: 'p1', variantId: 'v1', sku: 'SKU-1', name: 'Lamp', price: 40, quantity: 2, category: 'Lighting' },
    { productId: 'p2', name: 'Rug', price: 20, quantity: 1 },
  ],
  placedAt: '2026-10-30T10:00:00.000Z',
};

describe('commerce mapper', () => {
  it('maps a storefront order to Order Completed with its products, carrying every identifier of the customer', () => {
    const [call] = mapper.order({ kind: 'placed', order, at: '2026-10-30T10:00:00.000Z' });
    expect(call).toMatchObject({
      type: 'track',
      event: 'Order Completed',
      messageId: 'shop:order:42:placed',
      userId: '7',
      anonymousId: 'anon-1',
      properties: {
        order_id: 'ORD-42',
        total: 119,
        revenue: 100,
        currency: 'EUR',
        coupon: 'WELCOME',
        products: [
          { product_id: 'p1', sku: 'SKU-1', name: 'Lamp', price: 40, quantity: 2, category: 'Lighting' },
          { product_id: 'p2', name: 'Rug', price: 20, quantity: 1 },
        ],
      },
    });
    const [message] = parseBatchOrThrow({ batch: [call] }, parseOptions);
    expect(extractIdentifiers(message!, identity)).toEqual([
      { type: 'userId', value: '7' },
      { type: 'shop_customer_id', value: '7' },
      { type: 'crm_id', value: 'C-1' },
      { type: 'email', value: 'ada@example.com' },
      { type: 'anonymousId', value: 'anon-1' },
    ]);
  });

  it('maps a back-office order to Order Placed, and the later life of an order to its events', () => {
    const at = '2026-10-31T09:00:00.000Z';
    const calls = [
      ...mapper.order({ kind: 'placed', order: { ...order, origin: 'back_office' }, at }),
      ...mapper.order({ kind: 'shipped', order, at, shipment: { id: 's1', carrier: 'DHL', trackingNumber: 'T-9' } }),
      ...mapper.order({ kind: 'cancelled', order, at, reason: 'customer request' }),
      ...mapper.order({ kind: 'refunded', order, at, refund: { id: 'r1', amount: 40, returned: true, reason: 'broken' } }),
    ];
    expect(calls.map((c) => [c.event, c.messageId])).toEqual([
      ['Order Placed', 'shop:order:42:placed'],
      ['Order Shipped', 'shop:order:42:shipped:s1'],
      ['Order Cancelled', 'shop:order:42:cancelled'],
      ['Order Refunded', 'shop:order:42:refunded:r1'],
    ]);
    expect(calls[1]?.properties).toMatchObject({ order_id: 'ORD-42', shipment_id: 's1', carrier: 'DHL', tracking_number: 'T-9' });
    expect(calls[3]?.properties).toMatchObject({ total: 40, returned: true, reason: 'broken' });
    expect(parseBatchOrThrow({ batch: calls }, parseOptions)).toHaveLength(4);
  });

  it('maps server-side cart changes; a guest cart without a storefront id gets an id of its own', () => {
    const cart = { id: 'c1', currency: 'EUR', total: 40, lines: [{ productId: 'p1', price: 40, quantity: 1 }] };
    const added = mapper.cart({ kind: 'added', cart, line: { productId: 'p1', variantId: 'v1', price: 40, quantity: 1 }, at: '2026-10-30T09:00:00.000Z' });
    const viewed = mapper.cart({ kind: 'viewed', cart: { ...cart, anonymousId: 'anon-2' }, at: '2026-10-30T09:01:00.000Z' });
    expect(added[0]).toMatchObject({ event: 'Product Added', anonymousId: 'shop-cart:c1', properties: { cart_id: 'c1', product_id: 'p1', quantity: 1 } });
    expect(viewed[0]).toMatchObject({ event: 'Cart Viewed', anonymousId: 'anon-2', properties: { products: [{ product_id: 'p1' }] } });
    expect(parseBatchOrThrow({ batch: [...added, ...viewed] }, parseOptions)).toHaveLength(2);
    expect(() => mapper.cart({ kind: 'removed', cart, at: '2026-10-30T09:00:00.000Z' })).toThrow('needs the line (cart c1)');
  });

  it('maps customer accounts to identify + Account Created/Updated/Deleted', () => {
    const customer = { id: 7, email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace', traits: { groups: ['vip'] }, updatedAt: '2026-10-02T00:00:00.000Z' };
    const created = mapper.customer({ kind: 'created', customer, at: '2026-10-01T00:00:00.000Z' });
    const updated = mapper.customer({ kind: 'updated', customer, at: '2026-10-02T00:00:00.000Z' });
    const deleted = mapper.customer({ kind: 'deleted', customer, at: '2026-10-03T00:00:00.000Z' });
    expect(created.map((c) => c.type === 'identify' ? 'identify' : c.event)).toEqual(['identify', 'Account Created']);
    expect(created[0]).toMatchObject({ userId: '7', traits: { email: 'ada@example.com', first_name: 'Ada', last_name: 'Lovelace', shop_customer_id: '7', groups: ['vip'] } });
    expect(updated[1]).toMatchObject({ event: 'Account Updated', messageId: 'shop:customer:7:updated:2026-10-02T00:00:00.000Z', properties: { email: 'ada@example.com' } });
    expect(deleted).toEqual([expect.objectContaining({ event: 'Account Deleted', userId: '7' })]);
    expect(parseBatchOrThrow({ batch: [...created, ...updated, ...deleted] }, parseOptions)).toHaveLength(5);
  });

  it('refuses a wrong translation with the path of the problem', () => {
    let error: unknown;
    try {
      mapper.order({ kind: 'placed', order: { ...order, currency: 'euro', lines: [{ productId: '', quantity: -1 }] }, at: 'yesterday' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AttuneError);
    const paths = (error as AttuneError).issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['order.currency', 'order.lines[0].productId', 'order.lines[0].quantity', 'at']));
    expect(() => createCommerceMapper({ source: 'My Shop' })).toThrow('must be snake_case');
  });

  it('converts minor units by the currency exponent', () => {
    expect(fromMinorUnits(12345, 'EUR')).toBe(123.45);
    expect(fromMinorUnits(12345, 'jpy')).toBe(12345);
    expect(fromMinorUnits(12345, 'KWD')).toBe(12.345);
  });
});

describe('customer export calls', () => {
  it('turns exported customers into identify calls with the exported fields as traits, tombstones into Account Deleted', () => {
    const calls = customerExportCalls(
      [
        { id: '7', updatedAt: '2026-10-01T00:00:00.000Z', fields: [{ name: 'email', value: 'ada@example.com' }, { name: 'given_name', value: 'Ada' }] },
        { id: '8', updatedAt: '2026-10-02T00:00:00.000Z', deleted: true, fields: [] },
      ],
      'shop',
    );
    expect(calls[0]).toMatchObject({ type: 'identify', userId: '7', messageId: 'shop:customer-export:7:2026-10-01T00:00:00.000Z', traits: { email: 'ada@example.com', given_name: 'Ada', shop_customer_id: '7' } });
    expect(calls[1]).toMatchObject({ type: 'track', event: 'Account Deleted', userId: '8' });
    const [identify] = parseBatchOrThrow({ batch: calls }, parseOptions);
    expect(extractIdentifiers(identify!, identity)).toEqual([
      { type: 'userId', value: '7' },
      { type: 'shop_customer_id', value: '7' },
      { type: 'email', value: 'ada@example.com' },
    ]);
  });
});
