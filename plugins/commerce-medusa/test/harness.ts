import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@attune/core';
import { type StartedServer, startServer } from '@attune/server';

export const SECRET_KEY = 'sk_medusa_test_0123456789abcdef';
export const WRITE_KEY = 'wk_medusa_test_0123456789abcdef';

export interface Attune {
  server: StartedServer;
  dataDir: string;
  admin<T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }>;
}

/** A real Attune server (embedded store) with fast activation polling. */
export async function startAttune(): Promise<Attune> {
  const dataDir = mkdtempSync(join(tmpdir(), 'attune-medusa-'));
  const server = await startServer({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    secretKey: SECRET_KEY,
    writeKey: WRITE_KEY,
    logger: silentLogger,
    externalIds: ['medusa_customer_id'],
    // The shop's activation endpoint listens on loopback: listed, so webhooks may reach it.
    webhookHosts: { allowHosts: ['127.0.0.1', 'localhost'] },
    activationPollMs: 50,
    webhookBaseDelayMs: 100,
    audienceCheckMs: 100,
  });
  return {
    server,
    dataDir,
    async admin<T>(path: string, init: RequestInit = {}) {
      const res = await fetch(server.url + path, { ...init, headers: { authorization: `Bearer ${SECRET_KEY}`, 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
    },
  };
}

export async function eventually<T>(check: () => Promise<T | null | undefined | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (error) {
      last = error;
    }
    if (Date.now() > until) throw new Error(`${what} not met in ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
