/**
 * The downstream-erasure protocol against a real Attune server process (the `attune start` CLI),
 * once on the embedded store and once on PostgreSQL, with the example Strapi app booted for real:
 * the plugin registers its activation on bootstrap, a users export puts a user in Attune, and an
 * erasure requested at Attune reaches the plugin, which deletes its copy and confirms.
 */
import { createTestPostgresDatabase } from '@attune/test-utils';
import { type CliProcess, eventually, freePort, killAll, postBatch, removeDir, SECRET_KEY, startCli, tempDataDir, WRITE_KEY, signWebhook, adminCall } from '@attune/test-utils/process';
import type { PrivacyRequest as Receipt } from '@attune/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERASURE_NOTICE_UID, OUTBOX_UID } from '../../server/src/content-types/index.ts';
import { USER_UID } from '../../server/src/services/schemas.ts';
import { type BootedStrapi, bootStrapi, invokeJob } from './harness.ts';

interface Profile {
  id: string;
  identities: Array<{ type: string; value: string }>;
}

const STORES = [
  {
    name: 'SQLite',
    async start() {
      const dir = tempDataDir();
      return { env: { ATTUNE_DATA_DIR: dir } as Record<string, string>, cleanup: async () => removeDir(dir) };
    },
  },
  {
    name: 'PostgreSQL',
    async start() {
      const db = await createTestPostgresDatabase();
      return { env: { DATABASE_URL: db.url } as Record<string, string>, cleanup: () => db.drop() };
    },
  },
];


