/**
 * Boots the real example app (examples/strapi-app, Strapi 5 on SQLite) in this process with the
 * plugin, next to a real Attune server on a temporary embedded store. Used by the integration
 * tests and bench/strapi-export.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type StartedServer, startServer } from '@attune/server';
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
  const server = await startServer({ port: 0, host: '127.0.0.1', dataDir, secretKey: SECRET_KEY, writeKey: WRITE_KEY, audienceCheckMs: 200 });
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
  await built;
  const dir = mkdtempSync(join(tmpdir(), 'attune-strapi-'));
  const databaseFile = options.databaseFile ?? join(dir, 'data.db');
  const env: Record<string, string> = {
    DATABASE_FILENAME: databaseFile,
    HOST: '127.0.0.1',
    PORT: '0',
    NODE_ENV: 'test',
    STRAPI_TELEMETRY_DISABLED: 'true',
    BROWSER: 'false',
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
  await new Promise<void>((resolve) => strapi.server.httpServer.listen(0, '127.0.0.1', resolve));
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
      await strapi.destroy();
      if (!options.databaseFile) rmSync(dir, { recursive: true, force: true });
    },
  };
}
