import { createErasureConfirmer, type ErasureDelivery, erasedIdentifiers, fetchPort, type Logger as AttuneLogger } from '@attune/core';
import type { ICacheService, ICartModuleService, ICustomerModuleService, IOrderModuleService, Logger, MedusaContainer } from '@medusajs/framework/types';
import { ContainerRegistrationKeys, Modules } from '@medusajs/framework/utils';
import { attuneRuntime } from './runtime.ts';
import { ANONYMOUS_ID_KEY } from './translate.ts';
import { attuneAudienceGroupWorkflow } from './workflows/audience-group.ts';

/** What one erasure deleted in Medusa (the receipt's `details`). */
export interface ErasureCounts {
  customers: number;
  groupMemberships: number;
  anonymousIds: number;
}

export interface ErasureOutcome {
  status: 'erased' | 'duplicate';
  requestId: string | null;
  details: ErasureCounts | null;
}

const SEEN_TTL_SEC = 7 * 24 * 3600;

/**
 * Medusa's copy of an erased person, as far as it came from Attune: their memberships of the
 * customer groups audiences are activated into, and the Attune anonymousId in their carts' and
 * orders' metadata. The customer and the orders are the shop's own records and stay. Handled
 * webhook-ids are kept in the cache module (Redis in production): a redelivery is answered
 * without a second run; the erasure itself is idempotent anyway.
 */
export async function handleErasure(container: MedusaContainer, delivery: ErasureDelivery): Promise<ErasureOutcome> {
  const { options, mapper } = attuneRuntime(container);
  const cache = container.resolve<ICacheService>(Modules.CACHE);
  const seenKey = `attune:erasure:${delivery.webhookId}`;
  const requestId = delivery.notice.requestId;
  const seen = await cache.get<ErasureCounts>(seenKey);
  if (seen) return { status: 'duplicate', requestId, details: seen };

  const ids = erasedIdentifiers(delivery.notice);
  const customersModule = container.resolve<ICustomerModuleService>(Modules.CUSTOMER);
  const customerIds = [...new Set([...ids.userIds, ...(ids.byType[mapper.customerIdType] ?? [])])];
  const found = [
    ...(ids.emails.length > 0 ? await customersModule.listCustomers({ email: ids.emails }, { relations: ['groups'] }) : []),
    ...(customerIds.length > 0 ? await customersModule.listCustomers({ id: customerIds }, { relations: ['groups'] }) : []),
  ];
  const customers = [...new Map(found.map((c) => [c.id, c])).values()];
  const counts: ErasureCounts = { customers: customers.length, groupMemberships: 0, anonymousIds: 0 };

  const { groups, prefix } = options.activation;
  const managed = (name: string | null | undefined) => !!name && (Object.values(groups).includes(name) || (!!prefix && name.startsWith(prefix)));
  const byGroup = new Map<string, string[]>();
  for (const c of customers) for (const g of c.groups ?? []) if (managed(g.name)) byGroup.set(g.name as string, [...(byGroup.get(g.name as string) ?? []), c.id]);
  for (const [group, members] of byGroup) {
    const { result } = await attuneAudienceGroupWorkflow(container).run({ input: { action: 'remove', group, customerIds: members } });
    counts.groupMemberships += result.changed.length;
  }

  if (customers.length > 0) {
    const ownIds = customers.map((c) => c.id);
    const carts = container.resolve<ICartModuleService>(Modules.CART);
    const orders = container.resolve<IOrderModuleService>(Modules.ORDER);
    const strip = (metadata: Record<string, unknown> | null | undefined) => {
      const { [ANONYMOUS_ID_KEY]: _gone, ...rest } = metadata ?? {};
      return rest;
    };
    const tagged = (m: Record<string, unknown> | null | undefined) => typeof m?.[ANONYMOUS_ID_KEY] === 'string' && m[ANONYMOUS_ID_KEY] !== '';
    for (const cart of (await carts.listCarts({ customer_id: ownIds }, { select: ['id', 'metadata'] })).filter((x) => tagged(x.metadata))) {
      await carts.updateCarts(cart.id, { metadata: { ...strip(cart.metadata), [ANONYMOUS_ID_KEY]: '' } });
      counts.anonymousIds += 1;
    }
    for (const order of (await orders.listOrders({ customer_id: ownIds }, { select: ['id', 'metadata'] })).filter((x) => tagged(x.metadata))) {
      await orders.updateOrders(order.id, { metadata: { ...strip(order.metadata), [ANONYMOUS_ID_KEY]: '' } });
      counts.anonymousIds += 1;
    }
  }

  await cache.set(seenKey, counts, SEEN_TTL_SEC);
  if (requestId) confirmLater(container, requestId, counts);
  return { status: 'erased', requestId, details: counts };
}

/** Confirms to Attune without making the notice wait; Attune resends an unconfirmed notice later. */
function confirmLater(container: MedusaContainer, requestId: string, details: ErasureCounts): void {
  const { options } = attuneRuntime(container);
  const medusaLogger = container.resolve<Logger>(ContainerRegistrationKeys.LOGGER);
  const line = (o: object, m?: string) => `[attune] ${m ?? ''} ${JSON.stringify(o)}`;
  const logger: AttuneLogger = {
    debug: (o, m) => medusaLogger.debug(line(o, m)),
    info: (o, m) => medusaLogger.info(line(o, m)),
    warn: (o, m) => medusaLogger.warn(line(o, m)),
    error: (o, m) => medusaLogger.error(line(o, m)),
  };
  const confirmer = createErasureConfirmer({
    url: options.attuneUrl,
    secretKey: options.secretKey,
    activationId: options.activation.id,
    fetch: fetchPort(fetch, (ms) => AbortSignal.timeout(ms)),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms).unref()),
    logger,
    attempts: options.erasure.confirmAttempts,
    baseDelayMs: options.erasure.confirmBaseDelayMs,
  });
  void confirmer.confirm(requestId, { ...details }).catch((e) => medusaLogger.error(`[attune] erasure confirmation for ${requestId} failed: ${String(e)}`));
}
