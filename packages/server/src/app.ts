import { type Clock, type ConnectorRuntime, createConnectorRuntime, type Engine, type Logger, type Store, silentLogger } from '@attune/core';
import express from 'express';
import type { ActivationWorker } from './activations/worker.ts';
import { auditContext } from './audit.ts';
import { type ConnectorHostPolicy, createGuardedFetch, nodeTimers } from './decisions/fetch.ts';
import { activationRoutes } from './http/activations.ts';
import { audienceRoutes } from './http/audiences.ts';
import { auditRoutes } from './http/audit-routes.ts';
import { adminAuth, createKeyResolver } from './http/auth.ts';
import { catalogRoutes } from './http/catalog.ts';
import { adminCors, securityHeaders } from './http/cors.ts';
import { DECISION_ADMIN_PREFIXES, decideRoute, decisionAdminRoutes, decisionRoutes } from './http/decisions.ts';
import { errorHandler, notFoundHandler } from './http/errors.ts';
import { type AppListener, withFastRoutes } from './http/fast.ts';
import { importRoutes } from './http/imports.ts';
import { keyRoutes } from './http/key-routes.ts';
import { createOpenApiDocument } from './http/openapi.ts';
import { privacyRoutes } from './http/privacy.ts';
import { profileRoutes } from './http/profiles.ts';
import { createRateLimiter, DEFAULT_RATE_LIMIT, type RateLimitOptions } from './http/rate-limit.ts';
import { recommendRoutes } from './http/recommend.ts';
import { requestLog } from './http/request-log.ts';
import { trackingPreflight, trackingRoutes } from './http/tracking.ts';

export interface AppOptions {
  engine: Engine;
  store: Store;
  logger?: Logger;
  /** Requests per window per bucket (key and client address). Default 60,000 a minute. */
  rateLimit?: RateLimitOptions;
  /** True while the server shuts down: /health answers 503 so load balancers stop sending. */
  isClosing?: () => boolean;
  /** How long an API key lookup is cached (default 1000 ms). */
  keyCacheMs?: number;
  /**
   * Express's `trust proxy` (e.g. 1 behind one load balancer), so rate limits and logs see
   * the client's address instead of the proxy's. Default: trust no proxy.
   */
  trustProxy?: boolean | number | string | string[];
  /** The webhook delivery worker; the activation routes are mounted when it is given. */
  activations?: ActivationWorker;
  /** External data connectors' runtime (default: one on Node's fetch and `clock`). */
  connectors?: ConnectorRuntime;
  /** The engine's clock, so connector caches age with the same time decisions use (default: system time). */
  clock?: Clock;
  /** Hosts connectors may call (default: any public host; internal addresses never, unless listed). */
  connectorHosts?: ConnectorHostPolicy;
  /** Browser origins allowed to call the admin API (CORS); default none. Tracking and decide routes accept any origin. */
  adminOrigins?: string[];
}

export const ADMIN_PREFIXES = [
  '/v1/profiles',
  '/v1/orders',
  '/v1/keys',
  '/v1/segment-groups',
  '/v1/audiences',
  '/v1/activations',
  '/v1/catalog',
  '/v1/privacy',
  '/v1/audit',
  ...DECISION_ADMIN_PREFIXES,
];

/**
 * The HTTP API: tracking, decisions, admin, health and the OpenAPI document. A Node request
 * listener: the hottest public routes are served beside Express (http/fast.ts), everything
 * else by the Express application (`.app`).
 */
export function createApp(options: AppOptions): AppListener {
  const { engine, store } = options;
  const logger = options.logger ?? silentLogger;
  const resolver = createKeyResolver(store, options.keyCacheMs ?? 1000);
  const limiter = createRateLimiter(options.rateLimit ?? DEFAULT_RATE_LIMIT);
  const isClosing = options.isClosing ?? (() => false);

  const app = express();
  app.disable('x-powered-by');
  // API answers are not cached; hashing every body for an ETag is wasted work on the hot path.
  app.set('etag', false);
  if (options.trustProxy !== undefined) app.set('trust proxy', options.trustProxy);
  app.use(securityHeaders());
  app.use(ADMIN_PREFIXES, adminCors(options.adminOrigins ?? []));

  app.get('/health', (_req, res) => {
    const closing = isClosing();
    res.status(closing ? 503 : 200).json({ status: closing ? 'closing' : 'ok', store: store.kind });
  });

  let openapi: Record<string, unknown> | undefined;
  app.get('/v1/openapi.json', (_req, res) => {
    openapi ??= createOpenApiDocument({ identifierTypes: engine.identifierTypes });
    res.json(openapi);
  });

  const connectors =
    options.connectors ??
    createConnectorRuntime({ fetch: createGuardedFetch(options.connectorHosts), timers: nodeTimers, clock: options.clock ?? { now: () => Date.now(), defer: (fn) => setImmediate(fn) }, logger });
  const limit = limiter.middleware;
  app.use(decisionRoutes({ engine, resolver, limiter: limit, connectors }));
  app.use(recommendRoutes({ engine, resolver, limiter: limit }));
  app.use(trackingPreflight());
  app.use(ADMIN_PREFIXES, requestLog(logger, 'info'), adminAuth(resolver), limit, auditContext(store, logger));
  app.use(auditRoutes(store));
  app.use(privacyRoutes(engine, store));
  app.use(profileRoutes(engine));
  app.use(importRoutes(engine));
  app.use(keyRoutes(store, resolver));
  app.use(audienceRoutes(engine));
  app.use(catalogRoutes(engine));
  app.use(decisionAdminRoutes({ engine, connectors }));
  if (options.activations) app.use(activationRoutes(store, options.activations, engine.privacy.config.purposes));
  app.use(notFoundHandler());
  app.use(errorHandler(logger));
  return withFastRoutes(app, { ...trackingRoutes({ engine, resolver, limiter, logger }), '/v1/decide': decideRoute({ engine, resolver, limiter, connectors }) }, logger);
}
