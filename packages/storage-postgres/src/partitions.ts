import type { PoolClient } from 'pg';
import { quoteIdent } from './migrations.ts';

/** One monthly partition of `events`: event times in [from, to), epoch ms, UTC. */
export interface Month {
  /** `YYYYMM`, also the partition name's suffix. */
  key: string;
  from: number;
  to: number;
}

/** The month an event time falls in; null outside 1970–9999, which the default partition takes. */
export function monthOf(ts: number): Month | null {
  if (!Number.isFinite(ts)) return null;
  const d = new Date(ts);
  const year = d.getUTCFullYear();
  if (Number.isNaN(year) || year < 1970 || year > 9999) return null;
  const month = d.getUTCMonth();
  return {
    key: `${year}${String(month + 1).padStart(2, '0')}`,
    from: Date.UTC(year, month, 1),
    to: Date.UTC(year, month + 1, 1),
  };
}

export function partitionName(month: Month): string {
  return `events_p${month.key}`;
}

/**
 * Thrown inside a transaction when its events need partitions that do not exist yet. The
 * store rolls back, creates them in their own short transactions and runs the function
 * again: `CREATE TABLE … PARTITION OF` locks the whole events table, which must not be held
 * for the rest of an ingest transaction, among that transaction's row and advisory locks.
 */
export class MissingPartitions extends Error {
  constructor(readonly months: Month[]) {
    super(`events partitions missing for ${months.map((m) => m.key).join(', ')}`);
    this.name = 'MissingPartitions';
  }
}

/** PostgreSQL error codes that mean another node created the partition first. */
const ALREADY_THERE = new Set([
  '42P07', // duplicate_table
  '23505', // unique_violation on pg_type when two CREATEs race
  '42P17', // a partition overlapping this range exists under another name
  '23514', // rows of this month already sit in the default partition: they stay there
]);

/** Knows which monthly partitions exist; creates missing ones on demand. */
export class Partitions {
  private readonly known = new Set<string>();

  constructor(private readonly schema: string) {}

  /** The months among `timestamps` with no partition yet; looks in the catalog once per new month. */
  async missing(client: PoolClient, timestamps: Iterable<number>): Promise<Month[]> {
    const wanted = new Map<string, Month>();
    for (const ts of timestamps) {
      const month = monthOf(ts);
      if (month && !this.known.has(month.key)) wanted.set(month.key, month);
    }
    if (wanted.size === 0) return [];
    const months = [...wanted.values()];
    const { rows } = await client.query<{ key: string }>(
      `SELECT m.key FROM unnest($1::text[], $2::text[]) AS m(key, name)
        WHERE to_regclass(quote_ident($3) || '.' || quote_ident(m.name)) IS NOT NULL`,
      [months.map((m) => m.key), months.map(partitionName), this.schema],
    );
    for (const r of rows) this.known.add(r.key);
    return months.filter((m) => !this.known.has(m.key));
  }

  /** Creates partitions outside any other transaction (autocommit); a concurrent creator is fine. */
  async create(client: PoolClient, months: Month[]): Promise<void> {
    const schema = quoteIdent(this.schema);
    for (const m of months) {
      try {
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${schema}.${quoteIdent(partitionName(m))}
             PARTITION OF ${schema}.events FOR VALUES FROM (${m.from}) TO (${m.to})`,
        );
      } catch (error) {
        if (!ALREADY_THERE.has((error as { code?: string }).code ?? '')) throw error;
      }
      this.known.add(m.key);
    }
  }

  /** Partitions for this month and the next ones, so live traffic rarely has to create one. */
  async prepare(client: PoolClient, now: number, monthsAhead = 2): Promise<void> {
    const d = new Date(now);
    const stamps: number[] = [];
    for (let i = 0; i <= monthsAhead; i++) stamps.push(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + i, 1));
    await this.create(client, await this.missing(client, stamps));
  }
}
