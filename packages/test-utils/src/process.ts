import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Runs the real `attune` CLI as child processes, the way `pnpm attune` does: node with the
 * source condition and tsx, from the repository root. Server tests and plugin tests that need a
 * real Attune server process use it.
 */

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = ['--conditions=@attune/source', '--import', 'tsx', 'packages/server/src/cli.ts'];

export const SECRET_KEY = 'sk_process_test_secret_0123456789';
export const WRITE_KEY = 'wk_process_test_write_0123456789';

export const basicAuth = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
export const bearerAuth = (key: string) => `Bearer ${key}`;

/** A port that was free a moment ago: listen on 0, read the port, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'attune-process-'));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Environment for a child: the parent's, minus anything that would change what is tested. */
function childEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['PORT', 'HOST', 'DATABASE_URL', 'ATTUNE_DATA_DIR', 'ATTUNE_SECRET_KEY', 'ATTUNE_WRITE_KEY', 'ATTUNE_EXTERNAL_IDS', 'ATTUNE_URL', 'NODE_OPTIONS', 'VITEST', 'VITEST_POOL_ID', 'VITEST_WORKER_ID']) {
    delete env[name];
  }
  env.LOG_LEVEL = 'info';
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

export interface CliProcess {
  child: ChildProcess;
  url: string;
  port: number;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code and signal once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits until stderr (the human-readable output) contains `text`; returns all of stderr. */
  waitForStderr(text: string, timeoutMs?: number): Promise<string>;
  /** Sends a signal and waits for the exit (SIGKILL after `timeoutMs`). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartOptions {
  port: number;
  env: Record<string, string | undefined>;
  args?: string[];
  /** How long to wait for /health (default 30 s). */
  timeoutMs?: number;
}

const running = new Set<ChildProcess>();

/** Starts `attune start` and waits until /health answers 200. */
export async function startCli(options: StartOptions): Promise<CliProcess> {
  const child = spawn(process.execPath, [...CLI, 'start', ...(options.args ?? [])], {
    cwd: REPO_ROOT,
    env: childEnv({ PORT: String(options.port), ...options.env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    err += s;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  const url = `http://127.0.0.1:${options.port}`;
  const proc: CliProcess = {
    child,
    url,
    port: options.port,
    stdout: () => out,
    stderr: () => err,
    exited,
    async waitForStderr(text, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!err.includes(text)) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the process ended before "${text}" appeared:\n${err}`);
        if (Date.now() > deadline) throw new Error(`"${text}" did not appear on stderr within ${timeoutMs} ms:\n${err}`);
        await sleep(50);
      }
      return err;
    },
    async stop(signal = 'SIGTERM', timeoutMs = 20_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let ended = false;
  void exited.then(() => {
    ended = true;
  });
  for (;;) {
    if (ended) throw new Error(`attune start exited before it was healthy.\nstderr:\n${err}\nstdout:\n${out}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.status === 200) return proc;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await proc.stop('SIGKILL');
      throw new Error(`attune start was not healthy within ${options.timeoutMs ?? 30_000} ms.\nstderr:\n${err}\nstdout:\n${out}`);
    }
    await sleep(100);
  }
}

/** Kills every CLI process a test left behind (afterAll safety net). */
export function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a CLI command to completion (keys, seed-demo). */
export function runCli(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, ...args], { cwd: REPO_ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`attune ${args.join(' ')} took longer than ${timeoutMs} ms.\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Waits until `check` passes (polling), for what a server does in the background. */
export async function eventually<T>(check: () => Promise<T | null | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error('condition not met in time');
    await sleep(100);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function postBatch(url: string, writeKey: string, batch: unknown[]): Promise<Response> {
  return fetch(`${url}/v1/batch`, {
    method: 'POST',
    headers: { authorization: basicAuth(writeKey), 'content-type': 'application/json' },
    body: JSON.stringify({ batch }),
  });
}

export async function adminGet<T = Record<string, unknown>>(url: string, path: string, secretKey = SECRET_KEY): Promise<{ status: number; body: T }> {
  const res = await fetch(url + path, { headers: { authorization: bearerAuth(secretKey) } });
  return { status: res.status, body: (await res.json()) as T };
}

/**
 * A JSON call to Attune's admin API with the secret key. A kept-alive connection the server
 * closed while the test process was busy (booting an app) fails at once: it is sent once more.
 */
export async function adminCall<T = Record<string, unknown>>(url: string, path: string, init: RequestInit = {}, secretKey = SECRET_KEY): Promise<{ status: number; body: T }> {
  const send = () => fetch(url + path, { ...init, headers: { authorization: bearerAuth(secretKey), 'content-type': 'application/json' } });
  const res = await send().catch(() => send());
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

/**
 * A Standard-Webhooks signature (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed by the
 * `whsec_` secret), for tests that send an adapter a notice of their own.
 */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}
