import { describe, expect, it } from 'vitest';
import type { Message } from '../protocol/segment.ts';
import type { StoredEvent } from '../store.ts';
import { applyEvent, channelOf, DEFAULT_SESSION_TIMEOUT_MS, deviceOf, mergeComputed, summarizeComputed } from './computed.ts';
import { emptyComputed } from './types.ts';

const MIN = 60_000;
function ev(type: string, ts: number, extra: Record<string, unknown> = {}): StoredEvent {
  const message = { type, messageId: `m${ts}`, timestamp: new Date(ts).toISOString(), receivedAt: '', context: {}, ...extra } as unknown as Message;
  const name = type === 'track' ? (extra.event as string) : type === 'page' ? 'Page Viewed' : type;
  return { messageId: message.messageId, profileId: 'p', type: message.type, name, timestamp: ts, receivedAt: ts, message };
}
const opts = { sessionTimeoutMs: DEFAULT_SESSION_TIMEOUT_MS, countsAsNewOrder: true, countsAsNewCancellation: true };

describe('computed traits', () => {
  it('counts sessions by 30 minutes of inactivity', () => {
    const c = emptyComputed();
    for (const t of [0, 10, 35, 100, 129, 200]) applyEvent(c, ev('page', t * MIN), opts);
    // 0,10,35 (gap 25) | 100,129 | 200
    expect(c.sessions).toBe(3);
    expect(c.eventCounts['Page Viewed']).toBe(6);
    expect(c.firstSeen).toBe(0);
    expect(c.lastSeen).toBe(200 * MIN);
  });

  it('keeps orders, revenue, refunds, cancellations, lifetime value and average order value', () => {
    const c = emptyComputed();
    applyEvent(c, ev('track', 1, { event: 'Order Completed', properties: { order_id: 'a', total: 100, currency: 'EUR' } }), opts);
    applyEvent(c, ev('track', 2, { event: 'Order Completed', properties: { order_id: 'b', products: [{ price: 20, quantity: 3 }] } }), opts);
    applyEvent(c, ev('track', 3, { event: 'Order Placed', properties: { order_id: 'b', total: 60 } }), { ...opts, countsAsNewOrder: false });
    applyEvent(c, ev('track', 4, { event: 'Order Refunded', properties: { order_id: 'a', total: 30 } }), opts);
    applyEvent(c, ev('track', 5, { event: 'Order Cancelled', properties: { order_id: 'b', total: 60 } }), opts);
    const s = summarizeComputed(c);
    expect(s).toMatchObject({ orderCount: 2, revenue: 160, refunded: 30, cancelled: 60, lifetimeValue: 70, averageOrderValue: 80, currency: 'EUR' });
    expect(s.lastOrderAt).toBe(new Date(2).toISOString());
  });

  it('ranks top categories and brands from product views', () => {
    const c = emptyComputed();
    const view = (category: string, brand: string, t: number) =>
      applyEvent(c, ev('track', t, { event: 'Product Viewed', properties: { product_id: 'p', category, brand } }), opts);
    view('Shoes', 'Acme', 1);
    view('Shoes', 'Zed', 2);
    view('Bags', 'Acme', 3);
    applyEvent(c, ev('track', 4, { event: 'Product List Viewed', properties: { category: 'Shoes' } }), opts);
    const s = summarizeComputed(c);
    expect(s.topCategories).toEqual([{ value: 'Shoes', views: 3 }, { value: 'Bags', views: 1 }]);
    expect(s.topBrands[0]).toEqual({ value: 'Acme', views: 2 });
  });

  it('merges exactly: the merge of two profiles equals one profile with all events', () => {
    const a = emptyComputed();
    const b = emptyComputed();
    const all = emptyComputed();
    const events = [
      ev('page', 0, { context: { userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile/15E148 Safari/604.1' } }),
      ev('track', 5 * MIN, { event: 'Product Viewed', properties: { product_id: 'x', category: 'Shoes' } }),
      ev('page', 300 * MIN, { context: { userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0 Safari/537.36' } }),
      ev('track', 301 * MIN, { event: 'Order Completed', properties: { order_id: 'o', total: 10 } }),
    ];
    for (const [i, e] of events.entries()) {
      applyEvent(i < 2 ? a : b, e, opts);
      applyEvent(all, e, opts);
    }
    mergeComputed(a, b);
    expect(summarizeComputed(a)).toEqual(summarizeComputed(all));
    expect(a.devices.map((d) => d.type).sort()).toEqual(['desktop', 'mobile']);
  });

  it('recognises devices and channels', () => {
    const iphone = ev('page', 1, { context: { userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1' } }).message;
    expect(deviceOf(iphone, 1)).toMatchObject({ type: 'mobile', os: 'iOS', browser: 'Safari' });
    const app = ev('screen', 1, { context: { app: { name: 'Shop' }, device: { id: 'dev-1', type: 'android' } } }).message;
    expect(deviceOf(app, 1)).toMatchObject({ key: 'dev-1', type: 'mobile' });
    expect(channelOf(app)).toBe('app');
    expect(channelOf(iphone)).toBe('web');
    expect(channelOf(ev('track', 1, { event: 'Order Shipped', properties: {} }).message)).toBe('back_office');
    expect(channelOf(ev('track', 1, { event: 'X', context: { channel: 'pos' } }).message)).toBe('store');
  });
});
