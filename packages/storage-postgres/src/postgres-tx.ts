import { type AccountRecord, type ErasedProfile, type ProfileRecord, type StoreTx, sumStatDeltas } from '@attune/core';
import type { PoolClient } from 'pg';
import { counterRowsOf, UNREAD } from './counter-scan.ts';
import type { IdentityLocks } from './identity-locks.ts';
import { MissingPartitions, type Partitions } from './partitions.ts';
import { identityString, profileData, type Row, toAccount, toProfile } from './rows.ts';

/**
 * The operations of one transaction on its connection. Each is one or a few statements
 * whatever the number of keys or rows (arrays through `= ANY` and `unnest`): the ingest path
 * calls each once per group of up to 2000 events.
 */
/** Advisory lock key serialising outbox writers (an arbitrary constant: 'attune outbox'). */
const OUTBOX_LOCK = 0x6174746f;

export function createPostgresTx(client: PoolClient, locks: IdentityLocks, partitions: Partitions): StoreTx {
  return {
    async claim(scope, keys) {
      if (keys.length === 0) return new Set();
      // Sorted, so two transactions claiming overlapping keys wait in the same order.
      const unique = [...new Set(keys)].sort();
      const { rows } = await client.query<{ key: string }>(
        `INSERT INTO claims (scope, key) SELECT $1, k FROM unnest($2::text[]) AS k
         ON CONFLICT DO NOTHING RETURNING key`,
        [scope, unique],
      );
      return new Set(rows.map((r) => r.key));
    },
    async lookupIdentities(keys) {
      const out = new Map<string, string>();
      if (keys.length === 0) return out;
      // Locked before reading (a statement of its own: its snapshot must follow the wait),
      // so a node resolving the same visitor sees what the other one committed.
      await locks.lock(keys.map(identityString));
      const { rows } = await client.query<{ type: string; value: string; profile_id: string }>(
        `SELECT i.type, i.value, i.profile_id FROM identities i
           JOIN unnest($1::text[], $2::text[]) AS k(type, value) ON i.type = k.type AND i.value = k.value`,
        [keys.map((k) => k.type), keys.map((k) => k.value)],
      );
      for (const r of rows) out.set(`${r.type}:${r.value}`, r.profile_id);
      return out;
    },
    async linkIdentities(links) {
      if (links.length === 0) return;
      // The last link of an identifier wins, as when the links are applied one by one.
      const unique = [...new Map(links.map((l) => [identityString(l), l])).values()];
      await client.query(
        `INSERT INTO identities (type, value, profile_id, first_seen)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
         ON CONFLICT (type, value) DO UPDATE SET profile_id = excluded.profile_id`,
        [unique.map((l) => l.type), unique.map((l) => l.value), unique.map((l) => l.profileId), unique.map((l) => l.firstSeen)],
      );
    },
    async moveIdentities(from, to) {
      // Another node may have read one of these identifiers just before this merge and be
      // waiting for the loser's row: once this commits it would write events onto the merged-
      // away profile. Holding the identifiers' locks makes that node finish first or read
      // again after this commit (a deadlock between the two is detected, and one retried).
      const { rows } = await client.query<{ type: string; value: string }>(
        'SELECT type, value FROM identities WHERE profile_id = $1',
        [from],
      );
      await locks.lock(rows.map(identityString));
      await client.query('UPDATE identities SET profile_id = $2 WHERE profile_id = $1', [from, to]);
    },
    async getProfiles(ids) {
      const out = new Map<string, ProfileRecord>();
      if (ids.length === 0) return out;
      const { rows } = await client.query<Row>(
        `SELECT id, merged_into, created_at, updated_at, data FROM profiles
          WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
        [[...new Set(ids)]],
      );
      for (const r of rows) out.set(r.id as string, toProfile(r));
      return out;
    },
    counterRows(specs, profileIds) {
      return counterRowsOf(client, specs, profileIds);
    },
    async putAudienceStates(updates) {
      if (updates.length === 0) return new Set();
      // A row whose xmin is still the version is as the snapshot read it; only the audience state
      // is replaced. One UPDATE: it locks each row it writes, and a row written meanwhile fails
      // the check once its writer commits (the check is evaluated again on the new row). Rows go
      // in id order (a nested loop over the sorted input), the order ingestion locks in; a
      // deadlock with another order is detected and the transaction retried. (A SELECT … FOR
      // UPDATE first would write every row twice, lock then update: ~60% more for this step.)
      // A row not read (version: the snapshot's unreadVersion) is as the snapshot saw it when its
      // xmin is visible in that snapshot: the 32-bit xmin is widened to the xid8 nearest the
      // snapshot's xmax (every unfrozen xid is within 2^31 of it; a frozen row is older than any
      // snapshot, and at worst is taken as changed and re-read). This needs rows written by
      // top-level transactions (the store takes no savepoints: a subtransaction's xid is not in
      // a snapshot's list). One JSON parameter: no per-row array escaping.
      const xid = 'p.xmin::text::bigint';
      const delta = `((${xid} - x.xmax % 4294967296 + 4294967296) % 4294967296)`;
      const wide = `(x.xmax + ${delta} - CASE WHEN ${delta} >= 2147483648 THEN 4294967296 ELSE 0 END)`;
      const { rows } = await client.query<Row>(
        `UPDATE profiles p SET data = p.data || x.state
           FROM (SELECT x.id, x.version, x.state, s.snap, pg_snapshot_xmax(s.snap)::text::bigint AS xmax
                   FROM jsonb_to_recordset($1::jsonb) AS x(id text, version text, state jsonb)
                   CROSS JOIN LATERAL (SELECT CASE WHEN starts_with(x.version, $2) THEN substr(x.version, $3)::pg_snapshot END AS snap) AS s
                  ORDER BY x.id COLLATE "C") AS x
          WHERE p.id = x.id COLLATE "C" AND p.merged_into IS NULL
            AND CASE WHEN x.snap IS NULL THEN p.xmin::text = x.version
                     WHEN ${wide} < 3 THEN true
                     ELSE pg_visible_in_snapshot(${wide}::text::xid8, x.snap) END
          RETURNING p.id, CASE WHEN x.snap IS NOT NULL THEN p.data END AS data, p.created_at, p.updated_at`,
        [
          JSON.stringify(
            updates.map(({ profile: p, version }) => ({ id: p.id, version, state: { counters: p.counters, audiences: p.audiences, nextCheckAt: p.nextCheckAt ?? null } })),
          ),
          UNREAD,
          UNREAD.length + 1,
        ],
      );
      // A row written unread comes back whole, so the caller holds the record as stored.
      const unread = new Map(updates.filter((u) => u.unread).map((u) => [u.profile.id, u.profile]));
      for (const r of rows) {
        const profile = r.data === null ? undefined : unread.get(r.id as string);
        if (profile !== undefined) Object.assign(profile, toProfile({ ...r, merged_into: null }));
      }
      return new Set(rows.map((r) => r.id as string));
    },
    async putProfiles(profiles) {
      if (profiles.length === 0) return;
      const unique = [...new Map(profiles.map((p) => [p.id, p])).values()];
      await client.query(
        `INSERT INTO profiles (id, merged_into, created_at, updated_at, data)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::jsonb[])
         ON CONFLICT (id) DO UPDATE SET merged_into = excluded.merged_into, created_at = excluded.created_at,
           updated_at = excluded.updated_at, data = excluded.data`,
        [
          unique.map((p) => p.id),
          unique.map((p) => p.mergedInto),
          unique.map((p) => p.createdAt),
          unique.map((p) => p.updatedAt),
          unique.map(profileData),
        ],
      );
    },
    async appendEvents(events) {
      if (events.length === 0) return;
      const missing = await partitions.missing(
        client,
        events.map((e) => e.timestamp),
      );
      if (missing.length > 0) throw new MissingPartitions(missing);
      // The messages go as one JSON array, zipped by position with the columns: a jsonb[] would
      // have each document escaped again into an array literal (and parsed back).
      await client.query(
        `INSERT INTO events (message_id, profile_id, type, name, ts, received_at, message)
         SELECT * FROM ROWS FROM (unnest($1::text[]), unnest($2::text[]), unnest($3::text[]), unnest($4::text[]),
           unnest($5::bigint[]), unnest($6::bigint[]), jsonb_array_elements($7::jsonb))`,
        [
          events.map((e) => e.messageId),
          events.map((e) => e.profileId),
          events.map((e) => e.type),
          events.map((e) => e.name),
          events.map((e) => e.timestamp),
          events.map((e) => e.receivedAt),
          JSON.stringify(events.map((e) => e.message)),
        ],
      );
    },
    async moveEvents(from, to) {
      await client.query('UPDATE events SET profile_id = $2 WHERE profile_id = $1', [from, to]);
    },
    async getAccounts(ids) {
      const out = new Map<string, AccountRecord>();
      if (ids.length === 0) return out;
      const { rows } = await client.query<Row>(
        'SELECT * FROM accounts WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE',
        [[...new Set(ids)]],
      );
      for (const r of rows) out.set(r.id as string, toAccount(r));
      return out;
    },
    async appendOutbox(entries) {
      if (entries.length === 0) return;
      // Writers take turns until commit, so sequence numbers are handed out in commit order and
      // a consumer reading past seq N can never later find an entry below N appear.
      await client.query('SELECT pg_advisory_xact_lock($1)', [OUTBOX_LOCK]);
      await client.query(
        `INSERT INTO outbox (topic, key, payload, created_at)
         SELECT * FROM ROWS FROM (unnest($1::text[]), unnest($2::text[]), jsonb_array_elements($3::jsonb), unnest($4::bigint[]))`,
        [entries.map((e) => e.topic), entries.map((e) => e.key), JSON.stringify(entries.map((e) => e.payload)), entries.map((e) => e.createdAt)],
      );
    },
    async queueRecommendCounts(encoded) {
      await client.query('INSERT INTO rec_queue (writes) VALUES ($1)', [encoded]);
    },
    async takeRecommendQueue(limit) {
      const { rows } = await client.query<{ seq: string; writes: string }>(
        `DELETE FROM rec_queue WHERE seq IN (SELECT seq FROM rec_queue ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING seq, writes`,
        [limit],
      );
      return rows.sort((a, b) => Number(a.seq) - Number(b.seq)).map((r) => r.writes);
    },
    async pruneRecommendDays(beforeDay) {
      return (await client.query('DELETE FROM rec_item_days WHERE day < $1', [beforeDay])).rowCount ?? 0;
    },
    async addRecommendCounts(w) {
      // Rows come sorted by key, so concurrent transactions lock them in the same order.
      if (w.items.length > 0) {
        await client.query(
          `INSERT INTO rec_items AS r (id, category, brand, price, name, views, carts, purchases)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[])
           ON CONFLICT (id) DO UPDATE SET
             category = CASE WHEN r.from_catalog THEN r.category ELSE coalesce(excluded.category, r.category) END,
             brand = CASE WHEN r.from_catalog THEN r.brand ELSE coalesce(excluded.brand, r.brand) END,
             price = CASE WHEN r.from_catalog THEN r.price ELSE coalesce(excluded.price, r.price) END,
             name = CASE WHEN r.from_catalog THEN r.name ELSE coalesce(excluded.name, r.name) END,
             views = r.views + excluded.views, carts = r.carts + excluded.carts, purchases = r.purchases + excluded.purchases`,
          [
            w.items.map((i) => i.id),
            w.items.map((i) => i.category ?? null),
            w.items.map((i) => i.brand ?? null),
            w.items.map((i) => i.price ?? null),
            w.items.map((i) => i.name ?? null),
            w.items.map((i) => i.views),
            w.items.map((i) => i.carts),
            w.items.map((i) => i.purchases),
          ],
        );
      }
      if (w.days.length > 0) {
        await client.query(
          `INSERT INTO rec_item_days AS d (item_id, day, views, carts, purchases)
           SELECT * FROM unnest($1::text[], $2::integer[], $3::bigint[], $4::bigint[], $5::bigint[])
           ON CONFLICT (item_id, day) DO UPDATE SET
             views = d.views + excluded.views, carts = d.carts + excluded.carts, purchases = d.purchases + excluded.purchases`,
          [w.days.map((d) => d.id), w.days.map((d) => d.day), w.days.map((d) => d.views), w.days.map((d) => d.carts), w.days.map((d) => d.purchases)],
        );
      }
      if (w.pairs.length > 0) {
        await client.query(
          `INSERT INTO rec_pairs AS p (kind, item_id, other_id, n)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
           ON CONFLICT (kind, item_id, other_id) DO UPDATE SET n = p.n + excluded.n`,
          [w.pairs.map((p) => p.kind), w.pairs.map((p) => p.a), w.pairs.map((p) => p.b), w.pairs.map((p) => p.n)],
        );
      }
    },
    async eraseProfile(profileId) {
      // The profile and every profile merged into it, however long the chain.
      const { rows: profiles } = await client.query<{ id: string }>(
        `WITH RECURSIVE chain(id) AS (
           SELECT id FROM profiles WHERE id = $1
           UNION SELECT p.id FROM profiles p JOIN chain c ON p.merged_into = c.id)
         SELECT id FROM chain`,
        [profileId],
      );
      const ids = profiles.length > 0 ? profiles.map((r) => r.id) : [profileId];
      const identities = await client.query<{ type: string; value: string }>(
        'DELETE FROM identities WHERE profile_id = ANY($1::text[]) RETURNING type, value',
        [ids],
      );
      const events = await client.query('DELETE FROM events WHERE profile_id = ANY($1::text[])', [ids]);
      const members = await client.query<{ audience_id: string }>(
        'DELETE FROM memberships WHERE profile_id = ANY($1::text[]) RETURNING audience_id',
        [ids],
      );
      await client.query('DELETE FROM audience_checks WHERE profile_id = ANY($1::text[])', [ids]);
      const deleted = await client.query<{ id: string }>('DELETE FROM profiles WHERE id = ANY($1::text[]) RETURNING id', [ids]);
      const erased: ErasedProfile = {
        profileIds: deleted.rows.map((r) => r.id).sort(),
        events: events.rowCount ?? 0,
        identities: identities.rows.map((r) => ({ type: r.type, value: r.value })),
        audiences: [...new Set(members.rows.map((r) => r.audience_id))].sort(),
      };
      return erased;
    },
    async deleteEvents(keys) {
      if (keys.length === 0) return 0;
      const r = await client.query(
        'DELETE FROM events e USING unnest($1::text[], $2::text[]) AS k(profile_id, message_id) WHERE e.profile_id = k.profile_id AND e.message_id = k.message_id',
        [keys.map((k) => k.profileId), keys.map((k) => k.messageId)],
      );
      return r.rowCount ?? 0;
    },
    async suppressed(keys, now) {
      if (keys.length === 0) return new Set();
      const { rows } = await client.query<{ key: string }>('SELECT key FROM suppressions WHERE key = ANY($1::text[]) AND until > $2', [keys, now]);
      return new Set(rows.map((r) => r.key));
    },
    async suppress(entries) {
      if (entries.length === 0) return;
      await client.query(
        `INSERT INTO suppressions AS s (key, until) SELECT * FROM unnest($1::text[], $2::bigint[])
         ON CONFLICT (key) DO UPDATE SET until = GREATEST(s.until, excluded.until)`,
        [entries.map((e) => e.key), entries.map((e) => e.until)],
      );
    },
    async addExperimentStats(deltas) {
      const rows = sumStatDeltas(deltas);
      if (rows.length === 0) return;
      await client.query(
        `INSERT INTO experiment_stats AS s (experiment_id, variant, metric, count, sum, sum_squares)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::float8[], $6::float8[])
         ON CONFLICT (experiment_id, variant, metric) DO UPDATE SET
           count = s.count + excluded.count, sum = s.sum + excluded.sum, sum_squares = s.sum_squares + excluded.sum_squares`,
        [rows.map((r) => r.experimentId), rows.map((r) => r.variant), rows.map((r) => r.metric), rows.map((r) => r.count), rows.map((r) => r.sum), rows.map((r) => r.sumSquares)],
      );
    },
    async applyMemberships(changes) {
      // The last change of a (audience, profile) pair wins, as if applied one by one.
      const last = [...new Map(changes.map((c) => [`${c.audienceId}\u0000${c.profileId}`, c])).values()];
      const added = last.filter((c) => c.since !== null);
      const removed = last.filter((c) => c.since === null);
      if (removed.length > 0) {
        await client.query(
          `DELETE FROM memberships m USING unnest($1::text[], $2::text[]) AS r(a, p)
            WHERE m.audience_id = r.a AND m.profile_id = r.p`,
          [removed.map((c) => c.audienceId), removed.map((c) => c.profileId)],
        );
      }
      if (added.length > 0) {
        await client.query(
          `INSERT INTO memberships (audience_id, profile_id, since)
           SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
           ON CONFLICT (audience_id, profile_id) DO NOTHING`,
          [added.map((c) => c.audienceId), added.map((c) => c.profileId), added.map((c) => c.since)],
        );
      }
    },
    async scheduleChecks(checks) {
      const last = [...new Map(checks.map((c) => [c.profileId, c])).values()];
      const set = last.filter((c) => c.at !== null);
      const cleared = last.filter((c) => c.at === null).map((c) => c.profileId);
      if (cleared.length > 0) await client.query('DELETE FROM audience_checks WHERE profile_id = ANY($1::text[])', [cleared]);
      if (set.length > 0) {
        await client.query(
          `INSERT INTO audience_checks (profile_id, due_at) SELECT * FROM unnest($1::text[], $2::bigint[])
           ON CONFLICT (profile_id) DO UPDATE SET due_at = excluded.due_at`,
          [set.map((c) => c.profileId), set.map((c) => c.at)],
        );
      }
    },
    async putAccounts(accounts) {
      if (accounts.length === 0) return;
      const unique = [...new Map(accounts.map((a) => [a.id, a])).values()];
      await client.query(
        `INSERT INTO accounts (id, created_at, updated_at, traits)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::jsonb[])
         ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at, traits = excluded.traits`,
        [
          unique.map((a) => a.id),
          unique.map((a) => a.createdAt),
          unique.map((a) => a.updatedAt),
          unique.map((a) => JSON.stringify(a.traits)),
        ],
      );
    },
  };
}
