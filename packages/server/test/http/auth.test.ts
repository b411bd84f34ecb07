import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey, hashKey } from '../../src/index.ts';
import { basicAuth, bearerAuth, expectError, type Harness, SECRET_KEY, STORE_KINDS, startHarness, uid, WRITE_KEY } from './harness.ts';

interface KeyView {
  id: string;
  kind: 'write' | 'secret';
  name: string;
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
  key?: string;
}

describe('key helpers', () => {
  it('generates wk_/sk_ keys of 32 random bytes in base64url', () => {
    const w = generateKey('write');
    const s = generateKey('secret');
    expect(w).toMatch(/^wk_[A-Za-z0-9_-]{43}$/);
    expect(s).toMatch(/^sk_[A-Za-z0-9_-]{43}$/);
    expect(generateKey('write')).not.toBe(w);
  });

  it('hashes keys with SHA-256, hex', () => {
    expect(hashKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe.each(STORE_KINDS)('authentication and keys on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind);
  });
  afterAll(() => h.close());

  const event = () => JSON.stringify({ anonymousId: uid('auth'), event: 'X' });
  const trackWith = (authorization?: string) =>
    fetch(`${h.url}/v1/track`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: event(),
    });
  const adminWith = (authorization?: string, path = '/v1/keys') =>
    fetch(h.url + path, { headers: authorization ? { authorization } : {} });

  it('refuses tracking without a key (401 with a Basic challenge)', async () => {
    const res = await trackWith();
    const body = await expectError(res, 401, 'UNAUTHENTICATED');
    expect(body.error.message).toContain('write key');
    expect(res.headers.get('www-authenticate')).toContain('Basic');
  });

  it('refuses tracking with an unknown key, a malformed header and an unknown writeKey in the body', async () => {
    await expectError(await trackWith(basicAuth('wk_not_a_real_key')), 401, 'UNAUTHENTICATED');
    await expectError(await trackWith('Basic'), 401, 'UNAUTHENTICATED');
    await expectError(await trackWith('Digest abc'), 401, 'UNAUTHENTICATED');
    await expectError(await trackWith(basicAuth('')), 401, 'UNAUTHENTICATED');
    const res = await fetch(`${h.url}/v1/track`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ writeKey: 'wk_wrong', anonymousId: 'a', event: 'X' }),
    });
    await expectError(res, 401, 'UNAUTHENTICATED');
  });

  it('accepts the key as the Basic password and as a Bearer token too', async () => {
    expect((await trackWith(`Basic ${Buffer.from(`:${WRITE_KEY}`).toString('base64')}`)).status).toBe(200);
    expect((await trackWith(bearerAuth(WRITE_KEY))).status).toBe(200);
  });

  it('refuses the admin API without a key or with an unknown key (401 with a Bearer challenge)', async () => {
    const res = await adminWith();
    await expectError(res, 401, 'UNAUTHENTICATED');
    expect(res.headers.get('www-authenticate')).toContain('Bearer');
    await expectError(await adminWith(bearerAuth('sk_unknown')), 401, 'UNAUTHENTICATED');
  });

  it('refuses a write key on every admin endpoint with 403', async () => {
    for (const path of ['/v1/keys', '/v1/profiles?userId=x', '/v1/profiles/some-id', '/v1/profiles/some-id/events']) {
      const body = await expectError(await adminWith(bearerAuth(WRITE_KEY), path), 403, 'FORBIDDEN');
      expect(body.error.message).toContain('secret');
    }
    const post = await fetch(`${h.url}/v1/profiles/records`, {
      method: 'POST',
      headers: { authorization: basicAuth(WRITE_KEY), 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'x' }),
    });
    await expectError(post, 403, 'FORBIDDEN');
  });

  it('accepts the secret key on the admin API', async () => {
    const res = await adminWith(bearerAuth(SECRET_KEY));
    expect(res.status).toBe(200);
  });

  it('creates, lists and revokes keys; a key is shown once and a revoked key is refused at once', async () => {
    const created = await h.admin('/v1/keys', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'write', name: 'storefront' }),
    });
    expect(created.status).toBe(201);
    const key = (await created.json()) as KeyView;
    expect(key).toMatchObject({ kind: 'write', name: 'storefront', revokedAt: null });
    expect(key.key).toMatch(/^wk_/);
    expect(key.prefix).toBe(key.key?.slice(0, 8));

    expect((await trackWith(basicAuth(key.key as string))).status).toBe(200);

    const list = await h.adminJson<{ keys: KeyView[] }>('/v1/keys');
    const listed = list.body.keys.find((k) => k.id === key.id);
    expect(listed).toMatchObject({ kind: 'write', name: 'storefront', prefix: key.prefix });
    const text = JSON.stringify(list.body);
    expect(text).not.toContain(key.key);
    expect(text).not.toContain(SECRET_KEY);
    expect(text).not.toContain(WRITE_KEY);
    expect(text).not.toContain(hashKey(key.key as string));
    // Never the hash or the key; secret keys show their role.
    for (const k of list.body.keys as Array<{ kind: string }>) {
      expect(Object.keys(k).sort()).toEqual(['createdAt', 'id', 'kind', 'name', 'prefix', 'revokedAt', ...(k.kind === 'secret' ? ['role'] : [])].sort());
    }

    const revoked = await h.admin(`/v1/keys/${key.id}`, { method: 'DELETE' });
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as KeyView).revokedAt).not.toBeNull();
    const refused = await expectError(await trackWith(basicAuth(key.key as string)), 401, 'UNAUTHENTICATED');
    expect(refused.error.message).toContain('revoked');
    // Revoking again is harmless.
    expect((await h.admin(`/v1/keys/${key.id}`, { method: 'DELETE' })).status).toBe(200);
  });

  it('creates a secret key that opens the admin API until it is revoked', async () => {
    const created = await h.admin('/v1/keys', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'secret', name: 'ops' }),
    });
    const key = (await created.json()) as KeyView;
    expect(key.key).toMatch(/^sk_/);
    expect((await adminWith(bearerAuth(key.key as string))).status).toBe(200);
    expect((await h.admin(`/v1/keys/${key.id}`, { method: 'DELETE' })).status).toBe(200);
    await expectError(await adminWith(bearerAuth(key.key as string)), 401, 'UNAUTHENTICATED');
  });

  it('refuses to revoke the last active secret key (409)', async () => {
    const { body } = await h.adminJson<{ keys: KeyView[] }>('/v1/keys');
    const secrets = body.keys.filter((k) => k.kind === 'secret' && k.revokedAt === null);
    expect(secrets).toHaveLength(1);
    await expectError(await h.admin(`/v1/keys/${secrets[0]?.id}`, { method: 'DELETE' }), 409, 'CONFLICT');
    expect((await adminWith(bearerAuth(SECRET_KEY))).status).toBe(200);
  });

  it('validates key creation and answers 404 for an unknown key id', async () => {
    const bad = await h.admin('/v1/keys', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'admin', name: '' }),
    });
    const body = await expectError(bad, 400, 'VALIDATION');
    expect(body.error.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['kind', 'name']));
    await expectError(await h.admin('/v1/keys/nope', { method: 'DELETE' }), 404, 'NOT_FOUND');
  });
});
