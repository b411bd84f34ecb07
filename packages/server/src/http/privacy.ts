import { AttuneError, accessCsv, type Engine, LIMITS, type Store } from '@attune/core';
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
      /** `erasure`: forget the person everywhere; `access`: export everything held about them (background). */
      type: z.enum(['erasure', 'access']),
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

const requestIdSchema = z.string().regex(/^(er|ar)_[A-Za-z0-9]{1,64}$/, 'must be a privacy request id (er_… or ar_…)');

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
    if (body.type === 'access') {
      res.status(202).json(await engine.privacy.requestAccess(body.identifier));
      return;
    }
    const receipt = await engine.privacy.requestErasure(body.identifier, await erasureDestinations(store));
    res.status(201).json(receipt);
  });

  router.get('/v1/privacy/requests/:requestId', async (req, res) => {
    const id = parseInput(requestIdSchema, req.params.requestId, ['requestId']);
    const receipt = await engine.privacy.getRequest(id);
    if (!receipt) throw new AttuneError('NOT_FOUND', `no privacy request ${id}`);
    res.json(receipt);
  });

  // The access export, once ready: one JSON document, or one CSV of every record.
  router.get('/v1/privacy/requests/:requestId/export', async (req, res) => {
    const id = parseInput(requestIdSchema, req.params.requestId, ['requestId']);
    const format = parseInput(z.enum(['json', 'csv']).default('json'), req.query.format, ['format']);
    const ready = await engine.privacy.accessExport(id);
    if (!ready) {
      const r = await engine.privacy.getRequest(id);
      if (!r || r.type !== 'access') throw new AttuneError('NOT_FOUND', `no access request ${id}`);
      throw new AttuneError('CONFLICT', `access request ${id} is ${r.status} (${r.progress?.phase ?? 'queued'}, ${r.progress?.events ?? 0} events so far)`);
    }
    const pages = ready.pages;
    res.setHeader('content-disposition', `attachment; filename="${id}.${format}"`);
    if (format === 'csv') {
      res.type('text/csv; charset=utf-8');
      for await (const chunk of accessCsv(ready.summary, pages)) res.write(chunk);
      res.end();
      return;
    }
    res.type('application/json');
    res.write(`${JSON.stringify({ request: { id, createdAt: ready.request.createdAt, completedAt: ready.request.completedAt }, ...ready.summary }).slice(0, -1)},"events":[`);
    let first = true;
    for await (const page of pages) {
      for (const e of page) {
        res.write(`${first ? '' : ','}${JSON.stringify(e)}`);
        first = false;
      }
    }
    res.end(']}');
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
