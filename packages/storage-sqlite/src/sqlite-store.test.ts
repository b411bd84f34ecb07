import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newProfile } from '@attune/core';
import { runStoreConformance } from '@attune/test-utils';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from './schema.ts';
import { createSqliteStore } from './sqlite-store.ts';

let dir = '';
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'attune-sqlite-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

runStoreConformance('sqlite (file)', async () => {
  const filename = join(dir, `store-${++n}.db`);
  const store = createSqliteStore({ filename, synchronous: 'normal' });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(filename, { force: true });
      await rm(`${filename}-wal`, { force: true });
      await rm(`${filename}-shm`, { force: true });
    },
  };
});

runStoreConformance('sqlite (:memory:)', async () => {
  const store = createSqliteStore({ filename: ':memory:' });
  return { store, cleanup: () => store.close() };
});

describe('sqlite audit log migration', () => {
  it('moves audit entries kept as configuration documents into the audit table', async () => {
    const filename = join(dir, 'audit-migration.db');
    const before = MIGRATIONS.findIndex((m) => m.includes('CREATE TABLE audit_log'));
    const raw = new Database(filename);
    for (const m of MIGRATIONS.slice(0, before)) raw.exec(m);
    raw.pragma(`user_version = ${before}`);
    const entry = { id: '001764748800000-abc', at: '2025-12-03T08:00:00.000Z', actor: { keyId: 'k-1', keyName: 'admin', role: 'admin' }, method: 'PUT', path: '/v1/audiences/vip', action: 'update', kind: 'audience', resourceId: 'vip', before: { name: 'A' }, after: { name: 'B' } };
    raw.prepare('INSERT INTO config_documents (kind, id, body, version, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?)').run('audit', entry.id, JSON.stringify(entry), 1764748800000, 1764748800000);
    const personal = { ...entry, id: '001764748800001-def', kind: 'privacy-request', resourceId: 'er_1', before: { notice: { identities: [{ type: 'email', value: 'ada@example.com' }] } }, after: null };
    raw.prepare('INSERT INTO config_documents (kind, id, body, version, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?)').run('audit', personal.id, JSON.stringify(personal), 1764748800001, 1764748800001);
    raw.close();
    const store = createSqliteStore({ filename });
    await store.migrate();
    expect(await store.audit.list({ limit: 10 })).toEqual([{ id: personal.id, at: 1764748800001, kind: 'privacy-request', resourceId: 'er_1', keyId: 'k-1', body: { ...personal, before: null, after: null } }, { id: entry.id, at: 1764748800000, kind: 'audience', resourceId: 'vip', keyId: 'k-1', body: entry }]);
    expect(await store.docs.list('audit')).toEqual([]);
    await store.close();
  });
});

describe('sqlite membership queue', () => {
  const T = 1_764_748_800_000;
  async function open(name: string) {
    const filename = join(dir, name);
    const store = createSqliteStore({ filename });
    await store.migrate();
    const queued = () => {
      const raw = new Database(filename, { readonly: true });
      try {
        return (raw.prepare('SELECT count(*) AS n FROM membership_queue').get() as { n: number }).n;
      } finally {
        raw.close();
      }
    };
    return { store, queued };
  }

  it('folds entries and exits in commit order: the last change wins, a re-entry gets its new since', async () => {
    const { store, queued } = await open('queue-order.db');
    await store.transaction((tx) => tx.applyMemberships([{ audienceId: 'a', profileId: 'p1', since: T }, { audienceId: 'a', profileId: 'p2', since: T }]));
    await store.transaction((tx) => tx.applyMemberships([{ audienceId: 'a', profileId: 'p1', since: null }, { audienceId: 'b', profileId: 'p1', since: T + 1 }]));
    await store.transaction((tx) => tx.applyMemberships([{ audienceId: 'a', profileId: 'p1', since: T + 5 }, { audienceId: 'a', profileId: 'p2', since: T + 9 }]));
    // Queued, not yet in memberships: the read folds first.
    expect(queued()).toBe(6);
    expect(await store.memberships.members('a', { limit: 10 })).toEqual([
      { profileId: 'p1', since: T + 5 },
      // Entered twice without leaving: keeps the first entry, as a direct write did.
      { profileId: 'p2', since: T },
    ]);
    expect(queued()).toBe(0);
    expect(await store.memberships.count('b')).toBe(1);
    // Changes after a fold fold against the rows already there.
    await store.transaction((tx) => tx.applyMemberships([{ audienceId: 'a', profileId: 'p2', since: null }]));
    expect(await store.memberships.count('a')).toBe(1);
    await store.close();
  });

  it('drops the changes of a rolled-back transaction and folds inside the transaction that reaches the threshold', async () => {
    const { store, queued } = await open('queue-fold.db');
    await expect(
      store.transaction(async (tx) => {
        await tx.applyMemberships([{ audienceId: 'a', profileId: 'gone', since: T }]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const many = Array.from({ length: 5000 }, (_, i) => ({ audienceId: `aud-${i % 7}`, profileId: `p-${String(i).padStart(5, '0')}`, since: T + i }));
    await store.transaction((tx) => tx.applyMemberships(many));
    // 5,000 ≥ the fold threshold: folded before that commit, nothing left queued.
    expect(queued()).toBe(0);
    let total = 0;
    for (let a = 0; a < 7; a++) total += await store.memberships.count(`aud-${a}`);
    expect(total).toBe(5000);
    expect(await store.memberships.count('a')).toBe(0);
    await store.close();
  });

  it('an erasure folds first, so a queued entry does not bring the membership back', async () => {
    const { store } = await open('queue-erase.db');
    const profile = { ...newProfile('p-erase', T), audiences: { vip: T } };
    await store.transaction(async (tx) => {
      await tx.putProfiles([profile]);
      await tx.applyMemberships([{ audienceId: 'vip', profileId: 'p-erase', since: T }]);
    });
    const erased = await store.transaction((tx) => tx.eraseProfile('p-erase'));
    expect(erased.audiences).toEqual(['vip']);
    expect(await store.memberships.count('vip')).toBe(0);
    await store.close();
  });
});
