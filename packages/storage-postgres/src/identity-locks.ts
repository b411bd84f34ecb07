import type { PoolClient } from 'pg';

/** FNV-1a over UTF-16 code units, as a signed 32-bit integer: the same on every node. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/** A one-key advisory lock id (bigint space) for a name. */
export function advisoryKey(name: string): number {
  return hash32(name);
}

/**
 * Serializes identity resolution between server nodes with transaction advisory locks:
 * one exclusive lock per identifier (two-key space: schema, hash of `type:value`), taken in
 * ascending order in one statement, so lookups never deadlock each other.
 *
 * PostgreSQL's lock table is shared and small (max_locks_per_transaction × connections,
 * about 8000 entries by default), and a group of 2000 new visitors would need 4000 locks.
 * So locks form a two-level hierarchy: a transaction with at most `limit` identifiers holds
 * the schema-wide lock shared plus its per-identifier locks; a larger one holds the
 * schema-wide lock exclusively and nothing else, which excludes every other resolver.
 */
export class IdentityLocks {
  private mode: 'none' | 'shared' | 'exclusive' = 'none';

  constructor(
    private readonly client: PoolClient,
    private readonly space: { globalKey: number; namespace: number; limit: number },
  ) {}

  async lock(keys: Iterable<string>): Promise<void> {
    if (this.mode === 'exclusive') return;
    const hashes = [...new Set([...keys].map(hash32))].sort((a, b) => a - b);
    if (this.mode === 'none' && hashes.length > this.space.limit) {
      await this.client.query('SELECT pg_advisory_xact_lock($1::bigint)', [this.space.globalKey]);
      this.mode = 'exclusive';
      return;
    }
    const withGlobal = this.mode === 'none';
    if (hashes.length === 0 && !withGlobal) return;
    // Row 1 takes the schema-wide lock shared when this transaction does not hold it yet.
    await this.client.query(
      `SELECT count(CASE WHEN $3::boolean AND u.i = 1 THEN pg_advisory_xact_lock_shared($1::bigint)
                         ELSE pg_advisory_xact_lock($2::int, u.k) END)
         FROM unnest($4::int[]) WITH ORDINALITY AS u(k, i)`,
      [this.space.globalKey, this.space.namespace, withGlobal, withGlobal ? [0, ...hashes] : hashes],
    );
    this.mode = 'shared';
  }
}
