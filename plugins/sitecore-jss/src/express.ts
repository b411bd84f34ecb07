import type { RequestHandler } from 'express';
import { createJssHandler, type JssHandleResult, type JssHandlerOptions, type JssRequest } from './handler.ts';

/**
 * Express: in `rewrite` mode the request continues under the `/_variantId_…` path (as JSS's
 * middleware rewrites in Next.js); in `layout` mode the personalized layout is in
 * `res.locals.attune.layout`. Either way `res.locals.attune.variants` says what was decided.
 */
export function jssPersonalizeMiddleware(options: JssHandlerOptions): RequestHandler {
  const handler = createJssHandler(options);
  return async (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      next();
      return;
    }
    const request: JssRequest = { url: req.originalUrl, headers: req.headers };
    const result: JssHandleResult = await handler.handle(request);
    if (result.action === 'pass') {
      res.locals.attune = { result };
      next();
      return;
    }
    res.locals.attune = { result, variants: result.variants, ...(result.action === 'layout' ? { layout: result.layout } : {}) };
    // The page differs per visitor: shared caches must not keep one visitor's variant for all.
    if (result.variants.variantIds.length > 0 || Object.keys(result.variants.slots).length > 0) res.setHeader('Cache-Control', 'private, no-store');
    if (result.action === 'rewrite') req.url = result.path;
    next();
  };
}
