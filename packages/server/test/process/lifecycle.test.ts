import { request } from 'node:http';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import {
  adminGet,
  basicAuth,
  freePort,
  killAll,
  postBatch,
  removeDir,
  runCli,
  SECRET_KEY,
  sleep,
  startCli,
  tempDataDir,
  WRITE_KEY,
} from './harness.ts';

afterAll(killAll);

const KEYS = { ATTUNE_SECRET_KEY: SECRET_KEY, ATTUNE_WRITE_KEY: WRITE_KEY };

describe('attune start: shutdown', () => {
  it('finishes a batch in flight when SIGTERM arrives, then exits 0', async () => {
    const dataDir = tempDataDir();
    try {
      const proc = await startCli({ port: await freePort(), env: { ATTUNE_DATA_DIR: dataDir, ...KEYS } });
      const calls = Array.from({ length: 500 }, (_, i) => ({
        type: 'track',
        event: 'Drain Probe',
        anonymousId: 'drain-visitor',
        messageId: `drain-${i}`,
        properties: { i },
      }));
      const body = JSON.stringify({ batch: calls });
      const half = Math.floor(body.length / 2);
      // A raw request, so the body can be held back while the signal arrives.
      const req = request({
        host: '127.0.0.1',
        port: proc.port,
        path: '/v1/batch',
        method: 'POST',
        agent: false,
        headers: { authorization: basicAuth(WRITE_KEY), 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      });
      const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
        req.on('response', (res) => {
          let data = '';
          res.setEncoding('utf8').on('data', (s: string) => {
            data += s;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
        });
        req.on('error', reject);
      });
      req.write(body.slice(0, half));
      await sleep(300);
      proc.child.kill('SIGTERM');
      await sleep(500);
      // Still running: it waits for the request it has begun to read.
      expect(proc.child.exitCode).toBeNull();
      // New connections are no longer taken.
      const late = await fetch(`${proc.url}/health`).then(
        (r) => r.status,
        () => 'refused',
      );
      expect([503, 'refused']).toContain(late);
      req.end(body.slice(half));
      const answer = await response;
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({ success: true, accepted: 500, duplicates: 0 });
      expect(await proc.exited).toEqual({ code: 0, signal: null });
      expect(proc.stderr()).toContain('SIGTERM received');
      expect(proc.stdout()).toContain('"msg":"attune stopped"');

      // The drained batch was committed.
      const again = await startCli({ port: await freePort(), env: { ATTUNE_DATA_DIR: dataDir, ...KEYS } });
      const profile = await adminGet<{ computed: { eventCounts: Record<string, number> } }>(again.url, '/v1/profiles?anonymousId=drain-visitor');
      expect(profile.body.computed.eventCounts['Drain Probe']).toBe(500);
      expect(await again.stop('SIGINT')).toEqual({ code: 0, signal: null });
    } finally {
      removeDir(dataDir);
    }
  });

  it('does not die silently: a start that cannot listen exits 1 and says why', async () => {
    const blocker = createServer();
    const port = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)));
    const dataDir = tempDataDir();
    try {
      const r = await runCli(['start', '--host', '127.0.0.1'], { PORT: String(port), ATTUNE_DATA_DIR: dataDir, ...KEYS }, 60_000);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('EADDRINUSE');
      expect(r.stdout).toContain('"msg":"attune failed to start"');
    } finally {
      blocker.close();
      removeDir(dataDir);
    }
  });

  it('rejects a PORT that is not a port', async () => {
    const r = await runCli(['start'], { PORT: 'eighty' }, 60_000);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('PORT must be a whole number from 0 to 65535');
  });

  it('rejects an ATTUNE_ERASURE_RESEND_MS that is not a duration in ms', async () => {
    const r = await runCli(['start'], { ATTUNE_ERASURE_RESEND_MS: '1h' }, 60_000);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('ATTUNE_ERASURE_RESEND_MS must be a whole number from 1000');
  });

  it('rejects an ATTUNE_WEBHOOK_HOSTS entry that is not a host', async () => {
    const r = await runCli(['start'], { ATTUNE_WEBHOOK_HOSTS: 'hooks.example.com, http://x/y' }, 60_000);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('ATTUNE_WEBHOOK_HOSTS: "http://x/y" is not a host name');
  });
});

describe('attune start: keys', () => {
  it('prints generated keys on the first start only, and they keep working', async () => {
    const dataDir = tempDataDir();
    try {
      const first = await startCli({ port: await freePort(), env: { ATTUNE_DATA_DIR: dataDir } });
      const out = await first.waitForStderr('Stop with Ctrl-C');
      const write = /write key\s+(wk_\S+)/.exec(out)?.[1];
      const secret = /secret key\s+(sk_\S+)/.exec(out)?.[1];
      expect(write).toBeDefined();
      expect(secret).toBeDefined();
      expect(out).toContain(`curl -u '${write}:'`);
      expect(out).toContain(`${first.url}/v1/profiles?anonymousId=visitor-1`);
      expect(await first.stop()).toEqual({ code: 0, signal: null });
      // Structured logs name the keys by prefix, never in full.
      expect(first.stdout()).toContain((write as string).slice(0, 8));
      expect(first.stdout()).not.toContain(write);
      expect(first.stdout()).not.toContain(secret);

      const second = await startCli({ port: await freePort(), env: { ATTUNE_DATA_DIR: dataDir } });
      const out2 = await second.waitForStderr('Stop with Ctrl-C');
      expect(out2).not.toContain('New API keys');
      expect(out2).not.toMatch(/\b(wk|sk)_[A-Za-z0-9_-]{16,}/);
      expect(second.stdout()).not.toContain(write);
      const sent = await postBatch(second.url, write as string, [{ type: 'identify', userId: 'key-user', traits: { plan: 'pro' } }]);
      expect(sent.status).toBe(200);
      const found = await adminGet<{ traits: Record<string, unknown> }>(second.url, '/v1/profiles?userId=key-user', secret);
      expect(found.status).toBe(200);
      expect(found.body.traits.plan).toBe('pro');
      expect(await second.stop()).toEqual({ code: 0, signal: null });
    } finally {
      removeDir(dataDir);
    }
  });

  it('generates no keys when ATTUNE_SECRET_KEY and ATTUNE_WRITE_KEY are set, and accepts them from the first start', async () => {
    const dataDir = tempDataDir();
    try {
      const proc = await startCli({ port: await freePort(), env: { ATTUNE_DATA_DIR: dataDir, ...KEYS } });
      const out = await proc.waitForStderr('Stop with Ctrl-C');
      expect(out).not.toContain('New API keys');
      expect(out).not.toContain(SECRET_KEY);
      expect(out).toContain('"$ATTUNE_WRITE_KEY:"');
      expect((await postBatch(proc.url, WRITE_KEY, [{ type: 'track', event: 'Env Key', anonymousId: 'env-key' }])).status).toBe(200);
      expect((await adminGet(proc.url, '/v1/profiles?anonymousId=env-key')).status).toBe(200);
      expect(await proc.stop()).toEqual({ code: 0, signal: null });
    } finally {
      removeDir(dataDir);
    }
  });
});
