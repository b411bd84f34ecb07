import type { PoolClient } from 'pg';
import { advisoryKey } from './identity-locks.ts';

/**
 * Numbered schema migrations. Each runs in its own transaction and is recorded in
 * `schema_migrations`; never edit one that has shipped, add the next number instead.
 * Ids and message ids use the "C" collation: byte order, as SQLite compares them, so both
 * stores page events in the same order.
 */
export const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'initial',
    sql: `
      CREATE TABLE claims (
        scope text NOT NULL,
        key text COLLATE "C" NOT NULL,
        PRIMARY KEY (scope, key)
      );

      CREATE TABLE profiles (
        id text COLLATE "C" PRIMARY KEY,
        merged_into text COLLATE "C",
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL,
        data jsonb NOT NULL
      );

      CREATE TABLE identities (
        type text COLLATE "C" NOT NULL,
        value text COLLATE "C" NOT NULL,
        profile_id text COLLATE "C" NOT NULL,
        first_seen bigint NOT NULL,
        PRIMARY KEY (type, value)
      );
      CREATE INDEX identities_by_profile ON identities (profile_id);

      -- Monthly range partitions on the event time are created on demand (partitions.ts);
      -- the default partition only catches what falls outside them.
      CREATE TABLE events (
        message_id text COLLATE "C" NOT NULL,
        profile_id text COLLATE "C" NOT NULL,
        type text NOT NULL,
        name text COLLATE "C" NOT NULL,
        ts bigint NOT NULL,
        received_at bigint NOT NULL,
        message jsonb NOT NULL
      ) PARTITION BY RANGE (ts);
      CREATE TABLE events_default PARTITION OF events DEFAULT;
      CREATE INDEX events_by_profile_time ON events (profile_id, ts, message_id);
      CREATE INDEX events_by_profile_name_time ON events (profile_id, name, ts, message_id);

      CREATE TABLE accounts (
        id text COLLATE "C" PRIMARY KEY,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL,
        traits jsonb NOT NULL
      );

      CREATE TABLE api_keys (
        id text COLLATE "C" PRIMARY KEY,
        kind text NOT NULL,
        name text NOT NULL,
        hash text NOT NULL UNIQUE,
        prefix text NOT NULL,
        created_at bigint NOT NULL,
        revoked_at bigint
      );
    `,
  },
  {
    version: 2,
    name: 'config documents',
    sql: `
      CREATE TABLE config_documents (
        kind text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        body jsonb NOT NULL,
        version integer NOT NULL,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL,
        PRIMARY KEY (kind, id)
      );
    `,
  },
  {
    version: 3,
    name: 'audience memberships and checks',
    sql: `
      CREATE TABLE memberships (
        audience_id text COLLATE "C" NOT NULL,
        profile_id text COLLATE "C" NOT NULL,
        since bigint NOT NULL,
        PRIMARY KEY (audience_id, profile_id)
      );
      CREATE INDEX memberships_by_profile ON memberships (profile_id);

      CREATE TABLE audience_checks (
        profile_id text COLLATE "C" PRIMARY KEY,
        due_at bigint NOT NULL
      );
      CREATE INDEX audience_checks_by_time ON audience_checks (due_at);
    `,
  },
  {
    version: 4,
    name: 'outbox',
    sql: `
      CREATE TABLE outbox (
        seq bigserial PRIMARY KEY,
        topic text NOT NULL,
        key text NOT NULL,
        payload jsonb NOT NULL,
        created_at bigint NOT NULL
      );
      CREATE TABLE outbox_cursors (
        consumer text PRIMARY KEY,
        seq bigint NOT NULL
      );
      CREATE TABLE outbox_dead_letters (
        id bigserial PRIMARY KEY,
        consumer text NOT NULL,
        seq bigint NOT NULL,
        entry jsonb NOT NULL,
        error text NOT NULL,
        attempts integer NOT NULL,
        at bigint NOT NULL
      );
      CREATE INDEX outbox_dead_letters_by_consumer ON outbox_dead_letters (consumer, id);
    `,
  },
  {
    version: 5,
    name: 'experiment stats',
    sql: `
      CREATE TABLE experiment_stats (
        experiment_id text NOT NULL,
        variant text NOT NULL,
        metric text NOT NULL,
        count bigint NOT NULL,
        sum double precision NOT NULL,
        sum_squares double precision NOT NULL,
        PRIMARY KEY (experiment_id, variant, metric)
      );
    `,
  },
  {
    version: 6,
    name: 'catalog',
    sql: `
      CREATE TABLE catalog_items (
        stream_id text COLLATE "C" NOT NULL,
        type text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        locale text COLLATE "C" NOT NULL,
        updated_at bigint NOT NULL,
        deleted boolean NOT NULL,
        fields jsonb NOT NULL,
        received_at bigint NOT NULL,
        PRIMARY KEY (stream_id, type, id, locale)
      );
    `,
  },
  {
    version: 7,
    name: 'recommendations',
    sql: `
      -- Item attributes and totals, per-day counts and co-occurrence pairs (one row per
      -- direction), kept by ingestion; catalog attributes win over event properties.
      CREATE TABLE rec_items (
        id text COLLATE "C" PRIMARY KEY,
        category text,
        brand text,
        price double precision,
        name text,
        in_stock boolean,
        attributes jsonb NOT NULL DEFAULT '{}',
        from_catalog boolean NOT NULL DEFAULT false,
        deleted boolean NOT NULL DEFAULT false,
        views bigint NOT NULL DEFAULT 0,
        carts bigint NOT NULL DEFAULT 0,
        purchases bigint NOT NULL DEFAULT 0
      );
      CREATE INDEX rec_items_by_category ON rec_items (category);
      CREATE INDEX rec_items_by_brand ON rec_items (brand);

      CREATE TABLE rec_item_days (
        item_id text COLLATE "C" NOT NULL,
        day integer NOT NULL,
        views bigint NOT NULL,
        carts bigint NOT NULL,
        purchases bigint NOT NULL,
        PRIMARY KEY (item_id, day)
      );
      CREATE INDEX rec_item_days_by_day ON rec_item_days (day);

      CREATE TABLE rec_pairs (
        kind text NOT NULL,
        item_id text COLLATE "C" NOT NULL,
        other_id text COLLATE "C" NOT NULL,
        n bigint NOT NULL,
        PRIMARY KEY (kind, item_id, other_id)
      );
    `,
  },
  {
    version: 8,
    name: 'suppressions',
    sql: `
      CREATE TABLE suppressions (
        key text COLLATE "C" PRIMARY KEY,
        until bigint NOT NULL
      );
    `,
  },
  {
    version: 9,
    name: 'key scopes',
    sql: `
      ALTER TABLE api_keys ADD COLUMN scope jsonb;
      -- Secret keys made before roles existed keep full access.
      UPDATE api_keys SET scope = '{"role":"admin"}'::jsonb WHERE kind = 'secret';
    `,
  },
  {
    version: 10,
    name: 'recommendation queue',
    sql: `
      -- One row per ingest transaction's recommendation counters, folded into rec_* in bulk.
      CREATE TABLE rec_queue (
        seq bigserial PRIMARY KEY,
        writes text NOT NULL
      );
    `,
  },
  {
    version: 11,
    name: 'audit log',
    sql: `
      -- Append-only, newest first by id (the time, zero-padded, then random).
      CREATE TABLE audit_log (
        id text COLLATE "C" PRIMARY KEY,
        at bigint NOT NULL,
        kind text COLLATE "C" NOT NULL,
        resource_id text COLLATE "C",
        key_id text COLLATE "C",
        body jsonb NOT NULL
      );
      CREATE INDEX audit_log_by_at ON audit_log (at);
      CREATE INDEX audit_log_by_kind ON audit_log (kind, id);
      CREATE INDEX audit_log_by_resource ON audit_log (resource_id, id);
      CREATE INDEX audit_log_by_key ON audit_log (key_id, id);
      -- Entries kept as configuration documents before the table existed move into it, without
      -- the personal data of privacy requests, access exports and retention plans they copied.
      INSERT INTO audit_log (id, at, kind, resource_id, key_id, body)
        SELECT id, created_at, COALESCE(body->>'kind', 'request'), body->>'resourceId', body#>>'{actor,keyId}',
               CASE WHEN body->>'kind' IN ('privacy-request', 'access-export-page', 'retention-plan')
                    THEN body || '{"before": null, "after": null}'::jsonb ELSE body END
          FROM config_documents WHERE kind = 'audit';
      DELETE FROM config_documents WHERE kind = 'audit';
    `,
  },
];

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Applies the migrations not yet recorded, under a session advisory lock so that nodes
 * starting together run each migration once: the others wait, then find nothing to do.
 */
export async function runMigrations(client: PoolClient, schema: string): Promise<void> {
  const lock = advisoryKey(`attune:${schema}:migrate`);
  await client.query('SELECT pg_advisory_lock($1)', [lock]);
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await client.query(`SET search_path TO ${quoteIdent(schema)}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version integer PRIMARY KEY,
         name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const applied = new Set(
      (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version),
    );
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [lock]);
  }
}
