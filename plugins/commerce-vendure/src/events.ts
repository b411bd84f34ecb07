import { type CommerceCall, type CommerceMapper, fromMinorUnits } from '@attune/core';
import {
  AccountRegistrationEvent,
  Customer,
  CustomerEvent,
  type EventBus,
  Fulfillment,
  type HistoryService,
  FulfillmentStateTransitionEvent,
  Logger,
  Order,
  OrderLineEvent,
  OrderPlacedEvent,
  OrderStateTransitionEvent,
  ProductVariant,
  RefundStateTransitionEvent,
  type RequestContext,
  type TransactionalConnection,
} from '@vendure/core';
import { AttuneOutboxEntry } from './entities.ts';
import type { ResolvedOptions } from './options.ts';
import { toCustomer, toLine, toOrder } from './translate.ts';

const loggerCtx = 'AttunePlugin';

/** Relations an order needs for its events (lines with their products, the customer). */
export const ORDER_RELATIONS = ['customer', 'customer.groups', 'lines', 'lines.productVariant', 'lines.productVariant.product', 'lines.productVariant.translations', 'lines.productVariant.product.translations'];

/**
 * Subscribes to Vendure's event bus with blocking handlers, which run inside the transaction
 * that made the change: the mapped calls go into the outbox table in that same transaction.
 * A translation error is logged, never thrown: analytics must not fail a checkout.
 */
export interface EventHandlerDeps {
  eventBus: EventBus;
  connection: TransactionalConnection;
  historyService: HistoryService;
  mapper: CommerceMapper;
  options: ResolvedOptions;
}

