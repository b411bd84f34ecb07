import { z } from 'zod';

/**
 * Recommendation and ranking requests: `POST /v1/recommend`, `POST /v1/rank` and the
 * `recommend` slot content of the decision API share these schemas.
 */

export const RECOMMEND_STRATEGIES = [
  'viewed-together',
  'bought-together',
  'most-viewed',
  'most-purchased',
  'trending',
  'recently-viewed',
  'for-you',
  'more-like-this',
  'popular',
] as const;
export type RecommendStrategy = (typeof RECOMMEND_STRATEGIES)[number];

export const itemIdSchema = z.string().min(1).max(200);

export const recommendFiltersSchema = z
  .object({
    /** Only items the catalog says are in stock (items of unknown stock pass). */
    inStock: z.boolean().default(true),
    category: z.string().min(1).max(200).optional(),
    /** Leave out what the visitor bought. */
    excludePurchased: z.boolean().default(false),
    /** Leave out these items (e.g. what is already in the cart). */
    exclude: z.array(itemIdSchema).max(500).optional(),
  })
  .strict();
export type RecommendFilters = z.output<typeof recommendFiltersSchema>;

/** What a recommendation slot asks for: a strategy, how many, over which window, filtered how. */
export const recommendSpecSchema = z
  .object({
    strategy: z.enum(RECOMMEND_STRATEGIES),
    limit: z.number().int().min(1).max(100).default(10),
    /** Days counted by most-viewed and most-purchased. */
    window: z.union([z.literal(7), z.literal(30)]).default(30),
    filters: recommendFiltersSchema.default({ inStock: true, excludePurchased: false }),
    /** Fill up with popular items when the strategy finds fewer than `limit`. */
    fallback: z.boolean().default(true),
  })
  .strict();
export type RecommendSpec = z.output<typeof recommendSpecSchema>;

const who = {
  anonymousId: z.string().min(1).max(255).optional(),
  userId: z.string().min(1).max(255).optional(),
};

export const recommendRequestSchema = recommendSpecSchema
  .extend({
    ...who,
    /** Seed items: the product on the page, the cart's items (viewed-/bought-together, more-like-this). */
    items: z.array(itemIdSchema).max(50).optional(),
  })
  .strict();
export type RecommendRequest = z.output<typeof recommendRequestSchema>;

/** Which items a merchandiser rule applies to: listed ids, a category or a brand. */
export const ruleMatchSchema = z
  .object({
    ids: z.array(itemIdSchema).min(1).max(1000).optional(),
    category: z.string().min(1).max(200).optional(),
    brand: z.string().min(1).max(200).optional(),
  })
  .strict()
  .refine((m) => m.ids !== undefined || m.category !== undefined || m.brand !== undefined, { message: 'name ids, a category or a brand' });
export type RuleMatch = z.output<typeof ruleMatchSchema>;

export const rankRulesSchema = z
  .object({
    /** Fixed positions (1-based), whatever the scores. */
    pin: z.array(z.object({ id: itemIdSchema, position: z.number().int().min(1).max(1000) }).strict()).max(100).default([]),
    /** Adds `weight` to the score of matching items. */
    boost: z.array(z.object({ match: ruleMatchSchema, weight: z.number().min(0).max(10).default(1) }).strict()).max(100).default([]),
    /** Moves matching items after every other item (keeping their order among themselves). */
    bury: z.array(z.object({ match: ruleMatchSchema }).strict()).max(100).default([]),
    /** Removes matching items. */
    hide: z.array(z.object({ match: ruleMatchSchema }).strict()).max(100).default([]),
  })
  .strict();
export type RankRules = z.output<typeof rankRulesSchema>;

export const rankWeightsSchema = z
  .object({
    /** The list's own order (search relevance, category sort). */
    original: z.number().min(0).max(10).default(1),
    affinity: z.number().min(0).max(10).default(1),
    trending: z.number().min(0).max(10).default(0.5),
  })
  .strict();
export type RankWeights = z.output<typeof rankWeightsSchema>;

export const rankRequestSchema = z
  .object({
    ...who,
    items: z
      .array(itemIdSchema)
      .min(1)
      .max(1000)
      .refine((ids) => new Set(ids).size === ids.length, { message: 'items must not repeat an id' }),
    rules: rankRulesSchema.default({ pin: [], boost: [], bury: [], hide: [] }),
    weights: rankWeightsSchema.default({ original: 1, affinity: 1, trending: 0.5 }),
  })
  .strict();
export type RankRequest = z.output<typeof rankRequestSchema>;
