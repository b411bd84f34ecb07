import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@attune/core';
import { createTestPostgresDatabase } from '@attune/test-utils';
import { expect } from 'vitest';
import { type StartedServer, type StartServerOptions, startServer } from '../../src/index.ts';

export type StoreKind = 'sqlite' | 'postgres';

/** Every HTTP test runs on the embedded store and on PostgreSQL (a fresh database per server). */
export const STORE_KINDS: StoreKind[] = ['sqlite', 'postgres'];

export const SECRET_KEY = 'sk_test_secret_key_0123456789abcdef';
export const WRITE_KEY = 'wk_test_write_key_0123456789abcdef';

export const basicAuth = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
export const bearerAuth = (key: string) => `Bearer ${key}`;

export interface Harness {
  kind: StoreKind;
  url: string;
  server: StartedServer;
  /** POST to the tracking API with the write key (Basic auth) and a JSON body. */
  track(path: string, body: unknown, init?: { headers?: Record<string, string> }): Promise<Response>;
  /** A request to the admin API with the secret key. */
  admin(path: string, init?: RequestInit): Promise<Response>;
  /** GET on the admin API, the JSON answer. */
  adminJson<T = Record<string, unknown>>(path: string): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

export async function startHarness(kind: StoreKind, options: Partial<StartServerOptions> = {}): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'attune-http-'));
  const database = kind === 'postgres' ? await createTestPostgresDatabase() : undefined;
  const server = await startServer({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    ...(database ? { databaseUrl: database.url } : {}),
    secretKey: SECRET_KEY,
    writeKey: WRITE_KEY,
    logger: silentLogger,
    // Test upstreams listen on loopback: listed by name, so the SSRF guard lets them through.
    connectorHosts: { allowHosts: ['127.0.0.1'] },
    // Webhook receivers too, and the public-looking hosts tests save activations for (the
    // default refusal is tested in activations.test.ts).
    webhookHosts: { allowHosts: ['127.0.0.1', '*.example.com'] },
    ...options,
  });
  const url = server.url;
  let closed = false;
  return {
    kind,
    url,
    server,
    track: (path, body, init = {}) =>
      fetch(url + path, {
        method: 'POST',
        headers: { authorization: basicAuth(WRITE_KEY), 'content-type': 'application/json', ...init.headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    admin: (path, init = {}) =>
      fetch(url + path, { ...init, headers: { authorization: bearerAuth(SECRET_KEY), ...(init.headers as Record<string, string>) } }),
    async adminJson<T>(path: string) {
      const res = await fetch(url + path, { headers: { authorization: bearerAuth(SECRET_KEY) } });
      return { status: res.status, body: (await res.json()) as T };
    },
    async close() {
      if (closed) return;
      closed = true;
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
      await database?.drop();
    },
  };
}

let counter = 0;
/** A unique id per test run, so tests sharing a server never collide. */
export const uid = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

export interface ErrorAnswer {
  error: { code: string; message: string; issues: Array<{ path: string; message: string }> };
}

export async function expectError(res: Response, status: number, code: string): Promise<ErrorAnswer> {
  const body = (await res.json()) as ErrorAnswer;
  expect({ status: res.status, code: body.error?.code }).toEqual({ status, code });
  expect(typeof body.error.message).toBe('string');
  expect(Array.isArray(body.error.issues)).toBe(true);
  return body;
}

/** The server is still up and still committing events. */
export async function expectHealthy(h: Harness): Promise<void> {
  const health = await fetch(`${h.url}/health`);
  expect(health.status).toBe(200);
  const res = await h.track('/v1/track', { anonymousId: uid('alive'), event: 'Still Alive' });
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ success: true, accepted: 1 });
}
