import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDatabase, freePort, killAll, postBatch, removeDir, runCli, sleep, startCli, tempDataDir } from './harness.ts';

afterAll(killAll);

interface KeyView {
  id: string;
  kind: string;
  name: string;
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
  key?: string;
}

describe('attune keys', () => {
  it('creates, lists and revokes keys in the embedded store; a running server honours them', async () => {
    const dataDir = tempDataDir();
    const env = { ATTUNE_DATA_DIR: dataDir };
    try {
      const created = await runCli(['keys', 'create', '--kind', 'write', '--name', 'storefront', '--json'], env);
      expect(created.code, created.stderr).toBe(0);
      const write = JSON.parse(created.stdout) as KeyView;
      expect(write).toMatchObject({ kind: 'write', name: 'storefront', revokedAt: null });
      expect(write.key).toMatch(/^wk_/);
      expect(write.prefix).toBe(write.key?.slice(0, 8));

      // Human output: the key alone on stdout, the explanation on stderr.
      const plain = await runCli(['keys', 'create', '--kind', 'secret', '--name', 'ops'], env);
      expect(plain.code, plain.stderr).toBe(0);
      const secret = plain.stdout.trim();
      expect(secret).toMatch(/^sk_[A-Za-z0-9_-]{40,}$/);
      expect(plain.stderr).toMatch(/Created secret key "ops" \(id [0-9a-f-]+\)\. It is shown this once/);

      const listed = await runCli(['keys', 'list', '--json'], env);
      const keys = JSON.parse(listed.stdout) as KeyView[];
      expect(keys.map((k) => [k.kind, k.name, k.prefix])).toEqual([
        ['write', 'storefront', write.prefix],
        ['secret', 'ops', secret.slice(0, 8)],
      ]);
      // Lists show prefixes only: never a key, never its hash.
      expect(listed.stdout).not.toContain(write.key);
      expect(listed.stdout).not.toContain(secret);
      expect(listed.stdout).not.toContain('hash');
      for (const file of readdirSync(dataDir)) {
        expect(readFileSync(join(dataDir, file)).includes(Buffer.from(write.key as string)), file).toBe(false);
      }

      // Both kinds exist, so the server generates none and accepts these.
      const server = await startCli({ port: await freePort(), env });
      expect(await server.waitForStderr('Stop with Ctrl-C')).not.toContain('New API keys');
      const event = [{ type: 'track', event: 'Key Probe', anonymousId: 'key-probe' }];
      expect((await postBatch(server.url, write.key as string, event)).status).toBe(200);

      const revoked = await runCli(['keys', 'revoke', write.id], env);
      expect(revoked.code, revoked.stderr).toBe(0);
      expect(revoked.stderr).toContain(`Revoked key ${write.id}`);
      // The server caches keys for a second; then the revoked key is refused.
      let status = 200;
      for (let i = 0; i < 40 && status === 200; i++) {
        await sleep(100);
        status = (await postBatch(server.url, write.key as string, event)).status;
      }
      expect(status).toBe(401);
      expect(await server.stop()).toEqual({ code: 0, signal: null });

      const table = await runCli(['keys', 'list'], env);
      expect(table.stdout).toMatch(/^ID\s+KIND\s+PREFIX\s+NAME\s+CREATED\s+STATUS/);
      expect(table.stdout).toMatch(new RegExp(`${write.id}\\s+write\\s+${write.prefix}…\\s+storefront\\s+\\S+\\s+revoked `));
      expect(table.stdout).toMatch(/secret\s+sk_\S+…\s+ops\s+\S+\s+active/);

      const unknown = await runCli(['keys', 'revoke', 'no-such-id'], env);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('no active key with id no-such-id');
      const again = await runCli(['keys', 'revoke', write.id], env);
      expect(again.code).toBe(2);

      const badKind = await runCli(['keys', 'create', '--kind', 'admin', '--name', 'x'], env);
      expect(badKind.code).not.toBe(0);
      expect(badKind.stderr).toContain('Allowed choices are write, decide, secret');
      const noName = await runCli(['keys', 'create', '--kind', 'write'], env);
      expect(noName.code).not.toBe(0);
      expect(noName.stderr).toContain("required option '--name <name>' not specified");
    } finally {
      removeDir(dataDir);
    }
  });

  it('works on PostgreSQL through DATABASE_URL', async () => {
    const db = await createDatabase();
    try {
      const env = { DATABASE_URL: db.url };
      const created = await runCli(['keys', 'create', '--kind', 'write', '--name', 'pg-storefront', '--json'], env);
      expect(created.code, created.stderr).toBe(0);
      const key = JSON.parse(created.stdout) as KeyView;
      const listed = JSON.parse((await runCli(['keys', 'list', '--json'], env)).stdout) as KeyView[];
      expect(listed).toEqual([expect.objectContaining({ id: key.id, name: 'pg-storefront', revokedAt: null })]);
      expect((await runCli(['keys', 'revoke', key.id, '--json'], env)).stdout).toContain('"revoked":true');
      const after = JSON.parse((await runCli(['keys', 'list', '--json'], env)).stdout) as KeyView[];
      expect(after[0]?.revokedAt).not.toBeNull();
    } finally {
      await db.drop();
    }
  });
});
