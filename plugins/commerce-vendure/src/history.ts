import { type AttuneClient, importHistoryInChunks, type OrderHistoryImportOptions, type OrderHistoryImportResult, type OrderHistoryStatus, orderHistoryRow, orderHistorySince } from '@attune/core';
import { Order, type TransactionalConnection } from '@vendure/core';
import { MoreThanOrEqual } from 'typeorm';
import { ORDER_RELATIONS, translateNames } from './events.ts';
import { toOrder } from './translate.ts';

export type { OrderHistoryImportOptions, OrderHistoryImportResult };

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
  // Offset pages over a stable order: orders placed during the import sort after the window's end.
  return importHistoryInChunks({
    total,
    chunkSize,
    started,
    options,
    send: (rows) => client.importOrders(rows),
    page: async (skip, take) => {
      const orders = await repo.find({ where, relations: ORDER_RELATIONS, order: { orderPlacedAt: 'ASC', id: 'ASC' }, skip, take });
      for (const o of orders) translateNames(o);
      return orders.map((o) => orderHistoryRow(toOrder(o, 'back_office'), statusOf(o)));
    },
  });
}
