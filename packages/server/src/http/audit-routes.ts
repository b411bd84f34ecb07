import type { Store } from '@attune/core';
import { Router } from 'express';
import { z } from 'zod';
import { queryAudit } from '../audit.ts';
import { parseInput } from './validate.ts';

const auditQuerySchema = z.strictObject({
  kind: z.string().min(1).max(100).optional(),
  resourceId: z.string().min(1).max(300).optional(),
  keyId: z.string().min(1).max(100).optional(),
  since: z
    .string()
    .refine((v) => Number.isFinite(Date.parse(v)), 'must be an ISO-8601 date-time')
    .transform((v) => Date.parse(v))
    .optional(),
  /** `nextCursor` of the previous page. */
  cursor: z
    .string()
    .regex(/^\d{15}-[0-9a-f]{1,32}$/, 'must be a nextCursor from a previous page')
    .optional(),
  limit: z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(z.number().int().min(1).max(1000)).optional(),
});

/** GET /v1/audit: admin changes, newest first, a page at a time (admin role). */
export function auditRoutes(store: Store): Router {
  const router = Router();
  router.get('/v1/audit', async (req, res) => {
    const q = parseInput(auditQuerySchema, req.query);
    res.json(await queryAudit(store, { kind: q.kind, resourceId: q.resourceId, keyId: q.keyId, since: q.since, cursor: q.cursor, limit: q.limit ?? 100 }));
  });
  return router;
}
