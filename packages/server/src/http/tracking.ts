import { type Engine, LIMITS, type Logger, type MessageTypeName } from '@attune/core';
import { type RequestHandler, Router } from 'express';
import { authenticateBody, type KeyResolver, trackingAuth } from './auth.ts';
import { type BodyLimit, checkContentType, readJsonBody } from './body.ts';
import { trackingCors } from './cors.ts';
import { requestLog } from './request-log.ts';

/** sendBeacon can only send text/plain; Segment accepts both. */
export const TRACKING_CONTENT_TYPES = ['application/json', 'text/plain'] as const;

/**
 * Segment's endpoints, plus the one-letter paths analytics.js (analytics-next) posts to when
 * its apiHost points here (`/v1/t`, `/v1/b`, …), and /v1/import, Segment's name for batch.
 */
export const SINGLE_CALL_PATHS: Record<MessageTypeName, string[]> = {
  track: ['/v1/track', '/v1/t'],
  identify: ['/v1/identify', '/v1/i'],
  page: ['/v1/page', '/v1/p'],
  screen: ['/v1/screen', '/v1/s'],
  group: ['/v1/group', '/v1/g'],
  alias: ['/v1/alias', '/v1/a'],
};
export const BATCH_PATHS = ['/v1/batch', '/v1/import', '/v1/b'];

const SINGLE_LIMIT = LIMITS.maxEventBytes;
const BATCH_LIMIT = LIMITS.maxBatchBytes;

export interface TrackingRoutesOptions {
  engine: Engine;
  resolver: KeyResolver;
  limiter: RequestHandler;
  logger: Logger;
}

/**
 * The hot path: header auth from a cache, one rate-limit counter, the body read once into a
 * string and parsed once, then the engine. The answer waits for the commit, so a 200 means
 * the calls are durable.
 */
export function trackingRoutes({ engine, resolver, limiter, logger }: TrackingRoutesOptions): Router {
  const router = Router();
  const allPaths = [...Object.values(SINGLE_CALL_PATHS).flat(), ...BATCH_PATHS];
  router.use(allPaths, trackingCors(), requestLog(logger, 'debug'));
  const auth = trackingAuth(resolver);

  for (const [type, paths] of Object.entries(SINGLE_CALL_PATHS) as Array<[MessageTypeName, string[]]>) {
    const limit: BodyLimit = { bytes: SINGLE_LIMIT, label: `/v1/${type}` };
    router.post(paths, auth, limiter, async (req, res) => {
      checkContentType(req, TRACKING_CONTENT_TYPES, res);
      const body = await readJsonBody(req, res, limit);
      await authenticateBody(resolver, res, body, false);
      const result = await engine.ingestCall(body, type);
      res.json({ success: true, accepted: result.accepted, duplicates: result.duplicates, dropped: result.dropped });
    });
  }

  const batchLimit: BodyLimit = { bytes: BATCH_LIMIT, label: '/v1/batch' };
  router.post(BATCH_PATHS, auth, limiter, async (req, res) => {
    checkContentType(req, TRACKING_CONTENT_TYPES, res);
    const body = await readJsonBody(req, res, batchLimit);
    await authenticateBody(resolver, res, body, true);
    const result = await engine.ingestBatch(body);
    res.json({ success: true, accepted: result.accepted, duplicates: result.duplicates, dropped: result.dropped });
  });
  return router;
}
