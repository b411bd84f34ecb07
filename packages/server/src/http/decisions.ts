import {
  AttuneError,
  browserSnapshot,
  type ConnectorRuntime,
  type DecisionKind,
  type Engine,
  fnv1a32,
  publicManifest,
} from '@attune/core';
import { type RequestHandler, Router } from 'express';
import { z } from 'zod';
import { authenticate, DECIDE_KINDS, type KeyResolver, presentedKey } from './auth.ts';
import { checkContentType, readJsonBody } from './body.ts';
import { setTrackingCorsHeaders, trackingCors } from './cors.ts';
import { expectedVersion, jsonBody } from './documents.ts';
import { writeJson } from './errors.ts';
import type { FastHandler } from './fast.ts';
import type { RateLimiter } from './rate-limit.ts';
import { parseInput } from './validate.ts';

const DECIDE_LIMIT = { bytes: 64 * 1024, label: '/v1/decide' };
const CONFIG_LIMIT = { bytes: 5 * 1024 * 1024, label: 'decision configuration' };
const KEY_HINT = 'send the write key (browser) or the secret key as Authorization: Basic or Bearer';

/** Admin collections: path segment → document kind. */
export const DECISION_COLLECTIONS: Record<string, DecisionKind> = {
  experiences: 'experience',
  offers: 'offer',
  'decision-tables': 'table',
  'decision-models': 'model',
  connectors: 'connector',
  experiments: 'experiment',
};

export const DECISION_ADMIN_PREFIXES = [...Object.keys(DECISION_COLLECTIONS).map((c) => `/v1/${c}`), '/v1/decision-settings', '/v1/config'];

const snapshotBody = z
  .object({ anonymousId: z.string().min(1).max(255).optional(), userId: z.string().min(1).max(255).optional() })
  .strict()
  .refine((b) => b.anonymousId !== undefined || b.userId !== undefined, { message: 'send anonymousId or userId', path: ['anonymousId'] });

export interface DecisionRoutesOptions {
  engine: Engine;
  resolver: KeyResolver;
  limiter: RequestHandler;
  connectors: ConnectorRuntime;
}

/**
 * POST /v1/decide, the hottest route: served beside Express (http/fast.ts). Preflight (OPTIONS)
 * is answered by `decisionRoutes`.
 */
export function decideRoute({ engine, resolver, limiter, connectors }: Omit<DecisionRoutesOptions, 'limiter'> & { limiter: RateLimiter }): FastHandler {
  return async (req, res, { ip }) => {
    setTrackingCorsHeaders(res);
    const key = await authenticate(resolver, presentedKey(req), DECIDE_KINDS, KEY_HINT, req.headers.origin);
    await limiter.check(key, ip, res);
    checkContentType(req, ['application/json', 'text/plain'], res);
    const body = await readJsonBody(req, res, DECIDE_LIMIT);
    const secret = key.kind === 'secret';
    if (!secret && body !== null && typeof body === 'object' && (body as { explain?: unknown }).explain === true) {
      throw new AttuneError('FORBIDDEN', 'explain traces show profile values: ask with the secret key');
    }
    const result = await engine.decide(body, { connectors });
    // A browser key gets the decisions and nothing else of the profile.
    writeJson(res, 200, secret ? result : { decisions: result.decisions });
  };
}

/**
 * Manifest and snapshot, and decide's preflight (write or secret key: browsers call them).
 * Mounted before every other router: these paths do not walk the admin routes.
 */
export function decisionRoutes({ engine, resolver, limiter, connectors }: DecisionRoutesOptions): Router {
  const router = Router();
  const d = engine.decisions;
  const keyed: RequestHandler = async (req, res, next) => {
    res.locals.apiKey = await authenticate(resolver, presentedKey(req), DECIDE_KINDS, KEY_HINT, req.headers.origin);
    next();
  };
  const isSecret = (res: { locals: Record<string, unknown> }) => (res.locals.apiKey as { kind: string }).kind === 'secret';

  router.use(['/v1/decide', '/v1/decide/snapshot', '/v1/manifest'], trackingCors());

  router.get('/v1/manifest', keyed, limiter, (_req, res) => {
    const m = d.manifest();
    res.setHeader('ETag', `"${fnv1a32(m.version).toString(16)}"`);
    res.json(isSecret(res) ? m : publicManifest(m));
  });

  router.post('/v1/decide/snapshot', keyed, limiter, async (req, res) => {
    checkContentType(req, ['application/json', 'text/plain'], res);
    const ids = parseInput(snapshotBody, await readJsonBody(req, res, DECIDE_LIMIT));
    const secret = isSecret(res);
    if (!secret && ids.userId !== undefined) {
      throw new AttuneError('FORBIDDEN', 'a browser key reads snapshots by anonymousId only; use the secret key for userId');
    }
    const snap = await engine.snapshot(ids);
    res.json(secret ? snap : browserSnapshot(snap, d.manifest()));
  });

  return router;
}

/** The admin API of the decision configuration (secret key, checked by the admin middleware before these routes). */
export function decisionAdminRoutes({ engine, connectors }: { engine: Engine; connectors: ConnectorRuntime }): Router {
  const router = Router();
  const d = engine.decisions;
  for (const [collection, kind] of Object.entries(DECISION_COLLECTIONS)) {
    const base = `/v1/${collection}`;
    router.get(base, async (_req, res) => {
      res.json({ [collectionKey(collection)]: await d.list(kind) });
    });
    router.post(base, async (req, res) => {
      res.status(201).json(await d.create(kind, await jsonBody(req, res, CONFIG_LIMIT)));
    });
    router.get(`${base}/:id`, async (req, res) => {
      res.json(await d.get(kind, req.params.id as string));
    });
    router.put(`${base}/:id`, async (req, res) => {
      const body = await jsonBody(req, res, CONFIG_LIMIT);
      res.json(await d.update(kind, req.params.id as string, body, expectedVersion(req, body)));
    });
    router.delete(`${base}/:id`, async (req, res) => {
      await d.remove(kind, req.params.id as string);
      res.status(204).end();
    });
  }

  router.get('/v1/experiments/:id/results', async (req, res) => {
    res.json(await d.results(req.params.id as string));
  });
  router.post('/v1/experiments/:id/reweight', async (req, res) => {
    await d.reweightBandits({ force: req.params.id as string });
    res.json(await d.results(req.params.id as string));
  });
  router.get('/v1/connectors/:id/metrics', async (req, res) => {
    await d.get('connector', req.params.id as string);
    res.json(connectors.metrics()[req.params.id as string] ?? { calls: 0 });
  });
  router.get('/v1/decision-settings', async (_req, res) => {
    res.json(await d.getSettings());
  });
  router.put('/v1/decision-settings', async (req, res) => {
    res.json(await d.putSettings(await jsonBody(req, res, CONFIG_LIMIT)));
  });
  router.get('/v1/config', async (_req, res) => {
    res.json(await d.exportConfig());
  });
  router.put('/v1/config', async (req, res) => {
    const prune = req.query.prune === 'true';
    res.json(await d.apply(await jsonBody(req, res, CONFIG_LIMIT), { prune }));
  });
  return router;
}

function collectionKey(collection: string): string {
  return collection.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

