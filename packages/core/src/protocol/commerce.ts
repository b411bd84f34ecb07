import { z } from 'zod';

/**
 * The commerce event taxonomy: Segment e-commerce v2 names and snake_case properties, plus
 * the B2B and back-office events Adobe Commerce tracks. Known events are validated by these
 * schemas (extra properties are kept); any other event name is a plain custom track.
 */

const money = z.number().finite();
const count = z.number().int().nonnegative();
const text = z.string().max(2048);

export const productSchema = z.looseObject({
  product_id: z.union([z.string(), z.number()]).transform(String).optional(),
  sku: text.optional(),
  category: text.optional(),
  name: text.optional(),
  brand: text.optional(),
  variant: text.optional(),
  price: money.optional(),
  quantity: count.optional(),
  coupon: text.optional(),
  position: count.optional(),
  url: text.optional(),
  image_url: text.optional(),
});

function requireProductId(p: { product_id?: string | undefined; sku?: string | undefined }, ctx: z.RefinementCtx): void {
  if (p.product_id === undefined && p.sku === undefined) {
    ctx.addIssue({ code: 'custom', path: ['product_id'], message: 'product_id or sku is required' });
  }
}

/** A product event's properties: a product (product_id or sku required) plus `extra` fields. */
function productEvent<T extends z.ZodRawShape>(extra: T) {
  return productSchema.extend(extra).superRefine(requireProductId);
}

const productRef = productEvent({});

const productList = z.array(productSchema).max(1000);

const orderFields = {
  order_id: z.union([z.string().min(1), z.number()]).transform(String),
  checkout_id: text.optional(),
  affiliation: text.optional(),
  total: money.optional(),
  subtotal: money.optional(),
  revenue: money.optional(),
  shipping: money.optional(),
  tax: money.optional(),
  discount: money.optional(),
  coupon: text.optional(),
  currency: z.string().length(3, 'must be an ISO-4217 code such as "EUR"').optional(),
  products: productList.optional(),
};

export const pageViewedSchema = z.looseObject({
  path: text.optional(),
  url: text.optional(),
  title: text.optional(),
  referrer: text.optional(),
  search: text.optional(),
  name: text.optional(),
  category: text.optional(),
});

const requisitionFields = {
  requisition_list_id: z.union([z.string().min(1), z.number()]).transform(String),
  name: text.optional(),
};

const accountFields = {
  email: z.string().max(320).optional(),
  phone: z.string().max(64).optional(),
  first_name: text.optional(),
  last_name: text.optional(),
  traits: z.record(z.string(), z.unknown()).optional(),
};

export const commerceEvents = {
  // Storefront
  'Page Viewed': pageViewedSchema,
  'Products Searched': z.looseObject({
    query: z.string().max(2048),
    results: count.optional(),
    products: productList.optional(),
  }),
  'Product List Viewed': z.looseObject({ list_id: text.optional(), category: text.optional(), products: productList.optional() }),
  'Product Viewed': productRef,
  'Product Added': productEvent({ cart_id: text.optional() }),
  'Product Removed': productEvent({ cart_id: text.optional() }),
  'Cart Viewed': z.looseObject({ cart_id: text.optional(), products: productList.optional() }),
  'Signed In': z.looseObject({ method: text.optional(), username: text.optional() }),
  'Signed Out': z.looseObject({ method: text.optional() }),
  'Checkout Started': z.looseObject({ ...orderFields, order_id: orderFields.order_id.optional(), value: money.optional() }),
  'Order Completed': z.looseObject(orderFields),
  'Requisition List Created': z.looseObject(requisitionFields),
  'Product Added to Requisition List': productEvent(requisitionFields),
  'Product Removed from Requisition List': productEvent(requisitionFields),
  'Quote Accepted': z.looseObject({
    quote_id: z.union([z.string().min(1), z.number()]).transform(String),
    ...orderFields,
    order_id: orderFields.order_id.optional(),
  }),
  // Back office
  'Order Placed': z.looseObject({ ...orderFields, imported: z.boolean().optional() }),
  'Order Shipped': z.looseObject({
    order_id: orderFields.order_id,
    shipment_id: text.optional(),
    carrier: text.optional(),
    tracking_number: text.optional(),
    products: productList.optional(),
  }),
  'Order Refunded': z.looseObject({
    ...orderFields,
    returned: z.boolean().optional(),
    reason: text.optional(),
  }),
  'Order Cancelled': z.looseObject({ ...orderFields, reason: text.optional() }),
  // Profile
  'Account Created': z.looseObject(accountFields),
  'Account Updated': z.looseObject(accountFields),
  'Account Deleted': z.looseObject({ reason: text.optional() }),
} as const;

export type CommerceEventName = keyof typeof commerceEvents;
export type ProductProps = z.output<typeof productSchema>;
export type OrderProps = z.output<z.ZodObject<typeof orderFields>>;

export const COMMERCE_EVENT_NAMES = Object.keys(commerceEvents) as CommerceEventName[];

export const BACK_OFFICE_EVENTS: ReadonlySet<string> = new Set([
  'Order Placed',
  'Order Shipped',
  'Order Refunded',
  'Order Cancelled',
]);

export function isCommerceEvent(name: string): name is CommerceEventName {
  return Object.hasOwn(commerceEvents, name);
}

/** Order revenue: `total`, else `revenue`, else the sum of product price × quantity. */
export function orderValue(props: Record<string, unknown>): number {
  if (typeof props.total === 'number') return props.total;
  if (typeof props.revenue === 'number') return props.revenue;
  const products = Array.isArray(props.products) ? props.products : [];
  let sum = 0;
  for (const p of products as Array<Record<string, unknown>>) {
    const price = typeof p.price === 'number' ? p.price : 0;
    const qty = typeof p.quantity === 'number' ? p.quantity : 1;
    sum += price * qty;
  }
  return sum;
}
