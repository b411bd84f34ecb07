import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type DecideResult, type DecisionManifest, type DecisionSnapshot, decide } from '@attune/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, bearerAuth, type Harness, SECRET_KEY, STORE_KINDS, startHarness, WRITE_KEY } from './harness.ts';

interface DecisionCase {
  id: number;
  name: string;
  now: string;
  config: Record<string, unknown> & { audiences?: Array<{ id: string; condition: unknown }> };
  profile?: {
    traits: Record<string, unknown>;
    exposures?: Array<{ experiment: string; variant: string; at: string }>;
    offerViews?: Array<{ offer: string; at: string }>;
  };
  request: { anonymousId?: string; userId?: string; context: Record<string, unknown>; slots: string[] };
  expected: Record<string, Record<string, unknown>>;
}

const spec = JSON.parse(readFileSync(fileURLToPath(new URL('../../../core/spec/decisions.json', import.meta.url)), 'utf8')) as {
  cases: DecisionCase[];
};

/**
 * Every case of spec/decisions.json through the real server: the configuration goes in through
 * `PUT /v1/config?prune=true` and the audience API, the visitor's state through tracking calls
 * (identify, Experiment Viewed, Offer Viewed), then POST /v1/decide answers. The same case is
 * then decided a third way: the browser path, from GET /v1/manifest plus the visitor's snapshot,
 * by the core decide() in this process, and must give the same answer.
 */
describe.each(STORE_KINDS)('spec/decisions.json over HTTP and through the manifest on %s', (kind) => {
  let h: Harness;
  let now = Date.parse('2026-06-15T12:00:00.000Z');
  beforeAll(async () => {
    h = await startHarness(kind, { clock: { now: () => now, defer: (fn) => setImmediate(fn) } });
  });
  afterAll(() => h.close());

  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await h.admin(path, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await res.text();
    return { status: res.status, body: text === '' ? null : (JSON.parse(text) as Record<string, unknown>) };
  };
  const call = async (path: string, body: unknown, key = WRITE_KEY) => {
    const res = await fetch(h.url + path, {
      method: 'POST',
      headers: { authorization: key === WRITE_KEY ? basicAuth(key) : bearerAuth(key), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('answers every case the same way as the core, over HTTP and from the manifest', async () => {
    expect((await admin('POST', '/v1/segment-groups', { id: 'spec', name: 'spec cases' })).status).toBe(201);
    let previousAudiences: string[] = [];
    for (const c of spec.cases) {
      now = Date.parse(c.now);
      const label = `${c.id}: ${c.name}`;
      // Configuration: decisions pruned to this case's, audiences replaced.
      const { audiences = [], ...decisionConfig } = c.config;
      expect((await admin('PUT', '/v1/config?prune=true', {})).status, label).toBe(200);
      for (const id of previousAudiences) expect((await admin('DELETE', `/v1/audiences/${id}`)).status, label).toBe(204);
      for (const a of audiences) {
        const r = await admin('POST', '/v1/audiences', { id: a.id, groupId: 'spec', name: a.id, condition: a.condition });
        expect(r.status, `${label}: ${JSON.stringify(r.body)}`).toBe(201);
      }
      previousAudiences = audiences.map((a) => a.id);
      const applied = await admin('PUT', '/v1/config?prune=true', decisionConfig);
      expect(applied.status, `${label}: ${JSON.stringify(applied.body)}`).toBe(200);

      // The visitor's past, as tracking calls.
      const who = { ...(c.request.anonymousId ? { anonymousId: c.request.anonymousId } : {}), ...(c.request.userId ? { userId: c.request.userId } : {}) };
      if (c.profile) {
        const calls: unknown[] = [{ type: 'identify', ...who, traits: c.profile.traits, timestamp: new Date(now - 3_600_000).toISOString() }];
        for (const x of c.profile.exposures ?? []) {
          calls.push({ type: 'track', event: 'Experiment Viewed', ...who, timestamp: x.at, properties: { experiment_id: x.experiment, variation_id: x.variant } });
        }
        for (const o of c.profile.offerViews ?? []) calls.push({ type: 'track', event: 'Offer Viewed', ...who, timestamp: o.at, properties: { offer_id: o.offer } });
        const sent = await call('/v1/batch', { batch: calls });
        expect(sent.status, label).toBe(200);
      }

      // 1. The server's answer.
      const served = await call('/v1/decide', { ...c.request, recordExposure: false });
      expect(served.status, `${label}: ${JSON.stringify(served.body)}`).toBe(200);
      const decisions = served.body.decisions as DecideResult['decisions'];
      for (const [slot, expected] of Object.entries(c.expected)) {
        expect({ slot, ...decisions[slot] }, label).toMatchObject({ slot, ...expected });
      }

      // 2. The browser path: manifest + snapshot, decided locally by the same core.
      const manifestRes = await fetch(`${h.url}/v1/manifest`, { headers: { authorization: basicAuth(WRITE_KEY) } });
      const manifest = (await manifestRes.json()) as DecisionManifest;
      const snapRes = c.request.anonymousId
        ? await call('/v1/decide/snapshot', { anonymousId: c.request.anonymousId })
        : await call('/v1/decide/snapshot', { userId: c.request.userId }, SECRET_KEY);
      expect(snapRes.status, label).toBe(200);
      const local = await decide(manifest, snapRes.body as unknown as DecisionSnapshot, c.request, now);
      expect(local.decisions, label).toEqual(decisions);
    }
  }, 300_000);
});
