import { z } from 'zod';

const exportStream = z.object({
  enabled: z.boolean().default(true),
  /** The Attune catalog stream (products) or checkpoint name (customers) of this source. */
  streamId: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,99}$/, 'must be lowercase letters, digits, "_", "-" or "."'),
  /** Field customization (the core's export model): `{ default?, fields: { name: { include, rename, transform } } }`. */
  fields: z.record(z.string(), z.unknown()).default({}),
});

export const attuneMedusaOptionsSchema = z.object({
  attuneUrl: z.string().url('must be an absolute URL such as http://localhost:4000'),
  writeKey: z.string().min(1),
  secretKey: z.string().min(1),
  source: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/).default('medusa'),
  catalog: z
    .object({
      /** Cron expression (croner syntax); the plugin's job checks it every minute. None = on demand only. */
      schedule: z.string().min(1).optional(),
      timezone: z.string().optional(),
      batchSize: z.number().int().min(1).max(1000).default(200),
      hashKey: z.string().min(16).optional(),
      products: exportStream.prefault({ streamId: 'medusa-products' }),
      customers: exportStream.prefault({ streamId: 'medusa-customers' }),
    })
    .prefault({}),
  activation: z
    .object({
      secret: z.string().startsWith('whsec_', 'must be the activation secret, starting with "whsec_"').optional(),
      groups: z.record(z.string(), z.string().min(1)).default({}),
      prefix: z.string().optional(),
      toleranceSec: z.number().int().min(1).default(300),
      /** The activation's id at Attune: erasure confirmations name the target `activation:<id>`. */
      id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'must be the activation id at Attune').default('medusa'),
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

export type AttuneMedusaOptions = z.input<typeof attuneMedusaOptionsSchema>;
export type ResolvedOptions = z.output<typeof attuneMedusaOptionsSchema>;

export const PLUGIN_NAME = '@attune/commerce-medusa';

export function parseOptions(options: unknown): ResolvedOptions {
  const parsed = attuneMedusaOptionsSchema.safeParse(options);
  if (!parsed.success) throw new Error(`${PLUGIN_NAME} options: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