describe.each(STORES)('erasure reaches Strapi (Attune on $name)', (store) => {
  let attune: CliProcess;
  let cleanup: () => Promise<void>;
  let app: BootedStrapi;
  let endpoint: string;
  let ada: { id: number; documentId: string };
  let profile: Profile;
  let receipt: Receipt;

  const admin = <T>(path: string, init: RequestInit = {}) => adminCall<T>(attune.url, path, init);
  const secret = async () => ((await app.strapi.store({ type: 'plugin', name: 'attune', key: 'erasure' }).get({})) as { secret: string } | null)?.secret as string;
  const signedPost = async (body: string, webhookId: string, key?: string) => {
    const ts = Math.floor(Date.now() / 1000);
    return fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json', 'webhook-id': webhookId, 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(key ?? (await secret()), webhookId, ts, body) }, body });
  };
  const outboxRowsOf = async (documentId: string) => (await app.strapi.db.query(OUTBOX_UID).findMany({ where: { target: USER_UID, entryId: documentId } })).length;
  const register = async (username: string, email: string) => {
    const res = await fetch(`${app.url}/api/auth/local/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, email, password: 'Secret-pass-1' }) });
    expect(res.status).toBe(200);
    return ((await res.json()) as { user: { id: number; documentId: string } }).user;
  };
  const erase = async (email: string) => {
    const requested = await admin<Receipt>('/v1/privacy/requests', { method: 'POST', body: JSON.stringify({ type: 'erasure', identifier: { type: 'email', value: email } }) });
    expect(requested.status).toBe(201);
    expect(requested.body.targets.map((t) => t.target).sort()).toEqual(['activation:strapi', 'store']);
    return eventually(async () => {
      const r = await admin<Receipt>(`/v1/privacy/requests/${requested.body.id}`);
      return r.body.status === 'completed' ? r.body : null;
    }, 30_000);
  };

  beforeAll(async () => {
    const s = await store.start();
    cleanup = s.cleanup;
    // Unconfirmed notices are sent again after 3 s (the last test needs one).
    attune = await startCli({ port: await freePort(), env: { ...s.env, ATTUNE_SECRET_KEY: SECRET_KEY, ATTUNE_WRITE_KEY: WRITE_KEY, ATTUNE_ERASURE_RESEND_MS: '3000', ATTUNE_WEBHOOK_HOSTS: '127.0.0.1' }, timeoutMs: 60_000 });
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}/api/attune/erasure`;
    app = await bootStrapi({
      engineUrl: attune.url,
      port,
      env: { ATTUNE_SECRET_KEY: SECRET_KEY, ATTUNE_WRITE_KEY: WRITE_KEY, ATTUNE_ERASURE_URL: endpoint, ATTUNE_ERASURE_CONFIRM_DELAY_MS: '100' },
    });
  }, 300_000);

  afterAll(async () => {
    await app?.stop();
    await attune?.stop();
    killAll();
    await cleanup?.();
  });

  it('registers its activation at Attune on bootstrap, once, keeping the secret', async () => {
    const activation = await eventually(async () => {
      const r = await admin<{ url: string; erasureConfirmation: string; topics: string[] }>('/v1/activations/strapi');
      return r.status === 200 ? r.body : null;
    });
    expect(activation).toMatchObject({ url: endpoint, erasureConfirmation: 'callback', topics: ['profile.erased'] });
    // The plugin keeps the secret once Attune's answer is back, a moment after Attune stored the activation.
    expect(await eventually(secret)).toMatch(/^whsec_/);
    // Again (the next start): nothing changes, the secret stays.
    const before = await secret();
    expect(await app.strapi.plugin('attune').service('erasure').register()).toEqual({ status: 'unchanged' });
    expect(await secret()).toBe(before);
  });

  it('a user exported to Attune, with events, and a change of theirs waiting in the outbox', async () => {
    ada = await register('Ada Lovelace', 'ada@example.com');
    await invokeJob(app.strapi, 'attune-export-users');
    expect((await postBatch(attune.url, WRITE_KEY, [{ type: 'track', userId: ada.documentId, event: 'Article Viewed', properties: { slug: 'hello' } }])).status).toBe(200);
    profile = await eventually(async () => {
      const r = await admin<Profile>('/v1/profiles?email=ada@example.com');
      return r.status === 200 ? r.body : null;
    });
    expect(profile.identities.map((i) => `${i.type}:${i.value}`)).toEqual(expect.arrayContaining([`userId:${ada.documentId}`, 'email:ada@example.com']));
    // Changed after the export: the next users run would send it.
    await app.strapi.db.query(USER_UID).update({ where: { id: ada.id }, data: { username: 'Ada King' } });
    expect(await outboxRowsOf(ada.documentId)).toBeGreaterThan(0);
  });

  it('a notice with a bad signature is refused with 401 and deletes nothing', async () => {
    const rows = await outboxRowsOf(ada.documentId);
    const body = JSON.stringify({ type: 'profile.erased', timestamp: new Date().toISOString(), data: { id: 'forged', requestId: 'er_forged', profileId: profile.id, profileIds: [profile.id], identities: profile.identities, at: new Date().toISOString() } });
    const res = await signedPost(body, 'forged-1', `whsec_${Buffer.from('not the secret, 32 bytes long!!').toString('base64')}`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('signature does not match');
    expect(await outboxRowsOf(ada.documentId)).toBe(rows);
    expect(await app.strapi.db.query(ERASURE_NOTICE_UID).count({})).toBe(0);
  });

  it('an erasure by email empties Attune and the plugin of the person; the account stays; the receipt shows both confirmed', async () => {
    receipt = await erase('ada@example.com');
    const byTarget = Object.fromEntries(receipt.targets.map((t) => [t.target, t]));
    expect(byTarget.store?.status).toBe('confirmed');
    expect(byTarget.store?.details?.events).toBeGreaterThan(0);
    expect(byTarget['activation:strapi']).toMatchObject({ status: 'confirmed', details: { users: 1, usersDeleted: 0, outboxEntries: expect.any(Number) } });
    expect(byTarget['activation:strapi']?.details?.outboxEntries).toBeGreaterThan(0);

    expect((await admin('/v1/profiles?email=ada@example.com')).status).toBe(404);
    expect((await admin(`/v1/profiles?userId=${ada.documentId}`)).status).toBe(404);
    expect((await admin(`/v1/profiles/${profile.id}/events`)).status).toBe(404);
    expect(await outboxRowsOf(ada.documentId)).toBe(0);
    // erasure.deleteUsers is off: the sign-in account is the app's own record.
    expect(await app.strapi.db.query(USER_UID).findOne({ where: { id: ada.id } })).toMatchObject({ email: 'ada@example.com' });
    // The plugin records the confirmation once Attune's answer is back, a moment after the receipt completed.
    const notices = await eventually(async () => {
      const rows = (await app.strapi.db.query(ERASURE_NOTICE_UID).findMany({})) as { requestId: string; confirmedAt: string | null }[];
      return rows.every((n) => n.confirmedAt !== null) ? rows : null;
    });
    expect(notices.map((n) => ({ requestId: n.requestId, confirmed: n.confirmedAt !== null }))).toEqual([{ requestId: receipt.id, confirmed: true }]);
  });

  it('a resent notice (same data, a new webhook-id) is harmless, and a redelivery of it is answered without a second run', async () => {
    const data = { id: `erased:${profile.id}:resend`, requestId: receipt.id, profileId: profile.id, profileIds: [profile.id], identities: profile.identities, at: new Date().toISOString(), resendTo: 'strapi' };
    const body = JSON.stringify({ type: 'profile.erased', timestamp: new Date().toISOString(), data });
    const first = await signedPost(body, `strapi:${data.id}`);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ status: 'erased', details: { users: 1, usersDeleted: 0, outboxEntries: 0 } });
    expect(await (await signedPost(body, `strapi:${data.id}`)).json()).toMatchObject({ status: 'duplicate' });
    await eventually(async () => {
      const rows = (await app.strapi.db.query(ERASURE_NOTICE_UID).findMany({})) as { confirmedAt: string | null }[];
      return rows.length === 2 && rows.every((r) => r.confirmedAt !== null);
    });
    expect((await admin<Receipt>(`/v1/privacy/requests/${receipt.id}`)).body.status).toBe('completed');
  });

  it('a notice whose confirmation failed is sent again by Attune, and the receipt completes when that one is confirmed', async () => {
    const lin = await register('Lin Chen', 'lin@example.com');
    await invokeJob(app.strapi, 'attune-export-users');
    await eventually(async () => (await admin('/v1/profiles?email=lin@example.com')).status === 200);
    // A key that may read but not confirm: the first confirmation is refused (403).
    const analyst = await admin<{ key: string }>('/v1/keys', { method: 'POST', body: JSON.stringify({ kind: 'secret', name: 'analyst', role: 'analyst' }) });
    const settings = app.strapi.plugin('attune').service('settings');
    await settings.update({ secretKey: analyst.body.key });
    // The plugin logs a refused confirmation: the key is restored only after that, so the first
    // confirmation cannot run late with the good key (a race on a loaded machine).
    const errors: string[] = [];
    const logError = app.strapi.log.error.bind(app.strapi.log);
    app.strapi.log.error = ((message: unknown, ...rest: unknown[]) => {
      errors.push(String(message));
      return logError(message as string, ...(rest as []));
    }) as typeof app.strapi.log.error;
    const requested = await admin<Receipt>('/v1/privacy/requests', { method: 'POST', body: JSON.stringify({ type: 'erasure', identifier: { type: 'email', value: 'lin@example.com' } }) });
    const owed = await eventually(async () => {
      const rows = (await app.strapi.db.query(ERASURE_NOTICE_UID).findMany({ where: { requestId: requested.body.id } })) as { confirmedAt: string | null }[];
      const r = await admin<Receipt>(`/v1/privacy/requests/${requested.body.id}`);
      const target = r.body.targets.find((t) => t.target === 'activation:strapi');
      return rows.length === 1 && target?.status === 'delivered' ? rows : null;
    });
    expect(owed[0]?.confirmedAt).toBeNull();
    await eventually(async () => errors.some((e) => e.includes('Attune will resend the notice') && e.includes(requested.body.id)));
    app.strapi.log.error = logError;
    await settings.update({ secretKey: SECRET_KEY });

    // Completed by the resend's confirmation; the worker's report of that delivery may land a moment after it.
    const completed = await eventually(async () => {
      const r = await admin<Receipt>(`/v1/privacy/requests/${requested.body.id}`);
      const t = r.body.targets.find((x) => x.target === 'activation:strapi');
      return r.body.status === 'completed' && (t?.attempts ?? 0) >= 2 ? r.body : null;
    }, 30_000);
    const target = completed.targets.find((t) => t.target === 'activation:strapi');
    expect(target).toMatchObject({ status: 'confirmed', details: { users: 1, outboxEntries: 0 } });
    expect(target?.attempts).toBeGreaterThanOrEqual(2);
    // The first notice and Attune's resend (its own webhook-id), all settled by the one confirmation.
    const rows = await eventually(async () => {
      const r = (await app.strapi.db.query(ERASURE_NOTICE_UID).findMany({ where: { requestId: requested.body.id } })) as { webhookId: string; confirmedAt: string | null }[];
      return r.every((n) => n.confirmedAt !== null) ? r : null;
    });
    expect(new Set(rows.map((r) => r.webhookId)).size).toBeGreaterThanOrEqual(2);
    expect(await outboxRowsOf(lin.documentId)).toBe(0);
  });

  it('with erasure.deleteUsers the account goes too, with every outbox row about it', async () => {
    const grace = await register('Grace Hopper', 'grace@example.com');
    await invokeJob(app.strapi, 'attune-export-users');
    await eventually(async () => (await admin('/v1/profiles?email=grace@example.com')).status === 200);
    app.strapi.config.set('plugin::attune.erasure.deleteUsers', true);
    try {
      const r = await erase('grace@example.com');
      expect(r.targets.find((t) => t.target === 'activation:strapi')).toMatchObject({ status: 'confirmed', details: { users: 1, usersDeleted: 1 } });
    } finally {
      app.strapi.config.set('plugin::attune.erasure.deleteUsers', false);
    }
    expect(await app.strapi.db.query(USER_UID).findOne({ where: { id: grace.id } })).toBeNull();
    expect(await outboxRowsOf(grace.documentId)).toBe(0);
    expect((await admin('/v1/profiles?email=grace@example.com')).status).toBe(404);
  });
});
