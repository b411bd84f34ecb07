import type { SubscriberArgs, SubscriberConfig } from '@medusajs/framework';
import { onShipmentCreated } from '../events.ts';

export default async function attuneShipmentCreated({ event, container }: SubscriberArgs<{ id: string }>): Promise<void> {
  await onShipmentCreated(container, event.data.id);
}

export const config: SubscriberConfig = { event: 'shipment.created', context: { subscriberId: 'attune-shipment-created' } };
