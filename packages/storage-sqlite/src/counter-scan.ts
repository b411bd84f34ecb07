import type { CounterRow, CounterScanSpec, CounterSnapshot, JsonValue, VersionedProfile } from '@attune/core';
import Database from 'better-sqlite3';

/** Rows and profiles handed to the core per batch. */
const BATCH = 2000;

interface CounterQuery {
  /** The WHERE clause, with `?` placeholders. */
  where: string;
  params: unknown[];
  /** Selected after profile_id, name, ts: one JSON column per property, or one for all properties. */
  columns: string;
  columnParams: unknown[];
  /** Property names of the columns, or null when the one column holds every property. */
  heads: string[] | null;
}

const property = (name: string) => `$.properties.${name}`;

/**
 * The counter specs as SQL on the events table: event name, window start and pushed filters
 * read from the stored message with json_extract, as a hand-written query would.
 */
export function counterQuery(specs: CounterScanSpec[]): CounterQuery {
  const params: unknown[] = [];
  const alternatives = specs.map((spec) => {
    const terms = ['name = ?'];
    params.push(spec.event);
    if (spec.after !== null) {
      terms.push('ts > ?');
      params.push(spec.after);
    }
    for (const f of spec.where) {
      const x = 'json_extract(message, ?)';
      params.push(property(f.property));
      if (f.op === 'exists') terms.push(`${x} IS NOT NULL`);
      else if (f.op === 'eq') {
        terms.push(f.values.length === 1 ? `${x} = ?` : `${x} IN (${f.values.map(() => '?').join(', ')})`);
        params.push(...f.values);
      } else {
        terms.push(`${x} ${{ gt: '>', gte: '>=', lt: '<', lte: '<=' }[f.op]} ?`);
        params.push(f.value);
      }
    }
    return `(${terms.join(' AND ')})`;
  });
  const where = `type IN ('track', 'page', 'screen') AND (${alternatives.length > 0 ? alternatives.join(' OR ') : '0'})`;
  const wanted = [...new Set(specs.flatMap((s) => s.properties))].sort();
  // A name JSON paths cannot quote: take the whole properties object.
  if (wanted.some((h) => h.includes('"') || h.includes('\\'))) {
    return { where, params, columns: ", message -> '$.properties'", columnParams: [], heads: null };
  }
  return {
    where,
    params,
    columns: wanted.map(() => ', message -> ?').join(''),
    columnParams: wanted.map((h) => `$.properties."${h}"`),
    heads: wanted,
  };
}

/** A raw row (profile_id, name, ts, JSON columns…) as the core reads it. */
export function toCounterRow(raw: unknown[], heads: string[] | null): CounterRow {
  const properties: Record<string, JsonValue> = {};
  if (heads === null) {
    const all = raw[3] === null || raw[3] === undefined ? null : JSON.parse(raw[3] as string);
    if (all !== null && typeof all === 'object' && !Array.isArray(all)) Object.assign(properties, all);
  } else {
    for (let i = 0; i < heads.length; i++) {
      const v = raw[3 + i];
      if (v !== null && v !== undefined) Object.defineProperty(properties, heads[i] as string, { value: JSON.parse(v as string), enumerable: true, writable: true, configurable: true });
    }
  }
  return { profileId: raw[0] as string, name: raw[1] as string, ts: raw[2] as number, properties };
}

/**
 * Whether a profile document (JSON text, as putProfiles writes it) may hold counters, memberships
 * or a scheduled check: a cheap text search first, the JSON read only where it finds something.
 */
const MAY_HOLD_STATE = `(
  (instr(data, '"counters":{"') > 0 AND json_extract(data, '$.counters') <> '{}')
  OR (instr(data, '"audiences":{"') > 0 AND json_extract(data, '$.audiences') <> '{}')
  OR (instr(data, '"nextCheckAt":') > 0 AND json_extract(data, '$.nextCheckAt') IS NOT NULL))`;


