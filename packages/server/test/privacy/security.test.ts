import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FetchError } from '@attune/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuardedFetch, type HostLookup } from '../../src/decisions/fetch.ts';
import { until } from '../activations/receiver.ts';
import { basicAuth, bearerAuth, type Harness, STORE_KINDS, startHarness, uid } from '../http/harness.ts';

/** A real upstream on loopback that counts what reaches it. */
async function startUpstream() {
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits++;
    if ((req.url ?? '').startsWith('/redirect')) {
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ price: { amount: 79 } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, hits: () => hits, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const request = (url: string) => ({ url, method: 'GET', headers: {}, timeoutMs: 2000, maxBytes: 10_000 });

describe('connector host guard (SSRF)', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  beforeAll(async () => {
    upstream = await startUpstream();
  });
  afterAll(() => upstream.close());

  it('refuses internal addresses (localhost resolved when connecting) and hosts off the allow-list; follows no redirect', async () => {
    const open = createGuardedFetch();
    for (const url of [`http://127.0.0.1:${upstream.port}/x`, 'http://169.254.169.254/latest/meta-data/', `http://[::1]:${upstream.port}/`, 'http://10.0.0.8/', `http://localhost:${upstream.port}/`, 'file:///etc/passwd', 'http://0.0.0.0/']) {
      const error = await open(request(url)).then(() => null, (e: unknown) => e);
      expect(error, url).toBeInstanceOf(FetchError);
      expect((error as FetchError).code, url).toBe('FORBIDDEN');
    }
    const listed = createGuardedFetch({ allowHosts: ['api.example.com'] });
    await expect(listed(request(`http://127.0.0.1:${upstream.port}/x`))).rejects.toMatchObject({ code: 'FORBIDDEN', message: /allow-list/ });
    expect(upstream.hits()).toBe(0);
    // Listed by name, an internal host is reachable; its redirect inside is returned, not followed.
    const internal = createGuardedFetch({ allowHosts: ['127.0.0.1'] });
    expect((await internal(request(`http://127.0.0.1:${upstream.port}/ok`))).status).toBe(200);
    expect((await internal(request(`http://127.0.0.1:${upstream.port}/redirect`))).status).toBe(302);
    expect(upstream.hits()).toBe(2);
  });
});

describe('connector host guard at connect time (DNS rebinding)', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  beforeAll(async () => {
    upstream = await startUpstream();
  });
  afterAll(() => upstream.close());

  /**
   * A stand-in for a DNS server we cannot run here (a name resolving to what the test says):
   * each answer is taken in turn, and every question is recorded.
   */
  function scriptedDns(answers: Record<string, string[]>) {
    const asked: string[] = [];
    const lookup: HostLookup = (hostname, callback) => {
      asked.push(hostname);
      const next = answers[hostname]?.shift();
      if (next === undefined) callback(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
      else callback(null, [{ address: next, family: next.includes(':') ? 6 : 4 }]);
    };
    return { lookup, asked };
  }

  it('connects only to the address it checked: a name answering public, then loopback, never reaches loopback', async () => {
    const before = upstream.hits();
    // First answer: a public (documentation) address; the second, rebound, loopback.
    const dns = scriptedDns({ 'rebind.example.com': ['203.0.113.7', '127.0.0.1'] });
    const guarded = createGuardedFetch({}, { lookup: dns.lookup });
    const first = await guarded({ ...request(`http://rebind.example.com:${upstream.port}/price`), timeoutMs: 300 }).then(() => null, (e: unknown) => e as FetchError);
    // The socket went to the checked public address (nothing answers there), not to a second lookup's answer.
    expect(first?.code).toMatch(/TIMEOUT|NETWORK/);
    expect(dns.asked).toEqual(['rebind.example.com']);
    const second = await guarded(request(`http://rebind.example.com:${upstream.port}/price`)).then(() => null, (e: unknown) => e as FetchError);
    expect(second).toBeInstanceOf(FetchError);
    expect(second?.code).toBe('FORBIDDEN');
    expect(second?.message).toBe('the host resolves to an internal address');
    expect(dns.asked).toEqual(['rebind.example.com', 'rebind.example.com']);
    expect(upstream.hits()).toBe(before);
  });

  it('refuses localhost resolved by the system at connect time, and reaches a local server under a public-looking name only when it is listed', async () => {
    const before = upstream.hits();
    for (const guard of [createGuardedFetch(), createGuardedFetch({ allowHosts: ['localhost.example'] })]) {
      await expect(guard(request(`http://localhost:${upstream.port}/x`))).rejects.toMatchObject({ code: 'FORBIDDEN' });
    }
    const answers = () => scriptedDns({ 'api.partner.example': ['127.0.0.1', '127.0.0.1'] }).lookup;
    await expect(createGuardedFetch({}, { lookup: answers() })(request(`http://api.partner.example:${upstream.port}/ok`))).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: 'the host resolves to an internal address',
    });
    expect(upstream.hits()).toBe(before);
    const allowed = createGuardedFetch({ allowHosts: ['api.partner.example'] }, { lookup: answers() });
    const ok = await allowed(request(`http://api.partner.example:${upstream.port}/ok`));
    expect(ok).toEqual({ status: 200, body: JSON.stringify({ price: { amount: 79 } }) });
    expect(upstream.hits()).toBe(before + 1);
  });
});

