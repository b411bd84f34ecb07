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

export function toOrder(order: Order, origin: 'storefront' | 'back_office' = 'storefront'): CommerceOrder {
  const currency = order.currencyCode;
  const money = (v: number) => fromMinorUnits(v, currency);
  const anonymousId = (order.customFields as Record<string, unknown> | undefined)?.[ANONYMOUS_ID_FIELD];
  const discount = (order.discounts ?? []).reduce((sum, d) => sum + Math.abs(d.amountWithTax), 0);
  return {
    id: String(order.id),
    code: order.code,
    customer: order.customer ? toCustomer(order.customer) : null,
    anonymousId: typeof anonymousId === 'string' && anonymousId.length > 0 ? anonymousId : null,
    currency,
    total: money(order.totalWithTax),
    subtotal: money(order.subTotalWithTax),
    shipping: money(order.shippingWithTax),
    tax: money(order.totalWithTax - order.total),
    ...(discount > 0 ? { discount: money(discount) } : {}),
    coupons: order.couponCodes ?? [],
    lines: (order.lines ?? []).filter((l) => l.quantity > 0).map((l) => toLine(l, currency)),
    placedAt: order.orderPlacedAt ? new Date(order.orderPlacedAt).toISOString() : null,
    origin,
  };
}
