import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CatalogItem } from '@attune/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BootedStrapi, bootStrapi, type Engine, engineGet, invokeJob, startEngine } from './harness.ts';

/**
 * The strongest form of "a run killed midway": a Strapi process exporting through a proxy is
 * killed with SIGKILL while its third batch is in flight; another Strapi instance on the same
 * database takes the lease once it expires and resumes the run.
 */
describe('an export whose Strapi process is killed midway', () => {
  let engine: Engine;
  let proxy: Server;
  let proxyUrl: string;
  let app: BootedStrapi | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'attune-kill-'));
  const posted: string[][] = [];
  let held: ((arrived: number) => void) | null = null;

  beforeAll(async () => {
    engine = await startEngine();
    proxy = createServer(async (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      const catalog = req.method === 'POST' && req.url?.startsWith('/v1/catalog/');
      if (catalog) {
        posted.push((JSON.parse(body.toString()) as { items: { id: string }[] }).items.map((i) => i.id));
        // Hold the third batch: its sender is killed before an answer comes.
        if (held && posted.length === 3) {
          held(posted.length);
          return;
        }
      }
      const upstream = await fetch(`${engine.url}${req.url}`, { method: req.method, headers: req.headers as Record<string, string>, ...(body.length > 0 ? { body } : {}) });
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
      res.end(await upstream.text());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    proxy?.closeAllConnections();
    await new Promise((r) => proxy?.close(r));
    await app?.stop();
    await engine?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('resumes after the last acknowledged batch in another instance, without duplicates or gaps', async () => {
    const databaseFile = join(dir, 'data.db');
    const thirdBatch = new Promise<number>((resolve) => {
      held = resolve;
    });
    const child = spawn(process.execPath, ['--conditions=@attune/source', '--import', 'tsx', fileURLToPath(new URL('./kill-child.ts', import.meta.url))], {
      env: { ...process.env, PROXY_URL: proxyUrl, DATABASE_FILE: databaseFile, ATTUNE_LEASE_TTL_MS: '3000' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await thirdBatch;
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(out).toContain('SEEDED');
    expect(out).not.toContain('FINISHED');
    const acked = posted.slice(0, 2).flat();
    expect(acked).toHaveLength(10);
    held = null;
    posted.length = 0;

    // Another instance on the same database. The dead holder's lease lasts 3 s.
    app = await bootStrapi({ engineUrl: proxyUrl, databaseFile, env: { ATTUNE_LEASE_TTL_MS: '3000' } });
    const exporter = app.strapi.plugin('attune').service('exporter');
    const stale = (await exporter.history('content'))[0];
    expect(stale).toMatchObject({ status: 'running' });
    await new Promise((r) => setTimeout(r, 3100));
    await invokeJob(app.strapi, 'attune-export-content');
    const [resumed, killed] = await exporter.history('content');
    expect(resumed).toMatchObject({ status: 'succeeded', items: 5 });
    expect(resumed.progress.resumed).toEqual([`api::article.article (run ${killed.id})`]);
    expect(killed).toMatchObject({ id: stale.id, status: 'failed' });
    expect(killed.errors[0].message).toMatch(/^interrupted/);

    // The third batch is sent again (never acknowledged), nothing acknowledged is.
    const resent = posted.flat();
    expect(resent.filter((id) => acked.includes(id))).toEqual([]);
    expect(resent).toHaveLength(5);
    const stored = await engineGet<{ items: CatalogItem[] }>(engine, '/v1/catalog/kill-test?type=article&limit=100');
    expect(stored.body.items).toHaveLength(15);
    expect(new Set(stored.body.items.map((i) => i.id)).size).toBe(15);
  });
});