describe.each(STORE_KINDS)('security over HTTP on %s', (kind) => {
  let h: Harness;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  beforeAll(async () => {
    // The default host policy: no allow-list, internal addresses refused.
    h = await startHarness(kind, { connectorHosts: {}, adminOrigins: ['https://admin.example.com'] });
    upstream = await startUpstream();
  });
  afterAll(async () => {
    await h.close();
    await upstream.close();
  });

  const call = (key: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(h.url + path, { method, headers: { authorization: bearerAuth(key), 'content-type': 'application/json', ...headers }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const admin = (method: string, path: string, body?: unknown) => h.admin(path, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const newKey = async (body: Record<string, unknown>) => {
    const res = await admin('POST', '/v1/keys', body);
    expect(res.status).toBe(201);
    return (await res.json()) as { id: string; key: string; role?: string };
  };

  it('lets an analyst read but not change an audience; a marketer changes audiences but not keys', async () => {
    const group = uid('g').toLowerCase();
    const audience = uid('a').toLowerCase();
    expect((await admin('POST', '/v1/segment-groups', { id: group, name: 'G' })).status).toBe(201);
    expect((await admin('POST', '/v1/audiences', { id: audience, groupId: group, name: 'A', condition: { have: { trait: 'traits.x', op: 'eq', value: 1 } } })).status).toBe(201);
    const analyst = await newKey({ kind: 'secret', name: 'analyst', role: 'analyst' });
    const marketer = await newKey({ kind: 'secret', name: 'marketer', role: 'marketer' });
    expect(analyst.role).toBe('analyst');
    expect((await call(analyst.key, 'GET', `/v1/audiences/${audience}`)).status).toBe(200);
    const denied = await call(analyst.key, 'PUT', `/v1/audiences/${audience}`, { groupId: group, name: 'Changed', condition: { have: { trait: 'traits.x', op: 'eq', value: 2 } }, version: 1 });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
    expect((await call(analyst.key, 'DELETE', `/v1/audiences/${audience}`)).status).toBe(403);
    expect((await call(analyst.key, 'GET', '/v1/audit')).status).toBe(403);
    const changed = await call(marketer.key, 'PUT', `/v1/audiences/${audience}`, { groupId: group, name: 'Changed', condition: { have: { trait: 'traits.x', op: 'eq', value: 2 } }, version: 1 });
    expect(changed.status).toBe(200);
    expect((await call(marketer.key, 'POST', '/v1/keys', { kind: 'secret', name: 'escalate' })).status).toBe(403);
    expect((await call(marketer.key, 'POST', '/v1/privacy/requests', { type: 'erasure', identifier: { type: 'userId', value: 'x' } })).status).toBe(403);
    // …but may confirm an erasure, as adapters do (404: allowed, no such request).
    expect((await call(marketer.key, 'POST', '/v1/privacy/requests/er_NOPE/confirmations', { target: 'activation:x' })).status).toBe(404);
    expect((await call(analyst.key, 'POST', '/v1/privacy/requests/er_NOPE/confirmations', { target: 'activation:x' })).status).toBe(403);
  });

  it('keeps keys made before roles working as admins', async () => {
    const { createHash } = await import('node:crypto');
    const legacy = `sk_legacy_${uid('k')}`;
    await h.server.store.keys.put({ id: uid('legacy'), kind: 'secret', name: 'legacy', hash: createHash('sha256').update(legacy).digest('hex'), prefix: legacy.slice(0, 8), createdAt: Date.now(), revokedAt: null });
    expect((await call(legacy, 'POST', '/v1/segment-groups', { id: uid('lg').toLowerCase(), name: 'L' })).status).toBe(201);
  });

  it('rotates a key with overlap, revokes at once, limits per key and restricts public keys to origins', async () => {
    const old = await newKey({ kind: 'secret', name: 'rotating', role: 'analyst' });
    const rotated = await admin('POST', `/v1/keys/${old.id}/rotate`, { overlapSeconds: 60 });
    expect(rotated.status).toBe(201);
    const fresh = (await rotated.json()) as { id: string; key: string; role: string; previous: { revokedAt: string } };
    expect(fresh.role).toBe('analyst');
    expect(Date.parse(fresh.previous.revokedAt)).toBeGreaterThan(Date.now());
    for (const k of [old.key, fresh.key]) expect((await call(k, 'GET', '/v1/audiences')).status).toBe(200);
    expect((await admin('DELETE', `/v1/keys/${old.id}`)).status).toBe(200);
    expect((await call(old.key, 'GET', '/v1/audiences')).status).toBe(401);
    expect((await call(fresh.key, 'GET', '/v1/audiences')).status).toBe(200);

    const limited = await newKey({ kind: 'secret', name: 'limited', role: 'analyst', rateLimit: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await call(limited.key, 'GET', '/v1/audiences')).status);
    expect(statuses).toEqual([200, 200, 429]);

    const web = await newKey({ kind: 'write', name: 'web', source: 'web', origins: ['https://shop.example.com'] });
    const track = (origin: string) =>
      fetch(`${h.url}/v1/track`, { method: 'POST', headers: { authorization: basicAuth(web.key), 'content-type': 'application/json', origin }, body: JSON.stringify({ anonymousId: uid('o'), event: 'E' }) });
    expect((await track('https://shop.example.com')).status).toBe(200);
    expect((await track('https://evil.example.net')).status).toBe(403);
    const decideKey = await newKey({ kind: 'decide', name: 'decide' });
    expect(decideKey.key.startsWith('dk_')).toBe(true);
    const decide = await fetch(`${h.url}/v1/decide`, { method: 'POST', headers: { authorization: basicAuth(decideKey.key), 'content-type': 'application/json' }, body: JSON.stringify({ anonymousId: 'd', slots: ['hero'] }) });
    expect(decide.status).toBe(200);
    expect((await fetch(`${h.url}/v1/track`, { method: 'POST', headers: { authorization: basicAuth(decideKey.key), 'content-type': 'application/json' }, body: JSON.stringify({ anonymousId: 'd', event: 'E' }) })).status).toBe(403);
  });

  it('records every admin change in the audit log, with who, before and after', async () => {
    const marketer = await newKey({ kind: 'secret', name: 'audited marketer', role: 'marketer' });
    const group = uid('ag').toLowerCase();
    const audience = uid('aa').toLowerCase();
    const condition = (v: number) => ({ have: { trait: 'traits.v', op: 'eq', value: v } });
    expect((await call(marketer.key, 'POST', '/v1/segment-groups', { id: group, name: 'G' })).status).toBe(201);
    expect((await call(marketer.key, 'POST', '/v1/audiences', { id: audience, groupId: group, name: 'A', condition: condition(1) })).status).toBe(201);
    expect((await call(marketer.key, 'PUT', `/v1/audiences/${audience}`, { groupId: group, name: 'A2', condition: condition(2), version: 1 })).status).toBe(200);
    const exp = uid('ae').toLowerCase();
    expect((await call(marketer.key, 'POST', '/v1/experiences', { id: exp, name: 'E', variants: [{ key: 'a', slots: { s: { content: 1 } } }] })).status).toBe(201);
    const hook = uid('ah').toLowerCase();
    expect((await call(marketer.key, 'POST', '/v1/activations', { id: hook, name: 'H', url: 'https://hooks.example.com/x' })).status).toBe(201);
    expect((await call(marketer.key, 'DELETE', `/v1/audiences/${audience}`)).status).toBe(204);
    const key = await newKey({ kind: 'write', name: 'audited write' });
    expect((await admin('DELETE', `/v1/keys/${key.id}`)).status).toBe(200);
    const consentUser = uid('consent');
    await h.track('/v1/identify', { userId: consentUser, traits: {} });
    const profileId = (await h.adminJson<{ id: string }>(`/v1/profiles?userId=${consentUser}`)).body.id;
    expect((await admin('PUT', `/v1/profiles/${profileId}/consent`, { purposes: { marketing: false } })).status).toBe(200);
    // A change that writes no document is recorded as a request, once the answer is sent.
    await until(
      async () => (await h.adminJson<{ entries: Array<{ kind: string; path: string }> }>('/v1/audit?kind=request&limit=1000')).body.entries,
      (entries) => entries.some((e) => e.path === `/v1/profiles/${profileId}/consent`),
    );

    const log = (await h.adminJson<{ entries: Array<{ kind: string; resourceId: string; action: string; actor: { keyId: string; role: string }; before: unknown; after: unknown }> }>('/v1/audit?limit=1000')).body.entries;
    const find = (k: string, id: string, action: string) => log.find((e) => e.kind === k && e.resourceId === id && e.action === action);
    expect(find('segment-group', group, 'create')?.actor).toMatchObject({ keyId: marketer.id, role: 'marketer' });
    const updated = find('audience', audience, 'update');
    expect(updated?.before).toMatchObject({ name: 'A', condition: condition(1) });
    expect(updated?.after).toMatchObject({ name: 'A2', condition: condition(2) });
    expect(find('audience', audience, 'create')).toBeDefined();
    expect(find('audience', audience, 'delete')?.after).toBeNull();
    expect(find('experience', exp, 'create')).toBeDefined();
    const activation = find('activation', hook, 'create');
    expect(activation).toBeDefined();
    expect(JSON.stringify(activation)).not.toMatch(/whsec_[A-Za-z0-9+/]{10}/);
    expect(find('api-key', key.id, 'create')).toBeDefined();
    expect(find('api-key', key.id, 'revoke')?.after).toMatchObject({ revokedAt: expect.any(String) });
    // Tracking is not an admin action.
    expect(log.some((e) => e.kind === 'request' && JSON.stringify(e).includes('/v1/identify'))).toBe(false);
    const filtered = (await h.adminJson<{ entries: Array<{ resourceId: string }> }>(`/v1/audit?resourceId=${audience}`)).body.entries;
    expect(filtered.length).toBe(3);
  });

  it('refuses a connector pointed at a forbidden address, and the upstream is never called', async () => {
    const id = uid('ssrf').toLowerCase();
    const config = (url: string) => ({
      connectors: [{ id: `${id}-c`, name: 'c', url, timeoutMs: 500, outputs: { amount: 'price.amount' }, fallback: { amount: 1 } }],
      tables: [{ id: `${id}-t`, name: 't', hitPolicy: 'first', inputs: [{ id: 'amount', source: `connectors.${id}-c.amount` }], rules: [{ when: { amount: { op: 'gt', value: 50 } }, then: { content: { text: 'live' } } }], default: { content: { text: 'fallback' } } }],
      models: [{ id: `${id}-m`, name: 'm', connectors: [`${id}-c`], tables: [`${id}-t`] }],
      experiences: [{ id, name: id, targeting: { pages: [`/${id}`] }, variants: [{ key: 'default', slots: { price: { model: `${id}-m` } } }] }],
    });
    for (const url of [`http://127.0.0.1:${upstream.port}/price`, 'http://169.254.169.254/latest/meta-data/']) {
      const applied = await admin('PUT', '/v1/config', config(url));
      expect(applied.status, await applied.clone().text()).toBe(200);
      const res = await admin('POST', '/v1/decide', { anonymousId: uid('v'), context: { path: `/${id}` }, slots: ['price'], explain: true });
      const body = (await res.json()) as { decisions: { price: { content: unknown; trace: Array<{ step: string; error?: { code: string } }> } } };
      expect(body.decisions.price.content).toEqual({ type: 'content', content: { text: 'fallback' } });
      expect(body.decisions.price.trace.find((t) => t.step === 'connector')?.error?.code).toBe('FORBIDDEN');
    }
    expect(upstream.hits()).toBe(0);
  });

  it('sends security headers on every response and CORS on the admin API only for configured origins', async () => {
    for (const res of [await fetch(`${h.url}/health`), await h.admin('/v1/audiences'), await fetch(`${h.url}/v1/nothing-here`)]) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    }
    const preflight = (origin: string) => fetch(`${h.url}/v1/audiences`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
    const good = await preflight('https://admin.example.com');
    expect(good.status).toBe(204);
    expect(good.headers.get('access-control-allow-origin')).toBe('https://admin.example.com');
    const bad = await preflight('https://evil.example.net');
    expect(bad.status).toBe(403);
    expect(bad.headers.get('access-control-allow-origin')).toBeNull();
    const cross = await fetch(`${h.url}/v1/audiences`, { headers: { origin: 'https://evil.example.net', authorization: bearerAuth('x') } });
    expect(cross.headers.get('access-control-allow-origin')).toBeNull();
    // Tracking stays open to every origin.
    const tracking = await fetch(`${h.url}/v1/track`, { method: 'OPTIONS', headers: { origin: 'https://any.example.org' } });
    expect(tracking.headers.get('access-control-allow-origin')).toBe('*');
  });
});
