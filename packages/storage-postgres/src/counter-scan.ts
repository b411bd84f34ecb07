import type { CounterRow, CounterScanSpec, CounterSnapshot, JsonValue, ProfileData, VersionedProfile } from '@attune/core';
import type { PoolClient } from 'pg';
import type { Row } from './rows.ts';

/** Rows and profiles handed to the core per batch. */
const BATCH = 2000;

interface CounterQuery {
  where: string;
  /** Selected after profile_id, name, ts: one JSON text column per property. */
  columns: string;
  heads: string[];
  params: unknown[];
}

/**
 * The counter specs as SQL on the events table: event name, window start and pushed filters
 * read from the stored message with jsonb operators, as a hand-written query would.
 * Parameters are numbered from `first`.
 */
export function counterQuery(specs: CounterScanSpec[], first = 1): CounterQuery {
  const params: unknown[] = [];
  const p = (v: unknown) => `$${params.push(v) + first - 1}`;
  const number = (x: string) => `(CASE WHEN jsonb_typeof(${x}) = 'number' THEN (${x})::float8 END)`;
  const alternatives = specs.map((spec) => {
    const terms = [`name = ${p(spec.event)}`];
    if (spec.after !== null) terms.push(`ts > ${p(spec.after)}`);
    for (const f of spec.where) {
      const key = p(f.property);
      const x = `message->'properties'->${key}`;
      if (f.op === 'exists') terms.push(`coalesce(jsonb_typeof(${x}), 'null') <> 'null'`);
      else if (f.op === 'eq') {
        const strings = f.values.filter((v) => typeof v === 'string');
        const numbers = f.values.filter((v) => typeof v === 'number');
        const either: string[] = [];
        if (strings.length > 0) either.push(`message->'properties'->>${key} = ANY(${p(strings)}::text[])`);
        if (numbers.length > 0) either.push(`${number(x)} = ANY(${p(numbers)}::float8[])`);
        terms.push(either.length === 1 ? (either[0] as string) : `(${either.join(' OR ')})`);
      } else terms.push(`${number(x)} ${{ gt: '>', gte: '>=', lt: '<', lte: '<=' }[f.op]} ${p(f.value)}`);
    }
    return `(${terms.join(' AND ')})`;
  });
  const where = `type IN ('track', 'page', 'screen') AND (${alternatives.length > 0 ? alternatives.join(' OR ') : 'false'})`;
  const heads = [...new Set(specs.flatMap((s) => s.properties))].sort();
  const columns = heads.map((h) => `, (message->'properties'->${p(h)})::text`).join('');
  return { where, columns, heads, params };
}

/** A row (profile_id, name, ts, JSON texts…) as the core reads it. */
export function toCounterRow(raw: unknown[], heads: string[]): CounterRow {
  const properties: Record<string, JsonValue> = {};
  for (let i = 0; i < heads.length; i++) {
    const v = raw[3 + i];
    if (v !== null && v !== undefined) Object.defineProperty(properties, heads[i] as string, { value: JSON.parse(v as string), enumerable: true, writable: true, configurable: true });
  }
  return { profileId: raw[0] as string, name: raw[1] as string, ts: raw[2] as number, properties };
}

/** Counter rows of some profiles, in the caller's transaction. */
export async function counterRowsOf(client: PoolClient, specs: CounterScanSpec[], profileIds: string[]): Promise<CounterRow[]> {
  if (profileIds.length === 0) return [];
  const q = counterQuery(specs, 2);
  const { rows } = await client.query<unknown[]>({
    text: `SELECT profile_id, name, ts${q.columns} FROM events WHERE profile_id = ANY($1::text[]) AND ${q.where} ORDER BY profile_id, ts, message_id`,
    values: [[...new Set(profileIds)], ...q.params],
    rowMode: 'array',
  });
  return rows.map((r) => toCounterRow(r, q.heads));
}

const PROFILE_COLUMNS = 'id, created_at, updated_at, data, xmin::text AS version';