function* batches<T, R>(rows: Iterable<T>, map: (row: T) => R): Generator<R[]> {
  let batch: R[] = [];
  for (const row of rows) {
    batch.push(map(row));
    if (batch.length >= BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

async function* lift<T>(sync: Iterable<T>): AsyncGenerator<T> {
  for (const item of sync) {
    yield item;
    // Let other work (ingestion, HTTP) run between batches.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * A consistent read for a set-based recompute. On a file the reads run on a second, read-only
 * connection inside one read transaction (WAL keeps its snapshot while the store writes); an
 * in-memory database has no second connection, so both results are read at once instead.
 */
export function openCounterSnapshot(
  db: Database.Database,
  filename: string,
  specs: CounterScanSpec[],
): CounterSnapshot {
  const q = counterQuery(specs);
  // One pass over the table in storage order, then a sort of the matching rows: the planner
  // would walk the profile index for the ORDER BY instead, one random table read per indexed
  // event (about 1.5× slower at 20M events, and worse once the table outgrows the page cache).
  const rowsSql = `SELECT profile_id, name, ts${q.columns} FROM events NOT INDEXED WHERE ${q.where} ORDER BY profile_id, ts, message_id`;
  const profilesSql = (withState: boolean) =>
    `SELECT id, created_at, updated_at, data FROM profiles WHERE merged_into IS NULL${withState ? ` AND ${MAY_HOLD_STATE}` : ''} ORDER BY id`;
  const byIdSql = 'SELECT id, created_at, updated_at, data FROM profiles WHERE id = ? AND merged_into IS NULL';
  const versioned = (row: Record<string, unknown>): VersionedProfile => ({
    id: row.id as string,
    createdAt: row.created_at as number,
    updatedAt: row.updated_at as number,
    data: JSON.parse(row.data as string),
    // The version token of a live row is its document: any write changes it (putAudienceStates compares it).
    version: row.data as string,
  });
  if (filename === ':memory:') {
    // Both results now, before anything else writes: that is the snapshot.
    const profiles = { all: db.prepare(profilesSql(false)).all(), withState: db.prepare(profilesSql(true)).all() } as Record<string, Array<Record<string, unknown>>>;
    const byId = new Map((profiles.all ?? []).map((r) => [r.id as string, r]));
    const rows = db.prepare(rowsSql).raw().all(...q.columnParams, ...q.params) as unknown[][];
    return {
      rows: () => lift(batches(rows, (r) => toCounterRow(r, q.heads))),
      profiles: ({ withState }) => lift(batches((withState ? profiles.withState : profiles.all) ?? [], versioned)),
      profilesById: async (ids) => ids.flatMap((id) => (byId.has(id) ? [versioned(byId.get(id) as Record<string, unknown>)] : [])),
      close: async () => undefined,
    };
  }
  const reader = new Database(filename, { readonly: true, fileMustExist: true });
  reader.pragma('cache_size = -65536');
  reader.pragma('temp_store = MEMORY');
  reader.exec('BEGIN');
  // The snapshot starts at the first read: take it now, when the caller asked for it.
  reader.prepare('SELECT count(*) FROM sqlite_master').get();
  return {
    rows: () => lift(batches(reader.prepare(rowsSql).raw().iterate(...q.columnParams, ...q.params) as Iterable<unknown[]>, (r) => toCounterRow(r, q.heads))),
    profiles: ({ withState }) => lift(batches(reader.prepare(profilesSql(withState)).iterate() as Iterable<Record<string, unknown>>, versioned)),
    async profilesById(ids) {
      const s = reader.prepare(byIdSql);
      return ids.flatMap((id) => {
        const row = s.get(id) as Record<string, unknown> | undefined;
        return row ? [versioned(row)] : [];
      });
    },
    async close() {
      if (reader.inTransaction) reader.exec('COMMIT');
      reader.close();
    },
  };
}
