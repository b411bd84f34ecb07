import type { SubscriberArgs, SubscriberConfig } from '@medusajs/framework';
import { onOrderPlaced } from '../events.ts';

export default async function attuneOrderPlaced({ event, container }: SubscriberArgs<{ id: string }>): Promise<void> {
  await onOrderPlaced(container, event.data.id);
}

export const config: SubscriberConfig = { event: 'order.placed', context: { subscriberId: 'attune-order-placed' } };
