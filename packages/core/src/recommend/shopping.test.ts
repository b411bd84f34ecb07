import { describe, expect, it } from 'vitest';
import type { Message } from '../protocol/segment.ts';
import type { StoredEvent } from '../store.ts';
import { dayOf, RecommendDeltas } from './deltas.ts';
import { emptyShopping, mergeShopping, PAIR_WINDOW_ITEMS, PAIR_WINDOW_MS, productRef, RECENT_VIEWS, recordShopping, type ShoppingState } from './shopping.ts';

const T = Date.UTC(2026, 0, 1);
let n = 0;
function event(name: string, properties: Record<string, unknown>, at: number): StoredEvent {
  const message = { type: 'track', event: name, properties, messageId: `m${++n}`, timestamp: new Date(at).toISOString(), receivedAt: new Date(at).toISOString(), context: {}, anonymousId: 'a' } as unknown as Message;
  return { messageId: `m${n}`, profileId: 'p', type: 'track', name, timestamp: at, receivedAt: at, message };
}

describe('recordShopping', () => {
  it('pairs a new view with the latest distinct views inside the window, once', () => {
    const c: { shopping?: ShoppingState } = {};
    const d = new RecommendDeltas();
    for (let i = 0; i < 15; i++) recordShopping(c, event('Product Viewed', { product_id: `p${i}`, category: 'Shoes', price: 50 }, T + i * 60_000), true, d);
    const pairs = d.writes().pairs;
    // Each view pairs with at most PAIR_WINDOW_ITEMS earlier ones, in both directions.
    const fromP14 = pairs.filter((p) => p.kind === 'view' && p.a === 'p14').map((p) => p.b);
    expect(fromP14).toHaveLength(PAIR_WINDOW_ITEMS);
    expect(fromP14).not.toContain('p0');
    expect(pairs.find((p) => p.a === 'p0' && p.b === 'p1')).toEqual({ kind: 'view', a: 'p0', b: 'p1', n: 1 });
    // Viewing p3 again moves it to the front without new pairs.
    const before = d.writes().pairs.length;
    recordShopping(c, event('Product Viewed', { product_id: 'p3' }, T + 20 * 60_000), true, d);
    expect(d.writes().pairs.length).toBe(before);
    expect(c.shopping?.views[0]?.[0]).toBe('p3');
    expect(c.shopping?.categories).toEqual({ Shoes: 15 });
    expect(c.shopping?.price[0]).toBe(15);
    expect(d.writes().items.find((i) => i.id === 'p3')).toMatchObject({ views: 2, category: 'Shoes', price: 50 });
    expect(d.writes().days.find((x) => x.id === 'p3')).toEqual({ id: 'p3', day: dayOf(T), views: 2, carts: 0, purchases: 0 });
  });

  it('does not pair views further apart than the window, and keeps the recent list bounded', () => {
    const c: { shopping?: ShoppingState } = {};
    const d = new RecommendDeltas();
    recordShopping(c, event('Product Viewed', { product_id: 'old' }, T), true, d);
    recordShopping(c, event('Product Viewed', { product_id: 'new' }, T + PAIR_WINDOW_MS + 1), true, d);
    expect(d.writes().pairs).toEqual([]);
    for (let i = 0; i < RECENT_VIEWS + 5; i++) recordShopping(c, event('Product Viewed', { sku: `s${i}` }, T + PAIR_WINDOW_MS + i), true, d);
    expect(c.shopping?.views).toHaveLength(RECENT_VIEWS);
  });

  it('counts an order once, pairs its items with each other and with earlier purchases, and learns affinities', () => {
    const c: { shopping?: ShoppingState } = {};
    const d = new RecommendDeltas();
    recordShopping(c, event('Order Completed', { order_id: 'o1', products: [{ product_id: 'a', brand: 'Acme' }, { product_id: 'b' }, { product_id: 'a' }, { name: 'no id' }, 'junk'] }, T), true, d);
    // The same order reported by the back office does not count again.
    recordShopping(c, event('Order Placed', { order_id: 'o1', products: [{ product_id: 'a' }, { product_id: 'b' }] }, T), false, d);
    recordShopping(c, event('Order Completed', { order_id: 'o2', products: [{ product_id: 'c' }] }, T + 60_000), true, d);
    recordShopping(c, event('Product Added', { product_id: 'd', brand: 'Acme' }, T + 120_000), true, d);
    const w = d.writes();
    expect(w.items.map((i) => [i.id, i.purchases, i.carts])).toEqual([
      ['a', 1, 0],
      ['b', 1, 0],
      ['c', 1, 0],
      ['d', 0, 1],
    ]);
    expect(w.pairs.filter((p) => p.kind === 'buy').map((p) => `${p.a}-${p.b}`)).toEqual(['a-b', 'a-c', 'b-a', 'b-c', 'c-a', 'c-b']);
    expect(c.shopping?.bought.map((b) => b[0])).toEqual(['c', 'b', 'a']);
    expect(c.shopping?.brands).toEqual({ Acme: 5 + 3 });
  });

  it('takes purchases back for a cancelled order (once) and for returned items, on the day they come back', () => {
    const c: { shopping?: ShoppingState } = {};
    const d = new RecommendDeltas();
    recordShopping(c, event('Order Completed', { order_id: 'o1', products: [{ product_id: 'a' }, { product_id: 'b' }, { product_id: 'c' }] }, T), true, d);
    recordShopping(c, event('Order Completed', { order_id: 'o2', products: [{ product_id: 'a' }] }, T), true, d);
    const later = T + 3 * 86_400_000;
    // o2 is cancelled: its items come back; the same cancellation reported again does not count.
    recordShopping(c, event('Order Cancelled', { order_id: 'o2', products: [{ product_id: 'a' }, { product_id: 'a' }] }, later), false, d, true);
    recordShopping(c, event('Order Cancelled', { order_id: 'o2', products: [{ product_id: 'a' }] }, later), false, d, false);
    // One item of o1 is returned; a refund of money only (as a cancellation's refund) takes nothing back.
    recordShopping(c, event('Order Refunded', { order_id: 'o1', returned: true, products: [{ product_id: 'b' }] }, later), false, d);
    recordShopping(c, event('Order Refunded', { order_id: 'o1', returned: false, products: [{ product_id: 'c' }] }, later), false, d);
    // A refund that lists no products (an amount) says nothing about items.
    recordShopping(c, event('Order Refunded', { order_id: 'o1', total: 10 }, later), false, d);
    const w = d.writes();
    expect(w.items.map((i) => [i.id, i.purchases])).toEqual([
      ['a', 1],
      ['b', 0],
      ['c', 1],
    ]);
    expect(w.days.filter((x) => x.day === dayOf(later)).map((x) => [x.id, x.purchases])).toEqual([
      ['a', -1],
      ['b', -1],
    ]);
    // What the profile bought stays in its memory (it had the items in hand).
    expect(c.shopping?.bought.map((b) => b[0]).sort()).toEqual(['a', 'b', 'c']);
  });

  it('ignores events without a product and other event names', () => {
    const c: { shopping?: ShoppingState } = {};
    const d = new RecommendDeltas();
    recordShopping(c, event('Product Viewed', { name: 'no id' }, T), true, d);
    recordShopping(c, event('Signed In', {}, T), true, d);
    recordShopping(c, event('Order Completed', { order_id: 'x' }, T), true, d);
    expect(c.shopping).toBeUndefined();
    expect(d.empty).toBe(true);
  });
});

