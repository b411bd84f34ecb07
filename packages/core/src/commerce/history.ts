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

export interface OrderHistoryImportOptions {
  /** ISO-8601; default five years ago. */
  since?: string;
  /** Orders per request to /v1/orders/import. Default 500. */
  chunkSize?: number;
  onProgress?: (progress: { done: number; total: number; accepted: number; duplicates: number }) => void;
  /** Stops between chunks (an AbortSignal fits). */
  signal?: { readonly aborted: boolean };
}

export interface OrderHistoryImportResult {
  total: number;
  sent: number;
  accepted: number;
  duplicates: number;
  errors: number;
  durationMs: number;
}

/**
 * The chunked import loop every commerce adapter runs: `page(offset, limit)` reads the backend's
 * orders of the window in a stable order (oldest first) already as rows; each chunk goes to
 * `send` (the client's importOrders), with progress after each. Order ids make a re-run a no-op.
 */
export async function importHistoryInChunks(input: {
  total: number;
  chunkSize: number;
  page: (offset: number, limit: number) => Promise<OrderHistoryRowInput[]>;
  send: (rows: OrderHistoryRowInput[]) => Promise<{ accepted: number; duplicates: number; errorCount: number }>;
  options: Pick<OrderHistoryImportOptions, 'onProgress' | 'signal'>;
  started: number;
  now?: () => number;
}): Promise<OrderHistoryImportResult> {
  const result: OrderHistoryImportResult = { total: input.total, sent: 0, accepted: 0, duplicates: 0, errors: 0, durationMs: 0 };
  for (let offset = 0; offset < input.total; offset += input.chunkSize) {
    if (input.options.signal?.aborted) break;
    const rows = await input.page(offset, input.chunkSize);
    if (rows.length === 0) break;
    const answer = await input.send(rows);
    result.sent += rows.length;
    result.accepted += answer.accepted;
    result.duplicates += answer.duplicates;
    result.errors += answer.errorCount;
    input.options.onProgress?.({ done: result.sent, total: input.total, accepted: result.accepted, duplicates: result.duplicates });
  }
  result.durationMs = (input.now ?? (() => Date.now()))() - input.started;
  return result;
}
