import { type Engine, newProfile, type Store } from '@attune/core';
import {
  allEvents,
  createTestPostgresDatabase,
  engineOn,
  runStoreConformance,
  storedEvent,
  type TestPostgresDatabase,
  uniqueName,
} from '@attune/test-utils';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from './migrations.ts';
import { createPostgresStore, type PostgresStoreOptions } from './postgres-store.ts';

let db: TestPostgresDatabase;

beforeAll(async () => {
  db = await createTestPostgresDatabase();
});

afterAll(async () => {
  await db?.drop();
});

/** Runs SQL on the test database outside any store. */
async function sql<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query<R>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** A store in a schema of its own, like one deployment; `nodes` stores share it like server nodes. */
function deployment(nodes = 1, options: Partial<PostgresStoreOptions> = {}) {
  const schema = uniqueName('s');
  const stores = Array.from({ length: nodes }, () =>
    createPostgresStore({ connectionString: db.url, schema, poolSize: 4, ...options }),
  );
  return {
    schema,
    stores,
    cleanup: async () => {
      await Promise.all(stores.map((s) => s.close()));
      await sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
  };
}

runStoreConformance('postgres', async () => {
  const d = deployment();
  return { store: d.stores[0] as Store, cleanup: d.cleanup };
});

function codeError(code: string): Error {
  return Object.assign(new Error(`simulated ${code}`), { code });
}

/** Four engines on two nodes; each engine sends its share of calls a few at a time. */
async function ingestFromNodes(stores: Store[], calls: Array<{ raw: Record<string, unknown>; type: 'track' | 'identify' }>) {
  const engines: Engine[] = stores.flatMap((s) => [engineOn(s), engineOn(s)]);
  const shares = engines.map((_, i) => calls.filter((_, j) => j % engines.length === i));
  await Promise.all(
    engines.map(async (engine, i) => {
      const share = shares[i] ?? [];
      for (let k = 0; k < share.length; k += 6) {
        await Promise.all(share.slice(k, k + 6).map((c) => engine.ingestCall(c.raw, c.type)));
      }
    }),
  );
  return engines;
}

/** People seen anonymously on two devices, by userId alone and by email, then logging in on both. */
function overlappingCalls(people: number, seed: number) {
  const calls: Array<{ raw: Record<string, unknown>; type: 'track' | 'identify' }> = [];
  for (let p = 0; p < people; p++) {
    const a = `dev-a-${p}`;
    const b = `dev-b-${p}`;
    const userId = `person-${p}`;
    const email = `person-${p}@example.com`;
    for (let s = 0; s < 5; s++) calls.push({ raw: { anonymousId: a, event: 'Step' }, type: 'track' });
    for (let s = 0; s < 3; s++) calls.push({ raw: { anonymousId: b, event: 'Step' }, type: 'track' });
    for (let s = 0; s < 2; s++) calls.push({ raw: { userId, event: 'Step' }, type: 'track' });
    calls.push({ raw: { anonymousId: a, event: 'Step', context: { traits: { email } } }, type: 'track' });
    calls.push({ raw: { userId, anonymousId: a, traits: { email } }, type: 'identify' });
    calls.push({ raw: { userId, anonymousId: b }, type: 'identify' });
  }
  // Deterministic shuffle: both people's and nodes' orders interleave.
  let state = seed;
  const random = () => {
    state = (Math.imul(state, 1103515245) + 12345) & 0x7fffffff;
    return state / 0x80000000;
  };
  for (let i = calls.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [calls[i], calls[j]] = [calls[j] as (typeof calls)[number], calls[i] as (typeof calls)[number]];
  }
  return calls;
}

async function expectOneProfilePerPerson(schema: string, stores: Store[], engines: Engine[], people: number) {
  const store = stores[0] as Store;
  const engine = engines[0] as Engine;
  expect(await store.countProfiles()).toBe(people);
  for (let p = 0; p < people; p++) {
    const id = await engine.findProfileId('userId', `person-${p}`);
    expect(id).not.toBeNull();
    expect(await engine.findProfileId('anonymousId', `dev-a-${p}`)).toBe(id);
    expect(await engine.findProfileId('anonymousId', `dev-b-${p}`)).toBe(id);
    expect(await engine.findProfileId('email', `person-${p}@example.com`)).toBe(id);
    const view = await engine.getProfile(id as string);
    expect(view?.computed.eventCounts).toEqual({ Step: 11 });
    expect(await allEvents(engine, id as string)).toHaveLength(13);
  }
  const [counts] = await sql<{ events: number; orphaned: number; identities: number }>(
    `SELECT (SELECT count(*)::int FROM ${schema}.events) AS events,
            (SELECT count(*)::int FROM ${schema}.events e JOIN ${schema}.profiles p ON p.id = e.profile_id
              WHERE p.merged_into IS NOT NULL) AS orphaned,
            (SELECT count(*)::int FROM ${schema}.identities) AS identities`,
  );
  expect(counts).toEqual({ events: people * 13, orphaned: 0, identities: people * 4 });
}

describe('postgres store', () => {
  it('migrates once when several nodes start at the same time', async () => {
    const d = deployment(3);
    try {
      const [first] = d.stores as [Store];
      await Promise.all([...d.stores.map((s) => s.migrate()), first.migrate()]);
      await first.migrate();
      const versions = await sql<{ version: number }>(`SELECT version FROM ${d.schema}.schema_migrations ORDER BY version`);
      expect(versions.map((v) => v.version)).toEqual(MIGRATIONS.map((m) => m.version));
      const tables = await sql<{ t: string }>(
        `SELECT tablename AS t FROM pg_tables WHERE schemaname = $1 AND tablename = ANY($2) ORDER BY 1`,
        [d.schema, ['accounts', 'api_keys', 'claims', 'events_default', 'identities', 'profiles']],
      );
      expect(tables).toHaveLength(6);
      await first.transaction((tx) => tx.claim('message', ['works']));
    } finally {
      await d.cleanup();
    }
  });

  it('partitions events by month on demand, even when two nodes create the same partition at once', async () => {
    const d = deployment(2);
    try {
      await Promise.all(d.stores.map((s) => s.migrate()));
      const march1999 = Date.UTC(1999, 2, 14);
      await Promise.all(
        d.stores.map((s, i) =>
          s.transaction((tx) =>
            tx.appendEvents([storedEvent('p-1', `node-${i}-a`, march1999), storedEvent('p-1', `node-${i}-b`, march1999 + 31 * 86_400_000)]),
          ),
        ),
      );
      // Before 1970: outside the monthly partitions, kept by the default one.
      await d.stores[0]?.transaction((tx) => tx.appendEvents([storedEvent('p-1', 'old', Date.UTC(1960, 0, 1))]));
      const placed = await sql<{ message_id: string; part: string }>(
        `SELECT message_id, tableoid::regclass::text AS part FROM ${d.schema}.events ORDER BY message_id`,
      );
      expect(placed).toEqual([
        { message_id: 'node-0-a', part: `${d.schema}.events_p199903` },
        { message_id: 'node-0-b', part: `${d.schema}.events_p199904` },
        { message_id: 'node-1-a', part: `${d.schema}.events_p199903` },
        { message_id: 'node-1-b', part: `${d.schema}.events_p199904` },
        { message_id: 'old', part: `${d.schema}.events_default` },
      ]);
      const page = await d.stores[1]?.queryEvents({ profileId: 'p-1', limit: 10 });
      expect(page?.events.map((e) => e.messageId)).toEqual(['node-1-b', 'node-0-b', 'node-1-a', 'node-0-a', 'old']);
    } finally {
      await d.cleanup();
    }
  });

  it('runs the transaction again on serialization failures, deadlocks and unique violations', async () => {
    const d = deployment();
    try {
      const store = d.stores[0] as Store;
      await store.migrate();
      let attempts = 0;
      const codes = ['40001', '40P01', '23505'];
      const result = await store.transaction(async (tx) => {
        const fresh = await tx.claim('message', ['retried']);
        const code = codes[attempts++];
        if (code) throw codeError(code);
        return fresh;
      });
      // Each failed attempt was rolled back: the last one still found the key unclaimed.
      expect(result).toEqual(new Set(['retried']));
      expect(attempts).toBe(4);
    } finally {
      await d.cleanup();
    }
  });

  it('rethrows other errors at once, and conflicts after five retries', async () => {
    const d = deployment();
    try {
      const store = d.stores[0] as Store;
      await store.migrate();
      let attempts = 0;
      const other = codeError('22P02');
      await expect(
        store.transaction(async () => {
          attempts++;
          throw other;
        }),
      ).rejects.toBe(other);
      expect(attempts).toBe(1);

      attempts = 0;
      await expect(
        store.transaction(async () => {
          attempts++;
          throw codeError('40P01');
        }),
      ).rejects.toMatchObject({ code: '40P01' });
      expect(attempts).toBe(6);

      // A failed statement the function swallowed must not commit the rest silently.
      await expect(
        store.transaction(async (tx) => {
          await tx.claim('message', ['swallowed']);
          await tx.appendEvents([{ ...storedEvent('p', 'not-a-time', 0), timestamp: Number.NaN }]).catch(() => undefined);
        }),
      ).rejects.toThrow(/rolled back/);
      expect(await store.transaction((tx) => tx.claim('message', ['swallowed']))).toEqual(new Set(['swallowed']));
    } finally {
      await d.cleanup();
    }
  });

  it('resolves a real deadlock between two nodes by running the loser again', async () => {
    const d = deployment(2);
    try {
      const [one, two] = d.stores as [Store, Store];
      await one.migrate();
      await one.transaction((tx) =>
        tx.putProfiles(['a', 'b'].map((id) => ({ ...newProfile(id, Date.UTC(2025, 0, 1)), traits: { n: 0 } }))),
      );
      let arrived = 0;
      let release: () => void = () => undefined;
      const bothHoldOne = new Promise<void>((resolve) => {
        release = resolve;
      });
      const bump = (store: Store, first: string, second: string) =>
        store.transaction(async (tx) => {
          const p = (await tx.getProfiles([first])).get(first);
          if (++arrived === 2) release();
          await bothHoldOne;
          const q = (await tx.getProfiles([second])).get(second);
          if (!p || !q) throw new Error('missing profile');
          await tx.putProfiles([p, q].map((x) => ({ ...x, traits: { n: (x.traits.n as number) + 1 } })));
        });
      await Promise.all([bump(one, 'a', 'b'), bump(two, 'b', 'a')]);
      expect((await one.getProfile('a'))?.traits).toEqual({ n: 2 });
      expect((await one.getProfile('b'))?.traits).toEqual({ n: 2 });
    } finally {
      await d.cleanup();
    }
  });

  it('two nodes ingesting overlapping identities at once end with one profile per person and every event', async () => {
    const d = deployment(2);
    try {
      await Promise.all(d.stores.map((s) => s.migrate()));
      const people = 25;
      const engines = await ingestFromNodes(d.stores, overlappingCalls(people, 1));
      await expectOneProfilePerPerson(d.schema, d.stores, engines, people);
    } finally {
      await d.cleanup();
    }
  });

  it('nodes taking identity locks one by one and schema-wide work together', async () => {
    const schema = uniqueName('s');
    const fine = createPostgresStore({ connectionString: db.url, schema, poolSize: 4 });
    const coarse = createPostgresStore({ connectionString: db.url, schema, poolSize: 4, identityLockLimit: 1 });
    try {
      await Promise.all([fine.migrate(), coarse.migrate()]);
      const people = 20;
      const engines = await ingestFromNodes([fine, coarse], overlappingCalls(people, 2));
      await expectOneProfilePerPerson(schema, [fine, coarse], engines, people);
    } finally {
      await Promise.all([fine.close(), coarse.close()]);
      await sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    }
  });

  it('refuses work once closed, and closing twice is harmless', async () => {
    const d = deployment();
    const store = d.stores[0] as Store;
    await store.migrate();
    await d.cleanup();
    await expect(store.transaction(async () => 1)).rejects.toThrow(/closed/);
    await expect(store.close()).resolves.toBeUndefined();
  });

  it('rejects a schema name that is not a plain identifier', () => {
    expect(() => createPostgresStore({ connectionString: db.url, schema: 'bad"; DROP TABLE x; --' })).toThrow(/schema/);
  });
});

describe('postgres audit log migration', () => {
  it('moves audit entries kept as configuration documents into the audit table', async () => {
    const schema = uniqueName('s');
    const version = MIGRATIONS.find((m) => m.sql.includes('CREATE TABLE audit_log'))?.version as number;
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA ${schema}; SET search_path TO ${schema}`);
      await client.query('CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
      for (const m of MIGRATIONS.filter((x) => x.version < version)) {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      }
      const entry = { id: '001764748800000-abc', at: '2025-12-03T08:00:00.000Z', actor: { keyId: 'k-1', keyName: 'admin', role: 'admin' }, method: 'PUT', path: '/v1/audiences/vip', action: 'update', kind: 'audience', resourceId: 'vip', before: { name: 'A' }, after: { name: 'B' } };
      await client.query('INSERT INTO config_documents (kind, id, body, version, created_at, updated_at) VALUES ($1, $2, $3, 1, $4, $4)', ['audit', entry.id, JSON.stringify(entry), 1764748800000]);
      const personal = { ...entry, id: '001764748800001-def', kind: 'privacy-request', resourceId: 'er_1', before: { notice: { identities: [{ type: 'email', value: 'ada@example.com' }] } }, after: null };
      await client.query('INSERT INTO config_documents (kind, id, body, version, created_at, updated_at) VALUES ($1, $2, $3, 1, $4, $4)', ['audit', personal.id, JSON.stringify(personal), 1764748800001]);
      const store = createPostgresStore({ connectionString: db.url, schema, poolSize: 2 });
      try {
        await store.migrate();
        expect(await store.audit.list({ limit: 10 })).toEqual([{ id: personal.id, at: 1764748800001, kind: 'privacy-request', resourceId: 'er_1', keyId: 'k-1', body: { ...personal, before: null, after: null } }, { id: entry.id, at: 1764748800000, kind: 'audience', resourceId: 'vip', keyId: 'k-1', body: entry }]);
        expect(await store.docs.list('audit')).toEqual([]);
      } finally {
        await store.close();
      }
    } finally {
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    }
  });
});
