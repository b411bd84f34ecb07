import { AttuneError, type Engine, MAX_CATALOG_BATCH } from '@attune/core';
import { Router } from 'express';
import { z } from 'zod';
import { jsonBody } from './documents.ts';
import { parseInput } from './validate.ts';

/** A full batch of items with large fields fits; anything beyond is refused before parsing. */
export const CATALOG_BODY_LIMIT = 16 * 1024 * 1024;

const listQuerySchema = z.object({
  type: z.string().min(1).max(200).optional(),
  after: z.string().max(2000).optional(),
  limit: z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(z.number().int().min(1).max(1000)).optional(),
  deleted: z.enum(['true', 'false']).optional(),
});

const itemQuerySchema = z.object({ locale: z.string().min(1).max(35).optional() });

/**
 * The catalog API: CMS and commerce adapters send content, products and other items per
 * stream, as idempotent upserts and tombstones (secret key).
 */
export function catalogRoutes(engine: Engine): Router {
  const router = Router();

  router.get('/v1/catalog', async (_req, res) => {
    res.json({ streams: await engine.catalog.streams() });
  });

  router.post('/v1/catalog/:streamId', async (req, res) => {
    const body = await jsonBody(req, res, { bytes: CATALOG_BODY_LIMIT, label: `/v1/catalog (${MAX_CATALOG_BATCH} items at most)` });
    const result = await engine.catalog.apply(String(req.params.streamId), body);
    res.json(result);
  });

  router.get('/v1/catalog/:streamId', async (req, res) => {
    const q = parseInput(listQuerySchema, req.query);
    const page = await engine.catalog.list(String(req.params.streamId), {
      type: q.type,
      after: q.after,
      limit: q.limit,
      includeDeleted: q.deleted === 'true',
    });
    res.json(page);
  });

  router.get('/v1/catalog/:streamId/items/:type/:id', async (req, res) => {
    const q = parseInput(itemQuerySchema, req.query);
    const item = await engine.catalog.get(String(req.params.streamId), { type: String(req.params.type), id: String(req.params.id), locale: q.locale });
    if (!item || item.deleted) throw new AttuneError('NOT_FOUND', `stream ${req.params.streamId} has no ${req.params.type} "${req.params.id}"${q.locale ? ` in ${q.locale}` : ''}`);
    res.json(item);
  });

  return router;
}
