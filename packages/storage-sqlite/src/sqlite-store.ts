import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  type AccountRecord,
  type ApiKeyRecord,
  type CatalogItemKey,
  type ConfigDocument,
  catalogItemFromRow,
  catalogSupersedes,
  type DeadLetter,
  decisionProfileFromRow,
  decodeEventCursor,
  type ErasedProfile,
  type EventPage,
  type EventQuery,
  encodeEventCursor,
  type IdentityKey,
  type IdentityRecord,
  identityKeyString,
  type ProfileRecord,
  profileDataOf,
  profileFromData,
  type RecMetric,
  type RecommendStore,
  recItemFromRow,
  recMetricSql,
  type Store,
  type StoredEvent,
  type StoreTx,
  statFromRow,
  sumStatDeltas,
} from '@attune/core';
import Database from 'better-sqlite3';
import { createCheckpointer } from './checkpointer.ts';
import { counterQuery, openCounterSnapshot, toCounterRow } from './counter-scan.ts';
import { MIGRATIONS } from './schema.ts';

export interface SqliteStoreOptions {
  /** Database file, or ':memory:'. */
  filename: string;
  /**
   * `full` (default) fsyncs the WAL at every commit: an acknowledged event survives a power
   * cut. `normal` survives a process crash (kill -9) but may lose the last commits on power loss.
   */
  synchronous?: 'full' | 'normal';
  /**
   * WAL size in bytes at which a worker thread copies the WAL back into the file, so commits
   * never stall on it (default 8 MiB). `false` leaves it to SQLite's checkpoint at commit.
   */
  backgroundCheckpoint?: number | false;
}

type Row = Record<string, unknown>;

/** Keys per claim statement (two bound parameters each, well under SQLite's limit). */
const CLAIM_CHUNK = 500;
const PAIR_CHUNK = 200;
/** Queued membership changes per statement (three bound parameters each). */
const MEMBER_CHUNK = 300;
/** Queued membership changes that make the transaction reaching them fold the queue. */
const MEMBER_FOLD_AT = 4096;
/** WAL size at which the worker thread checkpoints (the commit-time backstop is 10,000 pages). */
const CHECKPOINT_BYTES = 8 * 1024 * 1024;

