import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, bearerAuth, expectError, type Harness, SECRET_KEY, STORE_KINDS, startHarness, uid, WRITE_KEY } from './harness.ts';

const ab = (id: string, keys = ['control', 'b']) => ({
  id,
  name: id,
  variants: keys.map((k) => ({ key: k, slots: { hero: { content: { title: k } } } })),
});

describe.each(STORE_KINDS)('decisions API on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind);
  });
  afterAll(() => h.close());

  const admin = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    h.admin(path, { method, headers: { 'content-type': 'application/json', ...headers }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const adminJson = async <T = Record<string, unknown>>(method: string, path: string, body?: unknown) => {
    const res = await admin(method, path, body);
    expect(res.status, `${method} ${path}`).toBeLessThan(300);
    return (res.status === 204 ? null : await res.json()) as T;
  };
  const decideWith = (key: string, body: unknown) =>
    fetch(`${h.url}/v1/decide`, {
      method: 'POST',
      headers: { authorization: key === WRITE_KEY ? basicAuth(key) : bearerAuth(key), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const decide = async (body: unknown, key = SECRET_KEY) => {
    const res = await decideWith(key, body);
    expect(res.status).toBe(200);
    return (await res.json()) as { profileId?: string; decisions: Record<string, { experience: string | null; variant: string | null; reason: string; content: unknown; trace?: Array<Record<string, unknown>> }> };
  };

  it('guards keys: the browser key gets decisions only, no trace; the admin API needs the secret key', async () => {
    const id = uid('guard').toLowerCase();
    await adminJson('POST', '/v1/experiences', ab(id));
    const anonymousId = uid('anon');
    const browser = await decide({ anonymousId, context: {}, slots: ['hero'] }, WRITE_KEY);
    expect(Object.keys(browser)).toEqual(['decisions']);
    expect(browser.decisions.hero?.experience).toBeDefined();
    await expectError(await decideWith(WRITE_KEY, { anonymousId, context: {}, slots: ['hero'], explain: true }), 403, 'FORBIDDEN');
    expect((await fetch(`${h.url}/v1/decide`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
    const asBrowser = await fetch(`${h.url}/v1/experiences`, { headers: { authorization: bearerAuth(WRITE_KEY) } });
    await expectError(asBrowser, 403, 'FORBIDDEN');
    const snap = await fetch(`${h.url}/v1/decide/snapshot`, {
      method: 'POST',
      headers: { authorization: basicAuth(WRITE_KEY), 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'someone@example.com' }),
    });
    await expectError(snap, 403, 'FORBIDDEN');
    await adminJson('DELETE', `/v1/experiences/${id}`);
  });

  it('rejects bad decide requests with the field named, and keeps serving', async () => {
    const noIds = await expectError(await decideWith(SECRET_KEY, { context: {}, slots: ['hero'] }), 400, 'VALIDATION');
    expect(noIds.error.issues[0]?.path).toBe('anonymousId');
    const badSlots = await expectError(await decideWith(SECRET_KEY, { anonymousId: 'a', slots: [] }), 400, 'VALIDATION');
    expect(badSlots.error.issues[0]?.path).toBe('slots');
    const wrongType = await expectError(await decideWith(SECRET_KEY, { anonymousId: 'a', slots: ['x'], context: { url: 42 } }), 400, 'VALIDATION');
    expect(wrongType.error.issues[0]?.path).toBe('context.url');
    const notJson = await fetch(`${h.url}/v1/decide`, { method: 'POST', headers: { authorization: bearerAuth(SECRET_KEY), 'content-type': 'application/json' }, body: '{"anonymousId": ' });
    await expectError(notJson, 400, 'VALIDATION');
    expect((await decide({ anonymousId: 'a', context: {}, slots: ['x'] })).decisions.x?.reason).toBe('unknown_slot');
  });

  it('names the node at fault in configuration errors and protects references', async () => {
    const id = uid('bad').toLowerCase();
    const badRegex = await expectError(await admin('POST', '/v1/experiences', { ...ab(id), targeting: { pages: ['/ok', { regex: '(' }] } }), 400, 'VALIDATION');
    expect(badRegex.error.issues.map((i) => i.path)).toContain('targeting.pages[1].regex');
    const history = await expectError(
      await admin('POST', '/v1/experiences', { ...ab(id), targeting: { condition: { all: [{ did: { event: 'Order Completed' } }] } } }),
      400,
      'VALIDATION',
    );
    expect(history.error.issues.map((i) => i.path)).toContain('targeting.condition.all[0].did');
    const unknownAudience = await expectError(await admin('POST', '/v1/experiences', { ...ab(id), targeting: { audiences: ['nope'] } }), 400, 'VALIDATION');
    expect(unknownAudience.error.issues.map((i) => i.path)).toContain('targeting.audiences[0]');
    const conf = await expectError(
      await admin('PUT', '/v1/config', { experiences: [ab(`${id}-a`), { ...ab(`${id}-b`), variants: [{ key: 'Bad Key', slots: {} }] }] }),
      400,
      'VALIDATION',
    );
    expect(conf.error.issues.map((i) => i.path)).toContain('experiences[1].variants[0].key');

    await adminJson('POST', '/v1/offers', { id: `${id}-offer`, name: 'Offer', content: { text: 'hi' } });
    await adminJson('POST', '/v1/experiences', { id, name: id, variants: [{ key: 'default', slots: { hero: { ref: { type: 'offer', id: `${id}-offer` } } } }] });
    await expectError(await admin('DELETE', `/v1/offers/${id}-offer`), 409, 'CONFLICT');
    await expectError(await admin('PUT', `/v1/experiences/${id}`, { ...ab(`${id}-renamed`), version: 1 }), 400, 'VALIDATION');
    await expectError(await admin('PUT', `/v1/experiences/${id}`, { ...ab(id), version: 7 }), 409, 'CONFLICT');
    await adminJson('DELETE', `/v1/experiences/${id}`);
    await adminJson('DELETE', `/v1/offers/${id}-offer`);
    // A content string that happens to equal an offer id is not a reference to it.
    await adminJson('POST', '/v1/offers', { id: `${id}-o2`, name: 'Offer', content: { text: 'hi' } });
    await adminJson('POST', '/v1/experiences', { id: `${id}-e2`, name: 'e2', variants: [{ key: 'default', slots: { hero: { content: { title: `${id}-o2` } } } }] });
    await adminJson('DELETE', `/v1/offers/${id}-o2`);
    await adminJson('DELETE', `/v1/experiences/${id}-e2`);
  });

  it('explains a decision: rules with the values seen, the hash and bucket, and tables', async () => {
    const id = uid('explain').toLowerCase();
    await adminJson('POST', '/v1/experiences', { ...ab(id), priority: 50, targeting: { pages: ['/shoes/**'], locales: ['en'] } });
    await adminJson('POST', '/v1/experiments', { id: `${id}-x`, name: 'x', experienceId: id, goals: [{ id: 'buy', event: 'Order Completed' }] });
    const r = await decide({ anonymousId: 'explain-visitor', context: { url: 'https://s.example/shoes/run', locale: 'en-GB' }, slots: ['hero'], explain: true, recordExposure: false });
    const trace = r.decisions.hero?.trace ?? [];
    const experience = trace.find((s) => s.step === 'experience' && s.experience === id) as { checks: Array<{ check: string; value: unknown; result: boolean }> };
    expect(experience.checks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ check: 'page', value: '/shoes/run', result: true }),
        expect.objectContaining({ check: 'locale', value: 'en-GB', result: true }),
      ]),
    );
    const bucketing = trace.find((s) => s.step === 'bucketing') as { seed: string; unit: string; hash: number; bucket: number; variant: string };
    expect(bucketing).toMatchObject({ seed: `${id}-x`, unit: 'explain-visitor' });
    expect(bucketing.bucket).toBe(Math.floor(bucketing.hash * 10000));
    expect(bucketing.variant).toBe(r.decisions.hero?.variant);
    await adminJson('DELETE', `/v1/experiments/${id}-x`);
    await adminJson('DELETE', `/v1/experiences/${id}`);
  });

  it('records one exposure per visitor and experiment, attributes goals per variant, and reports results', async () => {
    const id = uid('exp').toLowerCase();
    await adminJson('POST', '/v1/experiences', { ...ab(id), targeting: { pages: [`/${id}/**`] } });
    await adminJson('POST', '/v1/experiments', {
      id: `${id}-x`,
      name: 'checkout test',
      experienceId: id,
      goals: [{ id: 'buy', event: 'Order Completed', valueProperty: 'revenue' }],
    });
    const variants = new Map<string, string>();
    for (let i = 0; i < 120; i++) {
      const anonymousId = `${id}-v${i}`;
      const r = await decide({ anonymousId, context: { path: `/${id}/home` }, slots: ['hero'] }, WRITE_KEY);
      variants.set(anonymousId, r.decisions.hero?.variant as string);
    }
    // Seen again: no second exposure.
    for (let i = 0; i < 10; i++) await decide({ anonymousId: `${id}-v${i}`, context: { path: `/${id}/home` }, slots: ['hero'] }, WRITE_KEY);
    // Every third visitor buys twice; one buys before being exposed (not counted).
    const batch: unknown[] = [];
    for (let i = 0; i < 120; i += 3) {
      for (const revenue of [10, 30]) batch.push({ type: 'track', event: 'Order Completed', anonymousId: `${id}-v${i}`, properties: { order_id: uid('o'), revenue } });
    }
    batch.push({ type: 'track', event: 'Order Completed', anonymousId: `${id}-never-exposed`, properties: { order_id: uid('o'), revenue: 1000 } });
    expect((await h.track('/v1/batch', { batch })).status).toBe(200);

    const results = await adminJson<{
      goal: string;
      control: string;
      variants: Array<{ variant: string; exposures: number; conversions: number; revenue: number; rate: number; lift: number | null; liftCi95: [number, number] | null; probabilityToBeatControl: number | null }>;
      sampleRatio: { pValue: number; mismatch: boolean };
    }>('GET', `/v1/experiments/${id}-x/results`);
    expect(results.goal).toBe('buy');
    const expected = (variant: string) => {
      const ids = [...variants].filter(([, v]) => v === variant).map(([a]) => a);
      const buyers = ids.filter((a) => Number(a.slice(a.lastIndexOf('v') + 1)) % 3 === 0);
      return { exposures: ids.length, conversions: buyers.length, revenue: buyers.length * 40 };
    };
    for (const v of results.variants) expect(v, v.variant).toMatchObject(expected(v.variant));
    expect(results.variants.reduce((n, v) => n + v.exposures, 0)).toBe(120);
    const b = results.variants.find((v) => v.variant === 'b');
    const control = results.variants.find((v) => v.variant === 'control');
    expect(control?.lift).toBeNull();
    if (b && control && control.rate > 0 && b.rate > 0) {
      expect(b.lift).toBeCloseTo(b.rate / control.rate - 1, 10);
      expect(b.liftCi95?.[0]).toBeLessThan(b.lift as number);
      expect(b.liftCi95?.[1]).toBeGreaterThan(b.lift as number);
      expect(b.probabilityToBeatControl).toBeGreaterThan(0);
      expect(b.probabilityToBeatControl).toBeLessThan(1);
    }
    expect(results.sampleRatio.pValue).toBeGreaterThan(0);
  });

  it('keeps a visitor in their variant through login, also when the weights change', async () => {
    const id = uid('login').toLowerCase();
    await adminJson('POST', '/v1/experiences', ab(id));
    const created = await adminJson<{ version: number }>('POST', '/v1/experiments', {
      id: `${id}-x`,
      name: 'login',
      experienceId: id,
      weights: { control: 0, b: 1 },
      goals: [{ id: 'buy', event: 'Order Completed' }],
    });
    const anonymousId = uid('device-1');
    const userId = uid('user');
    expect((await decide({ anonymousId, context: {}, slots: ['hero'] }, WRITE_KEY)).decisions.hero?.variant).toBe('b');
    // The experiment now sends everyone new to the control.
    await adminJson('PUT', `/v1/experiments/${id}-x`, { name: 'login', experienceId: id, weights: { control: 1, b: 0 }, goals: [{ id: 'buy', event: 'Order Completed' }], version: created.version });
    expect((await decide({ anonymousId: uid('someone-new'), context: {}, slots: ['hero'] }, WRITE_KEY)).decisions.hero?.variant).toBe('control');
    // Login on the same device, then a visit from a second device with only the userId known.
    expect((await h.track('/v1/identify', { anonymousId, userId, traits: { email: `${userId}@example.com` } })).status).toBe(200);
    const afterLogin = await decide({ userId, context: {}, slots: ['hero'] });
    expect(afterLogin.decisions.hero).toMatchObject({ variant: 'b', reason: 'sticky' });
    const device2 = uid('device-2');
    expect((await h.track('/v1/identify', { anonymousId: device2, userId })).status).toBe(200);
    expect((await decide({ anonymousId: device2, userId, context: {}, slots: ['hero'] }, WRITE_KEY)).decisions.hero?.variant).toBe('b');
  });

  it('counts offer impressions against frequency caps', async () => {
    const id = uid('caps').toLowerCase();
    await adminJson('POST', '/v1/offers', { id: `${id}-daily`, name: 'daily', content: { t: 'daily' }, priority: 5, caps: { perDay: 2 } });
    await adminJson('POST', '/v1/offers', { id: `${id}-base`, name: 'base', content: { t: 'base' } });
    await adminJson('POST', '/v1/experiences', {
      id,
      name: id,
      targeting: { pages: [`/${id}`] },
      variants: [{ key: 'default', slots: { promo: { offers: { from: [`${id}-daily`, `${id}-base`], limit: 1 } } } }],
    });
    const anonymousId = uid('capped');
    const shown: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await decide({ anonymousId, context: { path: `/${id}` }, slots: ['promo'] }, WRITE_KEY);
      shown.push((r.decisions.promo?.content as { offers: Array<{ id: string }> }).offers[0]?.id as string);
    }
    expect(shown).toEqual([`${id}-daily`, `${id}-daily`, `${id}-base`]);
  });

  it('re-weights a bandit from its results and keeps assignment deterministic between re-weights', async () => {
    const id = uid('bandit').toLowerCase();
    await adminJson('POST', '/v1/experiences', ab(id, ['control', 'b', 'c']));
    await adminJson('POST', '/v1/experiments', {
      id: `${id}-x`,
      name: 'bandit',
      experienceId: id,
      mode: 'bandit',
      bandit: { minShare: 0.1, reweightMinutes: 60 },
      goals: [{ id: 'click', event: 'Banner Clicked' }],
    });
    const assigned = new Map<string, string>();
    for (let i = 0; i < 90; i++) {
      const r = await decide({ anonymousId: `${id}-${i}`, context: {}, slots: ['hero'] }, WRITE_KEY);
      assigned.set(`${id}-${i}`, r.decisions.hero?.variant as string);
    }
    // Only "c" converts.
    const batch = [...assigned].filter(([, v]) => v === 'c').map(([a]) => ({ type: 'track', event: 'Banner Clicked', anonymousId: a }));
    expect((await h.track('/v1/batch', { batch })).status).toBe(200);
    // The server re-weights on its schedule; an operator can force it now.
    const results = await adminJson<{ banditWeights: Record<string, number>; sampleRatio: unknown }>('POST', `/v1/experiments/${id}-x/reweight`);
    expect(results.sampleRatio).toBeNull(); // bandit weights move: no single expected split
    expect(await h.server.engine.decisions.reweightBandits()).toBe(0); // not due again for an hour
    const w = results.banditWeights;
    expect((w.control ?? 0) + (w.b ?? 0) + (w.c ?? 0)).toBeCloseTo(1, 5);
    expect(w.c).toBeGreaterThan(0.5);
    expect(Math.min(w.control ?? 0, w.b ?? 0)).toBeGreaterThanOrEqual(0.1);
    // New visitors follow the new weights, deterministically.
    const first = await decide({ anonymousId: `${id}-new`, context: {}, slots: ['hero'], recordExposure: false }, WRITE_KEY);
    const again = await decide({ anonymousId: `${id}-new`, context: {}, slots: ['hero'], recordExposure: false }, WRITE_KEY);
    expect(again.decisions.hero?.variant).toBe(first.decisions.hero?.variant);
  });

  it('calls connectors inside a decision model: live values in content, failures in the trace and metrics, never a failed decision', async () => {
    const upstream = createServer((req, res) => {
      if ((req.url ?? '').startsWith('/fail')) {
        res.statusCode = 503;
        res.end();
        return;
      }
      res.end(JSON.stringify({ price: { amount: 79, currency: 'EUR' } }));
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const port = (upstream.address() as AddressInfo).port;
    try {
      const id = uid('conn').toLowerCase();
      const config = (path: string) => ({
        connectors: [{ id: `${id}-price`, name: 'price', url: `http://127.0.0.1:${port}${path}/{{context.sku}}`, timeoutMs: 500, outputs: { amount: 'price.amount' }, fallback: { amount: 100 } }],
        tables: [
          {
            id: `${id}-t`,
            name: 't',
            hitPolicy: 'first',
            inputs: [{ id: 'amount', source: `connectors.${id}-price.amount` }],
            rules: [{ when: { amount: { op: 'lt', value: 80 } }, then: { content: { text: 'Now {{connectors.' + id + '-price.amount}} EUR' } } }],
            default: { content: { text: 'Premium' } },
          },
        ],
        models: [{ id: `${id}-m`, name: 'm', connectors: [`${id}-price`], tables: [`${id}-t`] }],
        experiences: [{ id, name: id, targeting: { pages: [`/${id}`] }, variants: [{ key: 'default', slots: { price: { model: `${id}-m` } } }] }],
      });
      expect((await admin('PUT', '/v1/config', config('/ok'))).status).toBe(200);
      const live = await decide({ anonymousId: uid('c'), context: { path: `/${id}`, sku: 'SKU-9' }, slots: ['price'], explain: true });
      expect(live.decisions.price?.content).toEqual({ type: 'content', content: { text: 'Now 79 EUR' } });
      const step = live.decisions.price?.trace?.find((t) => t.step === 'connector') as { source: string; ms: number };
      expect(step).toMatchObject({ source: 'live' });
      expect(typeof step.ms).toBe('number');

      expect((await admin('PUT', '/v1/config', config('/fail'))).status).toBe(200);
      const failed = await decide({ anonymousId: uid('c'), context: { path: `/${id}`, sku: 'SKU-10' }, slots: ['price'], explain: true });
      expect(failed.decisions.price?.content).toEqual({ type: 'content', content: { text: 'Premium' } });
      expect(failed.decisions.price?.trace?.find((t) => t.step === 'connector')).toMatchObject({ source: 'fallback', error: { code: 'HTTP_STATUS' } });
      const metrics = await adminJson<{ calls: number; failures: Record<string, number> }>('GET', `/v1/connectors/${id}-price/metrics`);
      expect(metrics.calls).toBe(2);
      expect(metrics.failures.HTTP_STATUS).toBe(1);
    } finally {
      await new Promise((r) => upstream.close(r));
    }
  });

  it('exports the configuration and applies it back unchanged', async () => {
    const exported = await adminJson<Record<string, unknown[]>>('GET', '/v1/config');
    expect(Array.isArray(exported.experiences)).toBe(true);
    const applied = await adminJson<{ created: number; updated: number; unchanged: number }>('PUT', '/v1/config', exported);
    expect(applied).toMatchObject({ created: 0, updated: 0 });
    const documents = ['connectors', 'offers', 'tables', 'models', 'experiences', 'experiments'].reduce((n, k) => n + (exported[k]?.length ?? 0), 0);
    expect(documents).toBeGreaterThan(0);
    expect(applied.unchanged).toBe(documents);
  });
});
