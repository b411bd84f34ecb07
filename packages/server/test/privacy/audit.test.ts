import { silentLogger } from '@attune/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startActivationWorker } from '../../src/activations/worker.ts';
import { ADMIN_PREFIXES, createApp } from '../../src/app.ts';
import { until } from '../activations/receiver.ts';
import { bearerAuth, type Harness, STORE_KINDS, startHarness, uid } from '../http/harness.ts';

interface AuditEntry {
  id: string;
  at: string;
  actor: { keyId: string; role: string };
  method: string;
  path: string;
  action: string;
  kind: string;
  resourceId: string | null;
  before: unknown;
  after: unknown;
}

/** Every route the application serves, as `METHOD /path/:param`, read from Express's router. */
function routesOf(listener: ReturnType<typeof createApp>): string[] {
  interface Layer {
    route?: { path: string | string[]; methods: Record<string, boolean> };
    handle?: { stack?: Layer[] };
  }
  const out: string[] = [];
  const walk = (layers: Layer[]) => {
    for (const l of layers) {
      if (l.route) {
        const paths = Array.isArray(l.route.path) ? l.route.path : [l.route.path];
        for (const m of Object.keys(l.route.methods).filter((k) => l.route?.methods[k])) for (const p of paths) out.push(`${m.toUpperCase()} ${p}`);
      } else if (l.handle?.stack) walk(l.handle.stack);
    }
  };
  walk((listener.app as unknown as { router: { stack: Layer[] } }).router.stack);
  return out;
}

/** Non-GET routes outside the admin API: tracking and decisions (write and decide keys), never admin changes. */
const PUBLIC_WRITES = /^POST \/v1\/(track|t|identify|i|page|p|screen|s|group|g|alias|a|batch|import|b|decide|decide\/snapshot|recommend|rank)$/;

interface Call {
  method: string;
  path: string;
  body?: unknown;
  contentType?: string;
}

