import type { ProductProps } from '../protocol/commerce.ts';
import {
  type CartChange,
  type CustomerChange,
  cartChangeSchema,
  customerChangeSchema,
  type OrderChange,
  orderChangeSchema,
  type ParsedCustomer,
  type ParsedLine,
  type ParsedOrder,
  parseCommerce,
} from './shapes.ts';

/** A Segment call (track or identify) ready for POST /v1/batch. */
export type CommerceCall = Record<string, unknown> & { type: 'track' | 'identify'; messageId: string };

export interface CommerceMapperOptions {
  /** The backend's name, snake_case ('vendure', 'medusa'): prefixes message ids, names the external id. */
  source: string;
}

export interface CommerceMapper {
  /** The identifier type holding the backend's customer id besides userId: `<source>_customer_id`. */
  readonly customerIdType: string;
  order(change: OrderChange): CommerceCall[];
  cart(change: CartChange): CommerceCall[];
  customer(change: CustomerChange): CommerceCall[];
}

/**
 * Maps backend-neutral order, cart and customer changes to the commerce taxonomy. Every call
 * carries the customer's identifiers (userId = the backend's customer id, email, phone,
 * external ids) and the storefront's anonymousId when the backend kept it, so storefront and
 * back-office events land on one profile. Message ids are derived from the change, so a
 * redelivered change is a no-op at ingestion.
 */
export function createCommerceMapper(options: CommerceMapperOptions): CommerceMapper {
  const { source } = options;
  if (!/^[a-z][a-z0-9_]{0,31}$/.test(source)) throw new Error(`commerce mapper: source "${source}" must be snake_case (a-z, 0-9, _)`);
  const customerIdType = `${source}_customer_id`;

  function identity(customer: ParsedCustomer | null | undefined, anonymousId: string | null | undefined, fallback: string) {
    const traits: Record<string, unknown> = {};
    if (customer?.email) traits.email = customer.email;
    if (customer?.phone) traits.phone = customer.phone;
    const externalIds = customer
      ? [
          { id: customer.id, type: customerIdType, collection: 'users', encoding: 'none' },
          ...Object.entries(customer.externalIds ?? {}).map(([type, value]) => ({ id: value, type, collection: 'users', encoding: 'none' })),
        ]
      : [];
    return {
      ...(customer ? { userId: customer.id } : {}),
      ...(anonymousId ? { anonymousId } : {}),
      // An order without a customer or a storefront id still needs an identity of its own.
      ...(!customer && !anonymousId ? { anonymousId: fallback } : {}),
      context: {
        channel: 'back_office',
        source,
        ...(Object.keys(traits).length > 0 ? { traits } : {}),
        ...(externalIds.length > 0 ? { externalIds } : {}),
      },
    };
  }

  function orderCall(event: string, kind: string, order: ParsedOrder, at: string, extra: Record<string, unknown>, suffix = ''): CommerceCall {
    return {
      type: 'track',
      event,
      messageId: `${source}:order:${order.id}:${kind}${suffix}`,
      timestamp: at,
      ...identity(order.customer, order.anonymousId, `${source}-order:${order.id}`),
      properties: { ...orderProperties(order), ...extra },
    };
  }

  return {
    customerIdType,
    order(raw) {
      const change = parseCommerce(orderChangeSchema, raw, 'order change');
      const { order, at } = change;
      switch (change.kind) {
        case 'placed':
          return [orderCall(order.origin === 'back_office' ? 'Order Placed' : 'Order Completed', 'placed', order, at, {})];
        case 'shipped': {
          const s = change.shipment;
          return [
            orderCall(
              'Order Shipped',
              'shipped',
              order,
              at,
              {
                ...(s ? { shipment_id: s.id } : {}),
                ...(s?.carrier ? { carrier: s.carrier } : {}),
                ...(s?.trackingNumber ? { tracking_number: s.trackingNumber } : {}),
                ...(s?.lines ? { products: s.lines.map(productProperties) } : {}),
              },
              s ? `:${s.id}` : '',
            ),
          ];
        }
        case 'cancelled':
          return [orderCall('Order Cancelled', 'cancelled', order, at, change.reason ? { reason: change.reason } : {})];
        case 'refunded': {
          const r = change.refund;
          return [
            orderCall(
              'Order Refunded',
              'refunded',
              order,
              at,
              {
                ...(r.amount != null ? { total: r.amount, revenue: r.amount } : {}),
                returned: r.returned,
                ...(r.reason ? { reason: r.reason } : {}),
                ...(r.lines ? { products: r.lines.map(productProperties) } : {}),
              },
              `:${r.id}`,
            ),
          ];
        }
      }
    },
    cart(raw) {
      const change = parseCommerce(cartChangeSchema, raw, 'cart change');
      const { cart, line, at } = change;
      const who = identity(cart.customer, cart.anonymousId, `${source}-cart:${cart.id}`);
      const stamp = `${at}${change.eventId ? `:${change.eventId}` : ''}`;
      if (change.kind === 'viewed') {
        return [
          {
            type: 'track',
            event: 'Cart Viewed',
            messageId: `${source}:cart:${cart.id}:viewed:${stamp}`,
            timestamp: at,
            ...who,
            properties: { cart_id: cart.id, currency: cart.currency, products: cart.lines.map(productProperties) },
          },
        ];
      }
      if (!line) throw new Error(`cart change: a "${change.kind}" change needs the line (cart ${cart.id})`);
      return [
        {
          type: 'track',
          event: change.kind === 'added' ? 'Product Added' : 'Product Removed',
          messageId: `${source}:cart:${cart.id}:${change.kind}:${line.variantId ?? line.productId}:${stamp}`,
          timestamp: at,
          ...who,
          properties: { cart_id: cart.id, currency: cart.currency, ...productProperties(line) },
        },
      ];
    },
    customer(raw) {
      const change = parseCommerce(customerChangeSchema, raw, 'customer change');
      const { customer, at } = change;
      const who = identity(customer, null, '');
      if (change.kind === 'deleted') {
        return [{ type: 'track', event: 'Account Deleted', messageId: `${source}:customer:${customer.id}:deleted`, timestamp: at, ...who, properties: {} }];
      }
      const traits = customerTraits(customer, customerIdType);
      const account = {
        ...(customer.email ? { email: customer.email } : {}),
        ...(customer.phone ? { phone: customer.phone } : {}),
        ...(customer.firstName ? { first_name: customer.firstName } : {}),
        ...(customer.lastName ? { last_name: customer.lastName } : {}),
      };
      const version = change.kind === 'created' ? 'created' : `updated:${customer.updatedAt ?? at}`;
      return [
        { type: 'identify', messageId: `${source}:customer:${customer.id}:identify:${version}`, timestamp: at, ...who, traits },
        {
          type: 'track',
          event: change.kind === 'created' ? 'Account Created' : 'Account Updated',
          messageId: `${source}:customer:${customer.id}:${version}`,
          timestamp: at,
          ...who,
          properties: account,
        },
      ];
    },
  };
}

