import { DEMO_CURRENCY, type DemoProduct, productProperties } from './catalog.ts';
import type { Random } from './random.ts';
import { type OrderOutcome, TIME } from './types.ts';

/** Order payloads and what the back office reports about an order after it was placed. */

export interface CartLine {
  product: DemoProduct;
  quantity: number;
}

export interface Order {
  orderId: string;
  /** When the shopper placed it, epoch ms. */
  at: number;
  lines: CartLine[];
  props: Record<string, unknown>;
  /** Who the back office knows: the customer's userId, or none for a guest. */
  userId: string | null;
}

export interface FollowUp {
  event: 'Order Placed' | 'Order Shipped' | 'Order Cancelled' | 'Order Refunded';
  properties: Record<string, unknown>;
  at: number;
}

/** A product in a list (search results, category page): the short form. */
export function listItem(p: DemoProduct, i: number): Record<string, unknown> {
  return { product_id: p.product_id, sku: p.sku, name: p.name, brand: p.brand, category: p.category, price: p.price, position: i + 1 };
}

export function cartItem(line: CartLine): Record<string, unknown> {
  return productProperties(line.product, { quantity: line.quantity });
}

/** Order totals as a shop computes them: prices include 19% VAT, free shipping from €75. */
export function orderTotals(lines: CartLine[], coupon: string | undefined, negotiatedDiscount = 0) {
  const list = lines.reduce((sum, l) => sum + l.product.price * l.quantity, 0);
  const subtotal = round2(list * (1 - negotiatedDiscount));
  const discount = coupon ? round2(subtotal * 0.1) : 0;
  const shipping = subtotal - discount >= 75 ? 0 : 4.95;
  const revenue = round2(subtotal - discount);
  const total = round2(revenue + shipping);
  const tax = round2(revenue - revenue / 1.19);
  return { total, subtotal, revenue, shipping, tax, discount, ...(coupon ? { coupon } : {}) };
}

/**
 * The order system's events for one order: Order Placed minutes later, then Order Cancelled
 * within hours or Order Shipped about a day later, and for some an Order Refunded (returned)
 * days after shipping. Nothing later than `now` is reported; with `forced`, the events are
 * pulled in before `now` so a short window still shows every outcome.
 */
export function orderFollowUps(order: Order, outcome: OrderOutcome, o: { rng: Random; now: number; forced: boolean }): FollowUp[] {
  const { rng, now } = o;
  const out: FollowUp[] = [];
  const placedAt = order.at + rng.int(1, 8) * TIME.MINUTE;
  if (placedAt >= now) return out;
  out.push({ event: 'Order Placed', properties: order.props, at: placedAt });
  if (outcome === 'cancelled') {
    const at = Math.min(placedAt + rng.int(1, 6) * TIME.HOUR, midpoint(placedAt, now));
    const reason = rng.pick(['customer request', 'payment failed', 'out of stock']);
    out.push({ event: 'Order Cancelled', properties: { ...order.props, reason }, at });
    return out;
  }
  let shippedAt = placedAt + rng.int(18 * 60, 30 * 60) * TIME.MINUTE;
  if (o.forced) shippedAt = Math.min(shippedAt, midpoint(placedAt, now));
  if (shippedAt >= now) return out;
  out.push({
    event: 'Order Shipped',
    properties: {
      order_id: order.orderId,
      shipment_id: `shp-${rng.hex(10)}`,
      carrier: rng.pick(['DHL', 'UPS', 'PostNL', 'DPD', 'La Poste']),
      tracking_number: rng.hex(16).toUpperCase(),
      products: order.lines.map(cartItem),
    },
    at: shippedAt,
  });
  if (outcome !== 'refunded') return out;
  let refundAt = shippedAt + rng.int(2 * 24, 10 * 24) * TIME.HOUR;
  if (o.forced) refundAt = Math.min(refundAt, midpoint(shippedAt, now));
  if (refundAt >= now) return out;
  // Half the items (at least one) come back.
  const returned = order.lines.slice(0, Math.max(1, Math.ceil(order.lines.length / 2)));
  out.push({
    event: 'Order Refunded',
    properties: {
      order_id: order.orderId,
      total: round2(returned.reduce((sum, l) => sum + l.product.price * l.quantity, 0)),
      currency: DEMO_CURRENCY,
      products: returned.map(cartItem),
      returned: true,
      reason: rng.pick(['wrong size', 'damaged', 'changed mind', 'not as described']),
    },
    at: refundAt,
  });
  return out;
}

function midpoint(a: number, b: number): number {
  return Math.floor((a + b) / 2);
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
