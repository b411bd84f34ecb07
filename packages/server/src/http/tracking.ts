import { type ApiKeyRecord, type Engine, type IngestResult, LIMITS, type Logger, type MessageTypeName } from '@attune/core';
import { Router } from 'express';
import { authenticateBody, type KeyResolver, trackingKeyFromHeader } from './auth.ts';
import { type BodyLimit, checkContentType, readJsonBody } from './body.ts';
import { setTrackingCorsHeaders, trackingCors } from './cors.ts';
import { writeJson } from './errors.ts';
import type { FastHandler } from './fast.ts';
import type { RateLimiter } from './rate-limit.ts';
import { logWhenDone } from './request-log.ts';

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
  limiter: RateLimiter;
  logger: Logger;
}

/**
 * The hot path, served beside Express (http/fast.ts): header auth from a cache, one rate-limit
 * counter, the body read once into a string and parsed once, then the engine. The answer waits
 * for the commit, so a 200 means the calls are durable. Preflight (OPTIONS) is answered by
 * `trackingPreflight`.
 */
export function trackingRoutes({ engine, resolver, limiter, logger }: TrackingRoutesOptions): Record<string, FastHandler> {
  const route =
    (limit: BodyLimit, isBatch: boolean, ingest: (body: unknown) => Promise<IngestResult>): FastHandler =>
    async (req, res, { ip }) => {
      setTrackingCorsHeaders(res);
      let key: ApiKeyRecord | undefined;
      logWhenDone(logger, 'debug', req, res, req.url ?? '', () => ({ keyId: key?.id, ip }));
      key = await trackingKeyFromHeader(resolver, req, res);
      await limiter.check(key, ip, res);
      checkContentType(req, TRACKING_CONTENT_TYPES, res);
      const body = await readJsonBody(req, res, limit);
      key = await authenticateBody(resolver, key, body, isBatch, req, res);
      const result = await ingest(body);
      writeJson(res, 200, { success: true, accepted: result.accepted, duplicates: result.duplicates, dropped: result.dropped });
    };
  const routes: Record<string, FastHandler> = {};
  for (const [type, paths] of Object.entries(SINGLE_CALL_PATHS) as Array<[MessageTypeName, string[]]>) {
    const handler = route({ bytes: SINGLE_LIMIT, label: `/v1/${type}` }, false, (body) => engine.ingestCall(body, type));
    for (const path of paths) routes[path] = handler;
  }
  const batch = route({ bytes: BATCH_LIMIT, label: '/v1/batch' }, true, (body) => engine.ingestBatch(body));
  for (const path of BATCH_PATHS) routes[path] = batch;
  return routes;
}

/** CORS preflight of the tracking paths (browsers send it before a POST with a JSON body). */
export function trackingPreflight(): Router {
  const router = Router();
  router.use([...Object.values(SINGLE_CALL_PATHS).flat(), ...BATCH_PATHS], trackingCors());
  return router;
}
