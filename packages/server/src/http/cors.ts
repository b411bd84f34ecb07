import type { RequestHandler } from 'express';

/**
 * CORS for the tracking API only: any origin may send events (the write key is public by
 * design). Credentials are not needed, so `*` is enough. The admin API gets no CORS headers,
 * so browsers refuse to call it cross-origin.
 */
export function trackingCors(): RequestHandler {
  return (req, res, next) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, Content-Encoding');
      res.setHeader('Access-Control-Max-Age', '86400');
      res.status(204).end();
      return;
    }
    next();
  };
}
