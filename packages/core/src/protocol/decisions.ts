import { z } from 'zod';
import type { Condition } from '../conditions/types.ts';
import { validateCondition } from '../conditions/validate.ts';
import { configIdSchema } from './audiences.ts';
import { recommendSpecSchema } from './recommend.ts';

/**
 * Decision configuration: experiences, offers, decision tables, decision models, experiments and
 * the global settings. Every document is validated here, once, at the boundary (admin API,
 * `attune config apply`); the engine trusts the parsed values.
 */

const iso = z.string().refine((v) => Number.isFinite(Date.parse(v)), 'must be an ISO-8601 date-time');
const jsonValue: z.ZodType<unknown> = z.lazy(() =>
  z.union([z.string().max(100_000), z.number().finite(), z.boolean(), z.null(), z.array(jsonValue).max(1000), z.record(z.string(), jsonValue)]),
);

/** A condition in the audience language, checked by its own validator (paths prefixed by zod's). */
const conditionSchema = z.unknown().superRefine((value, ctx) => {
  const r = validateCondition(value);
  if (!r.ok) {
    for (const issue of r.issues) {
      const segments = issue.path === '(root)' ? [] : issue.path.split(/\.|\[(\d+)\]/).filter((s) => s !== undefined && s !== '');
      ctx.addIssue({ code: 'custom', message: issue.message, path: segments.map((s) => (/^\d+$/.test(s) ? Number(s) : s)) });
    }
  }
}) as unknown as z.ZodType<Condition>;

const schedule = z
  .object({ start: iso.optional(), end: iso.optional() })
  .strict()
  .refine((s) => s.start === undefined || s.end === undefined || Date.parse(s.start) < Date.parse(s.end), {
    message: '"start" must be before "end"',
    path: ['end'],
  });

/** A glob over a path (`/products/**`) or host (`*.example.com`), or a regular expression. */
const pattern = z.union([
  z.string().min(1).max(500),
  z
    .object({ regex: z.string().min(1).max(500) })
    .strict()
    .superRefine((p, ctx) => {
      try {
        new RegExp(p.regex);
      } catch (error) {
        ctx.addIssue({ code: 'custom', path: ['regex'], message: `is not a valid regular expression: ${(error as Error).message}` });
      }
    }),
]);
export type Pattern = z.output<typeof pattern>;

export const targetingSchema = z
  .object({
    /** Host patterns; none means every site. */
    sites: z.array(pattern).max(200).optional(),
    /** Path patterns (or full-URL regexes); none means every page. */
    pages: z.array(pattern).max(500).optional(),
    /** Pages excluded even when `pages` matches. */
    excludePages: z.array(pattern).max(500).optional(),
    contentTypes: z.array(z.string().min(1).max(200)).max(100).optional(),
    /** The page must carry at least one of these tags. */
    tags: z.array(z.string().min(1).max(200)).max(100).optional(),
    /** The visitor must be in at least one of these audiences. */
    audiences: z.array(configIdSchema).max(100).optional(),
    condition: conditionSchema.optional(),
    locales: z.array(z.string().min(1).max(35)).max(100).optional(),
  })
  .strict();
export type Targeting = z.output<typeof targetingSchema>;

/** What a slot shows. */
export const slotContentSchema = z.union([
  z.object({ content: jsonValue }).strict(),
  z.object({ ref: z.object({ type: z.enum(['cms', 'offer', 'product']), id: z.string().min(1).max(500) }).strict() }).strict(),
  z
    .object({ html: z.string().max(200_000), css: z.string().max(200_000).optional(), js: z.string().max(200_000).optional() })
    .strict(),
  z.object({ table: configIdSchema }).strict(),
  z.object({ model: configIdSchema }).strict(),
  z
    .object({
      offers: z
        .object({ from: z.array(configIdSchema).max(500).optional(), tags: z.array(z.string()).max(50).optional(), limit: z.number().int().min(1).max(50).default(1) })
        .strict(),
    })
    .strict(),
  /** Recommended products: seeds come from the decide context (`productId`, `items`), the visitor from the request. */
  z.object({ recommend: recommendSpecSchema }).strict(),
]);
export type SlotContent = z.output<typeof slotContentSchema>;

const slotKey = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, 'must be 1–128 letters, digits, "_", ".", ":" or "-"');

export const variantSchema = z
  .object({
    key: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be 1–64 lower-case letters, digits, "-" or "_"'),
    name: z.string().max(200).optional(),
    /** Content per slot; a slot absent here keeps the site's default in this variant. */
    slots: z.record(slotKey, slotContentSchema),
  })
  .strict();
export type Variant = z.output<typeof variantSchema>;

