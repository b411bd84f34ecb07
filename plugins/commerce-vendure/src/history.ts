import { type AttuneClient, type OrderHistoryStatus, orderHistoryRow, orderHistorySince } from '@attune/core';
import { Order, type TransactionalConnection } from '@vendure/core';
import { MoreThanOrEqual } from 'typeorm';
import { ORDER_RELATIONS, translateNames } from './events.ts';
import { toOrder } from './translate.ts';

export interface OrderHistoryImportOptions {
  /** ISO-8601; default five years ago. */
  since?: string;
  /** Orders per request to /v1/orders/import. Default 500. */
  chunkSize?: number;
  onProgress?: (progress: { done: number; total: number; accepted: number; duplicates: number }) => void;
  signal?: AbortSignal;
}

export interface OrderHistoryImportResult {
  total: number;
  sent: number;
  accepted: number;
  duplicates: number;
  errors: number;
  durationMs: number;
}

function statusOf(order: Order): OrderHistoryStatus {
  if (order.state === 'Cancelled') return 'cancelled';
  return 'completed';
}

/**
 * Sends the placed orders of the window (default: the past five years) to Attune's
 * order-history import, in chunks, oldest first, reporting progress after each. Each order
 * becomes an `Order Placed` at its own time; order ids make a re-run a no-op, so an
 * interrupted import is simply run again.
 */
export async function importOrderHistory(connection: TransactionalConnection, client: AttuneClient, options: OrderHistoryImportOptions = {}): Promise<OrderHistoryImportResult> {
  const started = Date.now();
  const since = new Date(options.since ?? orderHistorySince(started));
  if (Number.isNaN(since.getTime())) throw new Error(`order history import: since "${options.since}" is not an ISO-8601 date`);
  const chunkSize = options.chunkSize ?? 500;
  const repo = connection.rawConnection.getRepository(Order);
  const where = { active: false, orderPlacedAt: MoreThanOrEqual(since) };
  const total = await repo.count({ where });
  const result: OrderHistoryImportResult = { total, sent: 0, accepted: 0, duplicates: 0, errors: 0, durationMs: 0 };
  // Offset pages over a stable order: orders placed during the import sort after the window's end.
  for (let offset = 0; offset < total; offset += chunkSize) {
    if (options.signal?.aborted) break;
    const orders = await repo.find({ where, relations: ORDER_RELATIONS, order: { orderPlacedAt: 'ASC', id: 'ASC' }, skip: offset, take: chunkSize });
    if (orders.length === 0) break;
    for (const o of orders) translateNames(o);
    const rows = orders.map((o) => orderHistoryRow(toOrder(o, 'back_office'), statusOf(o)));
    const answer = await client.importOrders(rows);
    result.sent += rows.length;
    result.accepted += answer.accepted;
    result.duplicates += answer.duplicates;
    result.errors += answer.errorCount;
    options.onProgress?.({ done: result.sent, total, accepted: result.accepted, duplicates: result.duplicates });
  }
  result.durationMs = Date.now() - started;
  return result;
}
