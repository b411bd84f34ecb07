import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStoreConformance } from '@attune/test-utils';
import { afterAll, beforeAll } from 'vitest';
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