export const experienceSchema = z
  .object({
    id: configIdSchema,
    name: z.string().min(1).max(200),
    description: z.string().max(2000).optional(),
    status: z.enum(['active', 'paused', 'draft']).default('active'),
    /** `web` experiences may carry HTML/CSS/JS fragments; `full_stack` ones return data only. */
    type: z.enum(['web', 'full_stack']).default('full_stack'),
    /** Higher wins a slot two experiences both target; ties go to the smaller id. */
    priority: z.number().int().min(-1_000_000).max(1_000_000).default(0),
    targeting: targetingSchema.default({}),
    schedule: schedule.optional(),
    /** The first variant is the control of an experiment and the variant served without one. */
    variants: z.array(variantSchema).min(1).max(20),
  })
  .strict()
  .superRefine((e, ctx) => {
    const seen = new Set<string>();
    e.variants.forEach((v, i) => {
      if (seen.has(v.key)) ctx.addIssue({ code: 'custom', path: ['variants', i, 'key'], message: `duplicate variant key "${v.key}"` });
      seen.add(v.key);
      if (e.type !== 'web') {
        for (const [slot, c] of Object.entries(v.slots)) {
          if ('html' in c) ctx.addIssue({ code: 'custom', path: ['variants', i, 'slots', slot], message: 'HTML fragments are for web experiences (type "web")' });
        }
      }
    });
  });
export type Experience = z.output<typeof experienceSchema>;

export const goalSchema = z
  .object({
    id: configIdSchema,
    event: z.string().min(1).max(200),
    /** The property holding the conversion's value (revenue), e.g. `revenue` or `total`. */
    valueProperty: z.string().min(1).max(200).optional(),
    where: z.array(z.object({ property: z.string().min(1), op: z.string(), value: jsonValue.optional() }).strict()).max(16).optional(),
  })
  .strict();
export type Goal = z.output<typeof goalSchema>;

export const experimentSchema = z
  .object({
    id: configIdSchema,
    name: z.string().min(1).max(200),
    experienceId: configIdSchema,
    status: z.enum(['running', 'paused', 'stopped']).default('running'),
    /** Share of eligible visitors in the experiment, in percent. Raising it keeps everyone's variant. */
    traffic: z.number().min(0).max(100).default(100),
    /** Weight per variant key of the experience; missing keys weigh 0. Default: equal weights. */
    weights: z.record(z.string(), z.number().min(0).max(1000)).optional(),
    /** Hash seed; defaults to the experiment id. Changing it reshuffles everyone. */
    seed: z.string().min(1).max(200).optional(),
    /** Percent of eligible visitors kept on the control and out of the results, to measure the experiment's own lift. */
    holdout: z.number().min(0).max(50).default(0),
    /** Mutually exclusive layer: experiments in one layer with disjoint ranges never share a visitor. */
    layer: z
      .object({ id: configIdSchema, range: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]) })
      .strict()
      .refine((l) => l.range[0] < l.range[1], { message: 'range must be [start, end) with start < end', path: ['range'] })
      .optional(),
    mode: z.enum(['ab', 'bandit']).default('ab'),
    bandit: z
      .object({
        /** Each arm keeps at least this share of traffic. */
        minShare: z.number().min(0).max(0.5).default(0.05),
        /** How often the weights are recomputed from results. */
        reweightMinutes: z.number().int().min(1).max(10_080).default(60),
      })
      .strict()
      .default({ minShare: 0.05, reweightMinutes: 60 }),
    goals: z.array(goalSchema).min(1).max(10),
    /** Which goal the results and the bandit optimise; default the first. */
    primaryGoal: configIdSchema.optional(),
  })
  .strict()
  .superRefine((x, ctx) => {
    if (x.primaryGoal !== undefined && !x.goals.some((g) => g.id === x.primaryGoal)) {
      ctx.addIssue({ code: 'custom', path: ['primaryGoal'], message: `no goal "${x.primaryGoal}" in goals` });
    }
  });
export type Experiment = z.output<typeof experimentSchema>;

