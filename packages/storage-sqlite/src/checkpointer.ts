import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Copies the WAL back into the database file from a worker thread, so the thread that commits
 * never does it. SQLite's automatic checkpoint runs inside the commit that crosses the
 * threshold: that commit (and every request waiting behind it) stalls for tens of
 * milliseconds while thousands of pages are copied and the file is fsynced.
 *
 * The worker has its own connection and runs PASSIVE checkpoints, which never block the
 * writer: frames committed meanwhile are copied by the next run. The main connection keeps a
 * higher automatic threshold as a backstop (a worker that died or a reader that pins the WAL),
 * and its checkpoint then has little left to copy.
 */
export interface Checkpointer {
  /** Called after each commit: cheap; now and then looks at the WAL's size and wakes the worker. */
  committed(): void;
  /** Finishes a checkpoint in progress, then stops the worker. */
  close(): Promise<void>;
  /** Checkpoints the worker completed, and the last failure (for tests and diagnostics). */
  readonly stats: { runs: number; lastError: string | null };
}

export interface CheckpointerOptions {
  filename: string;
  /** WAL size that wakes the worker, in bytes. */
  thresholdBytes: number;
  /** Commits between two looks at the WAL's size. */
  every?: number;
}

/** Slots of the shared state (Int32): requested and finished runs, completed runs, stop. */
const REQUESTED = 0;
const FINISHED = 1;
const RUNS = 2;
const STOP = 3;

/**
 * Plain CommonJS evaluated in the worker (no build step, no TypeScript loader needed there).
 * The two threads talk through shared memory, not messages: the committing thread may not
 * return to its event loop for a long time (a sequence of awaited transactions runs on
 * microtasks), and it must still see at once that a checkpoint finished.
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const state = new Int32Array(workerData.state);
const db = new Database(workerData.filename, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
let seen = 0;
for (;;) {
  Atomics.wait(state, ${REQUESTED}, seen);
  if (Atomics.load(state, ${STOP}) === 1) break;
  seen = Atomics.load(state, ${REQUESTED});
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    Atomics.add(state, ${RUNS}, 1);
  } catch (error) {
    process.emitWarning('attune: background checkpoint failed: ' + (error && error.message || error));
  }
  Atomics.store(state, ${FINISHED}, seen);
}
db.close();
`;

export function createCheckpointer(options: CheckpointerOptions): Checkpointer {
  const walFile = `${options.filename}-wal`;
  const every = options.every ?? 16;
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const shared = new SharedArrayBuffer(4 * Int32Array.BYTES_PER_ELEMENT);
  const state = new Int32Array(shared);
  let worker: Worker | null = null;
  let failed = false;
  let commits = 0;
  const stats = {
    get runs() {
      return Atomics.load(state, RUNS);
    },
    lastError: null as string | null,
  };

  let exited: Promise<void> = Promise.resolve();

  function start(): Worker {
    // No inherited flags: the source is plain CommonJS whatever the process runs with
    // (`--input-type=module` would make it a module; loaders are not needed).
    const w = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { driver, filename: options.filename, state: shared } });
    exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    // The process may exit with the worker waiting: it holds nothing worth waiting for.
    w.unref();
    w.on('error', (error) => {
      // The backstop (the main connection's own automatic checkpoint) takes over.
      stats.lastError = String(error);
      failed = true;
    });
    return w;
  }

  return {
    stats,
    committed() {
      if (failed || ++commits < every) return;
      commits = 0;
      if (Atomics.load(state, REQUESTED) !== Atomics.load(state, FINISHED)) return;
      let size: number;
      try {
        size = statSync(walFile).size;
      } catch {
        return;
      }
      if (size < options.thresholdBytes) return;
      worker ??= start();
      Atomics.add(state, REQUESTED, 1);
      Atomics.notify(state, REQUESTED);
    },
    async close() {
      failed = true;
      const w = worker;
      worker = null;
      if (!w) return;
      // Referenced again while it finishes: with nothing else pending, an unreferenced worker
      // would let the process exit before close() settles.
      w.ref();
      Atomics.store(state, STOP, 1);
      Atomics.add(state, REQUESTED, 1);
      Atomics.notify(state, REQUESTED);
      await exited;
    },
  };
}
