import { AttuneError, type Store } from '@attune/core';
import { Router } from 'express';
import { z } from 'zod';
import { createApiKey, listKeys, publicKeyView, revokeKey } from '../keys.ts';
import type { KeyResolver } from './auth.ts';
import { checkContentType, readJsonBody } from './body.ts';
import { parseInput } from './validate.ts';

export const createKeyBodySchema = z.strictObject({
  kind: z.enum(['write', 'secret']),
  name: z.string().trim().min(1, 'must not be empty').max(200),
});

export function keyRoutes(store: Store, resolver: KeyResolver): Router {
  const router = Router();

  router.post('/v1/keys', async (req, res) => {
    checkContentType(req, ['application/json'], res);
    const body = parseInput(createKeyBodySchema, await readJsonBody(req, res, { bytes: 16 * 1024, label: '/v1/keys' }));
    const { record, key } = await createApiKey(store, body);
    res.status(201).json({ ...publicKeyView(record), key });
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
    if (target.revokedAt === null) {
      const activeSecrets = keys.filter((k) => k.kind === 'secret' && k.revokedAt === null);
      if (target.kind === 'secret' && activeSecrets.length === 1) {
        throw new AttuneError('CONFLICT', 'this is the last active secret key; create another before revoking it');
      }
      await revokeKey(store, id);
      resolver.invalidate();
    }
    const after = (await listKeys(store)).find((k) => k.id === id) ?? target;
    res.json(publicKeyView(after));
  });

  return router;
}
