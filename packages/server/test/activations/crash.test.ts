import { afterAll, describe, expect, it } from 'vitest';
import { basicAuth, bearerAuth, createDatabase, freePort, killAll, removeDir, SECRET_KEY, startCli, tempDataDir, WRITE_KEY } from '../process/harness.ts';
import { startReceiver, until } from './receiver.ts';

afterAll(killAll);

describe.each(['sqlite', 'postgres'] as const)('webhook delivery across a crash on %s', (kind) => {
  it('delivers each membership change exactly once, as the receiver sees it, after a kill -9 mid-delivery', async () => {
    const dataDir = tempDataDir();
    const db = kind === 'postgres' ? await createDatabase() : null;
    const receiver = await startReceiver();
    const env = { ATTUNE_DATA_DIR: dataDir, DATABASE_URL: db?.url, ATTUNE_SECRET_KEY: SECRET_KEY, ATTUNE_WRITE_KEY: WRITE_KEY, ATTUNE_WEBHOOK_HOSTS: '127.0.0.1' };
    try {
      const first = await startCli({ port: await freePort(), env });
      const admin = (path: string, body: unknown) =>
        fetch(first.url + path, {
          method: 'POST',
          headers: { authorization: bearerAuth(SECRET_KEY), 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      expect((await admin('/v1/segment-groups', { id: 'crash', name: 'Crash' })).status).toBe(201);
      expect((await admin('/v1/audiences', { id: 'vip', groupId: 'crash', name: 'VIP', condition: { have: { trait: 'traits.vip', op: 'eq', value: true } } })).status).toBe(201);
      expect((await admin('/v1/activations', { id: 'crm', name: 'CRM', url: receiver.url })).status).toBe(201);

      // The receiver holds the first delivery without answering; the server dies meanwhile.
      receiver.hang(true);
      const track = (userId: string, vip: boolean) =>
        fetch(`${first.url}/v1/identify`, {
          method: 'POST',
          headers: { authorization: basicAuth(WRITE_KEY), 'content-type': 'application/json' },
          body: JSON.stringify({ userId, traits: { vip } }),
        });
      for (const u of ['a', 'b', 'c']) expect((await track(`crash-${u}`, true)).status).toBe(200);
      await until(() => receiver.held.length, (n) => n >= 1);
      first.child.kill('SIGKILL');
      expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
      expect(receiver.received).toHaveLength(0);

      receiver.hang(false);
      const second = await startCli({ port: await freePort(), env });
      const unique = await until(() => receiver.unique(), (d) => d.length === 3, 30_000);
      // One delivery per change, and the one held during the crash came again with the same id.
      expect(unique.map((d) => d.json.data.profileId).length).toBe(3);
      expect(unique.map((d) => d.id)).toContain(receiver.held[0]);
      expect(new Set(unique.map((d) => d.json.data.change))).toEqual(new Set(['entered']));
      await new Promise((r) => setTimeout(r, 1500));
      expect(receiver.unique()).toHaveLength(3);
      expect(receiver.received).toHaveLength(3);
      expect(await second.stop()).toEqual({ code: 0, signal: null });
    } finally {
      await receiver.close();
      removeDir(dataDir);
      await db?.drop();
    }
  });
});
