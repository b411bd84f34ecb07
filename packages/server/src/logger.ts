import type { Logger } from '@attune/core';
import { pino } from 'pino';

export interface LoggerOptions {
  /** pino level: trace, debug, info (default), warn, error, fatal, silent. */
  level?: string;
  destination?: 'stdout' | 'stderr';
  /** Any writable stream instead of stdout/stderr (tests, embedding hosts). */
  stream?: pino.DestinationStream;
}

export type ServerLogger = Logger & { pino: pino.Logger };

/**
 * Structured JSON logs (pino) behind the core's `Logger` port. Credentials are redacted by
 * path as a second line of defence; the server never passes keys or bodies to the logger.
 */
export function createLogger(options: LoggerOptions = {}): ServerLogger {
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { service: 'attune' },
      redact: {
        paths: ['authorization', 'headers.authorization', 'req.headers.authorization', 'key', 'secretKey', 'writeKey', 'password'],
        censor: '[redacted]',
      },
    },
    options.stream ?? pino.destination(options.destination === 'stderr' ? 2 : 1),
  );
  return fromPino(logger);
}

/** Adapts an existing pino logger (a host's, or a child) to the core port. */
export function fromPino(logger: pino.Logger): ServerLogger {
  return {
    pino: logger,
    debug: (obj, msg) => logger.debug(obj, msg),
    info: (obj, msg) => logger.info(obj, msg),
    warn: (obj, msg) => logger.warn(obj, msg),
    error: (obj, msg) => logger.error(obj, msg),
  };
}
