import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
