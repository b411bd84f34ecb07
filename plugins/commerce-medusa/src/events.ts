import type { CommerceCall } from '@attune/core';
import type { MedusaContainer } from '@medusajs/framework/types';
import { attuneRuntime, graph } from './runtime.ts';
import { amount, type MedusaCustomer, type MedusaOrder, ORDER_FIELDS, toCustomer, toOrder } from './translate.ts';

/**
 * What the subscribers do: load the record, map it with the core mapper, send it. A failure
 * to reach Attune throws, so Medusa's event bus retries the event (the Redis event bus keeps
 * it durably with its attempts); message ids make a retried send a no-op at Attune.
 */

async function loadOrder(container: MedusaContainer, id: string): Promise<MedusaOrder> {
  const [order] = await graph<MedusaOrder>(container, { entity: 'order', fields: ORDER_FIELDS, filters: { id } });
  if (!order) throw new Error(`order ${id} not found`);
  return order;
}

async function send(container: MedusaContainer, calls: CommerceCall[]): Promise<void> {
  if (calls.length > 0) await attuneRuntime(container).client.track(calls);
}

export async function onOrderPlaced(container: MedusaContainer, id: string): Promise<void> {
  const order = await loadOrder(container, id);
  const { mapper } = attuneRuntime(container);
  await send(container, mapper.order({ kind: 'placed', order: toOrder(order), at: new Date(order.created_at ?? Date.now()).toISOString() }));
}

export async function onOrderCanceled(container: MedusaContainer, id: string): Promise<void> {
  const order = await loadOrder(container, id);
  await send(container, attuneRuntime(container).mapper.order({ kind: 'cancelled', order: toOrder(order), at: new Date().toISOString() }));
}

interface MedusaFulfillment {
  id: string;
  provider_id?: string | null;
  labels?: Array<{ tracking_number?: string | null } | null> | null;
  order?: { id: string } | null;
}

export async function onShipmentCreated(container: MedusaContainer, fulfillmentId: string): Promise<void> {
  const [fulfillment] = await graph<MedusaFulfillment>(container, {
    entity: 'fulfillment',
    fields: ['id', 'provider_id', 'labels.tracking_number', 'order.id'],
    filters: { id: fulfillmentId },
  });
  if (!fulfillment?.order) return;
  const order = await loadOrder(container, fulfillment.order.id);
  const tracking = fulfillment.labels?.find((l) => l?.tracking_number)?.tracking_number ?? null;
  await send(
    container,
    attuneRuntime(container).mapper.order({
      kind: 'shipped',
      order: toOrder(order),
      at: new Date().toISOString(),
      shipment: { id: fulfillment.id, carrier: fulfillment.provider_id ?? null, trackingNumber: tracking },
    }),
  );
}

export const CUSTOMER_FIELDS = ['id', 'email', 'phone', 'first_name', 'last_name', 'has_account', 'created_at', 'updated_at', 'groups.id', 'groups.name'];

export async function onCustomerChanged(container: MedusaContainer, id: string, kind: 'created' | 'updated' | 'deleted'): Promise<void> {
  const { mapper } = attuneRuntime(container);
  if (kind === 'deleted') {
    await send(container, mapper.customer({ kind, customer: { id }, at: new Date().toISOString() }));
    return;
  }
  const [customer] = await graph<MedusaCustomer>(container, { entity: 'customer', fields: CUSTOMER_FIELDS, filters: { id } });
  // Guest customers (no account) are identities on orders, not accounts.
  if (!customer?.has_account) return;
  await send(container, mapper.customer({ kind, customer: toCustomer(customer), at: new Date().toISOString() }));
}

interface MedusaPayment {
  id: string;
  refunds?: Array<{ id: string; amount: unknown; note?: string | null; created_at?: string | Date | null } | null> | null;
  payment_collection?: { order?: { id: string } | null } | null;
}

/** payment.refunded names the payment: the refund reported is its latest one. */
export async function onPaymentRefunded(container: MedusaContainer, paymentId: string): Promise<void> {
  const [payment] = await graph<MedusaPayment>(container, {
    entity: 'payment',
    fields: ['id', 'refunds.id', 'refunds.amount', 'refunds.note', 'refunds.created_at', 'payment_collection.order.id'],
    filters: { id: paymentId },
  });
  const orderId = payment?.payment_collection?.order?.id;
  const refund = (payment?.refunds ?? [])
    .filter((r) => r !== null)
    .sort((a, b) => new Date(a.created_at ?? 0).getTime() - new Date(b.created_at ?? 0).getTime())
    .at(-1);
  if (!orderId || !refund) return;
  const order = await loadOrder(container, orderId);
  await send(
    container,
    attuneRuntime(container).mapper.order({
      kind: 'refunded',
      order: toOrder(order),
      at: new Date(refund.created_at ?? Date.now()).toISOString(),
      refund: { id: refund.id, amount: amount(refund.amount), reason: refund.note ?? null, returned: false },
    }),
  );
}
