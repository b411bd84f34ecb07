import { z } from 'zod';

/** Field customization rules per exported type (the core's export model; validated by the core at run time). */
const fieldRules = z.record(z.string(), z.unknown()).default({});

const exportStream = z.object({
  enabled: z.boolean().default(true),
  /** The Attune catalog stream (products) or cursor name (customers) of this source. */
  streamId: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,99}$/, 'must be lowercase letters, digits, "_", "-" or "."'),
  fields: fieldRules,
});

export const attuneVendureOptionsSchema = z.object({
  /** Base URL of the Attune server. */
  attuneUrl: z.string().url('must be an absolute URL such as http://localhost:4000'),
  /** Write key: order, cart and customer events go to /v1/batch with it. */
  writeKey: z.string().min(1),
  /** Secret key: catalog sync, order-history import and profile look-ups. */
  secretKey: z.string().min(1),
  /** Names the backend in message ids and in the `<source>_customer_id` identifier. */
  source: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/).default('vendure'),
  /** Send server-side cart changes (lines added/removed) as Product Added / Product Removed. */
  trackCarts: z.boolean().default(true),
  delivery: z
    .object({
      pollMs: z.number().int().min(50).default(1000),
      batchSize: z.number().int().min(1).max(500).default(100),
      /** First retry delay; doubles per attempt up to maxDelayMs. */
      baseDelayMs: z.number().int().min(10).default(1000),
      maxDelayMs: z.number().int().min(100).default(300_000),
      /** Attempts before an entry is parked as failed (kept in the table with its error). */
      maxAttempts: z.number().int().min(1).default(20),
    })
    .prefault({}),
  catalog: z
    .object({
      /** Cron expression (croner syntax, seconds optional) for the scheduled export; none = only on demand. */
      schedule: z.string().min(1).optional(),
      timezone: z.string().optional(),
      batchSize: z.number().int().min(1).max(1000).default(200),
      /** Key of the `hash` field transform (HMAC-SHA256); required when a rule hashes. */
      hashKey: z.string().min(16).optional(),
      products: exportStream.prefault({ streamId: 'vendure-products' }),
      customers: exportStream.prefault({ streamId: 'vendure-customers' }),
    })
    .prefault({}),
  activation: z
    .object({
      /** Signing secret of the Attune webhook activation (`whsec_…`); the endpoint is off without it. */
      secret: z.string().startsWith('whsec_', 'must be the activation secret, starting with "whsec_"').optional(),
      /** Audience id → customer group name. */
      groups: z.record(z.string(), z.string().min(1)).default({}),
      /** Audiences not listed in `groups` go to a group named prefix + audience id; unset = ignored. */
      prefix: z.string().optional(),
      toleranceSec: z.number().int().min(1).default(300),
      /** The activation's id at Attune: erasure confirmations name the target `activation:<id>`. */
      id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'must be the activation id at Attune').default('vendure'),
    })
    .prefault({}),
  erasure: z
    .object({
      /** Confirmation attempts before leaving it to Attune's resend of the notice. */
      confirmAttempts: z.number().int().min(1).max(20).default(6),
      confirmBaseDelayMs: z.number().int().min(10).default(1000),
    })
    .prefault({}),
});

export type AttuneVendureOptions = z.input<typeof attuneVendureOptionsSchema>;
export type ResolvedOptions = z.output<typeof attuneVendureOptionsSchema>;

export const ATTUNE_OPTIONS = Symbol('ATTUNE_VENDURE_OPTIONS');
