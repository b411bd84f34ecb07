import { AttuneError, type Store } from '@attune/core';
import { Router } from 'express';
import { z } from 'zod';
import { createApiKey, isActive, listKeys, publicKeyView, revokeKey, rotateKey } from '../keys.ts';
import type { KeyResolver } from './auth.ts';
import { checkContentType, readJsonBody } from './body.ts';
import { parseInput } from './validate.ts';

export const createKeyBodySchema = z.strictObject({
  kind: z.enum(['write', 'decide', 'secret']),
  name: z.string().trim().min(1, 'must not be empty').max(200),
  /** Secret keys: analyst (reads), marketer (audiences, experiences, activations), admin (default). */
  role: z.enum(['analyst', 'marketer', 'admin']).optional(),
  /** Public keys: browser origins allowed to use the key. */
  origins: z.array(z.string().regex(/^https?:\/\/[^/\s]+$/, 'must be an origin like https://shop.example.com')).min(1).max(100).optional(),
  /** Write keys: the source sending with this key. */
  source: z.string().min(1).max(100).optional(),
  /** Most requests per rate-limit window for this key. */
  rateLimit: z.number().int().min(1).max(10_000_000).optional(),
});

const rotateBodySchema = z.strictObject({
  /** How long the old key keeps working. Default 24 hours; 0 ends it now. */
  overlapSeconds: z.number().int().min(0).max(90 * 86400).default(86400),
});

export function keyRoutes(store: Store, resolver: KeyResolver): Router {
  const router = Router();

  router.post('/v1/keys', async (req, res) => {
    checkContentType(req, ['application/json'], res);
    const body = parseInput(createKeyBodySchema, await readJsonBody(req, res, { bytes: 16 * 1024, label: '/v1/keys' }));
    const scope = {
      ...(body.role ? { role: body.role } : {}),
      ...(body.origins ? { origins: body.origins } : {}),
      ...(body.source ? { source: body.source } : {}),
      ...(body.rateLimit ? { rateLimit: body.rateLimit } : {}),
    };
    const { record, key } = await createApiKey(store, { kind: body.kind, name: body.name, scope });
    res.status(201).json({ ...publicKeyView(record), key });
  });

  router.post('/v1/keys/:id/rotate', async (req, res) => {
    const raw = req.headers['content-length'] === '0' || req.headers['content-type'] === undefined ? {} : await readJsonBody(req, res, { bytes: 16 * 1024, label: '/v1/keys/:id/rotate' });
    const body = parseInput(rotateBodySchema, raw ?? {});
    const { record, key, previous } = await rotateKey(store, req.params.id as string, body.overlapSeconds * 1000);
    resolver.invalidate();
    res.status(201).json({ ...publicKeyView(record), key, previous: publicKeyView(previous) });
  });

  router.get('/v1/keys', async (_req, res) => {
    const keys = await listKeys(store);
    res.json({ keys: keys.map(publicKeyView) });
  });

  router.delete('/v1/keys/:id', async (req, res) => {
    const id = req.params.id as string;
    const keys = await listKeys(store);
    const target = keys.find((k) => k.id === id);
    if (!target) throw new AttuneError('NOT_FOUND', `no key with id ${id}`);
    const now = Date.now();
    if (isActive(target, now)) {
      const activeAdmins = keys.filter((k) => k.kind === 'secret' && isActive(k, now) && (k.scope?.role ?? 'admin') === 'admin');
      if (target.kind === 'secret' && (target.scope?.role ?? 'admin') === 'admin' && activeAdmins.length === 1) {
        throw new AttuneError('CONFLICT', 'this is the last active admin secret key; create another before revoking it');
      }
      await revokeKey(store, id);
      resolver.invalidate();
    }
    const after = (await listKeys(store)).find((k) => k.id === id) ?? target;
    res.json(publicKeyView(after));
  });

  return router;
}
