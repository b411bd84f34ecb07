import { AttuneError, decodeEventCursor, type Engine, type ErasedProfile, LIMITS, type StoredEvent } from '@attune/core';
import { Router } from 'express';
import { z } from 'zod';
import { erasureDestinations } from '../activations/activations.ts';
import { jsonBody } from './documents.ts';
import { parseInput } from './validate.ts';

const epochOrIso = z.string().transform((v, ctx) => {
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(ms)) {
    ctx.addIssue({ code: 'custom', message: 'must be an ISO-8601 date-time or epoch milliseconds' });
    return z.NEVER;
  }
  return ms;
});

export const profileIdSchema = z.string().min(1).max(LIMITS.maxIdLength);

/** Query of GET /v1/profiles/:id/events. */
export const eventsQuerySchema = z.object({
  name: z.string().min(1).max(LIMITS.maxEventNameLength).optional(),
  since: epochOrIso.optional(),
  until: epochOrIso.optional(),
  limit: z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(1000))
    .optional(),
  cursor: z
    .string()
    .max(600)
    .refine((c) => decodeEventCursor(c) !== null, 'is not a cursor from a previous page')
    .optional(),
});

/** An event as the API shows it: times as ISO strings. */
export function eventView(e: StoredEvent) {
  return {
    messageId: e.messageId,
    profileId: e.profileId,
    type: e.type,
    name: e.name,
    timestamp: new Date(e.timestamp).toISOString(),
    receivedAt: new Date(e.receivedAt).toISOString(),
    message: e.message,
  };
}

function single(value: unknown, name: string): string {
  if (typeof value !== 'string') {
    throw new AttuneError('VALIDATION', `${name} must be given once`, { issues: [{ path: name, message: 'must be given once' }] });
  }
  return value;
}

export function eraseBodySchema(identifierTypes: string[]) {
  return z
    .object({
      identifier: z.object({ type: z.enum(identifierTypes as [string, ...string[]]), value: z.string().min(1).max(LIMITS.maxIdLength) }).strict(),
    })
    .strict();
}

function erasureView(erased: ErasedProfile) {
  return { erased: true, profileIds: erased.profileIds, events: erased.events, identities: erased.identities.length, audiences: erased.audiences };
}

export function profileRoutes(engine: Engine): Router {
  const router = Router();

  router.get('/v1/profiles', async (req, res) => {
    const query = req.query as Record<string, unknown>;
    const given = engine.identifierTypes.filter((t) => query[t] !== undefined);
    if (given.length !== 1) {
      const accepted = engine.identifierTypes.map((t) => `${t}=`).join(', ');
      throw new AttuneError('VALIDATION', `look a profile up by exactly one identifier: ${accepted}`, {
        issues: [{ path: '(query)', message: given.length === 0 ? `one of ${accepted} is required` : `got ${given.join(', ')}; pass one` }],
      });
    }
    const type = given[0] as string;
    const value = single(query[type], type);
    const id = await engine.findProfileId(type, value);
    const profile = id === null ? null : await engine.getProfile(id);
    if (!profile) throw new AttuneError('NOT_FOUND', `no profile has this ${type}`);
    res.json(profile);
  });

  // Erasure by any identifier: `{ "identifier": { "type": "email", "value": "ada@example.com" } }`.
  router.post('/v1/profiles/erase', async (req, res) => {
    const body = await jsonBody(req, res, { bytes: 16 * 1024, label: '/v1/profiles/erase' });
    const { identifier } = parseInput(eraseBodySchema(engine.identifierTypes), body);
    const { receipt, erased } = await engine.privacy.erase(identifier, await erasureDestinations(engine.store));
    if (!erased) throw new AttuneError('NOT_FOUND', `no profile has this ${identifier.type}`);
    res.json({ ...erasureView(erased), requestId: receipt.id });
  });

  router.delete('/v1/profiles/:profileId', async (req, res) => {
    const id = parseInput(profileIdSchema, req.params.profileId, ['profileId']);
    const { receipt, erased } = await engine.privacy.erase({ type: 'profileId', value: id }, await erasureDestinations(engine.store));
    if (!erased) throw new AttuneError('NOT_FOUND', `no profile with id ${id}`);
    res.json({ ...erasureView(erased), requestId: receipt.id });
  });

  router.get('/v1/profiles/:profileId', async (req, res) => {
    const id = parseInput(profileIdSchema, req.params.profileId, ['profileId']);
    const profile = await engine.getProfile(id);
    if (!profile) throw new AttuneError('NOT_FOUND', `no profile with id ${id}`);
    res.json(profile);
  });

  router.get('/v1/profiles/:profileId/events', async (req, res) => {
    const id = parseInput(profileIdSchema, req.params.profileId, ['profileId']);
    const q = parseInput(eventsQuerySchema, req.query);
    const page = await engine.listEvents(id, {
      ...(q.name !== undefined ? { name: q.name } : {}),
      ...(q.since !== undefined ? { since: q.since } : {}),
      ...(q.until !== undefined ? { until: q.until } : {}),
      ...(q.limit !== undefined ? { limit: q.limit } : {}),
      ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
    });
    if (!page) throw new AttuneError('NOT_FOUND', `no profile with id ${id}`);
    res.json({ events: page.events.map(eventView), nextCursor: page.nextCursor });
  });

  return router;
}
