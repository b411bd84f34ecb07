import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckpointer } from './checkpointer.ts';
import { createSqliteStore } from './sqlite-store.ts';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'attune-checkpoint-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await sleep(10);
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

describe('background checkpoint', () => {
  it('copies the WAL into the file from a worker thread while the writer never yields', async () => {
    const filename = join(dir, 'raw.db');
    const db = new Database(filename);
    db.pragma('journal_mode = WAL');
    // No checkpoint at commit: only the worker can move pages into the file.
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    const before = statSync(filename).size;
    const checkpointer = createCheckpointer({ filename, thresholdBytes: 64 * 1024, every: 1 });
    const insert = db.prepare('INSERT INTO t (body) VALUES (?)');
    // A synchronous loop: the main thread's event loop never turns, as in a run of awaited
    // transactions; the worker still sees each request and the writer sees each finish.
    for (let i = 0; i < 400; i++) {
      db.transaction(() => {
        for (let j = 0; j < 10; j++) insert.run('x'.repeat(500));
      })();
      checkpointer.committed();
    }
    await until(() => checkpointer.stats.runs > 0, 'a checkpoint');
    expect(checkpointer.stats.lastError).toBeNull();
    await checkpointer.close();
    // 4,000 rows of 500 bytes: the file itself now holds most of them.
    expect(statSync(filename).size - before).toBeGreaterThan(1_000_000);
    expect((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n).toBe(4000);
    db.close();
  });

  it('does not start a worker for a WAL under the threshold, and close() is then immediate', async () => {
    const filename = join(dir, 'small.db');
    const db = new Database(filename);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    const checkpointer = createCheckpointer({ filename, thresholdBytes: 8 * 1024 * 1024, every: 1 });
    for (let i = 0; i < 20; i++) {
      db.prepare('INSERT INTO t DEFAULT VALUES').run();
      checkpointer.committed();
    }
    await checkpointer.close();
    expect(checkpointer.stats.runs).toBe(0);
    db.close();
  });

  it('keeps the store consistent across reopen with checkpoints running under writes', async () => {
    const filename = join(dir, 'store.db');
    const store = createSqliteStore({ filename, backgroundCheckpoint: 32 * 1024 });
    await store.migrate();
    for (let i = 0; i < 200; i++) {
      // Document writes inside store transactions: each commit may wake the worker.
      await store.transaction(async () => {
        await store.docs.put('note', `n-${i}`, { text: 'y'.repeat(2000), i }, 0, 1_764_748_800_000 + i);
      });
    }
    await store.close();
    const reopened = createSqliteStore({ filename });
    await reopened.migrate();
    const notes = await reopened.docs.list('note');
    expect(notes).toHaveLength(200);
    await reopened.close();
  });
});

describe('background checkpoint in a short-lived process', () => {
  it('close() settles before the process would exit: a script that closes the store runs to its end', async () => {
    const { spawnSync } = await import('node:child_process');
    const filename = join(dir, 'script.db');
    const script = `
      import Database from 'better-sqlite3';
      import { createCheckpointer } from './src/checkpointer.ts';
      const db = new Database(${JSON.stringify(filename)});
      db.pragma('journal_mode = WAL');
      db.pragma('wal_autocheckpoint = 0');
      db.exec('CREATE TABLE t (body TEXT)');
      const checkpointer = createCheckpointer({ filename: ${JSON.stringify(filename)}, thresholdBytes: 16 * 1024, every: 1 });
      for (let i = 0; i < 50; i++) {
        db.prepare('INSERT INTO t VALUES (?)').run('z'.repeat(1000));
        checkpointer.committed();
      }
      // The worker has run and now waits for the next request, as after a busy period.
      for (let i = 0; i < 1000 && checkpointer.stats.runs === 0; i++) await new Promise((r) => setTimeout(r, 5));
      await checkpointer.close();
      db.close();
      console.log('closed');
    `;
    const run = spawnSync(process.execPath, ['--conditions=@attune/source', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: join(import.meta.dirname, '..'),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('closed');
    expect(run.status).toBe(0);
  });
});
