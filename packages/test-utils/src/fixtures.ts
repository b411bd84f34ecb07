import {
  type AccountRecord,
  type ApiKeyRecord,
  type CommerceEventName,
  createEngine,
  type Engine,
  type EngineOptions,
  type Message,
  type ProfileRecord,
  type Store,
  type StoredEvent,
} from '@attune/core';

export const DAY = 24 * 60 * 60 * 1000;
export const MINUTE = 60 * 1000;

export const UA_DESKTOP_CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36';
export const UA_IPHONE_SAFARI =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

/** An engine on `store` with the real clock, as a server node runs it. */
export function engineOn(store: Store, options: Partial<EngineOptions> = {}): Engine {
  return createEngine({ store, clock: { now: () => Date.now(), defer: (f) => setImmediate(f) }, ...options });
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A profile with every field set, nested values included, to check round trips. */
export function richProfile(id: string, at = Date.UTC(2025, 0, 15, 12)): ProfileRecord {
  return {
    id,
    createdAt: at,
    updatedAt: at + 5 * MINUTE,
    mergedInto: null,
    traits: {
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      age: 36,
      ratio: 0.1 + 0.2,
      vip: true,
      nothing: null,
      tags: ['a', 'b', { nested: [1, 2, 3] }],
      address: { city: 'Zürich', zip: '8001', geo: { lat: 47.37, lon: 8.54 } },
      emoji: 'naïve café 🍰',
    },
    traitMeta: {
      email: { at },
      name: { at: at + 1 },
      age: { at, once: true },
      ratio: { at },
      vip: { at },
      nothing: { at },
      tags: { at },
      address: { at },
      emoji: { at },
    },
    computed: {
      eventCounts: { 'Page Viewed': 3, 'Product Viewed': 2, 'Order Completed': 1 },
      firstSeen: at - DAY,
      lastSeen: at,
      sessions: 2,
      lastActivityAt: at,
      orders: 1,
      revenue: 129.99,
      refunded: 10.5,
      cancelled: 0,
      lastOrderAt: at - 3 * MINUTE,
      currency: 'EUR',
      categoryViews: { Shoes: 2, 'Bags & Cases': 1 },
      brandViews: { Acme: 2 },
      devices: [
        { key: 'phone-1', type: 'mobile', os: 'iOS', browser: 'Safari', lastSeen: at },
        { key: 'desktop|Windows|Chrome', type: 'desktop', os: 'Windows', browser: 'Chrome', lastSeen: at - DAY },
      ],
      channels: ['web', 'app'],
      accountDeletedAt: null,
    },
    accountIds: ['acme', 'globex'],
    identityCounts: { userId: 1, email: 1, anonymousId: 2 },
    audiences: { gold: at - 1000, 'cart-abandoners': at },
    counters: { 'k1': { entries: [{ t: at - 5000, p: { total: 12.5, products: [{ category: 'Shoes' }] } }, { t: at }], dropped: 3 } },
  };
}

/** A stored track event for store-level tests. */
export function storedEvent(profileId: string, messageId: string, timestamp: number, name = 'Thing Happened'): StoredEvent {
  const message = {
    type: 'track',
    event: name,
    messageId,
    userId: `user-of-${profileId}`,
    timestamp: iso(timestamp),
    receivedAt: iso(timestamp + 1000),
    properties: { n: 1, list: [1, 'two', { three: 3 }], text: 'ünïcödé "quoted" \\ back' },
    context: { library: { name: 'test', version: '1.0' } },
  } as unknown as Message;
  return { messageId, profileId, type: 'track', name, timestamp, receivedAt: timestamp + 1000, message };
}

export function account(id: string, at: number, traits: Record<string, unknown> = {}): AccountRecord {
  return { id, createdAt: at, updatedAt: at, traits };
}

export function apiKey(id: string, createdAt: number, kind: ApiKeyRecord['kind'] = 'write'): ApiKeyRecord {
  return {
    id,
    kind,
    name: `key ${id}`,
    hash: `${id.padEnd(8, '0')}`.repeat(8).slice(0, 64),
    prefix: `atk_${id.slice(0, 4)}`,
    createdAt,
    revokedAt: null,
  };
}

/** Every event of a profile, newest first, following cursors. */
export async function allEvents(engine: Engine, profileId: string): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await engine.listEvents(profileId, { limit: 1000, ...(cursor ? { cursor } : {}) });
    if (!page) throw new Error(`profile ${profileId} not found`);
    out.push(...page.events);
    if (page.nextCursor === null) return out;
    cursor = page.nextCursor;
  }
}

/** JavaScript's string order on ASCII ids is byte order, which both stores sort by. */
export function newestFirst(a: StoredEvent, b: StoredEvent): number {
  if (a.timestamp !== b.timestamp) return b.timestamp - a.timestamp;
  return a.messageId < b.messageId ? 1 : a.messageId > b.messageId ? -1 : 0;
}

/** Valid properties for every event of the commerce taxonomy; the type makes the table complete. */
export const COMMERCE_PROPERTIES: Record<CommerceEventName, Record<string, unknown>> = {
  'Page Viewed': { path: '/sale', url: 'https://shop.test/sale', title: 'Sale', referrer: 'https://search.test/' },
  'Products Searched': { query: 'red shoes', results: 12 },
  'Product List Viewed': { list_id: 'summer', category: 'Shoes', products: [{ product_id: 'p-1', price: 10 }] },
  'Product Viewed': { product_id: 501, sku: 'SKU-501', category: 'Shoes', brand: 'Acme', price: 89.9 },
  'Product Added': { product_id: '501', quantity: 2, price: 89.9, cart_id: 'cart-1' },
  'Product Removed': { sku: 'SKU-501', cart_id: 'cart-1' },
  'Cart Viewed': { cart_id: 'cart-1', products: [{ product_id: '501', quantity: 1 }] },
  'Signed In': { method: 'password' },
  'Signed Out': {},
  'Checkout Started': { checkout_id: 'co-1', value: 179.8, currency: 'EUR', products: [{ product_id: '501', quantity: 2 }] },
  'Order Completed': { order_id: 'o-100', total: 120, currency: 'EUR', products: [{ product_id: '501', price: 60, quantity: 2 }] },
  'Requisition List Created': { requisition_list_id: 'rl-1', name: 'Monthly' },
  'Product Added to Requisition List': { requisition_list_id: 'rl-1', product_id: '501' },
  'Product Removed from Requisition List': { requisition_list_id: 'rl-1', sku: 'SKU-501' },
  'Quote Accepted': { quote_id: 'q-1', total: 999, currency: 'EUR' },
  'Order Placed': { order_id: 'o-200', total: 80, currency: 'EUR' },
  'Order Shipped': { order_id: 'o-100', carrier: 'DHL', tracking_number: '00340434' },
  'Order Refunded': { order_id: 'o-100', total: 20, returned: true, reason: 'damaged' },
  'Order Cancelled': { order_id: 'o-200', total: 80, reason: 'changed mind' },
  'Account Created': { email: 'Shopper@Example.com', first_name: 'Sam', traits: { newsletter: true } },
  'Account Updated': { last_name: 'Shop' },
  'Account Deleted': { reason: 'asked to' },
};

/** A deterministic shuffle (mulberry32), so a failing order can be replayed. */
export function shuffled<T>(items: T[], seed: number): T[] {
  let a = seed;
  const random = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
