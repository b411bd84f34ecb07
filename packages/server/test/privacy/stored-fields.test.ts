import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FieldPoliciesInput, silentLogger } from '@attune/core';
import { createTestPostgresDatabase, postgresTablesText, type TestPostgresDatabase } from '@attune/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartServerOptions, startServer } from '../../src/index.ts';
import { startReceiver, until } from '../activations/receiver.ts';
import { type Harness, STORE_KINDS, startHarness, uid } from '../http/harness.ts';

const K1 = randomBytes(32).toString('base64');
const K2 = randomBytes(32).toString('base64');
const FIELDS: FieldPoliciesInput = {
  'traits.email': { policy: 'encrypt', purposes: ['marketing'] },
  'traits.phone': { policy: 'hash' },
  'properties.address': { policy: 'encrypt' },
};

describe.each(STORE_KINDS)('traits and properties stored encrypted or hashed on %s', (kind) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'attune-fields-'));
  let database: TestPostgresDatabase | undefined;
  let h: Harness;
  let ads: Awaited<ReturnType<typeof startReceiver>>;
  let bi: Awaited<ReturnType<typeof startReceiver>>;
  const where = (): Partial<StartServerOptions> => (database ? { databaseUrl: database.url } : { dataDir });
  const start = (encryptionKey: string | undefined) =>
    startHarness(kind, { ...where(), activationPollMs: 50, privacy: { hashKey: 'test-hash-key', fields: FIELDS, ...(encryptionKey === undefined ? {} : { encryptionKey }) } });

  /** Everything the database holds, as text: the SQLite files' bytes, or every PostgreSQL row. */
  async function storedText(): Promise<string> {
    if (database) return [...(await postgresTablesText(database.url)).values()].join('\n');
    return ['attune.db', 'attune.db-wal']
      .map((f) => join(dataDir, f))
      .filter((f) => existsSync(f))
      .map((f) => readFileSync(f).toString('latin1'))
      .join('\n');
  }

  beforeAll(async () => {
    if (kind === 'postgres') database = await createTestPostgresDatabase();
    h = await start(`k1:${K1}`);
    ads = await startReceiver();
    bi = await startReceiver();
  });
  afterAll(async () => {
    await h?.close();
    await ads.close();
    await bi.close();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const send = (method: string, path: string, body?: unknown) =>
    h.admin(path, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

  it('never stores the clear value, decrypts it for a listed purpose and the access export only, and survives a key rotation', async () => {
    const group = uid('g').toLowerCase();
    const audience = uid('vip').toLowerCase();
    expect((await send('POST', '/v1/segment-groups', { id: group, name: 'G' })).status).toBe(201);
    expect((await send('POST', '/v1/audiences', { id: audience, groupId: group, name: 'VIP', condition: { have: { trait: 'traits.vip', op: 'eq', value: true } } })).status).toBe(201);
    expect((await send('POST', '/v1/activations', { id: uid('ads').toLowerCase(), name: 'Ads', url: ads.url, audienceIds: [audience], traits: ['email', 'phone', 'vip'] })).status).toBe(201);
    expect((await send('POST', '/v1/activations', { id: uid('bi').toLowerCase(), name: 'BI', url: bi.url, audienceIds: [audience], purpose: 'analytics', traits: ['email', 'vip'] })).status).toBe(201);

    const userId = uid('u');
    const email = `${userId.toLowerCase()}@secret-mail.example`;
    const phone = '+15557654321';
    const address = `${userId} Hidden Lane 7`;
    expect((await h.track('/v1/identify', { userId, traits: { email, phone, vip: true } })).status).toBe(200);
    expect((await h.track('/v1/track', { userId, event: 'Order Completed', properties: { order_id: uid('o'), total: 5, address }, context: { traits: { email } } })).status).toBe(200);

    // Destinations: the marketing one gets the email decrypted, the analytics one never gets it.
    const [toAds] = await until(() => ads.unique().filter((d) => d.json.data.audienceId === audience), (d) => d.length === 1);
    const [toBi] = await until(() => bi.unique().filter((d) => d.json.data.audienceId === audience), (d) => d.length === 1);
    const adsTraits = toAds?.json.data.traits as Record<string, unknown>;
    expect(adsTraits.email).toBe(email);
    expect(adsTraits.vip).toBe(true);
    expect(adsTraits.phone).toMatch(/^[0-9a-f]{64}$/);
    expect(toBi?.json.data.traits).toEqual({ vip: true });
    expect(toBi?.body).not.toContain(email);

    // The API shows what is stored: ciphertext and a keyed hash.
    const profile = (await h.adminJson<{ id: string; traits: Record<string, string> }>(`/v1/profiles?userId=${userId}`)).body;
    expect(profile.traits.email).toMatch(/^enc:v1:k1:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+$/);
    expect(profile.traits.phone).toBe(adsTraits.phone);
    // Encrypted, the email still finds the person: by its blind index.
    expect((await h.adminJson<{ id: string }>(`/v1/profiles?email=${encodeURIComponent(email.toUpperCase())}`)).body.id).toBe(profile.id);

    // The data subject's access export decrypts; what it keeps in the store does not.
    const opened = await send('POST', '/v1/privacy/requests', { type: 'access', identifier: { type: 'userId', value: userId } });
    expect(opened.status).toBe(202);
    const requestId = ((await opened.json()) as { id: string }).id;
    await until(async () => (await h.adminJson<{ status: string }>(`/v1/privacy/requests/${requestId}`)).body.status, (s) => s === 'completed');
    const exported = (await (await h.admin(`/v1/privacy/requests/${requestId}/export`)).json()) as {
      profile: { traits: Record<string, unknown> };
      events: Array<{ name: string; message: { properties?: Record<string, unknown>; context?: { traits?: Record<string, unknown> } } }>;
    };
    expect(exported.profile.traits).toMatchObject({ email, phone: adsTraits.phone, vip: true });
    const order = exported.events.find((e) => e.name === 'Order Completed');
    expect(order?.message.properties?.address).toBe(address);
    expect(order?.message.context?.traits?.email).toBe(email);
    const csv = await (await h.admin(`/v1/privacy/requests/${requestId}/export?format=csv`)).text();
    expect(csv).toContain(address);

    await h.server.engine.drain();
    const stored = await storedText();
    expect(stored).toContain(userId);
    for (const clear of [email, address, phone, phone.slice(1)]) expect(stored.includes(clear), clear).toBe(false);

    // Rotation: a new key first, the old one kept to read what it wrote.
    await h.close();
    h = await start(`k2:${K2},k1:${K1}`);
    expect((await h.track('/v1/identify', { userId, traits: { email: `new-${email}` } })).status).toBe(200);
    const rotated = (await h.adminJson<{ traits: Record<string, string> }>(`/v1/profiles?userId=${userId}`)).body;
    expect(rotated.traits.email).toMatch(/^enc:v1:k2:/);
    const again = ((await (await send('POST', '/v1/privacy/requests', { type: 'access', identifier: { type: 'userId', value: userId } })).json()) as { id: string }).id;
    await until(async () => (await h.adminJson<{ status: string }>(`/v1/privacy/requests/${again}`)).body.status, (s) => s === 'completed');
    const text = await (await h.admin(`/v1/privacy/requests/${again}/export`)).text();
    expect(text).toContain(`new-${email}`);
    expect(text).toContain(address);
    expect(text).not.toContain('enc:v1:');
  });

  it('links devices by an encrypted email, finds the person by it, erases and then refuses them by it, and stores it nowhere in clear', async () => {
    const person = uid('ada');
    const email = `${person.toLowerCase()}@linked-mail.example`;
    const [phone, laptop, later] = [uid('phone'), uid('laptop'), uid('later')];
    const sent = (res: Response) => res.json() as Promise<{ accepted: number; dropped: number }>;
    expect((await h.track('/v1/track', { anonymousId: phone, event: 'Product Viewed', properties: { product_id: 'p-1' } })).status).toBe(200);
    expect((await h.track('/v1/identify', { anonymousId: phone, traits: { email: `  ${email.toUpperCase()}`, phone: '+1 555 765 4000' } })).status).toBe(200);
    expect((await h.track('/v1/track', { anonymousId: laptop, event: 'Product Viewed', properties: { product_id: 'p-2' } })).status).toBe(200);
    expect((await h.track('/v1/identify', { anonymousId: laptop, traits: { email } })).status).toBe(200);

    const found = await h.adminJson<{ id: string; computed: { eventCounts: Record<string, number> }; identities: Array<{ type: string; value: string; blind?: true }> }>(
      `/v1/profiles?email=${encodeURIComponent(email)}`,
    );
    expect(found.status).toBe(200);
    const profile = found.body;
    expect(profile.identities.filter((i) => i.type === 'anonymousId').map((i) => i.value).sort()).toEqual([phone, laptop].sort());
    expect(profile.computed.eventCounts['Product Viewed']).toBe(2);
    const events = (await h.adminJson<{ events: Array<{ name: string; message: { properties?: { product_id?: string } } }> }>(`/v1/profiles/${profile.id}/events`)).body.events;
    expect(events.filter((e) => e.name === 'Product Viewed').map((e) => e.message.properties?.product_id).sort()).toEqual(['p-1', 'p-2']);
    // The listing shows what the identities table holds: the blind index, marked, never the email.
    expect(profile.identities.filter((i) => i.type === 'email' || i.type === 'phone').sort((a, b) => a.type.localeCompare(b.type))).toEqual([
      { type: 'email', value: expect.stringMatching(/^h:[0-9a-f]{64}$/), firstSeen: expect.any(String), blind: true },
      { type: 'phone', value: expect.stringMatching(/^h:[0-9a-f]{64}$/), firstSeen: expect.any(String), blind: true },
    ]);
    expect((await h.adminJson<{ id: string }>('/v1/profiles?phone=%2B15557654000')).body.id).toBe(profile.id);

    await h.server.engine.drain();
    const stored = await storedText();
    expect(stored).toContain(laptop);
    for (const clear of [email, email.toUpperCase(), '15557654000']) expect(stored.includes(clear), clear).toBe(false);

    const erasure = await send('POST', '/v1/privacy/requests', { type: 'erasure', identifier: { type: 'email', value: email.toUpperCase() } });
    expect(erasure.status).toBe(201);
    expect(await erasure.json()).toMatchObject({ type: 'erasure', profileIds: expect.arrayContaining([profile.id]), targets: expect.arrayContaining([expect.objectContaining({ target: 'store', status: 'confirmed' })]) });
    expect((await h.adminJson(`/v1/profiles?email=${encodeURIComponent(email)}`)).status).toBe(404);
    expect((await h.adminJson(`/v1/profiles?anonymousId=${phone}`)).status).toBe(404);
    // Suppressed: a new device naming the erased email is refused, and no profile appears for it.
    expect(await sent(await h.track('/v1/identify', { anonymousId: later, traits: { email: ` ${email}` } }))).toMatchObject({ accepted: 0, dropped: 1 });
    expect((await h.adminJson(`/v1/profiles?anonymousId=${later}`)).status).toBe(404);
    expect((await h.adminJson(`/v1/profiles?email=${encodeURIComponent(email)}`)).status).toBe(404);
    await h.server.engine.drain();
    const after = await storedText();
    for (const clear of [email, email.toUpperCase()]) expect(after.includes(clear), clear).toBe(false);
  });

  it('refuses to start without a key, with a malformed one, or with a different key under a used key id', async () => {
    const attempt = (encryptionKey: string | undefined, hashKey?: string) =>
      startServer({ port: 0, host: '127.0.0.1', ...where(), logger: silentLogger, privacy: { fields: FIELDS, ...(encryptionKey === undefined ? {} : { encryptionKey }), ...(hashKey === undefined ? {} : { hashKey }) } }).then(
        async (s) => {
          await s.close();
          return null;
        },
        (e: unknown) => e as Error,
      );
    expect(process.env.ATTUNE_ENCRYPTION_KEY).toBeUndefined();
    expect((await attempt(undefined))?.message).toMatch(/privacy\.fields\.traits\.email: encrypt needs an encryption key \(ATTUNE_ENCRYPTION_KEY/);
    expect((await attempt(randomBytes(16).toString('base64')))?.message).toMatch(/ATTUNE_ENCRYPTION_KEY: key 1 is 16 bytes; AES-256 needs 32/);
    expect((await attempt('not base64!'))?.message).toMatch(/ATTUNE_ENCRYPTION_KEY: key 1 is not base64/);
    expect((await attempt(`k1:${K2}`))?.message).toMatch(/key id "k1" does not decrypt .* not the key the data was written with/);
    // Protected identifiers are matched by their HMAC: the well-known default hash key will not do.
    expect(process.env.ATTUNE_HASH_KEY).toBeUndefined();
    expect((await attempt(`k2:${K2},k1:${K1}`))?.message).toMatch(/^ATTUNE_HASH_KEY is not set: privacy\.fields protects the identifiers email, phone, kept as a keyed hash/);
    // The right keys still start.
    expect(await attempt(`k2:${K2},k1:${K1}`, 'test-hash-key')).toBeNull();
  });
});
