import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { adminGet, freePort, killAll, removeDir, runCli, SECRET_KEY, startCli, tempDataDir, WRITE_KEY } from './harness.ts';

afterAll(killAll);

const YAML_CONFIG = `
# A promotion on every product page, and an A/B test of its wording.
offers:
  - id: free-shipping
    name: Free shipping
    content: { text: "Free shipping over 50 EUR" }
    caps: { perDay: 3 }
experiences:
  - id: product-hero
    name: Product page hero
    priority: 10
    targeting:
      pages: ["/products/**"]
    variants:
      - key: control
        slots:
          hero: { content: { title: "Our products" } }
      - key: urgent
        slots:
          hero: { content: { title: "Only today" } }
          promo: { ref: { type: offer, id: free-shipping } }
experiments:
  - id: hero-wording
    name: Hero wording
    experienceId: product-hero
    traffic: 100
    goals:
      - { id: purchase, event: Order Completed, valueProperty: revenue }
`;

describe('attune config', () => {
  it('applies a YAML file to a running server, refuses a bad one naming the node, and exports it back', async () => {
    const dataDir = tempDataDir();
    const port = await freePort();
    const server = await startCli({ port, env: { ATTUNE_DATA_DIR: dataDir, ATTUNE_SECRET_KEY: SECRET_KEY, ATTUNE_WRITE_KEY: WRITE_KEY } });
    const env = { ATTUNE_URL: `http://127.0.0.1:${port}`, ATTUNE_SECRET_KEY: SECRET_KEY };
    try {
      const file = join(dataDir, 'attune.yaml');
      writeFileSync(file, YAML_CONFIG);
      const applied = await runCli(['config', 'apply', file], env);
      expect(applied.code, applied.stderr).toBe(0);
      expect(JSON.parse(applied.stdout)).toMatchObject({ created: 3, updated: 0, unchanged: 0 });
      expect((await adminGet(`http://127.0.0.1:${port}`, '/v1/experiments/hero-wording')).body).toMatchObject({ experienceId: 'product-hero', version: 1 });

      const again = await runCli(['config', 'apply', file], env);
      expect(JSON.parse(again.stdout)).toMatchObject({ created: 0, updated: 0, unchanged: 3 });

      const bad = join(dataDir, 'bad.yaml');
      writeFileSync(bad, YAML_CONFIG.replace('pages: ["/products/**"]', 'pages: [{ regex: "(" }]').replace('event: Order Completed', 'event: ""'));
      const refused = await runCli(['config', 'apply', bad], env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('experiences[0].targeting.pages[0].regex');
      expect(refused.stderr).toContain('experiments[0].goals[0].event');
      const broken = join(dataDir, 'broken.yaml');
      writeFileSync(broken, 'offers:\n  - id: x\n   name: bad indent\n');
      const unparsable = await runCli(['config', 'apply', broken], env);
      expect(unparsable.code).toBe(1);
      expect(unparsable.stderr).toMatch(/not valid YAML/);

      const exported = await runCli(['config', 'export', '--format', 'json'], env);
      expect(exported.code, exported.stderr).toBe(0);
      const config = JSON.parse(exported.stdout) as { experiences: Array<{ id: string }>; offers: unknown[]; experiments: unknown[] };
      expect(config.experiences.map((e) => e.id)).toEqual(['product-hero']);
      const out = join(dataDir, 'export.yaml');
      expect((await runCli(['config', 'export', '--out', out], env)).code).toBe(0);
      expect(readFileSync(out, 'utf8')).toContain('experienceId: product-hero');
      const roundTrip = await runCli(['config', 'apply', '--prune', out], env);
      expect(JSON.parse(roundTrip.stdout)).toMatchObject({ created: 0, updated: 0, unchanged: 3, deleted: 0 });
    } finally {
      await server.stop();
      removeDir(dataDir);
    }
  }, 120_000);
});
