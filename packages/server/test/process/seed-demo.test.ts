import { afterAll, describe, expect, it } from 'vitest';
import {
  adminGet,
  freePort,
  killAll,
  removeDir,
  runCli,
  SECRET_KEY,
  sleep,
  startCli,
  tempDataDir,
  WRITE_KEY,
} from './harness.ts';

afterAll(killAll);

const SHOWCASE_EMAIL = 'maya.lindqvist@example.com';

interface ProfileBody {
  id: string;
  traits: Record<string, unknown>;
  identities: Array<{ type: string; value: string }>;
  accounts: Array<{ id: string }>;
  computed: {
    orderCount: number;
    revenue: number;
    devices: Array<{ key: string; type: string }>;
    channels: string[];
    eventCounts: Record<string, number>;
  };
}

interface SeedSummary {
  events: number;
  accepted: number;
  duplicates: number;
  visitors: number;
  orders: number;
  batches: number;
  elapsedMs: number;
  eventsPerSecond: number;
  showcase: { email: string; userId: string };
}

function summaryOf(stdout: string): SeedSummary {
  const last = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as SeedSummary;
}

function expectShowcase(profile: ProfileBody): void {
  expect(profile.traits.email).toBe(SHOWCASE_EMAIL);
  // Signed up on an iPhone, signed in on a Mac and in the iOS app: three devices, one profile.
  expect(profile.identities.filter((i) => i.type === 'anonymousId')).toHaveLength(3);
  expect(profile.computed.devices).toHaveLength(3);
  expect(profile.computed.orderCount).toBe(3);
  expect(profile.computed.revenue).toBeGreaterThan(0);
  expect(profile.computed.channels).toEqual(expect.arrayContaining(['web', 'app', 'back_office']));
}

describe('attune seed-demo', () => {
  it('sends the demo data set through the API; the admin API then finds a stitched demo customer', async () => {
    const dataDir = tempDataDir();
    try {
      const server = await startCli({
        port: await freePort(),
        env: { ATTUNE_DATA_DIR: dataDir, ATTUNE_SECRET_KEY: SECRET_KEY, ATTUNE_WRITE_KEY: WRITE_KEY, LOG_LEVEL: 'warn' },
      });
      const args = ['seed-demo', '--url', server.url, '--visitors', '50', '--days', '7'];
      const r = await runCli([...args, '--write-key', WRITE_KEY]);
      expect(r.code, r.stderr).toBe(0);
      const summary = summaryOf(r.stdout);
      expect(summary.visitors).toBe(50);
      expect(summary.events).toBeGreaterThan(500);
      expect(summary.accepted).toBe(summary.events);
      expect(summary.orders).toBeGreaterThan(3);
      expect(summary.batches).toBeGreaterThan(1);
      expect(r.stderr).toMatch(new RegExp(`Seeded ${summary.events} events .* from 50 visitors with ${summary.orders} orders in [\\d.]+ s: \\d+ events/s`));

      const maya = await adminGet<ProfileBody>(server.url, `/v1/profiles?email=${encodeURIComponent(SHOWCASE_EMAIL)}`);
      expect(maya.status).toBe(200);
      expectShowcase(maya.body);
      const byUserId = await adminGet<ProfileBody>(server.url, `/v1/profiles?userId=${summary.showcase.userId}`);
      expect(byUserId.body.id).toBe(maya.body.id);
      // The B2B buyer belongs to a company account.
      const buyer = await adminGet<ProfileBody>(server.url, '/v1/profiles?userId=cust-42-00002');
      expect(buyer.body.accounts.map((a) => a.id)).toEqual(['acct-acme-outfitters']);
      expect(buyer.body.computed.eventCounts['Quote Accepted']).toBe(1);

      // Same seed again: the messageIds are the same, so nothing is stored twice.
      const again = await runCli([...args], { ATTUNE_WRITE_KEY: WRITE_KEY });
      expect(again.code, again.stderr).toBe(0);
      const second = summaryOf(again.stdout);
      expect(second.duplicates).toBeGreaterThanOrEqual(second.events * 0.95);
      const after = await adminGet<ProfileBody>(server.url, `/v1/profiles?email=${encodeURIComponent(SHOWCASE_EMAIL)}`);
      expect(after.body.computed.orderCount).toBe(3);

      const wrongKey = await runCli(['seed-demo', '--url', server.url, '--write-key', 'wk_not_a_key', '--visitors', '3', '--days', '2']);
      expect(wrongKey.code).toBe(1);
      expect(wrongKey.stderr).toContain('401');
      const noKey = await runCli(['seed-demo', '--url', server.url, '--visitors', '3']);
      expect(noKey.code).toBe(2);
      expect(noKey.stderr).toContain('a write key is required');

      expect(await server.stop()).toEqual({ code: 0, signal: null });
    } finally {
      removeDir(dataDir);
    }
  });
});

