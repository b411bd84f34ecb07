import { importHistoryInChunks, type OrderHistoryImportOptions, type OrderHistoryImportResult, type OrderHistoryStatus, orderHistoryRow, orderHistorySince } from '@attune/core';
import type { MedusaContainer } from '@medusajs/framework/types';
import { attuneRuntime, graph } from './runtime.ts';
import { type MedusaOrder, ORDER_FIELDS, toOrder } from './translate.ts';

export type { OrderHistoryImportOptions, OrderHistoryImportResult };

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
  return importHistoryInChunks({
    total,
    chunkSize,
    started,
    options,
    send: (rows) => client.importOrders(rows),
    page: async (skip, take) => {
      const orders = await graph<MedusaOrder>(container, { entity: 'order', fields: ORDER_FIELDS, filters, pagination: { order: { created_at: 'ASC', id: 'ASC' }, skip, take } });
      return orders.map((o) => orderHistoryRow(toOrder(o, 'back_office'), statusOf(o)));
    },
  });
}
