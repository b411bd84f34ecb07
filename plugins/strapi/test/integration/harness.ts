/**
 * Boots the real example app (examples/strapi-app, Strapi 5 on SQLite) in this process with the
 * plugin, next to a real Attune server on a temporary embedded store. Used by the integration
 * tests and bench/strapi-export.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, type StartedServer, startServer } from '@attune/server';
import type { Core } from '@strapi/strapi';
import { buildServer } from '../../scripts/build-server.mjs';

export const PLUGIN_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const APP_DIR = join(PLUGIN_DIR, '..', '..', 'examples', 'strapi-app');
const appRequire = createRequire(join(APP_DIR, 'package.json'));

export const SECRET_KEY = 'sk_test_strapi_plugin_0123456789abcdef';
export const WRITE_KEY = 'wk_test_strapi_plugin_0123456789abcdef';

export interface Engine {
  server: StartedServer;
  url: string;
  close(): Promise<void>;
}

export async function startEngine(): Promise<Engine> {
  const dataDir = mkdtempSync(join(tmpdir(), 'attune-engine-'));
  const server = await startServer({ port: 0, host: '127.0.0.1', dataDir, secretKey: SECRET_KEY, writeKey: WRITE_KEY, audienceCheckMs: 200, logger: createLogger({ level: process.env.ATTUNE_LOG_LEVEL ?? 'warn' }) });
  return {
    server,
    url: server.url,
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface BootOptions {
  /** Engine URL and keys handed to the plugin config through the app's environment. */
  engineUrl?: string;
  env?: Record<string, string>;
  /** Serve the built admin panel (examples/strapi-app/build must exist). */
  admin?: boolean;
  /** Reuse a database file (restart after a kill); default a new one. */
  databaseFile?: string;
  /** Listen on this port (default any free one), when the URL must be known before the boot. */
  port?: number;
}

export interface BootedStrapi {
  strapi: Core.Strapi;
  url: string;
  databaseFile: string;
  stop(): Promise<void>;
}

let built: Promise<string> | null = null;

export async function bootStrapi(options: BootOptions = {}): Promise<BootedStrapi> {
  built ??= buildServer();
  // Strapi writes the merged plugin config onto the plugin module's export: a second boot in this
  // process must load the module afresh, or it keeps the first boot's config (engine URL, keys).
  delete appRequire.cache[await built];
  const dir = mkdtempSync(join(tmpdir(), 'attune-strapi-'));
  const databaseFile = options.databaseFile ?? join(dir, 'data.db');
  const env: Record<string, string> = {
    DATABASE_FILENAME: databaseFile,
    HOST: '127.0.0.1',
    PORT: '0',
    NODE_ENV: 'test',
    STRAPI_TELEMETRY_DISABLED: 'true',
    BROWSER: 'false',
    STRAPI_LOG_LEVEL: process.env.STRAPI_LOG_LEVEL ?? 'warn',
    ATTUNE_URL: options.engineUrl ?? '',
    ATTUNE_SECRET_KEY: options.engineUrl ? SECRET_KEY : '',
    ATTUNE_WRITE_KEY: options.engineUrl ? WRITE_KEY : '',
    ...options.env,
  };
  const previous = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  const { compileStrapi, createStrapi } = appRequire('@strapi/strapi') as typeof import('@strapi/strapi');
  const context = await compileStrapi({ appDir: APP_DIR });
  const strapi = await createStrapi({ ...context, autoReload: false, serveAdminPanel: options.admin === true }).load();
  strapi.server.mount();
  await new Promise<void>((resolve) => strapi.server.httpServer.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (strapi.server.httpServer.address() as AddressInfo).port;
  for (const [k, v] of Object.entries(previous)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  return {
    strapi,
    url: `http://127.0.0.1:${port}`,
    databaseFile,
    async stop() {
      // strapi.destroy() ends with process.removeAllListeners(), which would also drop the test
      // runner's own listeners (its IPC channel): put them back.
      const saved = process.eventNames().map((name) => [name, process.listeners(name as 'exit')] as const);
      await strapi.destroy();
      for (const [name, listeners] of saved) {
        for (const l of listeners) if (!process.listeners(name as 'exit').includes(l)) process.on(name as 'exit', l);
      }
      if (!options.databaseFile) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Signs in to the admin API as the demo super admin the example app creates. */
export async function adminToken(app: BootedStrapi, email = 'admin@attune.local', password = 'Attune-demo-1'): Promise<string> {
  const res = await fetch(`${app.url}/admin/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  const body = (await res.json()) as { data?: { token?: string; accessToken?: string } };
  const token = body.data?.token ?? body.data?.accessToken;
  if (!res.ok || !token) throw new Error(`admin login failed (${res.status}): ${JSON.stringify(body)}`);
  return token;
}

/** The plugin's admin API (`/attune/...`) as a signed-in admin. */
export function adminApi(app: BootedStrapi, token: string) {
  return async <T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${app.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  };
}

/** The engine's admin API with the secret key. */
export async function engineGet<T = unknown>(engine: Engine, path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${engine.url}${path}`, { headers: { authorization: `Bearer ${SECRET_KEY}` } });
  return { status: res.status, body: (await res.json().catch(() => null)) as T };
}

export async function enginePost<T = unknown>(engine: Engine, path: string, body: unknown, key: 'secret' | 'write' = 'secret'): Promise<{ status: number; body: T }> {
  const auth = key === 'secret' ? `Bearer ${SECRET_KEY}` : `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`;
  const res = await fetch(`${engine.url}${path}`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json().catch(() => null)) as T };
}

/** Fires a plugin cron job the way Strapi's scheduler would, and waits for it (TOOLCHAIN: invoke()). */
export async function invokeJob(strapi: Core.Strapi, name: string): Promise<void> {
  const spec = (strapi.cron.jobs as unknown as { name: string | null; job: { invoke(): Promise<unknown> } }[]).find((j) => j.name === name);
  if (!spec) throw new Error(`no cron job "${name}"; scheduled: ${(strapi.cron.jobs as unknown as { name: string | null }[]).map((j) => j.name).join(', ')}`);
  await spec.job.invoke();
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

/**
 * The admin panel build (examples/strapi-app/build, gitignored), made once and reused while its
 * inputs are unchanged: the plugin's admin sources, the app's package.json and config. A build
 * takes about a minute on two cores.
 */
export function ensureAdminBuild(): void {
  const inputs = [...filesUnder(join(PLUGIN_DIR, 'admin', 'src')), join(APP_DIR, 'package.json'), ...filesUnder(join(APP_DIR, 'config'))].sort();
  const hash = createHash('sha256');
  for (const f of inputs) hash.update(f).update(readFileSync(f));
  const digest = hash.digest('hex');
  const stamp = join(APP_DIR, 'build', '.attune-inputs');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === digest && existsSync(join(APP_DIR, 'build', 'index.html'))) return;
  const r = spawnSync(join(APP_DIR, 'node_modules', '.bin', 'strapi'), ['build'], { cwd: APP_DIR, env: { ...process.env, NODE_ENV: 'production', STRAPI_TELEMETRY_DISABLED: 'true' }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`strapi build failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  writeFileSync(stamp, digest);
}