describe('attune start --demo', () => {
  it('seeds an empty store through its own API with a fresh write key, once, and says what to try', async () => {
    const dataDir = tempDataDir();
    try {
      // A first start made keys; the second does not know them and must still seed.
      const plain = await startCli({ port: await freePort(), env: { ATTUNE_DATA_DIR: dataDir } });
      const out = await plain.waitForStderr('Stop with Ctrl-C');
      const secret = /secret key\s+(sk_\S+)/.exec(out)?.[1] as string;
      expect(secret).toMatch(/^sk_/);
      expect(await plain.stop()).toEqual({ code: 0, signal: null });

      const demoArgs = ['--demo', '--demo-visitors', '40', '--demo-days', '10'];
      const demo = await startCli({ port: await freePort(), env: { ATTUNE_DATA_DIR: dataDir }, args: demoArgs });
      const demoOut = await demo.waitForStderr('API reference (OpenAPI)');
      expect(demoOut).toMatch(/Seeded \d+ events \(\d+ new, 0 already there\) from 40 visitors/);
      expect(demoOut).toContain(`${demo.url}/v1/profiles?email=${encodeURIComponent(SHOWCASE_EMAIL)}`);
      expect(demoOut).toContain(`${demo.url}/v1/openapi.json`);
      expect(demoOut).toContain('keys create --kind secret');
      const maya = await adminGet<ProfileBody>(demo.url, `/v1/profiles?email=${encodeURIComponent(SHOWCASE_EMAIL)}`, secret);
      expect(maya.status).toBe(200);
      expectShowcase(maya.body);
      expect((await fetch(`${demo.url}/v1/openapi.json`)).status).toBe(200);
      // The demo audiences exist and were kept as the traffic arrived: Maya (three devices, orders) is cross-channel.
      expect(demoOut).toMatch(/gold\s+\d+\s+Gold members/);
      const audiences = await adminGet<{ audiences: Array<{ id: string }> }>(demo.url, '/v1/audiences', secret);
      expect(audiences.body.audiences.map((a) => a.id)).toEqual(
        expect.arrayContaining(['gold', 'silver', 'bronze', 'cross-channel', 'outerwear-prospects', 'cart-abandoners', 'upgrade-eligible', 'high-ltv']),
      );
      const mayaAudiences = await adminGet<{ audiences: Array<{ id: string }> }>(demo.url, `/v1/profiles/${maya.body.id}/audiences`, secret);
      expect(mayaAudiences.body.audiences.map((a) => a.id)).toContain('cross-channel');
      expect(await demo.stop()).toEqual({ code: 0, signal: null });

      const keys = await runCli(['keys', 'list', '--json'], { ATTUNE_DATA_DIR: dataDir });
      expect((JSON.parse(keys.stdout) as Array<{ name: string; kind: string }>).filter((k) => k.name === 'demo seeding')).toEqual([
        expect.objectContaining({ kind: 'write' }),
      ]);

      // The store is no longer empty: --demo does not seed again.
      const rerun = await startCli({ port: await freePort(), env: { ATTUNE_DATA_DIR: dataDir }, args: demoArgs });
      const rerunOut = await rerun.waitForStderr('API reference (OpenAPI)');
      expect(rerunOut).toMatch(/already holds \d+ profiles: not seeding/);
      expect(rerunOut).not.toContain('Seeded');
      expect(await rerun.stop()).toEqual({ code: 0, signal: null });
    } finally {
      removeDir(dataDir);
    }
  });

  it('stops cleanly when SIGTERM arrives during seeding', async () => {
    const dataDir = tempDataDir();
    try {
      const demo = await startCli({
        port: await freePort(),
        env: { ATTUNE_DATA_DIR: dataDir, ATTUNE_SECRET_KEY: SECRET_KEY, ATTUNE_WRITE_KEY: WRITE_KEY },
        args: ['--demo'],
      });
      await demo.waitForStderr('Seeding the demo shop');
      await sleep(500);
      expect(await demo.stop('SIGTERM')).toEqual({ code: 0, signal: null });
      expect(demo.stderr()).not.toContain('Seeded');
    } finally {
      removeDir(dataDir);
    }
  });
});
