import type { CommerceCustomer, CommerceLine, CommerceOrder } from '@attune/core';

/**
 * Medusa records (as `query.graph` returns them) → the core's backend-neutral shapes. Medusa 2
 * keeps money in major units; totals may come as BigNumber objects.
 */

/** A Medusa amount (number, numeric string, or BigNumber-like) as a number. */
export function amount(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return Number(value);
  if (value && typeof value === 'object') {
    const v = value as { numeric?: unknown; numeric_?: unknown; value?: unknown; toJSON?: () => unknown };
    if (typeof v.numeric === 'number') return v.numeric;
    if (typeof v.numeric_ === 'number') return v.numeric_;
    if (v.value !== undefined) return Number(v.value);
    if (typeof v.toJSON === 'function') return Number(v.toJSON());
  }
  return 0;
}

export interface MedusaCustomer {
  id: string;
  email?: string | null;
  phone?: string | null;
  first_name?: string | null;
  last_name?: string | null;
  has_account?: boolean | null;
  created_at?: string | Date | null;
  updated_at?: string | Date | null;
  groups?: Array<{ id: string; name?: string | null } | null> | null;
}

export interface MedusaLineItem {
  id: string;
  quantity: unknown;
  unit_price: unknown;
  title?: string | null;
  product_id?: string | null;
  variant_id?: string | null;
  variant_sku?: string | null;
  product_title?: string | null;
  variant_title?: string | null;
  thumbnail?: string | null;
}

export interface MedusaOrder {
  id: string;
  display_id?: number | string | null;
  email?: string | null;
  currency_code: string;
  total: unknown;
  subtotal?: unknown;
  tax_total?: unknown;
  shipping_total?: unknown;
  discount_total?: unknown;
  created_at?: string | Date | null;
  status?: string | null;
  metadata?: Record<string, unknown> | null;
  customer?: MedusaCustomer | null;
  items?: Array<MedusaLineItem | null> | null;
}

/** The fields `query.graph` needs for an order's events. */
export const ORDER_FIELDS = [
  'id',
  'display_id',
  'email',
  'currency_code',
  'total',
  'subtotal',
  'tax_total',
  'shipping_total',
  'discount_total',
  'created_at',
  'status',
  'metadata',
  'customer.id',
  'customer.email',
  'customer.phone',
  'customer.first_name',
  'customer.last_name',
  'customer.has_account',
  'items.id',
  'items.quantity',
  'items.unit_price',
  'items.title',
  'items.product_id',
  'items.variant_id',
  'items.variant_sku',
  'items.product_title',
  'items.variant_title',
  'items.thumbnail',
];

const iso = (d: string | Date | null | undefined) => (d ? new Date(d).toISOString() : undefined);

/** Order metadata key where a storefront may keep its Attune anonymousId (set on the cart; Medusa copies it). */
export const ANONYMOUS_ID_KEY = 'attune_anonymous_id';

export function toCustomer(c: MedusaCustomer): CommerceCustomer {
  const createdAt = iso(c.created_at);
  const updatedAt = iso(c.updated_at);
  return {
    id: c.id,
    email: c.email ?? null,
    phone: c.phone ?? null,
    firstName: c.first_name ?? null,
    lastName: c.last_name ?? null,
    ...(c.groups ? { traits: { customer_groups: c.groups.filter((g) => g !== null).map((g) => g.name ?? g.id) } } : {}),
    ...(createdAt ? { createdAt } : {}),
    ...(updatedAt ? { updatedAt } : {}),
  };
}

export function toLine(item: MedusaLineItem): CommerceLine {
  return {
    productId: item.product_id ?? item.variant_id ?? item.id,
    ...(item.variant_id ? { variantId: item.variant_id } : {}),
    sku: item.variant_sku ?? null,
    name: item.product_title ?? item.title ?? null,
    variant: item.variant_title && item.variant_title !== item.product_title ? item.variant_title : null,
    price: amount(item.unit_price),
    quantity: amount(item.quantity),
    imageUrl: item.thumbnail ?? null,
  };
}

export function toOrder(o: MedusaOrder, origin: 'storefront' | 'back_office' = 'storefront'): CommerceOrder {
  const anonymousId = o.metadata?.[ANONYMOUS_ID_KEY];
  // An order without a customer record still has its email: a guest identity.
  const customer = o.customer ? toCustomer({ ...o.customer, email: o.customer.email ?? o.email ?? null }) : null;
  const discount = amount(o.discount_total);
  return {
    id: o.id,
    code: o.display_id != null ? String(o.display_id) : o.id,
    customer,
    anonymousId: typeof anonymousId === 'string' && anonymousId.length > 0 ? anonymousId : null,
    currency: o.currency_code.toUpperCase(),
    total: amount(o.total),
    subtotal: o.subtotal != null ? amount(o.subtotal) : null,
    shipping: o.shipping_total != null ? amount(o.shipping_total) : null,
    tax: o.tax_total != null ? amount(o.tax_total) : null,
    ...(discount > 0 ? { discount } : {}),
    lines: (o.items ?? []).filter((i): i is MedusaLineItem => i !== null).map(toLine),
    placedAt: iso(o.created_at) ?? null,
    origin,
  };
}