/** The profile traits of a customer: contact fields, external ids and the adapter's extra traits. */
export function customerTraits(customer: ParsedCustomer, customerIdType: string): Record<string, unknown> {
  return {
    ...(customer.traits ?? {}),
    ...(customer.email ? { email: customer.email } : {}),
    ...(customer.phone ? { phone: customer.phone } : {}),
    ...(customer.firstName ? { first_name: customer.firstName } : {}),
    ...(customer.lastName ? { last_name: customer.lastName } : {}),
    ...(customer.createdAt ? { created_at: customer.createdAt } : {}),
    [customerIdType]: customer.id,
    ...(customer.externalIds ?? {}),
  };
}

/** A line as the taxonomy's product properties (snake_case). */
export function productProperties(line: ParsedLine): ProductProps {
  return {
    product_id: line.productId,
    ...(line.sku ? { sku: line.sku } : {}),
    ...(line.name ? { name: line.name } : {}),
    ...(line.variant ? { variant: line.variant } : {}),
    ...(line.category ? { category: line.category } : {}),
    ...(line.brand ? { brand: line.brand } : {}),
    ...(line.price != null ? { price: line.price } : {}),
    quantity: line.quantity,
    ...(line.url ? { url: line.url } : {}),
    ...(line.imageUrl ? { image_url: line.imageUrl } : {}),
  };
}

/** An order's taxonomy properties: order_id is the shopper-facing code, so storefront and back office agree. */
export function orderProperties(order: ParsedOrder): Record<string, unknown> {
  return {
    order_id: order.code ?? order.id,
    total: order.total,
    revenue: order.subtotal ?? order.total,
    currency: order.currency,
    ...(order.subtotal != null ? { subtotal: order.subtotal } : {}),
    ...(order.shipping != null ? { shipping: order.shipping } : {}),
    ...(order.tax != null ? { tax: order.tax } : {}),
    ...(order.discount != null ? { discount: order.discount } : {}),
    ...(order.coupons.length > 0 ? { coupon: order.coupons.join(',') } : {}),
    products: order.lines.map(productProperties),
  };
}

/** A customer as a catalog export item (after field customization): what `customerExportCalls` reads. */
export interface CustomerExportItem {
  id: string;
  updatedAt: string;
  deleted?: boolean | undefined;
  fields: Array<{ name: string; value: unknown }>;
}

/**
 * Customers exported through the catalog model go to profiles, not to a catalog stream:
 * each item becomes an identify with its exported fields as traits (so renames and hashes
 * apply), keyed by userId = the customer id; a tombstone becomes Account Deleted. Message ids
 * carry updatedAt, so a re-sent batch is a no-op and a changed customer is sent again.
 */
export function customerExportCalls(items: CustomerExportItem[], source: string): CommerceCall[] {
  const customerIdType = `${source}_customer_id`;
  return items.map((item): CommerceCall => {
    const context = { channel: 'back_office', source: `${source}-customer-export`, externalIds: [{ id: item.id, type: customerIdType, collection: 'users', encoding: 'none' }] };
    if (item.deleted) {
      return { type: 'track', event: 'Account Deleted', messageId: `${source}:customer:${item.id}:deleted`, timestamp: item.updatedAt, userId: item.id, context, properties: {} };
    }
    const traits: Record<string, unknown> = { [customerIdType]: item.id };
    for (const f of item.fields) traits[f.name] = f.value;
    return { type: 'identify', messageId: `${source}:customer-export:${item.id}:${item.updatedAt}`, timestamp: item.updatedAt, userId: item.id, context, traits };
  });
}
