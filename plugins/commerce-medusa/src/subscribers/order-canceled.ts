import type { SubscriberArgs, SubscriberConfig } from '@medusajs/framework';
import { onOrderCanceled } from '../events.ts';

export default async function attuneOrderCanceled({ event, container }: SubscriberArgs<{ id: string }>): Promise<void> {
  await onOrderCanceled(container, event.data.id);
}

export const config: SubscriberConfig = { event: 'order.canceled', context: { subscriberId: 'attune-order-canceled' } };
