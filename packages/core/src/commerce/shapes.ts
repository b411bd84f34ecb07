import { z } from 'zod';
import { AttuneError } from '../errors.ts';
import { zodIssues } from '../protocol/parse.ts';
import { timestampSchema } from '../protocol/segment.ts';

/**
 * Backend-neutral commerce shapes. A commerce adapter (Vendure, Medusa…) translates its own
 * entities into these; the core maps them to the event taxonomy, so every backend emits the
 * same events with the same identifiers. Money is in major units (12.5 = 12.50 EUR): use
 * `fromMinorUnits` for backends that store cents.
 */

const id = z.union([z.string().min(1).max(255), z.number().int()]).transform(String);
const text = z.string().max(2048);
const money = z.number().finite();

/** A customer account in the backend. `id` becomes the profile's userId. */
export const commerceCustomerSchema = z.object({
  id,
  email: z.string().max(320).nullish(),
  phone: z.string().max(64).nullish(),
  firstName: text.nullish(),
  lastName: text.nullish(),
  /** More identifiers the backend knows (a CRM id, a loyalty card): `{ crm_id: 'C-1' }`. */
  externalIds: z.record(z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be snake_case'), id).optional(),
  /** Extra traits to set on the profile (groups, tags, newsletter opt-in…). */
  traits: z.record(z.string(), z.unknown()).optional(),
  createdAt: timestampSchema.optional(),
  updatedAt: timestampSchema.optional(),
});

export const commerceLineSchema = z.object({
  productId: id,
  variantId: id.optional(),
  sku: text.nullish(),
  name: text.nullish(),
  variant: text.nullish(),
  category: text.nullish(),
  brand: text.nullish(),
  /** Unit price, tax included when the backend shows prices with tax. */
  price: money.nullish(),
  quantity: z.number().int().nonnegative().default(1),
  url: text.nullish(),
  imageUrl: text.nullish(),
});

export const commerceOrderSchema = z.object({
  /** The backend's internal id. */
  id,
  /** The order number shoppers see (Vendure's code, Medusa's display id); the event's order_id. */
  code: id.optional(),
  customer: commerceCustomerSchema.nullish(),
  /** The storefront's anonymous id, when the backend kept it on the order (cart token). */
  anonymousId: id.nullish(),
  currency: z.string().length(3, 'must be an ISO-4217 code such as "EUR"'),
  total: money,
  subtotal: money.nullish(),
  shipping: money.nullish(),
  tax: money.nullish(),
  discount: money.nullish(),
  coupons: z.array(text).default([]),
  lines: z.array(commerceLineSchema).max(1000).default([]),
  /** When the order was placed (checkout completed); absent for carts. */
  placedAt: timestampSchema.nullish(),
  /** 'back_office' for orders entered by staff (draft orders, imports); default 'storefront'. */
  origin: z.enum(['storefront', 'back_office']).default('storefront'),
});

export const orderChangeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('placed'), order: commerceOrderSchema, at: timestampSchema }),
  z.object({
    kind: z.literal('shipped'),
    order: commerceOrderSchema,
    at: timestampSchema,
    shipment: z.object({ id, carrier: text.nullish(), trackingNumber: text.nullish(), lines: z.array(commerceLineSchema).optional() }).optional(),
  }),
  z.object({ kind: z.literal('cancelled'), order: commerceOrderSchema, at: timestampSchema, reason: text.nullish() }),
  z.object({
    kind: z.literal('refunded'),
    order: commerceOrderSchema,
    at: timestampSchema,
    refund: z.object({
      id,
      /** Amount refunded (major units); the whole order when absent. */
      amount: money.nullish(),
      reason: text.nullish(),
      /** Goods came back (a return), not only money. */
      returned: z.boolean().default(false),
      lines: z.array(commerceLineSchema).optional(),
    }),
  }),
]);

export const cartChangeSchema = z.object({
  kind: z.enum(['added', 'removed', 'viewed']),
  cart: commerceOrderSchema.omit({ placedAt: true }),
  /** The line added or removed (with the quantity changed); absent for 'viewed'. */
  line: commerceLineSchema.optional(),
  at: timestampSchema,
  /** Distinguishes two identical changes at the same instant (a backend event id). */
  eventId: id.optional(),
});

export const customerChangeSchema = z.object({
  kind: z.enum(['created', 'updated', 'deleted']),
  customer: commerceCustomerSchema,
  at: timestampSchema,
});

export type CommerceCustomer = z.input<typeof commerceCustomerSchema>;
export type CommerceLine = z.input<typeof commerceLineSchema>;
export type CommerceOrder = z.input<typeof commerceOrderSchema>;
export type OrderChange = z.input<typeof orderChangeSchema>;
export type CartChange = z.input<typeof cartChangeSchema>;
export type CustomerChange = z.input<typeof customerChangeSchema>;

export type ParsedCustomer = z.output<typeof commerceCustomerSchema>;
export type ParsedLine = z.output<typeof commerceLineSchema>;
export type ParsedOrder = z.output<typeof commerceOrderSchema>;

/** Parses an adapter's translation; a wrong shape is a bug in the adapter, reported with its path. */
export function parseCommerce<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = zodIssues(r.error);
  throw new AttuneError('VALIDATION', `${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { issues });
}

/** ISO-4217 currencies without minor units (and the three with three decimals). */
const ZERO_DECIMAL = new Set(['BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG', 'RWF', 'UGX', 'UYI', 'VND', 'VUV', 'XAF', 'XOF', 'XPF']);
const THREE_DECIMAL = new Set(['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND']);

/** An amount in minor units (cents) in major units, by the currency's exponent. */
export function fromMinorUnits(amount: number, currency: string): number {
  const code = currency.toUpperCase();
  const exponent = ZERO_DECIMAL.has(code) ? 0 : THREE_DECIMAL.has(code) ? 3 : 2;
  return Math.round(amount) / 10 ** exponent;
}
