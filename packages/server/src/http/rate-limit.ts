import { isIPv6 } from 'node:net';
import { type ApiKeyRecord, AttuneError } from '@attune/core';
import type { RequestHandler } from 'express';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { authenticatedKey } from './auth.ts';

export interface RateLimitOptions {
  windowMs: number;
  /** Most requests per window and bucket. */
  max: number;
}

/** 1,000 requests a second per bucket: far above any honest client, well below a flood. */
export const DEFAULT_RATE_LIMIT: RateLimitOptions = { windowMs: 60_000, max: 60_000 };

/** Sets a response header; what the Express and the plain Node response have in common. */
interface HeaderSink {
  setHeader(name: string, value: string | number): unknown;
}

/**
 * The one rate limiter of the API, free of any framework so the Express routes (through
 * `middleware`) and the hot paths served beside Express (through `check`) count in the same
 * buckets. One bucket per key and client address: write keys are public (every browser of a
 * site holds the same one), so a bucket per write key alone would let one abuser exhaust a
 * whole site's quota; secret keys are private and get one bucket each. A key may carry its own
 * limit per window (`scope.rateLimit`). Answers carry the IETF draft-7 `RateLimit` headers and,
 * past the limit, `Retry-After`.
 */
export interface RateLimiter {
  /** Counts one request; throws RATE_LIMITED (429) past the limit. `ip` is the client's address as trusted proxies report it. */
  check(key: ApiKeyRecord | undefined, ip: string | undefined, res: HeaderSink): Promise<void>;
  /** The same check for Express routes (after authentication, which puts the key in `res.locals`). */
  middleware: RequestHandler;
}

export function createRateLimiter(options: RateLimitOptions = DEFAULT_RATE_LIMIT): RateLimiter {
  const windowSeconds = Math.max(1, Math.ceil(options.windowMs / 1000));
  // One fixed-window counter per distinct limit (keys may carry their own).
  const limiters = new Map<number, RateLimiterMemory>();
  const limiterFor = (points: number) => {
    let l = limiters.get(points);
    if (!l) limiters.set(points, (l = new RateLimiterMemory({ points, duration: windowSeconds })));
    return l;
  };

  async function check(key: ApiKeyRecord | undefined, ip: string | undefined, res: HeaderSink): Promise<void> {
    const limit = key?.scope?.rateLimit ?? options.max;
    const address = clientBucket(ip ?? 'unknown');
    const bucket = key?.kind === 'secret' ? `key:${key.id}` : key ? `key:${key.id}:${address}` : `ip:${address}`;
    res.setHeader('RateLimit-Policy', `${limit};w=${windowSeconds}`);
    try {
      const r = await limiterFor(limit).consume(bucket);
      res.setHeader('RateLimit', `limit=${limit}, remaining=${r.remainingPoints}, reset=${Math.ceil(r.msBeforeNext / 1000)}`);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      const retryAfter = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
      res.setHeader('RateLimit', `limit=${limit}, remaining=0, reset=${retryAfter}`);
      res.setHeader('Retry-After', retryAfter);
      throw new AttuneError('RATE_LIMITED', `too many requests: at most ${limit} per ${options.windowMs / 1000} s; retry after ${retryAfter} s`);
    }
  }

  return {
    check,
    middleware: (req, res, next) => {
      check(authenticatedKey(res), req.ip ?? req.socket.remoteAddress, res).then(() => next(), next);
    },
  };
}

/**
 * The bucket of a client address: IPv4 as is, IPv6 by its /56 prefix (what one subscriber
 * usually gets), so a client cannot escape its limit by rotating addresses within its own block.
 */
export function clientBucket(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1] as string;
  if (!isIPv6(ip)) return ip;
  const [head = '', tail] = ip.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  // 56 bits: three groups and the high byte of the fourth.
  const fourth = Number.parseInt(groups[3] ?? '0', 16) & 0xff00;
  return `${groups.slice(0, 3).map((g) => Number.parseInt(g, 16).toString(16)).join(':')}:${fourth.toString(16)}::/56`;
}
