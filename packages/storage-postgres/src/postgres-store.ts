import {
  type ApiKeyRecord,
  type CatalogItem,
  catalogItemFromRow,
  catalogKey,
  catalogSupersedes,
  decisionProfileFromRow,
  decodeEventCursor,
  type EventPage,
  type EventQuery,
  encodeEventCursor,
  type IdentityRecord,
  type RecItem,
  recItemFromRow,
  recMetricSql,
  type Store,
  type StoredEvent,
  type StoreTx,
  statFromRow,
  type TransactionOptions,
} from '@attune/core';
import pg from 'pg';
import { openCounterSnapshot } from './counter-scan.ts';
import { advisoryKey, hash32, IdentityLocks } from './identity-locks.ts';
import { quoteIdent, runMigrations } from './migrations.ts';
import { MissingPartitions, Partitions } from './partitions.ts';
import { createPostgresTx } from './postgres-tx.ts';
import { type Row, toAccount, toDeadLetter, toDoc, toEvent, toKey, toProfile } from './rows.ts';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:5432/database` */
  connectionString: string;
  /** Schema holding Attune's tables (default `public`); created by migrate() when missing. */
  schema?: string;
  /** Most connections this node opens (default 10). */
  poolSize?: number;
  /**
   * Most identifiers a transaction locks one by one before it takes the schema-wide identity
   * lock instead (default 1024). See identity-locks.ts.
   */
  identityLockLimit?: number;
}

/** Errors after which the whole transaction function runs again. */
const RETRYABLE = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '23505', // unique_violation: two nodes inserting the same new row
]);
const MAX_RETRIES = 5;
const MAX_PARTITION_ROUNDS = 3;
const INT8_OID = 20;

/**
 * The production store: PostgreSQL, shared by any number of server nodes. Per-profile
 * updates are serialized by the database (advisory locks on identifiers, row locks on
 * profiles), transactions that lose a race run again, and every method costs a constant
 * number of round trips whatever the size of its input.
 */
export function createPostgresStore(options: PostgresStoreOptions): Store {
  const schema = options.schema ?? 'public';
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
    throw new Error(`schema "${schema}" must be a plain SQL identifier (letters, digits, _)`);
  }
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? 10,
    // Times are epoch milliseconds in bigint columns; they fit a double exactly.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID && format !== 'binary' ? Number : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // An idle connection that breaks (server restart) is dropped by the pool; without a
  // listener the error would crash the process.
  pool.on('error', () => undefined);

  // Every connection gets the schema on its search_path before its first use.
  const prepared = new WeakSet<pg.PoolClient>();
  async function connect(): Promise<pg.PoolClient> {
    const client = await pool.connect();
    if (prepared.has(client)) return client;
    try {
      await client.query(`SET search_path TO ${quoteIdent(schema)}`);
    } catch (error) {
      client.release(error instanceof Error ? error : true);
      throw error;
    }
    prepared.add(client);
    return client;
  }
  async function query<R extends pg.QueryResultRow>(text: string, params?: unknown[]): Promise<pg.QueryResult<R>> {
    const client = await connect();
    try {
      return await client.query<R>(text, params);
    } finally {
      client.release();
    }
  }

  const partitions = new Partitions(schema);
  const lockSpace = {
    globalKey: advisoryKey(`attune:${schema}:identities`),
    namespace: hash32(`attune:${schema}`),
    limit: options.identityLockLimit ?? 1024,
  };
  let closed = false;

  async function transaction<T>(fn: (tx: StoreTx) => Promise<T>, txOptions?: TransactionOptions): Promise<T> {
    let retries = 0;
    let partitionRounds = 0;
    for (;;) {
      if (closed) throw new Error('store is closed');
      const client = await connect();
      let broken: Error | undefined;
      try {
        await client.query(txOptions?.durable === false ? 'BEGIN; SET LOCAL synchronous_commit = off' : 'BEGIN');
        const result = await fn(createPostgresTx(client, new IdentityLocks(client, lockSpace), partitions));
        const commit = await client.query('COMMIT');
        // PostgreSQL answers COMMIT of a failed transaction with ROLLBACK, not an error.
        if (commit.command !== 'COMMIT') throw new Error('transaction rolled back: a statement in it failed');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch (e) {
          broken = e instanceof Error ? e : new Error(String(e));
        }
        if (!broken && error instanceof MissingPartitions && partitionRounds < MAX_PARTITION_ROUNDS) {
          partitionRounds++;
          await partitions.create(client, error.months);
          continue;
        }
        if (!broken && isRetryable(error) && retries < MAX_RETRIES) {
          retries++;
          await sleep(backoffMs(retries));
          continue;
        }
        throw error;
      } finally {
        client.release(broken);
      }
    }
  }

  const store: Store = {
    kind: 'postgres',
    async migrate() {
      const client = await connect();
      try {
        await runMigrations(client, schema);
        await partitions.prepare(client, Date.now());
      } finally {
        client.release();
      }
    },
    transaction,
    async getProfile(id) {
      const { rows } = await query<Row>(
        'SELECT id, merged_into, created_at, updated_at, data FROM profiles WHERE id = $1',
        [id],
      );
      return rows[0] ? toProfile(rows[0]) : null;
    },
    async expiredEvents(name, before, limit) {
      const { rows } = await query<Row>('SELECT profile_id, message_id, ts FROM events WHERE name = $1 AND ts < $2 ORDER BY ts, message_id LIMIT $3', [name, before, limit]);
      return rows.map((r) => ({ profileId: r.profile_id as string, messageId: r.message_id as string, timestamp: Number(r.ts) }));
    },
    async inactiveAnonymousProfiles(before, limit) {
      const { rows } = await query<Row>(
        `SELECT id FROM profiles p WHERE merged_into IS NULL AND updated_at < $1
           AND NOT EXISTS (SELECT 1 FROM identities i WHERE i.profile_id = p.id AND i.type <> 'anonymousId') ORDER BY id LIMIT $2`,
        [before, limit],
      );
      return rows.map((r) => r.id as string);
    },
    async decisionProfile(key) {
      const columns = `p.id, p.merged_into, p.data->'traits' AS traits, p.data->'computed' AS computed, p.data->'audiences' AS audiences,
        p.data->'experiments' AS experiments, p.data->'offerImpressions' AS offers, p.data->'consent'->'purposes' AS consent`;
      let { rows } = await query<Row>(`SELECT ${columns} FROM identities i JOIN profiles p ON p.id = i.profile_id WHERE i.type = $1 AND i.value = $2`, [key.type, key.value]);
      for (let hops = 0; rows[0]?.merged_into && hops < 100; hops++) {
        ({ rows } = await query<Row>(`SELECT ${columns} FROM profiles p WHERE p.id = $1`, [rows[0].merged_into]));
      }
      const row = rows[0];
      if (!row || row.merged_into) return null;
      return decisionProfileFromRow(row, (v) => v);
    },
    async findProfileId(key) {
      const { rows } = await query<{ profile_id: string }>(
        'SELECT profile_id FROM identities WHERE type = $1 AND value = $2',
        [key.type, key.value],
      );
      return rows[0]?.profile_id ?? null;
    },
    async listIdentities(profileId) {
      const { rows } = await query<Row>(
        'SELECT * FROM identities WHERE profile_id = $1 ORDER BY first_seen, type, value',
        [profileId],
      );
      return rows.map(
        (r): IdentityRecord => ({
          type: r.type as string,
          value: r.value as string,
          profileId: r.profile_id as string,
          firstSeen: r.first_seen as number,
        }),
      );
    },
    async queryEvents(q: EventQuery): Promise<EventPage> {
      const params: unknown[] = [q.profileId];
      const where = ['profile_id = $1'];
      const param = (value: unknown) => {
        params.push(value);
        return `$${params.length}`;
      };
      if (q.name !== undefined) where.push(`name = ${param(q.name)}`);
      if (q.since !== undefined) where.push(`ts >= ${param(q.since)}`);
      if (q.until !== undefined) where.push(`ts < ${param(q.until)}`);
      if (q.cursor !== undefined) {
        const c = decodeEventCursor(q.cursor);
        if (c) {
          const ts = param(c.timestamp);
          where.push(`(ts < ${ts} OR (ts = ${ts} AND message_id < ${param(c.messageId)}))`);
        }
      }
      const { rows } = await query<Row>(
        `SELECT message_id, profile_id, type, name, ts, received_at, message FROM events
          WHERE ${where.join(' AND ')} ORDER BY ts DESC, message_id DESC LIMIT ${param(q.limit + 1)}`,
        params,
      );
      const more = rows.length > q.limit;
      const events = rows.slice(0, q.limit).map(toEvent);
      const last = events[events.length - 1];
      return { events, nextCursor: more && last ? encodeEventCursor(last.timestamp, last.messageId) : null };
    },
    async historyOf(profileIds, names) {
      const out = new Map<string, StoredEvent[]>(profileIds.map((id) => [id, []]));
      if (profileIds.length === 0) return out;
      const { rows } = await query<Row>(
        `SELECT message_id, profile_id, type, name, ts, received_at, message FROM events
          WHERE profile_id = ANY($1::text[]) AND ($2::text[] IS NULL OR name = ANY($2::text[]))
          ORDER BY profile_id, ts, message_id`,
        [profileIds, names],
      );
      for (const r of rows) out.get(r.profile_id as string)?.push(toEvent(r));
      return out;
    },
    async getAccount(id) {
      const { rows } = await query<Row>('SELECT * FROM accounts WHERE id = $1', [id]);
      return rows[0] ? toAccount(rows[0]) : null;
    },
    counterSnapshot(specs) {
      return openCounterSnapshot(connect, specs);
    },
    async profileIds(after, limit) {
      const { rows } = await query<{ id: string }>(
        'SELECT id FROM profiles WHERE merged_into IS NULL AND id > $1 ORDER BY id LIMIT $2',
        [after ?? '', limit],
      );
      return rows.map((r) => r.id);
    },
    async dueChecks(now, limit) {
      const { rows } = await query<Row>(
        'SELECT profile_id, due_at FROM audience_checks WHERE due_at <= $1 ORDER BY due_at, profile_id LIMIT $2',
        [now, limit],
      );
      return rows.map((r) => ({ profileId: r.profile_id as string, at: Number(r.due_at) }));
    },
    outbox: {
      async read(consumer, limit) {
        const { rows } = await query<Row>(
          `SELECT o.* FROM outbox o
            WHERE o.seq > coalesce((SELECT seq FROM outbox_cursors WHERE consumer = $1), 0)
            ORDER BY o.seq LIMIT $2`,
          [consumer, limit],
        );
        return rows.map((r) => ({
          seq: Number(r.seq),
          topic: r.topic as string,
          key: r.key as string,
          payload: r.payload,
          createdAt: Number(r.created_at),
        }));
      },
      async ack(consumer, seq) {
        await query(
          `INSERT INTO outbox_cursors (consumer, seq) VALUES ($1, $2)
           ON CONFLICT (consumer) DO UPDATE SET seq = greatest(outbox_cursors.seq, excluded.seq)`,
          [consumer, seq],
        );
      },
      async cursor(consumer) {
        const { rows } = await query<Row>('SELECT seq FROM outbox_cursors WHERE consumer = $1', [consumer]);
        return rows[0] ? Number(rows[0].seq) : 0;
      },
      async deadLetter(l) {
        const { rows } = await query<Row>(
          'INSERT INTO outbox_dead_letters (consumer, seq, entry, error, attempts, at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
          [l.consumer, l.entry.seq, JSON.stringify(l.entry), l.error, l.attempts, l.at],
        );
        return { ...l, id: String(rows[0]?.id) };
      },
      async listDeadLetters(consumer) {
        const { rows } = await query<Row>('SELECT * FROM outbox_dead_letters WHERE consumer = $1 ORDER BY id', [consumer]);
        return rows.map(toDeadLetter);
      },
      async takeDeadLetter(consumer, id) {
        if (!/^\d+$/.test(id)) return null;
        const { rows } = await query<Row>('DELETE FROM outbox_dead_letters WHERE consumer = $1 AND id = $2 RETURNING *', [consumer, id]);
        return rows[0] ? toDeadLetter(rows[0]) : null;
      },
      async tail() {
        return outboxTail(query);
      },
      async prune(consumers, createdBefore) {
        let upTo = await outboxTail(query);
        if (consumers.length > 0) {
          const { rows } = await query<Row>(
            'SELECT coalesce(min(coalesce(c.seq, 0)), 0) AS seq FROM unnest($1::text[]) AS w(consumer) LEFT JOIN outbox_cursors c USING (consumer)',
            [consumers],
          );
          upTo = Math.min(upTo, Number(rows[0]?.seq ?? 0));
        }
        if (upTo <= 0) return 0;
        const { rowCount } = await query('DELETE FROM outbox WHERE seq <= $1 AND created_at < $2', [upTo, createdBefore]);
        return rowCount ?? 0;
      },
      async dropConsumer(consumer) {
        await query('DELETE FROM outbox_cursors WHERE consumer = $1', [consumer]);
        await query('DELETE FROM outbox_dead_letters WHERE consumer = $1', [consumer]);
      },
    },
    memberships: {
      async members(audienceId, { after, limit }) {
        const { rows } = await query<Row>(
          'SELECT profile_id, since FROM memberships WHERE audience_id = $1 AND profile_id > $2 ORDER BY profile_id LIMIT $3',
          [audienceId, after ?? '', limit],
        );
        return rows.map((r) => ({ profileId: r.profile_id as string, since: Number(r.since) }));
      },
      async count(audienceId) {
        const { rows } = await query<{ n: string | number }>('SELECT count(*) AS n FROM memberships WHERE audience_id = $1', [audienceId]);
        return Number(rows[0]?.n ?? 0);
      },
    },
    async countProfiles() {
      const { rows } = await query<{ n: number }>('SELECT count(*) AS n FROM profiles WHERE merged_into IS NULL');
      return rows[0]?.n ?? 0;
    },
    keys: {
      async put(k: ApiKeyRecord) {
        await query(
          'INSERT INTO api_keys (id, kind, name, hash, prefix, created_at, revoked_at, scope) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
          [k.id, k.kind, k.name, k.hash, k.prefix, k.createdAt, k.revokedAt, k.scope ? JSON.stringify(k.scope) : null],
        );
      },
      async list() {
        const { rows } = await query<Row>('SELECT * FROM api_keys ORDER BY created_at, id');
        return rows.map(toKey);
      },
      async findByHash(hash) {
        const { rows } = await query<Row>('SELECT * FROM api_keys WHERE hash = $1', [hash]);
        return rows[0] ? toKey(rows[0]) : null;
      },
      async revoke(id, at) {
        const result = await query('UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND (revoked_at IS NULL OR revoked_at > $1)', [at, id]);
        return result.rowCount === 1;
      },
    },
    async experimentStats(experimentId) {
      const { rows } = await query<Record<string, unknown>>(
        'SELECT experiment_id, variant, metric, count, sum, sum_squares FROM experiment_stats WHERE experiment_id = $1 ORDER BY variant, metric',
        [experimentId],
      );
      return rows.map(statFromRow);
    },
    recommend: {
      async putProducts(products) {
        const live = [...new Map(products.filter((p) => !p.deleted).map((p) => [p.id, p])).values()];
        const gone = [...new Set(products.filter((p) => p.deleted).map((p) => p.id))];
        if (live.length > 0) {
          await query(
            `INSERT INTO rec_items (id, category, brand, price, name, in_stock, attributes, from_catalog, deleted)
             SELECT u.*, true, false FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::text[], $6::boolean[], $7::jsonb[]) AS u
             ON CONFLICT (id) DO UPDATE SET category = excluded.category, brand = excluded.brand, price = excluded.price, name = excluded.name,
               in_stock = excluded.in_stock, attributes = excluded.attributes, from_catalog = true, deleted = false`,
            [
              live.map((p) => p.id),
              live.map((p) => p.category ?? null),
              live.map((p) => p.brand ?? null),
              live.map((p) => p.price ?? null),
              live.map((p) => p.name ?? null),
              live.map((p) => p.inStock ?? null),
              live.map((p) => JSON.stringify(p.attributes)),
            ],
          );
        }
        if (gone.length > 0) {
          await query(
            `INSERT INTO rec_items (id, from_catalog, deleted) SELECT id, true, true FROM unnest($1::text[]) AS id
             ON CONFLICT (id) DO UPDATE SET from_catalog = true, deleted = true`,
            [gone],
          );
        }
      },
      async items(ids) {
        const out = new Map<string, RecItem>();
        if (ids.length === 0) return out;
        const { rows } = await query<Row>('SELECT * FROM rec_items WHERE id = ANY($1::text[])', [[...new Set(ids)]]);
        for (const r of rows) out.set(r.id as string, recItemFromRow(r, (v) => v));
        return out;
      },
      async top(q) {
        const params: unknown[] = [];
        const p = (v: unknown) => {
          params.push(v);
          return `$${params.length}`;
        };
        const filter =
          q.category !== undefined ? `AND i.category = ${p(q.category)}` : q.brand !== undefined ? `AND i.brand = ${p(q.brand)}` : '';
        let sql: string;
        if (q.fromDay === undefined) {
          sql = `SELECT i.id, ${recMetricSql(q.metric, 'i')} AS n FROM rec_items i
                  WHERE NOT i.deleted ${filter} ORDER BY n DESC, i.id LIMIT ${p(q.limit)}`;
        } else {
          const days = `d.day >= ${p(q.fromDay)} AND d.day <= ${p(q.toDay ?? 2_147_483_647)}`;
          sql =
            filter === ''
              ? `SELECT d.item_id AS id, sum(${recMetricSql(q.metric, 'd')}) AS n FROM rec_item_days d
                  WHERE ${days} AND NOT EXISTS (SELECT 1 FROM rec_items i WHERE i.id = d.item_id AND i.deleted)
                  GROUP BY d.item_id HAVING sum(${recMetricSql(q.metric, 'd')}) > 0 ORDER BY n DESC, id LIMIT ${p(q.limit)}`
              : `SELECT i.id, sum(${recMetricSql(q.metric, 'd')}) AS n FROM rec_items i JOIN rec_item_days d ON d.item_id = i.id AND ${days}
                  WHERE NOT i.deleted ${filter} GROUP BY i.id HAVING sum(${recMetricSql(q.metric, 'd')}) > 0 ORDER BY n DESC, i.id LIMIT ${p(q.limit)}`;
        }
        const { rows } = await query<{ id: string; n: string }>(sql, params);
        return rows.map((r) => ({ id: r.id, n: Number(r.n) }));
      },
      async counts(ids, q) {
        const out = new Map<string, number>();
        if (ids.length === 0) return out;
        const { rows } = await query<{ id: string; n: string }>(
          `SELECT item_id AS id, sum(${recMetricSql(q.metric)}) AS n FROM rec_item_days
            WHERE item_id = ANY($1::text[]) AND day >= $2 AND day <= $3 GROUP BY item_id`,
          [[...new Set(ids)], q.fromDay, q.toDay ?? 2_147_483_647],
        );
        for (const r of rows) if (Number(r.n) > 0) out.set(r.id, Number(r.n));
        return out;
      },
      async related(kind, id, limit) {
        const { rows } = await query<{ id: string; n: string }>(
          'SELECT other_id AS id, n FROM rec_pairs WHERE kind = $1 AND item_id = $2 ORDER BY n DESC, other_id LIMIT $3',
          [kind, id, limit],
        );
        return rows.map((r) => ({ id: r.id, n: Number(r.n) }));
      },
    },
    catalog: {
      async apply(streamId, items, at) {
        // One statement: the later version of each item in the batch, kept where it supersedes
        // the stored one (the WHERE of ON CONFLICT applies the same rule as catalogSupersedes).
        const latest = new Map<string, CatalogItem>();
        for (const item of items) {
          const key = catalogKey(item);
          const prev = latest.get(key);
          const t = Date.parse(item.updatedAt);
          if (!prev || catalogSupersedes(t, { updatedAt: Date.parse(prev.updatedAt), deleted: prev.deleted === true })) latest.set(key, item);
        }
        const rows = [...latest.values()];
        const { rows: written } = await query<{ deleted: boolean }>(
          `INSERT INTO catalog_items AS c (stream_id, type, id, locale, updated_at, deleted, fields, received_at)
           SELECT $1, t, i, l, u, d, f, $2 FROM unnest($3::text[], $4::text[], $5::text[], $6::bigint[], $7::boolean[], $8::jsonb[]) AS x(t, i, l, u, d, f)
           ON CONFLICT (stream_id, type, id, locale) DO UPDATE SET updated_at = excluded.updated_at, deleted = excluded.deleted,
             fields = excluded.fields, received_at = excluded.received_at
           WHERE excluded.updated_at > c.updated_at OR (excluded.updated_at = c.updated_at AND NOT c.deleted)
           RETURNING deleted`,
          [
            streamId,
            at,
            rows.map((r) => r.type),
            rows.map((r) => r.id),
            rows.map((r) => r.locale ?? ''),
            rows.map((r) => Date.parse(r.updatedAt)),
            rows.map((r) => r.deleted === true),
            rows.map((r) => JSON.stringify(r.deleted ? [] : r.fields)),
          ],
        );
        const deleted = written.filter((r) => r.deleted).length;
        return { upserted: written.length - deleted, deleted, ignored: items.length - written.length };
      },
      async get(streamId, key) {
        const { rows } = await query<Row>('SELECT * FROM catalog_items WHERE stream_id = $1 AND type = $2 AND id = $3 AND locale = $4', [
          streamId,
          key.type,
          key.id,
          key.locale ?? '',
        ]);
        return rows[0] ? catalogItem(rows[0]) : null;
      },
      async list(streamId, options) {
        const after = options.after;
        const { rows } = await query<Row>(
          `SELECT * FROM catalog_items
            WHERE stream_id = $1 AND ($2::text IS NULL OR type = $2) AND ($3 OR NOT deleted)
              AND ($4::text IS NULL OR (type, id, locale) > ($4, $5, $6))
            ORDER BY type, id, locale LIMIT $7`,
          [streamId, options.type ?? null, options.includeDeleted === true, after?.type ?? null, after?.id ?? '', after?.locale ?? '', options.limit],
        );
        return rows.map(catalogItem);
      },
      async streams() {
        const { rows } = await query<Row>(
          `SELECT stream_id, count(*) FILTER (WHERE NOT deleted)::int AS items, count(*) FILTER (WHERE deleted)::int AS deleted,
                  max(received_at) AS last_received_at
             FROM catalog_items GROUP BY stream_id ORDER BY stream_id`,
        );
        return rows.map((r) => ({
          streamId: r.stream_id as string,
          items: r.items as number,
          deleted: r.deleted as number,
          lastReceivedAt: r.last_received_at as number,
        }));
      },
    },
    docs: {
      async get(kind, id) {
        const { rows } = await query<Row>('SELECT * FROM config_documents WHERE kind = $1 AND id = $2', [kind, id]);
        return rows[0] ? toDoc(rows[0]) : null;
      },
      async list(kind) {
        const { rows } = await query<Row>('SELECT * FROM config_documents WHERE kind = $1 ORDER BY id', [kind]);
        return rows.map(toDoc);
      },
      async put(kind, id, body, expectedVersion, at) {
        const json = JSON.stringify(body);
        const { rows } =
          expectedVersion === 0
            ? await query<Row>(
                `INSERT INTO config_documents (kind, id, body, version, created_at, updated_at) VALUES ($1, $2, $3, 1, $4, $4)
                 ON CONFLICT (kind, id) DO NOTHING RETURNING *`,
                [kind, id, json, at],
              )
            : await query<Row>(
                `UPDATE config_documents SET body = $3, version = version + 1, updated_at = $4
                  WHERE kind = $1 AND id = $2 AND version = $5 RETURNING *`,
                [kind, id, json, at, expectedVersion],
              );
        return rows[0] ? toDoc(rows[0]) : null;
      },
      async delete(kind, id) {
        const result = await query('DELETE FROM config_documents WHERE kind = $1 AND id = $2', [kind, id]);
        return result.rowCount === 1;
      },
    },
    audit: {
      async append(records) {
        if (records.length === 0) return;
        await query(
          `INSERT INTO audit_log (id, at, kind, resource_id, key_id, body)
           SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::jsonb[])`,
          [
            records.map((r) => r.id),
            records.map((r) => r.at),
            records.map((r) => r.kind),
            records.map((r) => r.resourceId),
            records.map((r) => r.keyId),
            records.map((r) => JSON.stringify(r.body)),
          ],
        );
      },
      async list(q) {
        const where: string[] = [];
        const params: unknown[] = [];
        const add = (sql: string, v: unknown) => {
          params.push(v);
          where.push(sql.replace('?', `$${params.length}`));
        };
        if (q.kind !== undefined) add('kind = ?', q.kind);
        if (q.resourceId !== undefined) add('resource_id = ?', q.resourceId);
        if (q.keyId !== undefined) add('key_id = ?', q.keyId);
        if (q.since !== undefined) add('at >= ?', q.since);
        if (q.before !== undefined) add('id < ?', q.before);
        params.push(q.limit);
        const { rows } = await query<Row>(
          `SELECT * FROM audit_log ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${params.length}`,
          params,
        );
        return rows.map((r) => ({
          id: r.id as string,
          at: Number(r.at),
          kind: r.kind as string,
          resourceId: (r.resource_id as string | null) ?? null,
          keyId: (r.key_id as string | null) ?? null,
          body: r.body,
        }));
      },
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
  return store;
}

const catalogItem = (row: Row) => catalogItemFromRow(row, (v) => v);


function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE.has(code);
}

/** 10, 20, 40, 80, 160 ms, each jittered by ±50%, so racing nodes do not collide again. */
function backoffMs(retry: number): number {
  return 5 * 2 ** retry * (0.5 + Math.random());
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}


/** The highest outbox seq handed out (0 before any), from the sequence: deleted rows do not lower it. */
async function outboxTail(query: (text: string) => Promise<pg.QueryResult<Row>>): Promise<number> {
  const { rows } = await query('SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS seq FROM outbox_seq_seq');
  return Number(rows[0]?.seq ?? 0);
}
