import { type CommerceCustomer, type CommerceLine, type CommerceOrder, fromMinorUnits } from '@attune/core';
import type { Customer, Order, OrderLine } from '@vendure/core';

/**
 * Vendure entities → the core's backend-neutral commerce shapes. Vendure keeps money in
 * minor units; ids are the database ids (the entity id strategy's internal form).
 */

/** Order custom field where a storefront may keep its Attune anonymousId (ties the cart to the browser's profile). */
export const ANONYMOUS_ID_FIELD = 'attuneAnonymousId';

export function toCustomer(customer: Customer): CommerceCustomer {
  return {
    id: String(customer.id),
    email: customer.emailAddress || null,
    phone: customer.phoneNumber || null,
    firstName: customer.firstName || null,
    lastName: customer.lastName || null,
    ...(customer.groups ? { traits: { customer_groups: customer.groups.map((g) => g.name) } } : {}),
    ...(customer.createdAt ? { createdAt: new Date(customer.createdAt).toISOString() } : {}),
    ...(customer.updatedAt ? { updatedAt: new Date(customer.updatedAt).toISOString() } : {}),
  };
}

/** What a line needs: an OrderLine, or the parts of one that was just removed. */
export type LineLike = Pick<OrderLine, 'productVariantId' | 'productVariant' | 'unitPriceWithTax' | 'quantity'>;

export function toLine(line: LineLike, currency: string, quantity = line.quantity): CommerceLine {
  const variant = line.productVariant;
  const productName = variant?.product?.name;
  return {
    productId: String(variant?.productId ?? line.productVariantId),
    variantId: String(line.productVariantId),
    sku: variant?.sku ?? null,
    name: productName || variant?.name || null,
    variant: productName && variant?.name && variant.name !== productName ? variant.name : null,
    price: fromMinorUnits(line.unitPriceWithTax, currency),
    quantity,
  };
}

/**
 * An order in the core's shape. `cancelled`: cancellation sets the lines' quantities (and the
 * totals) to zero, so the lines are taken at their placed quantities and the total is theirs.
 */
export function toOrder(order: Order, origin: 'storefront' | 'back_office' = 'storefront', cancelled = false): CommerceOrder {
  const currency = order.currencyCode;
  const money = (v: number) => fromMinorUnits(v, currency);
  const anonymousId = (order.customFields as Record<string, unknown> | undefined)?.[ANONYMOUS_ID_FIELD];
  const discount = (order.discounts ?? []).reduce((sum, d) => sum + Math.abs(d.amountWithTax), 0);
  const lines = (order.lines ?? [])
    .map((l) => toLine(l, currency, cancelled ? l.orderPlacedQuantity || l.quantity : l.quantity))
    .filter((l) => (l.quantity ?? 0) > 0);
  const cancelledValue = lines.reduce((sum, l) => sum + (l.price ?? 0) * (l.quantity ?? 1), 0) + money(order.shippingWithTax);
  return {
    id: String(order.id),
    code: order.code,
    customer: order.customer ? toCustomer(order.customer) : null,
    anonymousId: typeof anonymousId === 'string' && anonymousId.length > 0 ? anonymousId : null,
    currency,
    total: cancelled ? Math.round(cancelledValue * 100) / 100 : money(order.totalWithTax),
    subtotal: money(order.subTotalWithTax),
    shipping: money(order.shippingWithTax),
    tax: money(order.totalWithTax - order.total),
    ...(discount > 0 ? { discount: money(discount) } : {}),
    coupons: order.couponCodes ?? [],
    lines,
    placedAt: order.orderPlacedAt ? new Date(order.orderPlacedAt).toISOString() : null,
    origin,
  };
}
