import { z } from 'zod';
import { configIdSchema } from './audiences.ts';

/** A webhook activation: where membership changes (and other outbox topics) are delivered. */
export const activationInputSchema = z
  .object({
    id: configIdSchema,
    name: z.string().min(1).max(200),
    type: z.literal('webhook').default('webhook'),
    url: z
      .string()
      .url('must be an absolute URL')
      .refine((u) => /^https?:\/\//.test(u), 'must be an http or https URL'),
    topics: z.array(z.string().min(1).max(100)).min(1).max(20).default(['audience.membership']),
    /** Only changes of these audiences (all when absent). */
    audienceIds: z.array(configIdSchema).max(500).optional(),
    enabled: z.boolean().default(true),
    /** Attempts before an entry goes to the dead-letter list. */
    maxAttempts: z.number().int().min(1).max(20).default(8),
    /**
     * The purpose the destination uses data for: a visitor who has not granted it is never sent
     * to it. Default `marketing`.
     */
    purpose: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be a snake_case purpose').default('marketing'),
    /**
     * How the destination confirms an erasure notice: by answering it with a 2xx (`delivery`),
     * or by calling `POST /v1/privacy/requests/:id/confirmations` once its copy is deleted (`callback`).
     */
    erasureConfirmation: z.enum(['delivery', 'callback']).default('delivery'),
    /**
     * Profile traits sent with each membership change (`data.traits`). An encrypted trait is sent
     * decrypted only when this activation's purpose is listed for it, and left out otherwise.
     */
    traits: z.array(z.string().regex(/^[A-Za-z0-9_$-]{1,100}$/, 'must be a trait name')).max(50).optional(),
  })
  .strict();

export type ActivationInput = z.output<typeof activationInputSchema>;