export function registerEventHandlers({ eventBus, connection, historyService, mapper, options }: EventHandlerDeps): void {
  async function enqueue(ctx: RequestContext, what: string, build: () => Promise<CommerceCall[]>): Promise<void> {
    let calls: CommerceCall[];
    try {
      calls = await build();
    } catch (error) {
      Logger.error(`${what}: not sent to Attune: ${error instanceof Error ? error.message : String(error)}`, loggerCtx);
      return;
    }
    if (calls.length === 0) return;
    const now = Date.now();
    const repo = connection.getRepository(ctx, AttuneOutboxEntry);
    await repo.insert(calls.map((call) => ({ call: JSON.stringify(call), attempts: 0, nextAttemptAt: 0, failed: false, lastError: null, createdAt: now })));
  }

  const loadOrder = async (ctx: RequestContext, id: Order['id']) => {
    const order = await connection.getRepository(ctx, Order).findOne({ where: { id }, relations: ORDER_RELATIONS });
    if (!order) throw new Error(`order ${id} not found`);
    translateNames(order);
    return order;
  };
  const at = () => new Date().toISOString();

  eventBus.registerBlockingEventHandler({
    event: OrderPlacedEvent,
    id: 'attune-order-placed',
    handler: (event) =>
      enqueue(event.ctx, `order ${event.order.code} placed`, async () => {
        const order = await loadOrder(event.ctx, event.order.id);
        const origin = event.fromState === 'Draft' ? 'back_office' : 'storefront';
        return mapper.order({ kind: 'placed', order: toOrder(order, origin), at: order.orderPlacedAt ? new Date(order.orderPlacedAt).toISOString() : at() });
      }),
  });

  eventBus.registerBlockingEventHandler({
    event: OrderStateTransitionEvent,
    id: 'attune-order-cancelled',
    handler: (event) => {
      if (event.toState !== 'Cancelled' || !event.order.orderPlacedAt) return;
      return enqueue(event.ctx, `order ${event.order.code} cancelled`, async () => {
        const order = await loadOrder(event.ctx, event.order.id);
        // cancelOrder records its reason in a history entry just before the transition.
        const history = await historyService.getHistoryForOrder(event.ctx, order.id, false, {
          filter: { type: { eq: 'ORDER_CANCELLATION' } },
          sort: { createdAt: 'DESC' as never },
          take: 1,
        });
        const reason = (history.items[0]?.data as { reason?: unknown } | undefined)?.reason;
        return mapper.order({ kind: 'cancelled', order: toOrder(order, 'storefront', true), at: at(), reason: typeof reason === 'string' ? reason : null });
      });
    },
  });

  eventBus.registerBlockingEventHandler({
    event: RefundStateTransitionEvent,
    id: 'attune-order-refunded',
    handler: (event) => {
      if (event.toState !== 'Settled') return;
      const refund = event.refund;
      return enqueue(event.ctx, `refund ${refund.id}`, async () => {
        const order = toOrder(await loadOrder(event.ctx, event.order.id));
        const amount = fromMinorUnits(refund.total, order.currency);
        return mapper.order({
          kind: 'refunded',
          order,
          at: at(),
          refund: { id: String(refund.id), amount, reason: refund.reason || null, returned: (refund.lines ?? []).length > 0 },
        });
      });
    },
  });

  eventBus.registerBlockingEventHandler({
    event: FulfillmentStateTransitionEvent,
    id: 'attune-order-shipped',
    handler: (event) => {
      if (event.toState !== 'Shipped') return;
      return enqueue(event.ctx, `fulfillment ${event.fulfillment.id} shipped`, async () => {
        const fulfillment = await connection.getRepository(event.ctx, Fulfillment).findOne({ where: { id: event.fulfillment.id }, relations: ['orders'] });
        const calls: CommerceCall[] = [];
        for (const o of fulfillment?.orders ?? []) {
          const order = toOrder(await loadOrder(event.ctx, o.id));
          calls.push(
            ...mapper.order({
              kind: 'shipped',
              order,
              at: at(),
              shipment: { id: String(event.fulfillment.id), carrier: event.fulfillment.method || null, trackingNumber: event.fulfillment.trackingCode || null },
            }),
          );
        }
        return calls;
      });
    },
  });

  if (options.trackCarts) {
    eventBus.registerBlockingEventHandler({
      event: OrderLineEvent,
      id: 'attune-cart-line',
      handler: (event) => {
        // Lines of an active order are a cart; 'updated' carries no delta, so only additions and removals are sent.
        if (!event.order.active || (event.type !== 'created' && event.type !== 'deleted')) return;
        return enqueue(event.ctx, `cart ${event.order.code} line`, async () => {
          const order = await loadOrder(event.ctx, event.order.id);
          const line = event.orderLine;
          const variant = await connection.getRepository(event.ctx, ProductVariant).findOne({
            where: { id: line.productVariantId },
            relations: ['product', 'translations', 'product.translations'],
          });
          if (variant) translateVariant(variant);
          return mapper.cart({
            kind: event.type === 'created' ? 'added' : 'removed',
            cart: toOrder(order),
            line: toLine({ productVariantId: line.productVariantId, productVariant: variant ?? line.productVariant, unitPriceWithTax: line.unitPriceWithTax, quantity: Math.max(line.quantity, 1) }, order.currencyCode),
            at: at(),
            eventId: String(line.id),
          });
        });
      },
    });
  }

  const loadCustomer = async (ctx: RequestContext, id: Customer['id']) =>
    connection.getRepository(ctx, Customer).findOne({ where: { id }, relations: ['groups', 'user'], withDeleted: true });

  eventBus.registerBlockingEventHandler({
    event: CustomerEvent,
    id: 'attune-customer',
    handler: (event) =>
      enqueue(event.ctx, `customer ${event.entity.id} ${event.type}`, async () => {
        const customer = (await loadCustomer(event.ctx, event.entity.id)) ?? event.entity;
        // Guest customers (no user account) are identities on orders, not accounts.
        if (event.type !== 'deleted' && !customer.user) return [];
        return mapper.customer({ kind: event.type, customer: toCustomer(customer), at: at() });
      }),
  });

  eventBus.registerBlockingEventHandler({
    event: AccountRegistrationEvent,
    id: 'attune-account-registration',
    handler: (event) =>
      enqueue(event.ctx, `registration of user ${event.user.id}`, async () => {
        const customer = await connection.getRepository(event.ctx, Customer).findOne({ where: { user: { id: event.user.id } }, relations: ['groups', 'user'] });
        return customer ? mapper.customer({ kind: 'created', customer: toCustomer(customer), at: at() }) : [];
      }),
  });
}

/** Picks the first translation's name for variants and products loaded without the translator. */
export function translateNames(order: Order): void {
  for (const line of order.lines ?? []) if (line.productVariant) translateVariant(line.productVariant);
}

function translateVariant(variant: ProductVariant): void {
  const v = variant as unknown as { name?: string; translations?: Array<{ name: string }>; product?: { name?: string; translations?: Array<{ name: string }> } };
  if (!v.name && v.translations?.[0]) v.name = v.translations[0].name;
  if (v.product && !v.product.name && v.product.translations?.[0]) v.product.name = v.product.translations[0].name;
}
