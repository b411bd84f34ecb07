import { z } from 'zod';
import { productSchema } from './commerce.ts';
import { idSchema, timestampSchema } from './segment.ts';

/**
 * A profile record: data from another system (CRM, credit bureau, POS) upserted onto the
 * profile an identifier points to, creating it if needed. Traits are set with the record's
 * timestamp, so an older record never overwrites newer data.
 */
export const profileRecordSchema = z
  .object({
    userId: idSchema.optional(),
    anonymousId: idSchema.optional(),
    email: z.string().min(3).max(320).optional(),
    phone: z.string().min(3).max(64).optional(),
    /** Configured external ids, by type: `{ "crm_id": "C-1", "loyalty_card": "L-9" }`. */
    externalIds: z.record(z.string(), idSchema).optional(),
    traits: z.record(z.string(), z.unknown()).default({}),
    timestamp: timestampSchema.optional(),
    messageId: z.string().min(1).max(255).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    const hasExternal = r.externalIds !== undefined && Object.keys(r.externalIds).length > 0;
    if (!r.userId && !r.anonymousId && !r.email && !r.phone && !hasExternal) {
      ctx.addIssue({
        code: 'custom',
        path: ['userId'],
        message: 'a record needs an identifier: userId, anonymousId, email, phone or externalIds',
      });
    }
  });

export type ProfileRecordInput = z.output<typeof profileRecordSchema>;

/**
 * One row of a past-order import. Each row becomes an `Order Placed` back-office event at
 * the order's own time, with `imported: true`; the order id makes a re-import a no-op.
 */
export const orderHistoryRowSchema = z
  .object({
    order_id: z.union([z.string().min(1), z.number()]).transform(String),
    userId: idSchema.optional(),
    anonymousId: idSchema.optional(),
    email: z.string().min(3).max(320).optional(),
    timestamp: timestampSchema,
    total: z.number().finite().optional(),
    revenue: z.number().finite().optional(),
    currency: z.string().length(3).optional(),
    status: z.enum(['completed', 'cancelled', 'refunded']).default('completed'),
    products: z.array(productSchema).max(1000).optional(),
  })
  .superRefine((r, ctx) => {
    if (!r.userId && !r.anonymousId && !r.email) {
      ctx.addIssue({ code: 'custom', path: ['userId'], message: 'an order needs userId, anonymousId or email' });
    }
  });

export type OrderHistoryRow = z.output<typeof orderHistoryRowSchema>;
