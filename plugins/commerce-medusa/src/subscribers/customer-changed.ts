import type { SubscriberArgs, SubscriberConfig } from '@medusajs/framework';
import { onCustomerChanged } from '../events.ts';

const KINDS = { 'customer.created': 'created', 'customer.updated': 'updated', 'customer.deleted': 'deleted' } as const;

export default async function attuneCustomerChanged({ event, container }: SubscriberArgs<{ id: string }>): Promise<void> {
  const kind = KINDS[event.name as keyof typeof KINDS];
  if (kind) await onCustomerChanged(container, event.data.id, kind);
}

export const config: SubscriberConfig = { event: Object.keys(KINDS), context: { subscriberId: 'attune-customer-changed' } };
