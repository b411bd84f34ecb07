import { type OrderHistoryStatus, orderHistoryRow, orderHistorySince } from '@attune/core';
import type { MedusaContainer } from '@medusajs/framework/types';
import { attuneRuntime, graph } from './runtime.ts';
import { type MedusaOrder, ORDER_FIELDS, toOrder } from './translate.ts';

export interface OrderHistoryImportOptions {
  /** ISO-8601; default five years ago. */
  since?: string;
  chunkSize?: number;
  onProgress?: (progress: { done: number; total: number; accepted: number; duplicates: number }) => void;
}

export interface OrderHistoryImportResult {
  total: number;
  sent: number;
  accepted: number;
  duplicates: number;
  errors: number;
  durationMs: number;
}

const statusOf = (o: MedusaOrder): OrderHistoryStatus => (o.status === 'canceled' ? 'cancelled' : 'completed');

/**
 * Sends the orders of the window (default: the past five years) to Attune's order-history
 * import, oldest first, in chunks, with progress. Re-running is a no-op at Attune (order ids).
 */
export async function importOrderHistory(container: MedusaContainer, options: OrderHistoryImportOptions = {}): Promise<OrderHistoryImportResult> {
  const started = Date.now();
  const since = options.since ?? orderHistorySince(started);
  if (Number.isNaN(Date.parse(since))) throw new Error(`order history import: since "${since}" is not an ISO-8601 date`);
  const chunkSize = options.chunkSize ?? 500;
  const { client } = attuneRuntime(container);
  const query = container.resolve('query') as { graph: (r: unknown) => Promise<{ data: unknown[]; metadata?: { count?: number } }> };
  const filters = { created_at: { $gte: since } };
  const first = await query.graph({ entity: 'order', fields: ['id'], filters, pagination: { take: 1, skip: 0 } });
  const total = first.metadata?.count ?? 0;
  const result: OrderHistoryImportResult = { total, sent: 0, accepted: 0, duplicates: 0, errors: 0, durationMs: 0 };
  for (let skip = 0; skip < total; skip += chunkSize) {
    const orders = await graph<MedusaOrder>(container, { entity: 'order', fields: ORDER_FIELDS, filters, pagination: { order: { created_at: 'ASC', id: 'ASC' }, skip, take: chunkSize } });
    if (orders.length === 0) break;
    const answer = await client.importOrders(orders.map((o) => orderHistoryRow(toOrder(o, 'back_office'), statusOf(o))));
    result.sent += orders.length;
    result.accepted += answer.accepted;
    result.duplicates += answer.duplicates;
    result.errors += answer.errorCount;
    options.onProgress?.({ done: result.sent, total, accepted: result.accepted, duplicates: result.duplicates });
  }
  result.durationMs = Date.now() - started;
  return result;
}
