import type { Logger } from '@attune/core';
import type { RequestHandler } from 'express';
import { authenticatedKey } from './auth.ts';

/**
 * One structured line per request, written when the response is done. Only the path (no
 * query string: lookups carry emails), never a key, never a body.
 */
export function requestLog(logger: Logger & { pino?: { isLevelEnabled(level: string): boolean } }, level: 'debug' | 'info'): RequestHandler {
  return (req, res, next) => {
    if (logger.pino && !logger.pino.isLevelEnabled(level)) {
      next();
      return;
    }
    const started = performance.now();
    res.once('close', () => {
      const url = req.originalUrl;
      const q = url.indexOf('?');
      logger[level](
        {
          method: req.method,
          path: q === -1 ? url : url.slice(0, q),
          status: res.statusCode,
          ms: Math.round((performance.now() - started) * 10) / 10,
          bytesIn: Number(req.headers['content-length'] ?? 0),
          keyId: authenticatedKey(res)?.id,
          ip: req.ip,
          ...(res.writableFinished ? {} : { aborted: true }),
        },
        'request',
      );
    });
    next();
  };
}
