import { z } from 'zod';

/** Identifiers of segment groups and audiences: chosen by people, stable forever once created. */
export const configIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be 1–64 characters: lower-case letters, digits, "-" and "_", starting with a letter or digit');

export const segmentGroupInputSchema = z
  .object({
    id: configIdSchema,
    name: z.string().min(1).max(200),
    description: z.string().max(2000).optional(),
  })
  .strict();

export type SegmentGroupInput = z.output<typeof segmentGroupInputSchema>;

/** An audience as submitted; `condition` is checked by the condition language's own validator. */
export const audienceInputSchema = z
  .object({
    id: configIdSchema,
    groupId: configIdSchema,
    name: z.string().min(1).max(200),
    description: z.string().max(2000).optional(),
    condition: z.unknown(),
  })
  .strict();

export type AudienceInput = z.output<typeof audienceInputSchema>;
