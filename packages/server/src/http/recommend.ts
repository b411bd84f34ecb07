import { AttuneError, type Engine, RECOMMEND_STRATEGIES } from '@attune/core';
import { type RequestHandler, Router } from 'express';
import { z } from 'zod';
import { authenticate, type KeyResolver, presentedKey, TRACKING_KINDS } from './auth.ts';
import { checkContentType, readJsonBody } from './body.ts';
import { trackingCors } from './cors.ts';
import { parseInput } from './validate.ts';

const RECOMMEND_LIMIT = { bytes: 64 * 1024, label: '/v1/recommend' };
const RANK_LIMIT = { bytes: 256 * 1024, label: '/v1/rank' };
const KEY_HINT = 'send the write key (browser) or the secret key as Authorization: Basic or Bearer';

const list = z
  .string()
  .max(20_000)
  .transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s !== ''));
const flag = z.enum(['true', 'false']).transform((v) => v === 'true');
const whole = z.string().regex(/^\d+$/, 'must be a whole number').transform(Number);

/** GET /v1/recommend's query: the POST body's fields, lists comma-separated, filters flattened. */
export const recommendQuerySchema = z
  .object({
    strategy: z.enum(RECOMMEND_STRATEGIES),
    limit: whole.optional(),
    window: whole.optional(),
    items: list.optional(),
    anonymousId: z.string().optional(),
    userId: z.string().optional(),
    fallback: flag.optional(),
    inStock: flag.optional(),
    category: z.string().optional(),
    excludePurchased: flag.optional(),
    exclude: list.optional(),
  })
  .strict()
  .transform(({ inStock, category, excludePurchased, exclude, ...rest }) => {
    const filters = {
      ...(inStock !== undefined ? { inStock } : {}),
      ...(category !== undefined ? { category } : {}),
      ...(excludePurchased !== undefined ? { excludePurchased } : {}),
      ...(exclude !== undefined ? { exclude } : {}),
    };
    return { ...rest, ...(Object.keys(filters).length > 0 ? { filters } : {}) };
  });

/**
 * Recommendations and personalized ranking: write key (browsers, by anonymousId) or secret key
 * (servers, by userId too). A browser key may not ask about a userId: that would let anyone
 * read what a known customer looked at.
 */
export function recommendRoutes({ engine, resolver, limiter }: { engine: Engine; resolver: KeyResolver; limiter: RequestHandler }): Router {
  const router = Router();
  const keyed: RequestHandler = async (req, res, next) => {
    res.locals.apiKey = await authenticate(resolver, presentedKey(req), TRACKING_KINDS, KEY_HINT);
    next();
  };
  const checkWho = (res: { locals: Record<string, unknown> }, body: unknown) => {
    const secret = (res.locals.apiKey as { kind: string }).kind === 'secret';
    if (!secret && body !== null && typeof body === 'object' && (body as { userId?: unknown }).userId !== undefined) {
      throw new AttuneError('FORBIDDEN', 'a browser key asks by anonymousId only; use the secret key for userId', {
        issues: [{ path: 'userId', message: 'needs the secret key' }],
      });
    }
  };

  router.use(['/v1/recommend', '/v1/rank'], trackingCors());
  router.post('/v1/recommend', keyed, limiter, async (req, res) => {
    checkContentType(req, ['application/json', 'text/plain'], res);
    const body = await readJsonBody(req, res, RECOMMEND_LIMIT);
    checkWho(res, body);
    res.json(await engine.recommend(body));
  });
  router.get('/v1/recommend', keyed, limiter, async (req, res) => {
    const body = parseInput(recommendQuerySchema, req.query);
    checkWho(res, body);
    res.json(await engine.recommend(body));
  });
  router.post('/v1/rank', keyed, limiter, async (req, res) => {
    checkContentType(req, ['application/json', 'text/plain'], res);
    const body = await readJsonBody(req, res, RANK_LIMIT);
    checkWho(res, body);
    res.json(await engine.rank(body));
  });
  return router;
}