/** Prefix of an unreadVersion; the rest is the snapshot as pg_current_snapshot() gives it. */
export const UNREAD = 'snapshot:';

/** Whether a profile document may hold counters, memberships or a scheduled check. */
const MAY_HOLD_STATE = `(data->'counters' <> '{}'::jsonb OR data->'audiences' <> '{}'::jsonb OR coalesce(data->'nextCheckAt', 'null'::jsonb) <> 'null'::jsonb)`;

const versioned = (r: Row): VersionedProfile => ({
  id: r.id as string,
  createdAt: r.created_at as number,
  updatedAt: r.updated_at as number,
  data: r.data as Partial<ProfileData>,
  version: r.version as string,
});

/**
 * A consistent read for a set-based recompute: a REPEATABLE READ transaction holds the snapshot
 * and pages the profiles through a cursor; the events are read once with a plain query
 * (PostgreSQL may run it in parallel, which it never does for a cursor) on a second connection
 * that imports the same snapshot and ends at once, so no lock on `events` outlives the read (the
 * recompute appends membership events, which may have to create a partition). A profile's
 * version is its row's xmin: any write of the row after the snapshot gives it another.
 */
export async function openCounterSnapshot(connect: () => Promise<PoolClient>, specs: CounterScanSpec[]): Promise<CounterSnapshot> {
  const client = await connect();
  let snapshotId: string;
  let visible: string;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const row = (await client.query<{ id: string; snap: string }>('SELECT pg_export_snapshot() AS id, pg_current_snapshot()::text AS snap')).rows[0];
    snapshotId = row?.id as string;
    visible = row?.snap as string;
  } catch (error) {
    client.release(error instanceof Error ? error : true);
    throw error;
  }
  const q = counterQuery(specs);
  return {
    // putAudienceStates accepts a row not read when its xmin is visible in this snapshot.
    unreadVersion: `${UNREAD}${visible}`,
    async *rows() {
      const reader = await connect();
      let rows: unknown[][];
      try {
        await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        await reader.query(`SET TRANSACTION SNAPSHOT '${snapshotId.replace(/'/g, "''")}'`);
        // One sort of every matching event: let it stay in memory.
        await reader.query("SET LOCAL work_mem = '128MB'");
        ({ rows } = await reader.query<unknown[]>({
          text: `SELECT profile_id, name, ts${q.columns} FROM events WHERE ${q.where} ORDER BY profile_id, ts, message_id`,
          values: q.params,
          rowMode: 'array',
        }));
        await reader.query('COMMIT');
        reader.release();
      } catch (error) {
        reader.release(error instanceof Error ? error : true);
        throw error;
      }
      for (let i = 0; i < rows.length; i += BATCH) {
        const batch = rows.slice(i, i + BATCH).map((r) => toCounterRow(r, q.heads));
        // Let the rows handed out go: the whole result would otherwise stay alive until the end.
        rows.fill(undefined as unknown as unknown[], i, i + BATCH);
        yield batch;
      }
    },
    async *profiles({ withState }) {
      await client.query(
        `DECLARE attune_recompute_profiles NO SCROLL CURSOR FOR
           SELECT ${PROFILE_COLUMNS} FROM profiles WHERE merged_into IS NULL${withState ? ` AND ${MAY_HOLD_STATE}` : ''} ORDER BY id`,
      );
      for (;;) {
        const { rows } = await client.query<Row>(`FETCH ${BATCH} FROM attune_recompute_profiles`);
        if (rows.length === 0) break;
        yield rows.map(versioned);
      }
      await client.query('CLOSE attune_recompute_profiles');
    },
    async profilesById(ids) {
      if (ids.length === 0) return [];
      const { rows } = await client.query<Row>(`SELECT ${PROFILE_COLUMNS} FROM profiles WHERE id = ANY($1::text[]) AND merged_into IS NULL ORDER BY id`, [ids]);
      return rows.map(versioned);
    },
    async close() {
      try {
        await client.query('COMMIT');
        client.release();
      } catch (error) {
        client.release(error instanceof Error ? error : true);
        throw error;
      }
    },
  };
}
