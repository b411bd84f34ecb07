import type { SubscriberArgs, SubscriberConfig } from '@medusajs/framework';
import { onPaymentRefunded } from '../events.ts';

export default async function attunePaymentRefunded({ event, container }: SubscriberArgs<{ id: string }>): Promise<void> {
  await onPaymentRefunded(container, event.data.id);
}

export const config: SubscriberConfig = { event: 'payment.refunded', context: { subscriberId: 'attune-payment-refunded' } };
