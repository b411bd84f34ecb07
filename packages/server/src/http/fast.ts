import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@attune/core';
import type express from 'express';
import proxyaddr from 'proxy-addr';
import { setSecurityHeaders } from './cors.ts';
import { answerError } from './errors.ts';

/** What a route served beside Express gets: the client's address as trusted proxies report it. */
export interface FastContext {
  ip: string | undefined;
}

export type FastHandler = (req: IncomingMessage, res: ServerResponse, ctx: FastContext) => Promise<void>;

/** The HTTP entry point: a Node request listener, with the Express application behind it. */
export type AppListener = ((req: IncomingMessage, res: ServerResponse) => void) & { app: express.Application };

/**
 * Serves the hottest public routes (`POST path` → handler) as plain Node handlers and hands every
 * other request to Express. Express 5 costs about six times a plain Node handler per request on
 * these machines (bench/decide measures the peers), which is most of a decision's budget; the
 * handlers here use the same authentication, rate limiter, body reader, security headers and
 * error answers as the Express routes.
 */
export function withFastRoutes(app: express.Application, routes: Record<string, FastHandler>, logger: Logger): AppListener {
  const table = new Map(Object.entries(routes));
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const handler = req.method === 'POST' ? table.get(pathOf(req.url)) : undefined;
    if (!handler) {
      app(req as express.Request, res as express.Response);
      return;
    }
    setSecurityHeaders(res);
    let ip: string | undefined;
    try {
      ip = proxyaddr(req, app.get('trust proxy fn'));
    } catch {
      ip = req.socket.remoteAddress;
    }
    handler(req, res, { ip }).catch((error: unknown) => answerError(res, error, logger, req.method ?? 'POST', pathOf(req.url)));
  };
  return Object.assign(listener, { app });
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
