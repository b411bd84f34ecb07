import type { Store } from '@attune/core';
import { Router } from 'express';
import { z } from 'zod';
import { queryAudit } from '../audit.ts';
import { parseInput } from './validate.ts';

const auditQuerySchema = z.object({
  kind: z.string().min(1).max(100).optional(),
  resourceId: z.string().min(1).max(300).optional(),
  keyId: z.string().min(1).max(100).optional(),
  since: z
    .string()
    .refine((v) => Number.isFinite(Date.parse(v)), 'must be an ISO-8601 date-time')
    .transform((v) => Date.parse(v))
    .optional(),
  limit: z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(z.number().int().min(1).max(1000)).optional(),
});

/** GET /v1/audit: admin changes, newest first (admin role). */
export function auditRoutes(store: Store): Router {
  const router = Router();
  router.get('/v1/audit', async (req, res) => {
    const q = parseInput(auditQuerySchema, req.query);
    res.json({ entries: await queryAudit(store, { kind: q.kind, resourceId: q.resourceId, keyId: q.keyId, since: q.since, limit: q.limit ?? 100 }) });
  });
  return router;
}
