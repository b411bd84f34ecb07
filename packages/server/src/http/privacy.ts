import { AttuneError, type Engine, LIMITS, type Store } from '@attune/core';
import { Router } from 'express';
import { z } from 'zod';
import { erasureDestinations } from '../activations/activations.ts';
import { jsonBody } from './documents.ts';
import { profileIdSchema } from './profiles.ts';
import { parseInput } from './validate.ts';

const consentBodySchema = z
  .object({
    /** Purposes (or consent-platform category names) granted (true) or revoked (false). */
    purposes: z.record(z.string().min(1).max(100), z.boolean()).refine((p) => Object.keys(p).length > 0, 'name at least one purpose'),
    /** Who or what recorded the change: `cmp:onetrust`, `support-ticket-4711`… Default `api`. */
    source: z.string().min(1).max(200).optional(),
  })
  .strict();

const requestBodySchema = (identifierTypes: string[]) =>
  z
    .object({
      type: z.literal('erasure'),
      identifier: z.object({ type: z.enum(['profileId', ...identifierTypes] as [string, ...string[]]), value: z.string().min(1).max(LIMITS.maxIdLength) }).strict(),
    })
    .strict();

const confirmationBodySchema = z
  .object({
    /** The receipt's target: `activation:<id>`. */
    target: z.string().min(1).max(300),
    /** What the destination deleted, shown on the receipt (`{ "entries": 3 }`). */
    details: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

const requestIdSchema = z.string().regex(/^er_[A-Za-z0-9]{1,64}$/, 'must be a privacy request id (er_…)');

/** Consent per profile, erasure requests with receipts, and destinations' confirmations. */
export function privacyRoutes(engine: Engine, store: Store): Router {
  const router = Router();

  router.get('/v1/profiles/:profileId/consent', async (req, res) => {
    const id = parseInput(profileIdSchema, req.params.profileId, ['profileId']);
    const view = await engine.privacy.getConsent(id);
    if (!view) throw new AttuneError('NOT_FOUND', `no profile with id ${id}`);
    res.json(view);
  });

  router.put('/v1/profiles/:profileId/consent', async (req, res) => {
    const id = parseInput(profileIdSchema, req.params.profileId, ['profileId']);
    const body = parseInput(consentBodySchema, await jsonBody(req, res, { bytes: 16 * 1024, label: '/v1/profiles/:id/consent' }));
    const view = await engine.privacy.setConsent(id, body);
    if (!view) throw new AttuneError('NOT_FOUND', `no profile with id ${id}`);
    res.json(view);
  });

  // An erasure by any identifier; the receipt lists the store and every destination.
  router.post('/v1/privacy/requests', async (req, res) => {
    const body = parseInput(requestBodySchema(engine.identifierTypes), await jsonBody(req, res, { bytes: 16 * 1024, label: '/v1/privacy/requests' }));
    const receipt = await engine.privacy.requestErasure(body.identifier, await erasureDestinations(store));
    res.status(201).json(receipt);
  });

  router.get('/v1/privacy/requests/:requestId', async (req, res) => {
    const id = parseInput(requestIdSchema, req.params.requestId, ['requestId']);
    const receipt = await engine.privacy.getRequest(id);
    if (!receipt) throw new AttuneError('NOT_FOUND', `no privacy request ${id}`);
    res.json(receipt);
  });

  // Called by a destination (the Strapi plugin, a commerce adapter) once its copy is deleted.
  router.post('/v1/privacy/requests/:requestId/confirmations', async (req, res) => {
    const id = parseInput(requestIdSchema, req.params.requestId, ['requestId']);
    const body = parseInput(confirmationBodySchema, await jsonBody(req, res, { bytes: 16 * 1024, label: '/v1/privacy/requests/:id/confirmations' }));
    const receipt = await engine.privacy.confirm(id, body.target, body.details);
    if (!receipt) throw new AttuneError('NOT_FOUND', `no privacy request ${id}`);
    const { notice: _notice, ...view } = receipt;
    res.json(view);
  });

  // Retention: a dry run lists what the policy removes; applying it deletes exactly that.
  router.post('/v1/privacy/retention/plans', async (_req, res) => {
    res.status(201).json(await engine.retention.plan());
  });
  router.get('/v1/privacy/retention/plans/:planId', async (req, res) => {
    const plan = await engine.retention.getPlan(req.params.planId as string);
    if (!plan) throw new AttuneError('NOT_FOUND', `no retention plan ${req.params.planId}`);
    res.json(plan);
  });
  router.post('/v1/privacy/retention/plans/:planId/apply', async (req, res) => {
    res.json(await engine.retention.apply(req.params.planId as string));
  });

  return router;
}
