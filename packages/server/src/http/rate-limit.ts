import { AttuneError } from '@attune/core';
import type { RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { authenticatedKey } from './auth.ts';
import { sendError } from './errors.ts';

export interface RateLimitOptions {
  windowMs: number;
  /** Most requests per window and bucket. */
  max: number;
}

/** 1,000 requests a second per bucket: far above any honest client, well below a flood. */
export const DEFAULT_RATE_LIMIT: RateLimitOptions = { windowMs: 60_000, max: 60_000 };

/**
 * One bucket per key and client address. Write keys are public (every browser of a site
 * holds the same one), so a bucket per write key alone would let one abuser exhaust a whole
 * site's quota; secret keys are private and get one bucket each. Requests that authenticate
 * by a `writeKey` in the body are counted by address.
 */
export function createRateLimiter(options: RateLimitOptions = DEFAULT_RATE_LIMIT): RequestHandler {
  return rateLimit({
    windowMs: options.windowMs,
    // A key may carry its own limit (per window).
    limit: (_req, res) => authenticatedKey(res)?.scope?.rateLimit ?? options.max,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: (req, res) => {
      const key = authenticatedKey(res);
      if (key?.kind === 'secret') return `key:${key.id}`;
      const address = ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? 'unknown');
      return key ? `key:${key.id}:${address}` : `ip:${address}`;
    },
    handler: (_req, res) => {
      const retryAfter = res.getHeader('Retry-After');
      sendError(
        res,
        new AttuneError(
          'RATE_LIMITED',
          `too many requests: at most ${options.max} per ${options.windowMs / 1000} s${retryAfter === undefined ? '' : `; retry after ${retryAfter} s`}`,
        ),
      );
    },
  });
}
