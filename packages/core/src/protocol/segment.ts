import { z } from 'zod';
import { LIMITS } from './limits.ts';

/**
 * A JSON object whose content is free (properties, traits, context). Checked by shape only:
 * z.record would copy every key of every call, and the safety walk has already checked the
 * keys and values (depth, prototype keys, strings).
 */
export const jsonObject = z
  .custom<Record<string, unknown>>((v) => v !== null && typeof v === 'object' && !Array.isArray(v), {
    message: 'must be a JSON object',
  })
  .meta({ type: 'object', additionalProperties: true });

/** Ids may arrive as numbers from some clients; Attune keeps them as strings. */
export const idSchema = z.union([
  z.string().min(1, 'must not be empty').max(LIMITS.maxIdLength, `must be at most ${LIMITS.maxIdLength} characters`),
  z.number().int().transform((v) => String(v)),
]);

const MAX_TIME = 253402300799999;

/**
 * An ISO-8601 date-time string, as the Segment spec sends them. Checked here, normalised to
 * UTC by the parser (only `timestamp` is rewritten; the other times are kept as sent).
 */
export const timestampSchema = z.string().refine(
  (v) => {
    const ms = Date.parse(v);
    return ms >= 0 && ms <= MAX_TIME;
  },
  { message: 'must be an ISO-8601 date-time' },
);

const common = {
  messageId: z.string().min(1).max(LIMITS.maxIdLength).optional(),
  anonymousId: idSchema.optional(),
  userId: idSchema.optional(),
  timestamp: timestampSchema.optional(),
  originalTimestamp: timestampSchema.optional(),
  sentAt: timestampSchema.optional(),
  receivedAt: timestampSchema.optional(),
  context: jsonObject.optional(),
  integrations: jsonObject.optional(),
  channel: z.string().max(64).optional(),
};

function requireIdentity(msg: { anonymousId?: string | undefined; userId?: string | undefined }, ctx: z.RefinementCtx) {
  if (msg.anonymousId === undefined && msg.userId === undefined) {
    ctx.addIssue({ code: 'custom', path: ['userId'], message: 'either userId or anonymousId is required' });
  }
}

export const trackSchema = z
  .looseObject({
    ...common,
    type: z.literal('track'),
    event: z.string().min(1, 'must not be empty').max(LIMITS.maxEventNameLength),
    properties: jsonObject.optional(),
  })
  .superRefine(requireIdentity);

/**
 * identify sets traits (most recent wins). Attune also reads three optional extensions:
 * `setOnce` (kept only if the trait has no value), `increment` (numbers added) and `unset`.
 */
export const identifySchema = z
  .looseObject({
    ...common,
    type: z.literal('identify'),
    traits: jsonObject.optional(),
    setOnce: jsonObject.optional(),
    increment: z.record(z.string(), z.number()).optional(),
    unset: z.array(z.string().min(1)).optional(),
  })
  .superRefine(requireIdentity);

export const pageSchema = z
  .looseObject({
    ...common,
    type: z.literal('page'),
    name: z.string().max(LIMITS.maxEventNameLength).optional(),
    category: z.string().max(LIMITS.maxEventNameLength).optional(),
    properties: jsonObject.optional(),
  })
  .superRefine(requireIdentity);

export const screenSchema = z
  .looseObject({
    ...common,
    type: z.literal('screen'),
    name: z.string().max(LIMITS.maxEventNameLength).optional(),
    category: z.string().max(LIMITS.maxEventNameLength).optional(),
    properties: jsonObject.optional(),
  })
  .superRefine(requireIdentity);

export const groupSchema = z
  .looseObject({
    ...common,
    type: z.literal('group'),
    groupId: idSchema,
    traits: jsonObject.optional(),
  })
  .superRefine(requireIdentity);

export const aliasSchema = z.looseObject({
  ...common,
  type: z.literal('alias'),
  previousId: idSchema,
  userId: idSchema,
});

export const messageSchemas = {
  track: trackSchema,
  identify: identifySchema,
  page: pageSchema,
  screen: screenSchema,
  group: groupSchema,
  alias: aliasSchema,
} as const;

export type MessageTypeName = keyof typeof messageSchemas;
export const MESSAGE_TYPES = Object.keys(messageSchemas) as MessageTypeName[];

export const messageSchema = z.discriminatedUnion('type', [
  trackSchema,
  identifySchema,
  pageSchema,
  screenSchema,
  groupSchema,
  aliasSchema,
]);

export type TrackMessage = z.output<typeof trackSchema>;
export type IdentifyMessage = z.output<typeof identifySchema>;
export type PageMessage = z.output<typeof pageSchema>;
export type ScreenMessage = z.output<typeof screenSchema>;
export type GroupMessage = z.output<typeof groupSchema>;
export type AliasMessage = z.output<typeof aliasSchema>;

/** A validated message after normalisation: messageId, timestamp and receivedAt are always set. */
export type Message = z.output<typeof messageSchema> & {
  messageId: string;
  timestamp: string;
  receivedAt: string;
  context: Record<string, unknown>;
};

/** The body of POST /v1/batch. Batch-level context and integrations apply to every call. */
export const batchSchema = z.looseObject({
  batch: z.array(z.unknown()).min(1, 'must hold at least one call'),
  context: jsonObject.optional(),
  integrations: jsonObject.optional(),
  sentAt: timestampSchema.optional(),
});
