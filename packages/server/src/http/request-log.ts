import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@attune/core';
import type { RequestHandler } from 'express';
import { authenticatedKey } from './auth.ts';

type LevelLogger = Logger & { pino?: { isLevelEnabled(level: string): boolean } };

/**
 * One structured line per request, written when the response is done. Only the path (no
 * query string: lookups carry emails), never a key, never a body.
 */
export function requestLog(logger: LevelLogger, level: 'debug' | 'info'): RequestHandler {
  return (req, res, next) => {
    logWhenDone(logger, level, req, res, req.originalUrl, () => ({ keyId: authenticatedKey(res)?.id, ip: req.ip }));
    next();
  };
}

/** The request line of any route, served by Express or beside it: written when the response is done. */
export function logWhenDone(
  logger: LevelLogger,
  level: 'debug' | 'info',
  req: IncomingMessage,
  res: ServerResponse,
  url: string,
  who: () => { keyId: string | undefined; ip: string | undefined },
): void {
  if (logger.pino && !logger.pino.isLevelEnabled(level)) return;
  const started = performance.now();
  res.once('close', () => {
    const q = url.indexOf('?');
    logger[level](
      {
        method: req.method,
        path: q === -1 ? url : url.slice(0, q),
        status: res.statusCode,
        ms: Math.round((performance.now() - started) * 10) / 10,
        bytesIn: Number(req.headers['content-length'] ?? 0),
        ...who(),
        ...(res.writableFinished ? {} : { aborted: true }),
      },
      'request',
    );
  });
}