/**
 * The embedded store: one SQLite file in WAL mode. better-sqlite3 is synchronous, so a
 * transaction never yields to I/O midway; transactions are still queued, because the
 * core's transaction functions are async.
 */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  if (options.filename !== ':memory:') mkdirSync(dirname(options.filename), { recursive: true });
  const db = new Database(options.filename);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
  db.pragma('busy_timeout = 5000');
  db.pragma('cache_size = -65536');
  db.pragma('temp_store = MEMORY');
  // Checkpoint less often: a page written by many commits is copied back once. A file
  // database has a worker thread checkpoint well before this threshold (`createCheckpointer`),
  // so commits do not stall on it; this is the backstop.
  db.pragma('wal_autocheckpoint = 10000');
  const checkpointer =
    options.filename === ':memory:' || options.backgroundCheckpoint === false
      ? null
      : createCheckpointer({ filename: options.filename, thresholdBytes: options.backgroundCheckpoint ?? CHECKPOINT_BYTES });

  let statements: ReturnType<typeof prepare> | null = null;
  const st = () => {
    statements ??= prepare(db);
    return statements;
  };

  /**
   * Statements whose text depends on how many rows or names they take (multi-row inserts, IN
   * lists), prepared once per shape: `key` names the shape, `sql` builds the text.
   */
  const shapedStatements = new Map<string, Database.Statement>();
  const shaped = (key: string, sql: () => string): Database.Statement => {
    let s = shapedStatements.get(key);
    if (!s) {
      s = db.prepare(sql());
      shapedStatements.set(key, s);
    }
    return s;
  };
  /** `(?, ?), (?, ?)`: n rows of `columns` placeholders. */
  const rows = (n: number, columns: number) => Array.from({ length: n }, () => `(${Array.from({ length: columns }, () => '?').join(', ')})`).join(', ');

  const claimStatement = (n: number) => shaped(`claims:${n}`, () => `INSERT OR IGNORE INTO claims (scope, key) VALUES ${rows(n, 2)} RETURNING key`);

  // The recommendation fold adds tens of thousands of pair rows at once: many rows per statement.
  const pairStatement = (n: number) =>
    shaped(
      `pairs:${n}`,
      () => `INSERT INTO rec_pairs (kind, item_id, other_id, n) VALUES ${rows(n, 4)}
         ON CONFLICT (kind, item_id, other_id) DO UPDATE SET n = n + excluded.n`,
    );

  const memberQueueStatement = (n: number) => shaped(`member-queue:${n}`, () => `INSERT INTO membership_queue (audience_id, profile_id, since) VALUES ${rows(n, 3)}`);

  const historyStatement = (names: string[] | null) =>
    shaped(
      `history:${names === null ? 'all' : names.length}`,
      () => `SELECT * FROM events WHERE profile_id = ?${names === null ? '' : ` AND name IN (${names.map(() => '?').join(', ')})`} ORDER BY ts, message_id`,
    );

  const counterStatements = new Map<string, Database.Statement>();
  const counterStatement = (sql: string): Database.Statement => {
    let s = counterStatements.get(sql);
    if (!s) {
      s = db.prepare(sql).raw();
      counterStatements.set(sql, s);
    }
    return s;
  };

  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;
  // Prepared apart from the other statements: a PRAGMA setting the safety level cannot even be
  // prepared inside a transaction, and the others may first be prepared inside one.
  let levels: { normal: Database.Statement; full: Database.Statement } | null = null;
  const syncLevels = () => {
    levels ??= { normal: db.prepare('PRAGMA synchronous = NORMAL'), full: db.prepare('PRAGMA synchronous = FULL') };
    return levels;
  };

  const tx: StoreTx = {
    async claim(scope, keys) {
      // One multi-row statement per chunk: INSERT OR IGNORE … RETURNING yields only the rows
      // that were not there, which is exactly the set of fresh keys.
      const fresh = new Set<string>();
      for (let i = 0; i < keys.length; i += CLAIM_CHUNK) {
        const chunk = keys.slice(i, i + CLAIM_CHUNK);
        const params: string[] = [];
        for (const key of chunk) params.push(scope, key);
        for (const row of claimStatement(chunk.length).all(params) as Array<{ key: string }>) fresh.add(row.key);
      }
      return fresh;
    },
    async lookupIdentities(keys) {
      const out = new Map<string, string>();
      const s = st().lookupIdentity;
      for (const key of keys) {
        const row = s.get(key.type, key.value) as { profile_id: string } | undefined;
        if (row) out.set(identityKeyString(key), row.profile_id);
      }
      return out;
    },
    async linkIdentities(links) {
      const s = st().linkIdentity;
      for (const l of links) s.run(l.type, l.value, l.profileId, l.firstSeen);
    },
    async moveIdentities(from, to) {
      st().moveIdentities.run(to, from);
    },
    async getProfiles(ids) {
      const out = new Map<string, ProfileRecord>();
      const s = st().getProfile;
      for (const id of ids) {
        const row = s.get(id) as Row | undefined;
        if (row) out.set(id, toProfile(row));
      }
      return out;
    },
    async counterRows(specs, profileIds) {
      const q = counterQuery(specs);
      const s = counterStatement(`SELECT profile_id, name, ts${q.columns} FROM events WHERE profile_id = ? AND ${q.where} ORDER BY ts, message_id`);
      return [...new Set(profileIds)].sort().flatMap((id) => (s.all(...q.columnParams, id, ...q.params) as unknown[][]).map((r) => toCounterRow(r, q.heads)));
    },
    async putAudienceStates(updates) {
      // The transaction holds SQLite's write lock; a live row whose document is still the
      // version's text is as the snapshot read it: only the audience state is replaced.
      const out = new Set<string>();
      const s = st().putAudienceState;
      for (const { profile: p, version } of updates) {
        const r = s.run(JSON.stringify(p.counters), JSON.stringify(p.audiences), JSON.stringify(p.nextCheckAt ?? null), p.id, version);
        if (r.changes > 0) out.add(p.id);
      }
      return out;
    },
    async putProfiles(profiles) {
      const s = st().putProfile;
      for (const p of profiles) s.run(p.id, p.mergedInto, p.createdAt, p.updatedAt, profileData(p));
    },
    async appendEvents(events) {
      const s = st().appendEvent;
      for (const e of events) {
        s.run(e.messageId, e.profileId, e.type, e.name, e.timestamp, e.receivedAt, JSON.stringify(e.message));
      }
    },
    async moveEvents(from, to) {
      st().moveEvents.run(to, from);
    },
    async getAccounts(ids) {
      const out = new Map<string, AccountRecord>();
      for (const id of ids) {
        const row = st().getAccount.get(id) as Row | undefined;
        if (row) out.set(id, toAccount(row));
      }
      return out;
    },
    async applyMemberships(changes) {
      const size = memberQueueSize();
      for (let i = 0; i < changes.length; i += MEMBER_CHUNK) {
        const chunk = changes.slice(i, i + MEMBER_CHUNK);
        const params: Array<string | number | null> = [];
        for (const c of chunk) params.push(c.audienceId, c.profileId, c.since);
        memberQueueStatement(chunk.length).run(params);
      }
      queuedMembers = size + changes.length;
      if (queuedMembers >= MEMBER_FOLD_AT) foldMembers();
    },
    async scheduleChecks(checks) {
      for (const c of checks) {
        if (c.at === null) st().clearCheck.run(c.profileId);
        else st().setCheck.run(c.profileId, c.at);
      }
    },
    async addExperimentStats(deltas) {
      for (const r of sumStatDeltas(deltas)) st().addStats.run(r.experimentId, r.variant, r.metric, r.count, r.sum, r.sumSquares);
    },
    async appendOutbox(entries) {
      for (const e of entries) st().appendOutbox.run(e.topic, e.key, JSON.stringify(e.payload), e.createdAt);
    },
    async putAccounts(accounts) {
      for (const a of accounts) st().putAccount.run(a.id, a.createdAt, a.updatedAt, JSON.stringify(a.traits));
    },
    async queueRecommendCounts(encoded) {
      st().queueRec.run(encoded);
    },
    async takeRecommendQueue(limit) {
      const rows = st().takeRec.all(limit) as Array<{ seq: number; writes: string }>;
      if (rows.length > 0) st().dropRec.run((rows[rows.length - 1] as { seq: number }).seq);
      return rows.map((r) => r.writes);
    },
    async pruneRecommendDays(beforeDay) {
      return st().pruneRecDays.run(beforeDay).changes;
    },
    async addRecommendCounts(w) {
      const s = st();
      for (const i of w.items) s.addRecItem.run(i.id, i.category ?? null, i.brand ?? null, i.price ?? null, i.name ?? null, i.views, i.carts, i.purchases);
      for (const d of w.days) s.addRecDay.run(d.id, d.day, d.views, d.carts, d.purchases);
      for (let i = 0; i < w.pairs.length; i += PAIR_CHUNK) {
        const chunk = w.pairs.slice(i, i + PAIR_CHUNK);
        const params: Array<string | number> = [];
        for (const p of chunk) params.push(p.kind, p.a, p.b, p.n);
        pairStatement(chunk.length).run(params);
      }
    },
    async eraseProfile(profileId) {
      // The profile and every profile merged into it, however long the chain.
      const ids: string[] = [profileId];
      for (let i = 0; i < ids.length; i++) {
        for (const row of st().mergedInto.all(ids[i]) as Array<{ id: string }>) ids.push(row.id);
      }
      const erased: ErasedProfile = { profileIds: [], events: 0, identities: [], audiences: [] };
      const audiences = new Set<string>();
      // A queued entry would bring a membership back after its row is deleted.
      foldMembersNow();
      for (const id of ids) {
        const members = audiencesOf(st().audiencesOf.get(id) as Row | undefined);
        const existed = st().deleteProfile.run(id).changes === 1;
        if (existed) erased.profileIds.push(id);
        for (const r of st().listIdentities.all(id) as Row[]) erased.identities.push({ type: r.type as string, value: r.value as string });
        st().deleteIdentities.run(id);
        erased.events += st().deleteEvents.run(id).changes;
        for (const [audienceId] of members) {
          audiences.add(audienceId);
          st().removeMember.run(audienceId, id);
        }
        st().clearCheck.run(id);
      }
      erased.audiences = [...audiences].sort();
      return erased;
    },
    async deleteEvents(keys) {
      let n = 0;
      for (const k of keys) n += st().deleteEvent.run(k.profileId, k.messageId).changes;
      return n;
    },
    async suppressed(keys, now) {
      const out = new Set<string>();
      for (const k of keys) if (st().isSuppressed.get(k, now)) out.add(k);
      return out;
    },
    async suppress(entries) {
      for (const e of entries) st().suppress.run(e.key, e.until);
    },
  };

  const recTop = new Map<string, Database.Statement>();
  const recommend: RecommendStore = {
    async putProducts(products) {
      const s = st();
      db.transaction(() => {
        for (const p of products) {
          if (p.deleted) s.deleteRecItem.run(p.id);
          else s.putRecItem.run(p.id, p.category ?? null, p.brand ?? null, p.price ?? null, p.name ?? null, p.inStock === undefined ? null : p.inStock ? 1 : 0, JSON.stringify(p.attributes));
        }
      })();
    },
    async items(ids) {
      const out = new Map();
      const s = st().getRecItem;
      for (const id of ids) {
        if (out.has(id)) continue;
        const row = s.get(id) as Row | undefined;
        if (row) out.set(id, recItemFromRow(row, (v) => JSON.parse(v as string)));
      }
      return out;
    },
    async top(q) {
      const filter = q.category !== undefined ? 'category' : q.brand !== undefined ? 'brand' : '';
      const windowed = q.fromDay !== undefined;
      const key = `${q.metric}:${filter}:${windowed}`;
      let stmt = recTop.get(key);
      if (!stmt) {
        stmt = db.prepare(recTopSql(q.metric, filter, windowed));
        recTop.set(key, stmt);
      }
      const params: unknown[] = [];
      if (windowed) params.push(q.fromDay, q.toDay ?? Number.MAX_SAFE_INTEGER);
      if (filter !== '') params.push(filter === 'category' ? q.category : q.brand);
      params.push(q.limit);
      return (stmt.all(...params) as Array<{ id: string; n: number }>).map((r) => ({ id: r.id, n: Number(r.n) }));
    },
    async counts(ids, q) {
      const out = new Map<string, number>();
      if (ids.length === 0) return out;
      const rows = db
        .prepare(
          `SELECT item_id AS id, sum(${recMetricSql(q.metric)}) AS n FROM rec_item_days
            WHERE item_id IN (SELECT value FROM json_each(?)) AND day >= ? AND day <= ? GROUP BY item_id`,
        )
        .all(JSON.stringify(ids), q.fromDay, q.toDay ?? Number.MAX_SAFE_INTEGER) as Array<{ id: string; n: number }>;
      for (const r of rows) if (r.n > 0) out.set(r.id, Number(r.n));
      return out;
    },
    async related(kind, id, limit) {
      return st().recRelated.all(kind, id, limit) as Array<{ id: string; n: number }>;
    },
  };

  /**
   * Membership changes are queued in the ingest transaction (appended, so one page per commit
   * whatever the audiences) and folded into memberships in key order: once MEMBER_FOLD_AT are
   * queued, inside the transaction that reaches it, and before anything reads memberships.
   * Random (audience, profile) keys cost a page write per change in the commit otherwise.
   * `queuedMembers` is -1 when unknown (a rollback may have dropped rows).
   */
  let queuedMembers = -1;
  function memberQueueSize(): number {
    if (queuedMembers < 0) queuedMembers = (st().countMemberQueue.get() as { n: number }).n;
    return queuedMembers;
  }
  /** Moves the queue into memberships, in the open transaction. */
  function foldMembers(): void {
    const rows = st().takeMemberQueue.all() as Array<{ seq: number; audience_id: string; profile_id: string; since: number | null }>;
    if (rows.length > 0) {
      // Replayed in commit order, as direct writes would have been: an exit removes, an entry
      // keeps an earlier entry's `since`, and an entry after an exit replaces the row's.
      const last = new Map<string, { audienceId: string; profileId: string; since: number | null; left: boolean }>();
      for (const r of rows) {
        const key = `${r.audience_id}\u0000${r.profile_id}`;
        const prev = last.get(key);
        if (r.since === null) last.set(key, { audienceId: r.audience_id, profileId: r.profile_id, since: null, left: true });
        else if (prev === undefined || prev.since === null) last.set(key, { audienceId: r.audience_id, profileId: r.profile_id, since: r.since, left: prev?.left ?? false });
      }
      const s = st();
      for (const key of [...last.keys()].sort()) {
        const c = last.get(key) as { audienceId: string; profileId: string; since: number | null; left: boolean };
        if (c.since === null) s.removeMember.run(c.audienceId, c.profileId);
        else if (c.left) s.replaceMember.run(c.audienceId, c.profileId, c.since);
        else s.addMember.run(c.audienceId, c.profileId, c.since);
      }
      s.dropMemberQueue.run((rows[rows.length - 1] as { seq: number }).seq);
    }
    queuedMembers = 0;
  }
  /**
   * Folds before a read: in the open transaction if there is one (it then commits or rolls
   * back with it). Asks the table, not the count kept here: another process on the same file
   * (an `attune` command next to the server) may have queued changes.
   */
  function foldMembersNow(): void {
    if (st().anyMemberQueued.get() === undefined) return;
    if (db.inTransaction) foldMembers();
    else db.transaction(foldMembers).immediate();
  }

  function serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  }

  const store: Store = {
    kind: 'sqlite',
    async migrate() {
      const version = db.pragma('user_version', { simple: true }) as number;
      for (let i = version; i < MIGRATIONS.length; i++) {
        db.transaction(() => {
          db.exec(MIGRATIONS[i] as string);
          db.pragma(`user_version = ${i + 1}`);
        }).immediate();
      }
      statements = null;
      queuedMembers = -1;
      shapedStatements.clear();
    },
    transaction(fn, txOptions) {
      return serialized(async () => {
        if (closed) throw new Error('store is closed');
        // WAL at NORMAL: this commit is not fsynced (the next durable one fsyncs it too). The
        // level may only change between transactions; they are serialized here.
        const relax = txOptions?.durable === false && options.synchronous !== 'normal';
        if (relax) syncLevels().normal.run();
        try {
          st().begin.run();
          try {
            const result = await fn(tx);
            st().commit.run();
            checkpointer?.committed();
            return result;
          } catch (error) {
            if (db.inTransaction) st().rollback.run();
            // Rows it queued are gone: count them again when next needed.
            queuedMembers = -1;
            throw error;
          }
        } finally {
          if (relax) syncLevels().full.run();
        }
      });
    },

    async getProfile(id) {
      const row = st().getProfile.get(id) as Row | undefined;
      return row ? toProfile(row) : null;
    },
    async decisionProfile(key: IdentityKey) {
      let row = st().decisionByIdentity.get(key.type, key.value) as Row | undefined;
      for (let hops = 0; row?.merged_into && hops < 100; hops++) row = st().decisionById.get(row.merged_into) as Row | undefined;
      if (!row || row.merged_into) return null;
      return decisionProfileFromRow(row, (v) => (typeof v === 'string' ? JSON.parse(v) : null));
    },
    async expiredEvents(name, before, limit) {
      return (st().expiredEvents.all(name, before, limit) as Row[]).map((r) => ({ profileId: r.profile_id as string, messageId: r.message_id as string, timestamp: r.ts as number }));
    },
    async inactiveAnonymousProfiles(before, limit) {
      return (st().inactiveAnonymous.all(before, limit) as Row[]).map((r) => r.id as string);
    },
    async findProfileId(key: IdentityKey) {
      const row = st().lookupIdentity.get(key.type, key.value) as { profile_id: string } | undefined;
      return row?.profile_id ?? null;
    },
    async listIdentities(profileId) {
      const rows = st().listIdentities.all(profileId) as Row[];
      return rows.map(
        (r): IdentityRecord => ({
          type: r.type as string,
          value: r.value as string,
          profileId: r.profile_id as string,
          firstSeen: r.first_seen as number,
        }),
      );
    },
    async historyOf(profileIds, names) {
      const out = new Map<string, StoredEvent[]>();
      const s = historyStatement(names);
      const params = names ?? [];
      for (const id of profileIds) out.set(id, (s.all(id, ...params) as Row[]).map(toEvent));
      return out;
    },
    async queryEvents(q: EventQuery): Promise<EventPage> {
      const where = ['profile_id = @profileId'];
      const params: Record<string, unknown> = { profileId: q.profileId, limit: q.limit + 1 };
      if (q.name !== undefined) {
        where.push('name = @name');
        params.name = q.name;
      }
      if (q.since !== undefined) {
        where.push('ts >= @since');
        params.since = q.since;
      }
      if (q.until !== undefined) {
        where.push('ts < @until');
        params.until = q.until;
      }
      if (q.cursor !== undefined) {
        const c = decodeEventCursor(q.cursor);
        if (c) {
          where.push('(ts < @cts OR (ts = @cts AND message_id < @cid))');
          params.cts = c.timestamp;
          params.cid = c.messageId;
        }
      }
      const rows = db
        .prepare(
          `SELECT message_id, profile_id, type, name, ts, received_at, message FROM events
           WHERE ${where.join(' AND ')} ORDER BY ts DESC, message_id DESC LIMIT @limit`,
        )
        .all(params) as Row[];
      const more = rows.length > q.limit;
      const events = rows.slice(0, q.limit).map(toEvent);
      const last = events[events.length - 1];
      return { events, nextCursor: more && last ? encodeEventCursor(last.timestamp, last.messageId) : null };
    },
    async getAccount(id) {
      const row = st().getAccount.get(id) as Row | undefined;
      return row ? toAccount(row) : null;
    },
    async counterSnapshot(specs) {
      return openCounterSnapshot(db, options.filename, specs);
    },
    async profileIds(after, limit) {
      return (st().profileIds.all(after ?? '', limit) as Array<{ id: string }>).map((r) => r.id);
    },
    async dueChecks(now, limit) {
      return (st().dueChecks.all(now, limit) as Row[]).map((r) => ({ profileId: r.profile_id as string, at: r.due_at as number }));
    },
    outbox: {
      async read(consumer, limit) {
        const after = (st().outboxCursor.get(consumer) as { seq: number } | undefined)?.seq ?? 0;
        return (st().readOutbox.all(after, limit) as Row[]).map((r) => ({
          seq: r.seq as number,
          topic: r.topic as string,
          key: r.key as string,
          payload: JSON.parse(r.payload as string),
          createdAt: r.created_at as number,
        }));
      },
      async ack(consumer, seq) {
        st().ackOutbox.run(consumer, seq);
      },
      async cursor(consumer) {
        return (st().outboxCursor.get(consumer) as { seq: number } | undefined)?.seq ?? 0;
      },
      async deadLetter(l) {
        const id = st().addDeadLetter.run(l.consumer, l.entry.seq, JSON.stringify(l.entry), l.error, l.attempts, l.at).lastInsertRowid;
        return { ...l, id: String(id) };
      },
      async listDeadLetters(consumer) {
        return (st().deadLetters.all(consumer) as Row[]).map(toDeadLetter);
      },
      async takeDeadLetter(consumer, id) {
        const row = st().deadLetter.get(consumer, Number(id)) as Row | undefined;
        if (!row) return null;
        st().dropDeadLetter.run(consumer, Number(id));
        return toDeadLetter(row);
      },
      async tail() {
        return (st().outboxTail.get() as { seq: number }).seq;
      },
      async prune(consumers, createdBefore) {
        let upTo = (st().outboxTail.get() as { seq: number }).seq;
        for (const c of consumers) upTo = Math.min(upTo, (st().outboxCursor.get(c) as { seq: number } | undefined)?.seq ?? 0);
        return upTo > 0 ? st().pruneOutbox.run(upTo, createdBefore).changes : 0;
      },
      async dropConsumer(consumer) {
        db.transaction(() => {
          st().dropCursor.run(consumer);
          st().dropDeadLetters.run(consumer);
        })();
      },
    },
    memberships: {
      async members(audienceId, { after, limit }) {
        foldMembersNow();
        return (st().members.all(audienceId, after ?? '', limit) as Row[]).map((r) => ({
          profileId: r.profile_id as string,
          since: r.since as number,
        }));
      },
      async count(audienceId) {
        foldMembersNow();
        return (st().countMembers.get(audienceId) as { n: number }).n;
      },
    },
    async countProfiles() {
      return (st().countProfiles.get() as { n: number }).n;
    },
    keys: {
      async put(k: ApiKeyRecord) {
        st().putKey.run(k.id, k.kind, k.name, k.hash, k.prefix, k.createdAt, k.revokedAt, k.scope ? JSON.stringify(k.scope) : null);
      },
      async list() {
        return (st().listKeys.all() as Row[]).map(toKey);
      },
      async findByHash(hash) {
        const row = st().keyByHash.get(hash) as Row | undefined;
        return row ? toKey(row) : null;
      },
      async revoke(id, at) {
        return st().revokeKey.run(at, id, at).changes === 1;
      },
    },
    async experimentStats(experimentId) {
      const rows = st().readStats.all(experimentId) as Array<Record<string, unknown>>;
      return rows.map(statFromRow);
    },
    recommend,
    catalog: {
      async apply(streamId, items, at) {
        return serialized(async () => {
          if (closed) throw new Error('store is closed');
          const result = { upserted: 0, deleted: 0, ignored: 0 };
          db.transaction(() => {
            for (const item of items) {
              const locale = item.locale ?? '';
              const updatedAt = Date.parse(item.updatedAt);
              const stored = st().catalogVersion.get(streamId, item.type, item.id, locale) as { updated_at: number; deleted: number } | undefined;
              const deleted = item.deleted === true;
              if (!catalogSupersedes(updatedAt, stored ? { updatedAt: stored.updated_at, deleted: stored.deleted === 1 } : null)) {
                result.ignored++;
                continue;
              }
              st().putCatalog.run(streamId, item.type, item.id, locale, updatedAt, deleted ? 1 : 0, JSON.stringify(deleted ? [] : item.fields), at);
              if (deleted) result.deleted++;
              else result.upserted++;
            }
          }).immediate();
          return result;
        });
      },
      async get(streamId, key: CatalogItemKey) {
        const row = st().getCatalog.get(streamId, key.type, key.id, key.locale ?? '') as Row | undefined;
        return row ? catalogItem(row) : null;
      },
      async list(streamId, options) {
        const after = options.after;
        const rows = st().listCatalog.all({
          stream: streamId,
          type: options.type ?? null,
          deleted: options.includeDeleted ? 1 : 0,
          at: after?.type ?? null,
          ai: after?.id ?? '',
          al: after?.locale ?? '',
          limit: options.limit,
        }) as Row[];
        return rows.map(catalogItem);
      },
      async streams() {
        return (st().catalogStreams.all() as Row[]).map((r) => ({
          streamId: r.stream_id as string,
          items: r.items as number,
          deleted: r.deleted as number,
          lastReceivedAt: r.last_received_at as number,
        }));
      },
    },
    docs: {
      async get(kind, id) {
        const row = st().getDoc.get(kind, id) as Row | undefined;
        return row ? toDoc(row) : null;
      },
      async list(kind) {
        return (st().listDocs.all(kind) as Row[]).map(toDoc);
      },
      async put(kind, id, body, expectedVersion, at) {
        const json = JSON.stringify(body);
        const changes =
          expectedVersion === 0
            ? st().insertDoc.run(kind, id, json, at, at).changes
            : st().updateDoc.run(json, at, kind, id, expectedVersion).changes;
        if (changes !== 1) return null;
        return toDoc(st().getDoc.get(kind, id) as Row);
      },
      async delete(kind, id) {
        return st().deleteDoc.run(kind, id).changes === 1;
      },
    },
    audit: {
      async append(records) {
        const insert = st().insertAudit;
        db.transaction(() => {
          for (const r of records) insert.run(r.id, r.at, r.kind, r.resourceId, r.keyId, JSON.stringify(r.body));
        })();
      },
      async list(q) {
        const where: string[] = [];
        const params: unknown[] = [];
        const add = (sql: string, v: unknown) => {
          where.push(sql);
          params.push(v);
        };
        if (q.kind !== undefined) add('kind = ?', q.kind);
        if (q.resourceId !== undefined) add('resource_id = ?', q.resourceId);
        if (q.keyId !== undefined) add('key_id = ?', q.keyId);
        if (q.since !== undefined) add('at >= ?', q.since);
        if (q.before !== undefined) add('id < ?', q.before);
        const sql = `SELECT * FROM audit_log ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
        const rows = db.prepare(sql).all(...params, q.limit) as Row[];
        return rows.map((r) => ({
          id: r.id as string,
          at: r.at as number,
          kind: r.kind as string,
          resourceId: (r.resource_id as string | null) ?? null,
          keyId: (r.key_id as string | null) ?? null,
          body: JSON.parse(r.body as string) as unknown,
        }));
      },
    },
    async close() {
      await queue;
      closed = true;
      await checkpointer?.close();
      db.close();
    },
  };
  return store;
}

const catalogItem = (row: Row) => catalogItemFromRow(row, (v) => JSON.parse(v as string));

function prepare(db: Database.Database) {
  return {
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
    lookupIdentity: db.prepare('SELECT profile_id FROM identities WHERE type = ? AND value = ?'),
    // SQLite extracts the few fields a decision reads, so the counters are never parsed in JS.
    decisionByIdentity: db.prepare(
      `SELECT p.id, p.merged_into, json_extract(p.data, '$.traits') AS traits, json_extract(p.data, '$.computed') AS computed,
              json_extract(p.data, '$.audiences') AS audiences, json_extract(p.data, '$.experiments') AS experiments,
              json_extract(p.data, '$.offerImpressions') AS offers, json_extract(p.data, '$.consent.purposes') AS consent
         FROM identities i JOIN profiles p ON p.id = i.profile_id WHERE i.type = ? AND i.value = ?`,
    ),
    decisionById: db.prepare(
      `SELECT id, merged_into, json_extract(data, '$.traits') AS traits, json_extract(data, '$.computed') AS computed,
              json_extract(data, '$.audiences') AS audiences, json_extract(data, '$.experiments') AS experiments,
              json_extract(data, '$.offerImpressions') AS offers, json_extract(data, '$.consent.purposes') AS consent
         FROM profiles WHERE id = ?`,
    ),
    deleteEvent: db.prepare('DELETE FROM events WHERE profile_id = ? AND message_id = ?'),
    expiredEvents: db.prepare('SELECT profile_id, message_id, ts FROM events WHERE name = ? AND ts < ? ORDER BY ts, message_id LIMIT ?'),
    inactiveAnonymous: db.prepare(
      `SELECT id FROM profiles p WHERE merged_into IS NULL AND updated_at < ?
         AND NOT EXISTS (SELECT 1 FROM identities i WHERE i.profile_id = p.id AND i.type <> 'anonymousId') ORDER BY id LIMIT ?`,
    ),
    isSuppressed: db.prepare('SELECT 1 FROM suppressions WHERE key = ? AND until > ?'),
    suppress: db.prepare('INSERT INTO suppressions (key, until) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET until = max(until, excluded.until)'),
    linkIdentity: db.prepare(
      `INSERT INTO identities (type, value, profile_id, first_seen) VALUES (?, ?, ?, ?)
       ON CONFLICT (type, value) DO UPDATE SET profile_id = excluded.profile_id`,
    ),
    moveIdentities: db.prepare('UPDATE identities SET profile_id = ? WHERE profile_id = ?'),
    listIdentities: db.prepare('SELECT * FROM identities WHERE profile_id = ? ORDER BY first_seen, type, value'),
    getProfile: db.prepare('SELECT * FROM profiles WHERE id = ?'),
    putProfile: db.prepare(
      `INSERT INTO profiles (id, merged_into, created_at, updated_at, data) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET merged_into = excluded.merged_into, created_at = excluded.created_at,
         updated_at = excluded.updated_at, data = excluded.data`,
    ),
    countProfiles: db.prepare('SELECT count(*) AS n FROM profiles WHERE merged_into IS NULL'),
    appendEvent: db.prepare(
      'INSERT INTO events (message_id, profile_id, type, name, ts, received_at, message) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    moveEvents: db.prepare('UPDATE events SET profile_id = ? WHERE profile_id = ?'),
    getAccount: db.prepare('SELECT * FROM accounts WHERE id = ?'),
    putAccount: db.prepare(
      `INSERT INTO accounts (id, created_at, updated_at, traits) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at, traits = excluded.traits`,
    ),
    putKey: db.prepare(
      'INSERT INTO api_keys (id, kind, name, hash, prefix, created_at, revoked_at, scope) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    listKeys: db.prepare('SELECT * FROM api_keys ORDER BY created_at, id'),
    keyByHash: db.prepare('SELECT * FROM api_keys WHERE hash = ?'),
    revokeKey: db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND (revoked_at IS NULL OR revoked_at > ?)'),
    addMember: db.prepare(
      'INSERT INTO memberships (audience_id, profile_id, since) VALUES (?, ?, ?) ON CONFLICT (audience_id, profile_id) DO NOTHING',
    ),
    replaceMember: db.prepare('INSERT OR REPLACE INTO memberships (audience_id, profile_id, since) VALUES (?, ?, ?)'),
    countMemberQueue: db.prepare('SELECT count(*) AS n FROM membership_queue'),
    anyMemberQueued: db.prepare('SELECT 1 FROM membership_queue LIMIT 1'),
    takeMemberQueue: db.prepare('SELECT seq, audience_id, profile_id, since FROM membership_queue ORDER BY seq'),
    dropMemberQueue: db.prepare('DELETE FROM membership_queue WHERE seq <= ?'),
    removeMember: db.prepare('DELETE FROM memberships WHERE audience_id = ? AND profile_id = ?'),
    audiencesOf: db.prepare("SELECT json_extract(data, '$.audiences') AS audiences FROM profiles WHERE id = ?"),
    members: db.prepare(
      'SELECT profile_id, since FROM memberships WHERE audience_id = ? AND profile_id > ? ORDER BY profile_id LIMIT ?',
    ),
    countMembers: db.prepare('SELECT count(*) AS n FROM memberships WHERE audience_id = ?'),
    setCheck: db.prepare(
      'INSERT INTO audience_checks (profile_id, due_at) VALUES (?, ?) ON CONFLICT (profile_id) DO UPDATE SET due_at = excluded.due_at',
    ),
    clearCheck: db.prepare('DELETE FROM audience_checks WHERE profile_id = ?'),
    dueChecks: db.prepare('SELECT profile_id, due_at FROM audience_checks WHERE due_at <= ? ORDER BY due_at, profile_id LIMIT ?'),
    profileIds: db.prepare('SELECT id FROM profiles WHERE merged_into IS NULL AND id > ? ORDER BY id LIMIT ?'),
    appendOutbox: db.prepare('INSERT INTO outbox (topic, key, payload, created_at) VALUES (?, ?, ?, ?)'),
    putAudienceState: db.prepare(
      `UPDATE profiles SET data = json_set(data, '$.counters', json(?), '$.audiences', json(?), '$.nextCheckAt', json(?))
        WHERE id = ? AND merged_into IS NULL AND data = ?`,
    ),
    addStats: db.prepare(
      `INSERT INTO experiment_stats (experiment_id, variant, metric, count, sum, sum_squares) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (experiment_id, variant, metric) DO UPDATE SET
         count = count + excluded.count, sum = sum + excluded.sum, sum_squares = sum_squares + excluded.sum_squares`,
    ),
    readStats: db.prepare('SELECT experiment_id, variant, metric, count, sum, sum_squares FROM experiment_stats WHERE experiment_id = ? ORDER BY variant, metric'),
    // AUTOINCREMENT keeps the highest seq handed out, even once the rows are deleted.
    outboxTail: db.prepare("SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0) AS seq"),
    pruneOutbox: db.prepare('DELETE FROM outbox WHERE seq <= ? AND created_at < ?'),
    dropCursor: db.prepare('DELETE FROM outbox_cursors WHERE consumer = ?'),
    dropDeadLetters: db.prepare('DELETE FROM outbox_dead_letters WHERE consumer = ?'),
    readOutbox: db.prepare('SELECT * FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?'),
    outboxCursor: db.prepare('SELECT seq FROM outbox_cursors WHERE consumer = ?'),
    ackOutbox: db.prepare(
      'INSERT INTO outbox_cursors (consumer, seq) VALUES (?, ?) ON CONFLICT (consumer) DO UPDATE SET seq = max(seq, excluded.seq)',
    ),
    addDeadLetter: db.prepare(
      'INSERT INTO outbox_dead_letters (consumer, seq, entry, error, attempts, at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    deadLetters: db.prepare('SELECT * FROM outbox_dead_letters WHERE consumer = ? ORDER BY id'),
    deadLetter: db.prepare('SELECT * FROM outbox_dead_letters WHERE consumer = ? AND id = ?'),
    dropDeadLetter: db.prepare('DELETE FROM outbox_dead_letters WHERE consumer = ? AND id = ?'),
    getDoc: db.prepare('SELECT * FROM config_documents WHERE kind = ? AND id = ?'),
    insertAudit: db.prepare('INSERT INTO audit_log (id, at, kind, resource_id, key_id, body) VALUES (?, ?, ?, ?, ?, ?)'),
    listDocs: db.prepare('SELECT * FROM config_documents WHERE kind = ? ORDER BY id'),
    insertDoc: db.prepare(
      `INSERT INTO config_documents (kind, id, body, version, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?)
       ON CONFLICT (kind, id) DO NOTHING`,
    ),
    updateDoc: db.prepare(
      'UPDATE config_documents SET body = ?, version = version + 1, updated_at = ? WHERE kind = ? AND id = ? AND version = ?',
    ),
    deleteDoc: db.prepare('DELETE FROM config_documents WHERE kind = ? AND id = ?'),
    // Event attributes fill in what the catalog has not described.
    addRecItem: db.prepare(
      `INSERT INTO rec_items (id, category, brand, price, name, views, carts, purchases) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET
         category = CASE WHEN from_catalog = 1 THEN category ELSE coalesce(excluded.category, category) END,
         brand = CASE WHEN from_catalog = 1 THEN brand ELSE coalesce(excluded.brand, brand) END,
         price = CASE WHEN from_catalog = 1 THEN price ELSE coalesce(excluded.price, price) END,
         name = CASE WHEN from_catalog = 1 THEN name ELSE coalesce(excluded.name, name) END,
         views = views + excluded.views, carts = carts + excluded.carts, purchases = purchases + excluded.purchases`,
    ),
    addRecDay: db.prepare(
      `INSERT INTO rec_item_days (item_id, day, views, carts, purchases) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (item_id, day) DO UPDATE SET
         views = views + excluded.views, carts = carts + excluded.carts, purchases = purchases + excluded.purchases`,
    ),
    queueRec: db.prepare('INSERT INTO rec_queue (writes) VALUES (?)'),
    takeRec: db.prepare('SELECT seq, writes FROM rec_queue ORDER BY seq LIMIT ?'),
    dropRec: db.prepare('DELETE FROM rec_queue WHERE seq <= ?'),
    pruneRecDays: db.prepare('DELETE FROM rec_item_days WHERE day < ?'),
    putRecItem: db.prepare(
      `INSERT INTO rec_items (id, category, brand, price, name, in_stock, attributes, from_catalog, deleted) VALUES (?, ?, ?, ?, ?, ?, ?, 1, 0)
       ON CONFLICT (id) DO UPDATE SET category = excluded.category, brand = excluded.brand, price = excluded.price, name = excluded.name,
         in_stock = excluded.in_stock, attributes = excluded.attributes, from_catalog = 1, deleted = 0`,
    ),
    deleteRecItem: db.prepare(
      `INSERT INTO rec_items (id, from_catalog, deleted) VALUES (?, 1, 1) ON CONFLICT (id) DO UPDATE SET from_catalog = 1, deleted = 1`,
    ),
    getRecItem: db.prepare('SELECT * FROM rec_items WHERE id = ?'),
    recRelated: db.prepare('SELECT other_id AS id, n FROM rec_pairs WHERE kind = ? AND item_id = ? ORDER BY n DESC, other_id LIMIT ?'),
    mergedInto: db.prepare('SELECT id FROM profiles WHERE merged_into = ?'),
    deleteProfile: db.prepare('DELETE FROM profiles WHERE id = ?'),
    deleteIdentities: db.prepare('DELETE FROM identities WHERE profile_id = ?'),
    deleteEvents: db.prepare('DELETE FROM events WHERE profile_id = ?'),
    catalogVersion: db.prepare('SELECT updated_at, deleted FROM catalog_items WHERE stream_id = ? AND type = ? AND id = ? AND locale = ?'),
    putCatalog: db.prepare(
      `INSERT INTO catalog_items (stream_id, type, id, locale, updated_at, deleted, fields, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (stream_id, type, id, locale) DO UPDATE SET updated_at = excluded.updated_at, deleted = excluded.deleted,
         fields = excluded.fields, received_at = excluded.received_at`,
    ),
    getCatalog: db.prepare('SELECT * FROM catalog_items WHERE stream_id = ? AND type = ? AND id = ? AND locale = ?'),
    listCatalog: db.prepare(
      `SELECT * FROM catalog_items
        WHERE stream_id = @stream AND (@type IS NULL OR type = @type) AND (@deleted = 1 OR deleted = 0)
          AND (@at IS NULL OR (type, id, locale) > (@at, @ai, @al))
        ORDER BY type, id, locale LIMIT @limit`,
    ),
    catalogStreams: db.prepare(
      `SELECT stream_id, sum(1 - deleted) AS items, sum(deleted) AS deleted, max(received_at) AS last_received_at
         FROM catalog_items GROUP BY stream_id ORDER BY stream_id`,
    ),
  };
}

/** Top items by a metric: all-time totals or a window of days, optionally within a category or brand. */
function recTopSql(metric: RecMetric, filter: '' | 'category' | 'brand', windowed: boolean): string {
  if (!windowed) {
    return `SELECT id, ${recMetricSql(metric)} AS n FROM rec_items
             WHERE deleted = 0 ${filter !== '' ? `AND ${filter} = ?` : ''} ORDER BY n DESC, id LIMIT ?`;
  }
  if (filter === '') {
    return `SELECT d.item_id AS id, sum(${recMetricSql(metric, 'd')}) AS n FROM rec_item_days d
             WHERE d.day >= ? AND d.day <= ? AND d.item_id NOT IN (SELECT id FROM rec_items WHERE deleted = 1)
             GROUP BY d.item_id HAVING n > 0 ORDER BY n DESC, id LIMIT ?`;
  }
  // From the category's (or brand's) items, each reading its own days.
  return `SELECT i.id, sum(${recMetricSql(metric, 'd')}) AS n FROM rec_items i JOIN rec_item_days d ON d.item_id = i.id AND d.day >= ? AND d.day <= ?
           WHERE i.${filter} = ? AND i.deleted = 0 GROUP BY i.id HAVING n > 0 ORDER BY n DESC, i.id LIMIT ?`;
}

function profileData(p: ProfileRecord): string {
  return JSON.stringify(profileDataOf(p));
}

function toProfile(row: Row): ProfileRecord {
  return profileFromData(
    {
      id: row.id as string,
      mergedInto: (row.merged_into as string | null) ?? null,
      createdAt: row.created_at as number,
      updatedAt: row.updated_at as number,
    },
    JSON.parse(row.data as string),
  );
}

function toEvent(row: Row): StoredEvent {
  return {
    messageId: row.message_id as string,
    profileId: row.profile_id as string,
    type: row.type as StoredEvent['type'],
    name: row.name as string,
    timestamp: row.ts as number,
    receivedAt: row.received_at as number,
    message: JSON.parse(row.message as string),
  };
}

function toAccount(row: Row): AccountRecord {
  return {
    id: row.id as string,
    createdAt: row.created_at as number,
    updatedAt: row.updated_at as number,
    traits: JSON.parse(row.traits as string),
  };
}

function toDoc(row: Row): ConfigDocument {
  return {
    kind: row.kind as string,
    id: row.id as string,
    body: JSON.parse(row.body as string),
    version: row.version as number,
    createdAt: row.created_at as number,
    updatedAt: row.updated_at as number,
  };
}

function toDeadLetter(row: Row): DeadLetter {
  return {
    id: String(row.id),
    consumer: row.consumer as string,
    entry: JSON.parse(row.entry as string),
    error: row.error as string,
    attempts: row.attempts as number,
    at: row.at as number,
  };
}

/** A profile's memberships from its record, by audience id. */
function audiencesOf(row: Row | undefined): Array<[string, number]> {
  if (!row || typeof row.audiences !== 'string') return [];
  return (Object.entries(JSON.parse(row.audiences)) as Array<[string, number]>).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}


function toKey(row: Row): ApiKeyRecord {
  return {
    id: row.id as string,
    kind: row.kind as ApiKeyRecord['kind'],
    name: row.name as string,
    hash: row.hash as string,
    prefix: row.prefix as string,
    createdAt: row.created_at as number,
    revokedAt: (row.revoked_at as number | null) ?? null,
    ...(typeof row.scope === 'string' ? { scope: JSON.parse(row.scope) } : {}),
  };
}
