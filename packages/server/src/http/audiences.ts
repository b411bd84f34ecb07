import { AttuneError, type Condition, type Engine, evaluateCondition, isBlindIndexed, type TraceEntry, validateCondition } from '@attune/core';
import { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import { checkContentType, readJsonBody } from './body.ts';
import { expectedVersion, jsonBody } from './documents.ts';
import { parseInput } from './validate.ts';

const BODY_LIMIT = { bytes: 256 * 1024, label: 'audience definitions' };

/** A condition tried on a sample subject: the condition tester behind /v1/audiences/evaluate. */
const evaluateBody = z.object({
  condition: z.unknown(),
  now: z.string().refine((v) => Number.isFinite(Date.parse(v)), 'must be an ISO-8601 date-time').optional(),
  profile: z.object({ traits: z.record(z.string(), z.unknown()).default({}), computed: z.record(z.string(), z.unknown()).default({}) }).optional(),
  events: z
    .array(
      z.object({
        name: z.string().min(1),
        timestamp: z.string().refine((v) => Number.isFinite(Date.parse(v)), 'must be an ISO-8601 date-time'),
        properties: z.record(z.string(), z.unknown()).default({}),
      }),
    )
    .max(10_000)
    .default([]),
  context: z.record(z.string(), z.unknown()).optional(),
  memberOf: z.array(z.string()).default([]),
  audiences: z.record(z.string(), z.unknown()).optional(),
  selfId: z.string().optional(),
});

const exportQuery = z.object({ format: z.enum(['csv', 'ndjson']).optional() });
const EXPORT_COLUMNS = ['profileId', 'since', 'userId', 'email', 'phone', 'anonymousIds'];

/** RFC 4180 cell; a leading =, +, - or @ is prefixed with ' so spreadsheets do not run it as a formula. */
function csvCell(value: string | null): string {
  if (value === null) return '';
  const safe = /^[=+\-@]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

const membersQuery = z.object({
  after: z.string().min(1).max(255).optional(),
  limit: z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(z.number().int().min(1).max(1000)).optional(),
});

/** Admin API of segment groups and audiences (the secret key is checked before these routes). */
export function audienceRoutes(engine: Engine): Router {
  const router = Router();
  const a = engine.audiences;

  router.get('/v1/segment-groups', async (_req, res) => {
    res.json({ segmentGroups: await a.listGroups() });
  });
  router.post('/v1/segment-groups', async (req, res) => {
    res.status(201).json(await a.createGroup(await jsonBody(req, res, BODY_LIMIT)));
  });
  router.get('/v1/segment-groups/:id', async (req, res) => {
    res.json(await a.getGroup(req.params.id as string));
  });
  router.put('/v1/segment-groups/:id', async (req, res) => {
    const body = await jsonBody(req, res, BODY_LIMIT);
    res.json(await a.updateGroup(req.params.id as string, body, expectedVersion(req, body)));
  });
  router.delete('/v1/segment-groups/:id', async (req, res) => {
    await a.deleteGroup(req.params.id as string);
    res.status(204).end();
  });

  router.get('/v1/audiences', async (_req, res) => {
    res.json({ audiences: await a.listAudiences(), recompute: a.recomputeStatus() });
  });
  router.post('/v1/audiences/preview', async (req, res) => {
    const body = await jsonBody(req, res, BODY_LIMIT);
    res.json(await a.preview(body.condition));
  });
  router.post('/v1/audiences/evaluate', async (req, res) => {
    const body = parseInput(evaluateBody, await jsonBody(req, res, BODY_LIMIT));
    const others = body.audiences as Record<string, Condition> | undefined;
    const validated = validateCondition(body.condition, {
      ...(body.selfId ? { selfId: body.selfId } : {}),
      ...(others ? { resolveAudience: (id: string) => others[id] } : {}),
    });
    if (!validated.ok) {
      res.json({ valid: false, issues: validated.issues });
      return;
    }
    const members = new Set(body.memberOf);
    const trace: TraceEntry[] = [];
    const result = evaluateCondition(
      validated.condition,
      {
        traits: body.profile?.traits ?? {},
        computed: body.profile?.computed ?? {},
        events: body.events.map((e) => ({ name: e.name, timestamp: Date.parse(e.timestamp), properties: e.properties })),
        isMember: (id) => members.has(id),
        ...(body.context ? { context: body.context } : {}),
      },
      body.now ? Date.parse(body.now) : Date.now(),
      { trace },
    );
    res.json({ valid: true, result, trace });
  });
  router.get('/v1/audiences/recompute', (_req, res) => {
    res.json(a.recomputeStatus());
  });
  router.post('/v1/audiences/recompute', (_req, res) => {
    void a.recompute();
    res.status(202).json(a.recomputeStatus());
  });
  router.post('/v1/audiences', async (req, res) => {
    res.status(201).json({ ...(await a.createAudience(await jsonBody(req, res, BODY_LIMIT))), recompute: a.recomputeStatus() });
  });
  router.get('/v1/audiences/:id', async (req, res) => {
    const audience = await a.getAudience(req.params.id as string);
    res.json({ ...audience, members: await engine.store.memberships.count(audience.id) });
  });
  router.put('/v1/audiences/:id', async (req, res) => {
    const body = await jsonBody(req, res, BODY_LIMIT);
    const version = expectedVersion(req, body);
    res.json({ ...(await a.updateAudience(req.params.id as string, body, version)), recompute: a.recomputeStatus() });
  });
  router.delete('/v1/audiences/:id', async (req, res) => {
    await a.deleteAudience(req.params.id as string);
    res.status(204).end();
  });
  router.get('/v1/audiences/:id/members', async (req, res) => {
    const audience = await a.getAudience(req.params.id as string);
    const q = parseInput(membersQuery, req.query, ['(query)']);
    const limit = q.limit ?? 100;
    const members = await engine.store.memberships.members(audience.id, { after: q.after, limit });
    res.json({
      members: members.map((m) => ({ profileId: m.profileId, since: new Date(m.since).toISOString() })),
      next: members.length === limit ? (members[members.length - 1]?.profileId ?? null) : null,
    });
  });

  // Streams every member with their identifiers, page by page, as CSV or NDJSON.
  router.get('/v1/audiences/:id/export', async (req, res) => {
    const audience = await a.getAudience(req.params.id as string);
    const format = parseInput(exportQuery, req.query, ['(query)']).format ?? 'ndjson';
    res.status(200);
    res.setHeader('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
    res.setHeader('content-disposition', `attachment; filename="${audience.id}.${format === 'csv' ? 'csv' : 'ndjson'}"`);
    if (format === 'csv') res.write(`${EXPORT_COLUMNS.join(',')}\n`);
    let after: string | undefined;
    for (;;) {
      const page = await engine.store.memberships.members(audience.id, { after, limit: 500 });
      if (page.length === 0) break;
      let chunk = '';
      for (const m of page) {
        const ids = await engine.store.listIdentities(m.profileId);
        // A protected email or phone is held only as its blind index: no address to export.
        const first = (type: string) => ids.find((i) => i.type === type && !isBlindIndexed(i, engine.identity))?.value ?? null;
        const row = {
          profileId: m.profileId,
          since: new Date(m.since).toISOString(),
          userId: first('userId'),
          email: first('email'),
          phone: first('phone'),
          anonymousIds: ids.filter((i) => i.type === 'anonymousId').map((i) => i.value),
        };
        chunk +=
          format === 'csv'
            ? `${[row.profileId, row.since, row.userId, row.email, row.phone, row.anonymousIds.join(' ')].map(csvCell).join(',')}\n`
            : `${JSON.stringify({ audienceId: audience.id, ...row })}\n`;
      }
      if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
      after = page[page.length - 1]?.profileId;
      if (page.length < 500) break;
    }
    res.end();
  });

  router.get('/v1/profiles/:profileId/audiences', async (req, res) => {
    const profile = await engine.getProfile(req.params.profileId as string);
    if (!profile) throw new AttuneError('NOT_FOUND', `no profile with id ${req.params.profileId}`);
    res.json({ profileId: profile.id, audiences: profile.audiences });
  });
  return router;
}
