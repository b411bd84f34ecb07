import type { RequestHandler } from 'express';
import { type DecideRequest, exposureEvent, type SlotResolver } from './slots.ts';

export interface PersonalizeMiddlewareOptions {
  resolver: SlotResolver;
  /** The slots a page shows (none: the page is not personalized). */
  slots: (req: Parameters<RequestHandler>[0]) => string[];
  /** The visitor's ids, e.g. from the tracker's cookie. */
  ids: (req: Parameters<RequestHandler>[0]) => { anonymousId?: string | undefined; userId?: string | undefined };
  context?: (req: Parameters<RequestHandler>[0]) => Record<string, unknown>;
  /** Records an exposure for a variant the server rendered (e.g. a server-side track call). */
  onExposure?: (ids: { anonymousId?: string | undefined; userId?: string | undefined }, event: string, properties: Record<string, string>) => void;
  /** Personalization off (e.g. no consent): every slot renders its default. */
  enabled?: (req: Parameters<RequestHandler>[0]) => boolean;
}

/**
 * Server-side rendering: resolves the page's slots before the view renders (under the resolver's
 * budget) and puts them in `res.locals.attune.slots`; exposures are recorded once the page is sent.
 */
export function personalizeMiddleware(options: PersonalizeMiddlewareOptions): RequestHandler {
  return async (req, res, next) => {
    const slots = options.slots(req);
    if (slots.length === 0 || options.enabled?.(req) === false) {
      res.locals.attune = { slots: {} };
      next();
      return;
    }
    const ids = options.ids(req);
    const request: DecideRequest = { ...ids, context: { url: `${req.protocol}://${req.get('host')}${req.originalUrl}`, ...options.context?.(req) }, slots };
    const resolved = await options.resolver.resolve(request);
    res.locals.attune = { slots: resolved };
    res.on('finish', () => {
      if (res.statusCode >= 400) return;
      for (const r of Object.values(resolved)) {
        const exposure = exposureEvent(r.decision);
        if (exposure) options.onExposure?.(ids, exposure.event, exposure.properties);
      }
    });
    next();
  };
}