export const offerSchema = z
  .object({
    id: configIdSchema,
    name: z.string().min(1).max(200),
    content: jsonValue,
    tags: z.array(z.string().min(1).max(100)).max(50).optional(),
    eligibility: conditionSchema.optional(),
    /** Rules first: a higher priority always ranks above a lower one; the score orders within. */
    priority: z.number().int().min(-1000).max(1000).default(0),
    schedule: schedule.optional(),
    caps: z
      .object({ perDay: z.number().int().min(1).max(10_000).optional(), total: z.number().int().min(1).max(1_000_000).optional() })
      .strict()
      .optional(),
    score: z
      .object({
        base: z.number().finite().default(0),
        /** Numeric traits (`traits.x`, `computed.y`) times a weight. */
        traits: z.array(z.object({ path: z.string().regex(/^(traits|computed)\.\S+$/), weight: z.number().finite() }).strict()).max(20).optional(),
        /** Share of the visitor's views in this category or brand (0..1) times a weight. */
        affinity: z
          .object({ category: z.string().optional(), brand: z.string().optional(), weight: z.number().finite() })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type Offer = z.output<typeof offerSchema>;

/** A cell of a decision-table row: `"-"` (any) or an operator and a value. */
const cellSchema = z.union([
  z.literal('-'),
  z
    .object({
      op: z.enum(['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'not_in', 'contains', 'starts_with', 'exists', 'matches']),
      value: jsonValue.optional(),
    })
    .strict(),
]);
export type TableCell = z.output<typeof cellSchema>;

export const tableOutputSchema = z.union([
  z.object({ offer: configIdSchema }).strict(),
  z.object({ content: jsonValue }).strict(),
  z.object({ value: jsonValue }).strict(),
]);
export type TableOutput = z.output<typeof tableOutputSchema>;

/** Where a table input comes from: `traits.*`, `computed.*`, `context.*`, `connectors.<id>.<output>`, `tables.<id>`, `audiences`. */
const inputSource = z.string().regex(/^(traits|computed|context|connectors|tables)\.\S+$|^audiences$/, 'must start with traits., computed., context., connectors. or tables., or be "audiences"');

export const decisionTableSchema = z
  .object({
    id: configIdSchema,
    name: z.string().min(1).max(200),
    hitPolicy: z.enum(['first', 'unique', 'priority', 'collect']),
    inputs: z.array(z.object({ id: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/), source: inputSource }).strict()).min(1).max(20),
    rules: z
      .array(
        z
          .object({
            when: z.record(z.string(), cellSchema),
            then: tableOutputSchema,
            /** For the priority hit policy: the highest wins (ties: the earlier row). */
            priority: z.number().int().default(0),
          })
          .strict(),
      )
      .min(1)
      .max(1000),
    /** The output when no rule matches. */
    default: tableOutputSchema.optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    const ids = new Set(t.inputs.map((i) => i.id));
    t.rules.forEach((r, i) => {
      for (const key of Object.keys(r.when)) {
        if (!ids.has(key)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'when', key], message: `no input "${key}" (inputs: ${[...ids].join(', ')})` });
      }
    });
  });
export type DecisionTable = z.output<typeof decisionTableSchema>;

export const decisionModelSchema = z
  .object({
    id: configIdSchema,
    name: z.string().min(1).max(200),
    /** Connectors called first; their outputs are inputs of the tables (`connectors.<id>.<output>`). */
    connectors: z.array(configIdSchema).max(10).default([]),
    /** Tables evaluated in order; a later table reads an earlier one's output as `tables.<id>`. */
    tables: z.array(configIdSchema).min(1).max(20),
    /** The table whose output is the model's result; default the last. */
    output: configIdSchema.optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.output !== undefined && !m.tables.includes(m.output)) ctx.addIssue({ code: 'custom', path: ['output'], message: `"${m.output}" is not one of the model's tables` });
  });
export type DecisionModel = z.output<typeof decisionModelSchema>;

export const decisionSettingsSchema = z
  .object({
    /** Percent of all visitors kept out of every experience, to measure personalization's overall lift. */
    globalHoldout: z.number().min(0).max(50).default(0),
    holdoutSeed: z.string().min(1).max(200).default('attune-global-holdout'),
  })
  .strict();
export type DecisionSettings = z.output<typeof decisionSettingsSchema>;

/** The request context of a decision: where the visitor is and on what. */
export const decideContextSchema = z
  .object({
    url: z.string().max(8192).optional(),
    site: z.string().max(500).optional(),
    path: z.string().max(8192).optional(),
    referrer: z.string().max(8192).optional(),
    locale: z.string().max(35).optional(),
    contentType: z.string().max(200).optional(),
    tags: z.array(z.string().max(200)).max(100).optional(),
    device: z.object({ type: z.string().max(50).optional() }).passthrough().optional(),
    browser: z.string().max(100).optional(),
    geo: z.object({ country: z.string().max(100).optional(), region: z.string().max(100).optional(), city: z.string().max(200).optional() }).strict().optional(),
    utm: z.record(z.string(), z.string().max(500)).optional(),
    timezone: z.string().max(64).optional(),
  })
  .catchall(jsonValue);
export type DecideContext = z.output<typeof decideContextSchema>;

export const decideRequestSchema = z
  .object({
    anonymousId: z.string().min(1).max(255).optional(),
    userId: z.string().min(1).max(255).optional(),
    context: decideContextSchema.default({}),
    slots: z.array(slotKey).min(1).max(50),
    explain: z.boolean().default(false),
    /** Record exposures for the experiments served (default true); false for previews. */
    recordExposure: z.boolean().default(true),
  })
  .strict()
  .refine((r) => r.anonymousId !== undefined || r.userId !== undefined, { message: 'send anonymousId or userId', path: ['anonymousId'] });
export type DecideRequest = z.output<typeof decideRequestSchema>;

export const DECISION_KINDS = {
  experience: 'experience',
  offer: 'offer',
  table: 'decision-table',
  model: 'decision-model',
  experiment: 'experiment',
  connector: 'connector',
  settings: 'decision-settings',
} as const;
