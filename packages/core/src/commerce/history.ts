import type { OrderHistoryRow } from '../protocol/records.ts';
import { productProperties } from './events.ts';
import { type CommerceOrder, commerceOrderSchema, parseCommerce } from './shapes.ts';

export type OrderHistoryStatus = 'completed' | 'cancelled' | 'refunded';

/** Bulk order-history imports go this far back by default. */
export const ORDER_HISTORY_YEARS = 5;

/**
 * A past order as a row of POST /v1/orders/import (each becomes an `Order Placed` at the
 * order's own time; the order id makes a re-import a no-op). An order never placed is refused.
 */
export function orderHistoryRow(raw: CommerceOrder, status: OrderHistoryStatus = 'completed'): OrderHistoryRowInput {
  const order = parseCommerce(commerceOrderSchema, raw, 'order');
  if (!order.placedAt) throw new Error(`order ${order.id}: not placed (no placedAt), so not part of the order history`);
  const customer = order.customer;
  return {
    order_id: order.code ?? order.id,
    ...(customer ? { userId: customer.id } : {}),
    ...(customer?.email ? { email: customer.email } : {}),
    ...(!customer && order.anonymousId ? { anonymousId: order.anonymousId } : {}),
    ...(!customer && !order.anonymousId ? { anonymousId: `order:${order.id}` } : {}),
    timestamp: order.placedAt,
    total: order.total,
    revenue: order.subtotal ?? order.total,
    currency: order.currency,
    status,
    products: order.lines.map(productProperties),
  };
}

/** The input shape of an order-history row (what goes over the wire). */
export type OrderHistoryRowInput = Omit<OrderHistoryRow, 'order_id'> & { order_id: string };

/** The start of the default import window: `years` before `now`, as ISO-8601. */
export function orderHistorySince(now: number, years = ORDER_HISTORY_YEARS): string {
  const d = new Date(now);
  d.setUTCFullYear(d.getUTCFullYear() - years);
  return d.toISOString();
}