describe('productRef', () => {
  it('reads product_id (numbers too), else sku, with valid attributes only', () => {
    expect(productRef({ product_id: 42, category: 'A', brand: '', price: -1, name: 'N' })).toEqual({ id: '42', category: 'A', name: 'N' });
    expect(productRef({ sku: 'S-1', price: 9.5 })).toEqual({ id: 'S-1', price: 9.5 });
    expect(productRef({ product_id: '' })).toBeNull();
    expect(productRef({ product_id: 'x'.repeat(201) })).toBeNull();
  });
});

describe('mergeShopping', () => {
  it('unions recent items by time and adds affinities', () => {
    const a = { shopping: { ...emptyShopping(), views: [['p1', 10], ['p2', 5]] as Array<[string, number]>, categories: { Shoes: 2 }, price: [1, 2, 4] as [number, number, number] } };
    const b = { shopping: { ...emptyShopping(), views: [['p2', 20], ['p3', 1]] as Array<[string, number]>, categories: { Shoes: 1, Hats: 1 }, price: [1, 1, 1] as [number, number, number] } };
    mergeShopping(a, b);
    expect(a.shopping.views).toEqual([
      ['p2', 20],
      ['p1', 10],
      ['p3', 1],
    ]);
    expect(a.shopping.categories).toEqual({ Shoes: 3, Hats: 1 });
    expect(a.shopping.price).toEqual([2, 3, 5]);
    const empty: { shopping?: ShoppingState } = {};
    mergeShopping(empty, b);
    expect(empty.shopping).toBe(b.shopping);
  });
});