describe.each(STORE_KINDS)('audit log on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind, { activationPollMs: 50, webhookBaseDelayMs: 20 });
  });
  afterAll(() => h.close());

  const call = (key: string, c: Call) =>
    fetch(h.url + c.path, {
      method: c.method,
      headers: { authorization: bearerAuth(key), ...(c.body === undefined ? {} : { 'content-type': c.contentType ?? 'application/json' }) },
      ...(c.body === undefined ? {} : { body: typeof c.body === 'string' ? c.body : JSON.stringify(c.body) }),
    });
  /** Setup calls, with the harness's own secret key (their entries are not the ones looked for). */
  const setup = async <T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await h.admin(path, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    expect(res.status, `${method} ${path}: ${await res.clone().text()}`).toBeLessThan(300);
    return (res.status === 204 ? {} : await res.json()) as T;
  };
  const log = async (query: string) => (await h.adminJson<{ entries: AuditEntry[]; nextCursor: string | null }>(`/v1/audit?${query}`)).body;

  it('records creation, rotation and removal of keys, with who and the key before and after', async () => {
    const made = await setup<{ id: string; key: string }>('POST', '/v1/keys', { kind: 'secret', name: 'audited', role: 'analyst' });
    const rotated = await setup<{ id: string }>('POST', `/v1/keys/${made.id}/rotate`, { overlapSeconds: 60 });
    expect((await h.admin(`/v1/keys/${rotated.id}`, { method: 'DELETE' })).status).toBe(200);
    const keys = (await log('kind=api-key&limit=1000')).entries;
    const find = (resourceId: string, action: string, path: string) => keys.find((e) => e.resourceId === resourceId && e.action === action && e.path === path);
    expect(find(made.id, 'create', '/v1/keys')).toMatchObject({ method: 'POST', before: null, after: { id: made.id, kind: 'secret', name: 'audited', revokedAt: null } });
    // Rotation: the new key is made, the old one ends after the overlap.
    const successor = find(rotated.id, 'create', `/v1/keys/${made.id}/rotate`);
    expect(successor?.after).toMatchObject({ id: rotated.id, name: 'audited' });
    const overlap = find(made.id, 'revoke', `/v1/keys/${made.id}/rotate`);
    expect(overlap?.before).toMatchObject({ revokedAt: null });
    expect(Date.parse((overlap?.after as { revokedAt: string }).revokedAt)).toBeGreaterThan(Date.now() + 30_000);
    // Removal: ended at once.
    const removed = find(rotated.id, 'revoke', `/v1/keys/${rotated.id}`);
    expect(removed).toMatchObject({ method: 'DELETE', before: { revokedAt: null } });
    expect(Date.parse((removed?.after as { revokedAt: string }).revokedAt)).toBeLessThanOrEqual(Date.now());
    for (const e of [successor, overlap, removed]) expect(e?.actor.role).toBe('admin');
    expect(JSON.stringify(keys)).not.toMatch(/"hash":"[0-9a-f]{64}"|sk_[A-Za-z0-9_]{20}/);
  });

  it('pages through the log with nextCursor, newest first, without gaps or repeats', async () => {
    const group = uid('pg').toLowerCase();
    await setup('POST', '/v1/segment-groups', { id: group, name: 'v0' });
    for (let v = 1; v <= 6; v++) await setup('PUT', `/v1/segment-groups/${group}`, { name: `v${v}`, version: v });
    const all = (await log(`resourceId=${group}&limit=1000`)).entries;
    expect(all.map((e) => e.action)).toEqual(['update', 'update', 'update', 'update', 'update', 'update', 'create']);
    const seen: AuditEntry[] = [];
    let cursor: string | null = null;
    do {
      const page: { entries: AuditEntry[]; nextCursor: string | null } = await log(`resourceId=${group}&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.entries);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.map((e) => e.id)).toEqual(all.map((e) => e.id));
    expect((all[0]?.after as { name: string }).name).toBe('v6');
    expect((await h.adminJson(`/v1/audit?cursor=nonsense`)).status).toBe(400);
    expect((await h.adminJson(`/v1/audit?kinds=audience`)).status).toBe(400);
  });

  it('has an entry for every change made through the admin API: every non-GET admin route the router serves', async () => {
    const worker = startActivationWorker({ store: h.server.store, logger: silentLogger, pollMs: 3_600_000 });
    const routes = routesOf(createApp({ engine: h.server.engine, store: h.server.store, activations: worker }));
    await worker.stop();
    const writes = routes.filter((r) => !r.startsWith('GET ') && !r.startsWith('HEAD '));
    const admin = writes.filter((r) => ADMIN_PREFIXES.some((p) => r.split(' ')[1]?.startsWith(p)));
    // A new write route is either admin (then it needs a recipe below) or one of the public ones.
    expect(writes.filter((r) => !admin.includes(r) && !PUBLIC_WRITES.test(r))).toEqual([]);
    expect(admin.length).toBeGreaterThan(40);

    const auditor = await setup<{ id: string; key: string }>('POST', '/v1/keys', { kind: 'secret', name: 'auditor', role: 'admin' });
    const id = () => uid('r').toLowerCase();
    const people: string[] = [];
    const user = async () => {
      const userId = uid('au');
      people.push(userId);
      expect((await h.track('/v1/identify', { userId, traits: { x: 1 } })).status).toBe(200);
      return { userId, profileId: (await h.adminJson<{ id: string }>(`/v1/profiles?userId=${userId}`)).body.id };
    };
    const group = async () => (await setup<{ id: string }>('POST', '/v1/segment-groups', { id: id(), name: 'G' })).id;
    const experience = (eid: string) => ({ id: eid, name: eid, variants: ['control', 'b'].map((k) => ({ key: k, slots: { hero: { content: { title: k } } } })) });
    const connector = (cid: string) => ({ id: cid, name: 'c', url: 'https://api.example.com/price', timeoutMs: 500, outputs: { amount: 'price.amount' }, fallback: { amount: 1 } });
    const table = (tid: string) => ({ id: tid, name: 't', hitPolicy: 'first', inputs: [{ id: 'tier', source: 'traits.tier' }], rules: [{ when: { tier: { op: 'eq', value: 'gold' } }, then: { content: { text: 'gold' } } }], default: { content: { text: 'x' } } });
    /** Each collection's body; PUT and DELETE act on one made first. */
    const collections: Record<string, () => Promise<Record<string, unknown>>> = {
      'segment-groups': async () => ({ id: id(), name: 'G' }),
      audiences: async () => ({ id: id(), groupId: await group(), name: 'A', condition: { have: { trait: 'traits.x', op: 'eq', value: 1 } } }),
      experiences: async () => experience(id()),
      offers: async () => ({ id: id(), name: 'O', content: { text: 'hi' } }),
      'decision-tables': async () => table(id()),
      connectors: async () => connector(id()),
      'decision-models': async () => ({ id: id(), name: 'm', connectors: [], tables: [(await setup<{ id: string }>('POST', '/v1/decision-tables', table(id()))).id] }),
      experiments: async () => ({ id: id(), name: 'x', experienceId: (await setup<{ id: string }>('POST', '/v1/experiences', experience(id()))).id, goals: [{ id: 'buy', event: 'Order Completed' }] }),
      activations: async () => ({ id: id(), name: 'H', url: 'https://hooks.example.com/x', enabled: false }),
    };
    const existing = async (collection: string) => {
      const body = await (collections[collection] as () => Promise<Record<string, unknown>>)();
      const made = await setup<{ version: number }>('POST', `/v1/${collection}`, body);
      return { body, version: made.version };
    };
    const deadLetter = async () => {
      const hook = await setup<{ id: string }>('POST', '/v1/activations', { id: id(), name: 'D', url: 'http://127.0.0.1:9/refused', maxAttempts: 1 });
      await setup('POST', `/v1/activations/${hook.id}/test`);
      const letters = await until(async () => (await h.adminJson<{ deadLetters: Array<{ id: string }> }>(`/v1/activations/${hook.id}/dead-letters`)).body.deadLetters, (l) => l.length > 0);
      await setup('PUT', `/v1/activations/${hook.id}`, { name: 'D', url: 'http://127.0.0.1:9/refused', maxAttempts: 1, enabled: false, version: 1 });
      return { hook: hook.id, letter: (letters[0] as { id: string }).id };
    };

    const recipes: Record<string, () => Promise<Call>> = {
      'PUT /v1/profiles/:profileId/consent': async () => ({ method: 'PUT', path: `/v1/profiles/${(await user()).profileId}/consent`, body: { purposes: { marketing: false } } }),
      'POST /v1/privacy/requests': async () => ({ method: 'POST', path: '/v1/privacy/requests', body: { type: 'access', identifier: { type: 'userId', value: (await user()).userId } } }),
      'POST /v1/privacy/requests/:requestId/confirmations': async () => {
        const hook = await setup<{ id: string }>('POST', '/v1/activations', { id: id(), name: 'C', url: 'https://cms.example.com/erase', erasureConfirmation: 'callback' });
        const receipt = await setup<{ id: string }>('POST', '/v1/privacy/requests', { type: 'erasure', identifier: { type: 'userId', value: (await user()).userId } });
        await setup('PUT', `/v1/activations/${hook.id}`, { name: 'C', url: 'https://cms.example.com/erase', enabled: false, version: 1 });
        return { method: 'POST', path: `/v1/privacy/requests/${receipt.id}/confirmations`, body: { target: `activation:${hook.id}` } };
      },
      'POST /v1/privacy/retention/plans': async () => ({ method: 'POST', path: '/v1/privacy/retention/plans' }),
      'POST /v1/privacy/retention/plans/:planId/apply': async () => ({ method: 'POST', path: `/v1/privacy/retention/plans/${(await setup<{ id: string }>('POST', '/v1/privacy/retention/plans')).id}/apply` }),
      'POST /v1/profiles/erase': async () => ({ method: 'POST', path: '/v1/profiles/erase', body: { identifier: { type: 'userId', value: (await user()).userId } } }),
      'DELETE /v1/profiles/:profileId': async () => ({ method: 'DELETE', path: `/v1/profiles/${(await user()).profileId}` }),
      'POST /v1/profiles/records': async () => ({ method: 'POST', path: '/v1/profiles/records', body: [{ userId: uid('rec'), traits: { plan: 'gold' } }] }),
      'POST /v1/orders/import': async () => ({ method: 'POST', path: '/v1/orders/import', body: [{ order_id: uid('ord'), userId: uid('buyer'), timestamp: '2025-03-10T10:00:00Z', total: 10 }] }),
      'POST /v1/keys': async () => ({ method: 'POST', path: '/v1/keys', body: { kind: 'write', name: 'w' } }),
      'POST /v1/keys/:id/rotate': async () => ({ method: 'POST', path: `/v1/keys/${(await setup<{ id: string }>('POST', '/v1/keys', { kind: 'write', name: 'w' })).id}/rotate`, body: { overlapSeconds: 0 } }),
      'DELETE /v1/keys/:id': async () => ({ method: 'DELETE', path: `/v1/keys/${(await setup<{ id: string }>('POST', '/v1/keys', { kind: 'write', name: 'w' })).id}` }),
      'POST /v1/audiences/preview': async () => ({ method: 'POST', path: '/v1/audiences/preview', body: { condition: { have: { trait: 'traits.x', op: 'eq', value: 1 } } } }),
      'POST /v1/audiences/evaluate': async () => ({ method: 'POST', path: '/v1/audiences/evaluate', body: { condition: { have: { trait: 'traits.x', op: 'eq', value: 1 } }, profile: { traits: { x: 1 } } } }),
      'POST /v1/audiences/recompute': async () => ({ method: 'POST', path: '/v1/audiences/recompute' }),
      'POST /v1/catalog/:streamId': async () => ({ method: 'POST', path: `/v1/catalog/${id()}`, body: { items: [{ id: 'a-1', type: 'article', updatedAt: '2026-01-01T00:00:00Z', fields: [] }] } }),
      'POST /v1/experiments/:id/reweight': async () => {
        const x = await collections.experiments?.();
        await setup('POST', '/v1/experiments', { ...x, mode: 'bandit', bandit: { minShare: 0.1, reweightMinutes: 60 } });
        return { method: 'POST', path: `/v1/experiments/${x?.id}/reweight` };
      },
      'PUT /v1/decision-settings': async () => ({ method: 'PUT', path: '/v1/decision-settings', body: { ...(await h.adminJson<Record<string, unknown>>('/v1/decision-settings')).body } }),
      'PUT /v1/config': async () => ({ method: 'PUT', path: '/v1/config', body: { offers: [{ id: id(), name: 'O', content: { text: 'cfg' } }] } }),
      'POST /v1/activations/:id/test': async () => ({ method: 'POST', path: `/v1/activations/${(await existing('activations')).body.id}/test` }),
      'POST /v1/activations/:id/dead-letters/:letterId/replay': async () => {
        const d = await deadLetter();
        return { method: 'POST', path: `/v1/activations/${d.hook}/dead-letters/${d.letter}/replay` };
      },
      'DELETE /v1/activations/:id/dead-letters/:letterId': async () => {
        const d = await deadLetter();
        return { method: 'DELETE', path: `/v1/activations/${d.hook}/dead-letters/${d.letter}` };
      },
    };
    for (const [collection, body] of Object.entries(collections)) {
      recipes[`POST /v1/${collection}`] = async () => ({ method: 'POST', path: `/v1/${collection}`, body: await body() });
      recipes[`PUT /v1/${collection}/:id`] = async () => {
        const { body: b, version } = await existing(collection);
        const { id: rid, ...rest } = b;
        return { method: 'PUT', path: `/v1/${collection}/${rid}`, body: { ...rest, name: 'changed', version } };
      };
      recipes[`DELETE /v1/${collection}/:id`] = async () => ({ method: 'DELETE', path: `/v1/${collection}/${(await existing(collection)).body.id}` });
    }

    // Every admin write route has a recipe: a route added without one fails here, by name.
    expect(admin.filter((r) => !recipes[r])).toEqual([]);
    const changes: Array<{ route: string; call: Call }> = [];
    for (const route of admin) {
      const c = await (recipes[route] as () => Promise<Call>)();
      const res = await call(auditor.key, c);
      expect(res.status, `${route}: ${await res.clone().text()}`).toBeLessThan(300);
      changes.push({ route, call: c });
    }
    // The `request` entries are written once each answer is sent: wait for all of them.
    const entries = await until(
      async () => (await log(`keyId=${auditor.id}&limit=1000`)).entries,
      (e) => changes.every((c) => e.some((x) => x.method === c.call.method && x.path === c.call.path)),
    );
    for (const { route, call: c } of changes) {
      const mine = entries.filter((x) => x.method === c.method && x.path === c.path);
      expect(mine.length, route).toBeGreaterThan(0);
      expect(mine[0]?.actor).toMatchObject({ keyId: auditor.id, role: 'admin' });
      // Configuration changes name the resource and keep before and after, not just the request.
      if (/^(POST|PUT|DELETE) \/v1\/[a-z-]+(\/:id)?$/.test(route) && Object.keys(collections).includes(route.split('/')[2] as string)) {
        const change = mine.find((x) => x.kind !== 'request');
        expect(change, route).toBeDefined();
        expect(change?.resourceId, route).toBe(c.path.split('/')[3] ?? (c.body as { id: string }).id);
        if (c.method === 'PUT') expect((change?.after as { name: string }).name, route).toBe('changed');
        if (c.method === 'DELETE') expect(change?.after, route).toBeNull();
      }
    }
    // The log is append-only: it must not keep what an erasure removes (identifiers, exports).
    const whole = await log('limit=1000');
    expect(whole.nextCursor).toBeNull();
    const text = JSON.stringify(whole.entries);
    expect(people.length).toBeGreaterThan(4);
    for (const p of people) expect(text).not.toContain(p);
  });
});
