import { Cron } from 'croner';
import { z } from 'zod';

export const SECTIONS = ['content', 'products', 'users'] as const;
export type Section = (typeof SECTIONS)[number];

/** Checks a cron pattern with croner, the library Strapi's cron runs on, with the options Strapi sets (Strapi 5.54 bundles croner 10; the catalog pins 11 for every package). */
export function cronError(pattern: string): string | null {
  try {
    const job = new Cron(pattern, { paused: true, sloppyRanges: true });
    job.stop();
    return null;
  } catch (e) {
    return `"${pattern}" is not a valid cron pattern (${e instanceof Error ? e.message : String(e)}); for example "*/30 * * * *" runs every 30 minutes`;
  }
}

const cron = z.string().superRefine((value, ctx) => {
  const error = cronError(value);
  if (error) ctx.addIssue({ code: 'custom', message: error });
});

const section = {
  enabled: z.boolean(),
  cron,
  /** Content type uids (`api::article.article`); ignored for users. */
  contentTypes: z.array(z.string().regex(/^(api|plugin)::[\w-]+\.[\w-]+$/, 'a content type uid such as api::article.article')),
  /** Locales to export; empty exports every locale. */
  locales: z.array(z.string().min(1)),
  status: z.enum(['published', 'draft']),
  batchSize: z.number().int().min(1).max(1000),
  mode: z.enum(['incremental', 'full']),
  streamId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, dot, dash or underscore, up to 64 characters'),
};

/** A section as code or the settings page gives it: only what is set, no defaults filled in. */
export const SectionPatchSchema = z.object(section).partial().strict();

export const SectionSchema = z.object({
  ...section,
  enabled: section.enabled.default(true),
  cron: section.cron.default('*/30 * * * *'),
  contentTypes: section.contentTypes.default([]),
  locales: section.locales.default([]),
  status: section.status.default('published'),
  batchSize: section.batchSize.default(100),
  mode: section.mode.default('incremental'),
});
export type SectionSettings = z.infer<typeof SectionSchema>;

const FieldRuleInput = z.object({
  include: z.boolean().optional(),
  rename: z.string().min(1).optional(),
  transform: z.string().optional(),
});
/** The shape only; what the rules mean for the app's schemas is checked by the core's validateFieldRules. */
export const FieldRulesInput = z.record(
  z.string(),
  z.object({ default: z.enum(['include', 'skip']).optional(), fields: z.record(z.string(), FieldRuleInput).default({}) }),
);

export const SECTION_DEFAULTS: Record<Section, Omit<SectionSettings, 'enabled' | 'cron' | 'status' | 'batchSize' | 'mode' | 'locales'>> = {
  content: { contentTypes: [], streamId: 'strapi-content' },
  products: { contentTypes: [], streamId: 'strapi-products' },
  users: { contentTypes: [], streamId: 'strapi-users' },
};

export const PluginConfigSchema = z.object({
  engineUrl: z.string().default(''),
  secretKey: z.string().default(''),
  writeKey: z.string().default(''),
  /** Key of the HMAC-SHA256 that the `hash` transform applies to personal data. */
  hashSecret: z.string().default(''),
  fields: FieldRulesInput.default({}),
  exports: z
    .object({
      content: SectionPatchSchema.optional(),
      products: SectionPatchSchema.optional(),
      users: SectionPatchSchema.optional(),
    })
    .default({}),
  /** How long an export lease lasts without renewal; another instance takes over after that. */
  leaseTtlMs: z.number().int().min(1000).default(5 * 60_000),
  /** Erasure notices from Attune (POST /api/attune/erasure), see the README. */
  erasure: z
    .object({
      /** The activation's id at Attune; confirmations name the receipt target `activation:<id>`. */
      activationId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'letters, digits, dot, dash or underscore').default('strapi'),
      /**
       * The URL Attune reaches this endpoint at (`https://cms.example.com/api/attune/erasure`). Set, the
       * plugin registers its activation on bootstrap (idempotent) and keeps the secret Attune shows once.
       */
      endpointUrl: z.union([z.literal(''), z.string().url('an absolute URL such as https://cms.example.com/api/attune/erasure')]).default(''),
      /** The activation's `whsec_` secret, when the activation was registered by hand. */
      secret: z.union([z.literal(''), z.string().startsWith('whsec_', 'the activation secret, starting with "whsec_"')]).default(''),
      /**
       * Also delete the users-permissions account of an erased person. Default false: the account is
       * the app's own record (its sign-in), not a copy of Attune's data.
       */
      deleteUsers: z.boolean().default(false),
      toleranceSec: z.number().int().min(1).default(300),
      confirmAttempts: z.number().int().min(1).max(20).default(6),
      confirmBaseDelayMs: z.number().int().min(10).default(1000),
    })
    .prefault({}),
});
export type PluginConfig = z.infer<typeof PluginConfigSchema>;

export function parsePluginConfig(input: unknown): PluginConfig {
  const parsed = PluginConfigSchema.safeParse(input ?? {});
  if (!parsed.success) throw new Error(`config/plugins attune.config is invalid:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export default {
  default: {},
  validator(config: unknown) {
    parsePluginConfig(config);
  },
};
