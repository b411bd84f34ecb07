import type { CounterSpec } from '../conditions/analyze.ts';
import { filterMatches } from '../conditions/evaluate.ts';
import type { Filter } from '../conditions/types.ts';
import { type CounterState, newProfile, type ProfileData, type ProfileRecord, profileFromData } from '../profiles/types.ts';
import type { CounterRow, CounterScanSpec, CounterSnapshot, PushedFilter, Store, VersionedProfile } from '../store.ts';
import { type AudienceWrites, applyAudiences, persistAudienceWrites } from './apply.ts';
import type { CompiledAudiences } from './compiled.ts';
import { MAX_COUNTER_ENTRIES, project, prune } from './counters.ts';

/** Profiles whose counters or membership change, written per transaction. */
const APPLY_CHUNK = 2000;

/** Chunks being written at once. */
const WRITES_IN_FLIGHT = 2;

/** Property names a store may name in SQL (JSON paths, jsonb keys) without quoting. */
const PLAIN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The part of a filter a store can apply in SQL, or null (the core alone checks it). */
export function pushedFilter(f: Filter): PushedFilter | null {
  if (!PLAIN.test(f.property)) return null;
  const scalar = (v: unknown): v is string | number => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
  switch (f.op) {
    case 'eq':
      return scalar(f.value) ? { property: f.property, op: 'eq', values: [f.value] } : null;
    case 'in':
      return Array.isArray(f.value) && f.value.length > 0 && f.value.every(scalar) ? { property: f.property, op: 'eq', values: f.value as Array<string | number> } : null;
    case 'exists':
      return f.value === false ? null : { property: f.property, op: 'exists' };
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return typeof f.value === 'number' && Number.isFinite(f.value) ? { property: f.property, op: f.op, value: f.value } : null;
    default:
      return null;
  }
}

/** The store-side form of the counter specs at `now`: one scan spec per counter spec, same order. */
export function counterScanOf(specs: ReadonlyArray<CounterSpec>, now: number): CounterScanSpec[] {
  return specs.map((spec) => {
    const heads = new Set<string>();
    for (const f of spec.where) heads.add(f.property.split('.')[0] as string);
    for (const p of spec.paths) heads.add(p.split('.')[0] as string);
    return {
      event: spec.event,
      after: spec.windowMs === null ? null : now - spec.windowMs,
      where: spec.where.map(pushedFilter).filter((f): f is PushedFilter => f !== null),
      properties: [...heads].sort(),
    };
  });
}

/**
 * The counters incremental ingestion would hold at `now` for a profile with these events
 * (ordered by time, then message id, as recomputing from history adds them): per spec the
 * matching events inside its longest window, the newest MAX_COUNTER_ENTRIES, with the rest
 * counted as dropped. A spec no event matches has no state (ingestion may keep an empty one).
 */
export function countersFromRows(rows: ReadonlyArray<CounterRow>, specs: ReadonlyArray<CounterSpec>, scan: ReadonlyArray<CounterScanSpec>, now: number): Record<string, CounterState> {
  const counters: Record<string, CounterState> = {};
  if (rows.length === 0) return counters;
  specs.forEach((spec, i) => {
    const after = (scan[i] as CounterScanSpec).after;
    const entries: CounterState['entries'] = [];
    for (const row of rows) {
      if (row.name !== spec.event || (after !== null && row.ts <= after)) continue;
      if (!spec.where.every((f) => filterMatches(row.properties, f))) continue;
      const entry: CounterState['entries'][number] = { t: row.ts };
      if (spec.paths.length > 0) entry.p = project(row.properties, spec.paths);
      entries.push(entry);
    }
    if (entries.length === 0) return;
    const extra = entries.length - MAX_COUNTER_ENTRIES;
    const state: CounterState = extra > 0 ? { entries: entries.slice(extra), dropped: extra } : { entries };
    Object.defineProperty(counters, spec.key, { value: state, enumerable: true, writable: true, configurable: true });
  });
  return counters;
}

/**
 * Whether a profile's stored counters say what `fresh` says at `now`: entries that left their
 * window are ignored (ingestion drops them at the profile's next event), an empty state is
 * the same as none, and counters of questions no audience asks any more differ.
 */
export function sameCounters(stored: Record<string, CounterState>, fresh: Record<string, CounterState>, specs: ReadonlyArray<CounterSpec>, now: number): boolean {
  const asked = new Set(specs.map((s) => s.key));
  for (const key of Object.keys(stored)) if (!asked.has(key)) return false;
  for (const spec of specs) {
    const a = stored[spec.key];
    const b = fresh[spec.key];
    let entries = a?.entries ?? [];
    if (spec.windowMs !== null) {
      const cutoff = now - spec.windowMs;
      let drop = 0;
      while (drop < entries.length && (entries[drop] as { t: number }).t <= cutoff) drop++;
      entries = entries.slice(drop);
    }
    const other = b?.entries ?? [];
    if (entries.length !== other.length || (a?.dropped ?? 0) !== (b?.dropped ?? 0)) return false;
    for (let i = 0; i < entries.length; i++) {
      const x = entries[i] as { t: number; p?: Record<string, unknown> };
      const y = other[i] as { t: number; p?: Record<string, unknown> };
      if (x.t !== y.t) return false;
      if ((x.p !== undefined || y.p !== undefined) && JSON.stringify(x.p ?? {}) !== JSON.stringify(y.p ?? {})) return false;
    }
  }
  return true;
}

/**
 * A profile with rebuilt counters, re-evaluated: whether anything must be written, the profile
 * to store (counters, membership and next check updated) and the audience writes that go with it.
 * `profile` is the caller's own copy, updated in place (a copy of each would cost more than the
 * evaluation: it runs once per profile with counter events).
 */
function reevaluate(profile: ProfileRecord, counters: Record<string, CounterState>, target: CompiledAudiences, now: number) {
  const countersChanged = !sameCounters(profile.counters, counters, target.specs, now);
  const next = profile;
  if (countersChanged) next.counters = counters;
  next.nextCheckAt = profile.nextCheckAt ?? null;
  const writes = applyAudiences([next], target, now);
  const changed = countersChanged || writes.memberships.length > 0 || writes.checks.length > 0 || writes.outbox.length > 0;
  return { changed, next, writes };
}

/** A stored profile document with no counters, no membership and no scheduled check. */
function isBlank(data: Partial<ProfileData>): boolean {
  if (data.nextCheckAt !== undefined && data.nextCheckAt !== null) return false;
  for (const _ in data.counters ?? {}) return false;
  for (const _ in data.audiences ?? {}) return false;
  return true;
}

/**
 * Whether a blank profile with no counter events stays as it is: true when every audience reads
 * only event counters (so all such profiles get the same answer) and that answer changes nothing.
 * Then the recompute need not even build those profiles.
 */
function blankStaysBlank(target: CompiledAudiences, now: number): boolean {
  for (const d of target.deps.values()) if (d.traits || d.computed || d.context || d.always) return false;
  return !reevaluate({ ...newProfile('', now), nextCheckAt: null }, {}, target, now).changed;
}

/** Pulls items one at a time from a stream of batches, with a look at the next one. */
class Peek<T> {
  private batch: T[] = [];
  private at = 0;
  private done = false;
  constructor(private readonly source: AsyncIterator<T[]>) {}

  async peek(): Promise<T | undefined> {
    while (this.at >= this.batch.length) {
      if (this.done) return undefined;
      const next = await this.source.next();
      if (next.done) {
        this.done = true;
        return undefined;
      }
      this.batch = next.value;
      this.at = 0;
    }
    return this.batch[this.at];
  }

  take(): void {
    this.at++;
  }
}

/** The rows of one profile, in order. */
interface RowGroup {
  profileId: string;
  rows: CounterRow[];
}

async function* groups(rows: AsyncIterable<CounterRow[]>): AsyncGenerator<RowGroup[]> {
  let current: RowGroup | null = null;
  for await (const batch of rows) {
    const out: RowGroup[] = [];
    for (const row of batch) {
      if (current === null || current.profileId !== row.profileId) {
        if (current !== null) out.push(current);
        current = { profileId: row.profileId, rows: [] };
      }
      current.rows.push(row);
    }
    if (out.length > 0) yield out;
  }
  if (current !== null) yield [current];
}

interface Candidate {
  v: VersionedProfile;
  rows: CounterRow[];
  /** Not read: a profile with no state as of the snapshot, versioned by the snapshot's unreadVersion. */
  unread?: boolean;
}

/**
 * The live profiles the recompute must look at, each with its counter rows, in id order. When
 * blank profiles without counter events stay as they are, only profiles that may hold some
 * state and profiles with counter events are read (the latter by id, in batches); otherwise all.
 * A profile with counter events and no state is not read at all when the store gives an
 * unreadVersion: its answer then depends on its counters alone (see blankStaysBlank), and the
 * write checks that its row is still the snapshot's.
 */
async function* candidates(snapshot: CounterSnapshot, skipBlank: boolean, now: number): AsyncGenerator<Candidate[]> {
  const rows = new Peek(groups(snapshot.rows())[Symbol.asyncIterator]());
  const profiles = new Peek(snapshot.profiles({ withState: skipBlank })[Symbol.asyncIterator]());
  const unread = skipBlank ? snapshot.unreadVersion : undefined;
  let out: Candidate[] = [];
  let lookup: RowGroup[] = [];
  const flushLookup = async () => {
    if (lookup.length === 0) return;
    const byId = new Map(lookup.map((g) => [g.profileId, g.rows]));
    for (const v of await snapshot.profilesById([...byId.keys()])) out.push({ v, rows: byId.get(v.id) ?? [] });
    lookup = [];
  };
  for (;;) {
    const p = await profiles.peek();
    const g = await rows.peek();
    if (p === undefined && g === undefined) break;
    if (p !== undefined && (g === undefined || p.id <= g.profileId)) {
      profiles.take();
      const own = g !== undefined && g.profileId === p.id;
      if (own) rows.take();
      out.push({ v: p, rows: own ? g.rows : [] });
    } else if (g !== undefined) {
      rows.take();
      // Events of a profile with no state (or, reading all profiles, of one merged away or gone).
      if (unread !== undefined) out.push({ v: { id: g.profileId, createdAt: now, updatedAt: now, data: {}, version: unread }, rows: g.rows, unread: true });
      else if (skipBlank) lookup.push(g);
    }
    if (lookup.length >= BATCH_LOOKUP) await flushLookup();
    if (out.length >= BATCH_LOOKUP) {
      yield out;
      out = [];
    }
  }
  await flushLookup();
  if (out.length > 0) yield out;
}

const BATCH_LOOKUP = 2000;

interface Pending {
  /** As of the snapshot, with what to store: the rebuilt counters (or the stored ones when they say the same), membership, next check. */
  next: ProfileRecord;
  version: string;
  unread: boolean;
  /** The audience writes of `next`, evaluated at the same `now`: they stand when the profile is unchanged since the snapshot. */
  writes: AudienceWrites;
}

/**
 * Rebuilds every live profile's counters and membership set-based: the store scans the
 * events once for the counter specs (filters in SQL), the profiles are read from the same
 * snapshot, and only profiles whose counters or membership change are locked and written,
 * in large batches. A profile written since the snapshot (an event ingested meanwhile, a
 * merge) has its counter events read again under its lock, so nothing ingested during the
 * recompute is lost or counted twice. `progress` is told how many profiles were checked
 * (profiles skipped as blank count at the end).
 */
export async function recomputeSetBased(
  store: Store,
  target: CompiledAudiences,
  now: number,
  progress: (checked: number) => void,
  /** Profiles written per transaction (tests use a few, to see several chunks). */
  options: { chunk?: number } = {},
): Promise<void> {
  const chunkSize = options.chunk ?? APPLY_CHUNK;
  const scan = counterScanOf(target.specs, now);
  const skipBlank = blankStaysBlank(target, now);
  const snapshot = await store.counterSnapshot(scan);
  // Chunks are written while the next ones are read and evaluated: on a database server the
  // reads, the evaluation and two writing transactions overlap (SQLite runs them in turn). The
  // chunks hold different profiles (the scan goes through each once, in id order).
  const writing = new Set<Promise<void>>();
  let failure: { error: unknown } | null = null;
  const write = async (chunk: Pending[], durable: boolean) => {
    while (writing.size >= WRITES_IN_FLIGHT) await Promise.race(writing);
    if (failure !== null) throw failure.error;
    const done: Promise<void> = applyChanges(store, chunk, target, scan, now, durable)
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => writing.delete(done));
    writing.add(done);
  };
  // Every chunk but the last commits without waiting for the disk; the last one, committed after
  // all others, is durable and takes theirs with it. A power cut before it loses a tail of
  // chunks as a crash mid-recompute would (each chunk is whole), and running it again redoes them.
  let held: Pending[] | null = null;
  const hold = async (chunk: Pending[]) => {
    if (held !== null) await write(held, false);
    held = chunk;
  };
  try {
    let pending: Pending[] = [];
    let checked = 0;
    for await (const batch of candidates(snapshot, skipBlank, now)) {
      for (const { v, rows, unread } of batch) {
        if (skipBlank && rows.length === 0 && isBlank(v.data)) continue;
        const profile = profileFromData({ id: v.id, mergedInto: null, createdAt: v.createdAt, updatedAt: v.updatedAt }, v.data);
        const counters = countersFromRows(rows, target.specs, scan, now);
        const { changed, next, writes } = reevaluate(profile, counters, target, now);
        if (!changed) continue;
        pending.push({ next, version: v.version, unread: unread === true, writes });
        if (pending.length >= chunkSize) {
          await hold(pending);
          pending = [];
        }
      }
      checked += batch.length;
      progress(checked);
    }
    if (pending.length > 0) await hold(pending);
    if (held !== null) {
      await Promise.all(writing);
      if (failure !== null) throw (failure as { error: unknown }).error;
      await write(held, true);
    }
    await Promise.all(writing);
    if (failure !== null) throw (failure as { error: unknown }).error;
  } finally {
    await Promise.all(writing);
    await snapshot.close();
  }
}

async function applyChanges(store: Store, pending: Pending[], target: CompiledAudiences, scan: CounterScanSpec[], now: number, durable: boolean): Promise<void> {
  await store.transaction(async (tx) => {
    // Unchanged since the snapshot: only the audience state is written, and what the scan decided stands.
    const written = await tx.putAudienceStates(pending.map((p) => (p.unread ? { profile: p.next, version: p.version, unread: true } : { profile: p.next, version: p.version })));
    // Written since the snapshot (or gone): read again, now that the rows are locked, with their counter events.
    const stale = pending.filter((p) => !written.has(p.next.id)).map((p) => p.next.id);
    const current = stale.length > 0 ? await tx.getProfiles(stale) : new Map<string, ProfileRecord>();
    const live = stale.filter((id) => current.get(id)?.mergedInto === null);
    const fresh = new Map<string, CounterRow[]>(live.map((id) => [id, []]));
    if (live.length > 0) for (const row of await tx.counterRows(scan, live)) fresh.get(row.profileId)?.push(row);
    const rewritten: ProfileRecord[] = [];
    const writes: AudienceWrites = { events: [], memberships: [], checks: [], outbox: [] };
    const add = (w: AudienceWrites) => {
      for (const e of w.events) writes.events.push(e);
      for (const m of w.memberships) writes.memberships.push(m);
      for (const c of w.checks) writes.checks.push(c);
      for (const o of w.outbox) writes.outbox.push(o);
    };
    for (const p of pending) {
      if (written.has(p.next.id)) {
        add(p.writes);
        continue;
      }
      const rows = fresh.get(p.next.id);
      if (rows === undefined) continue; // merged away or erased meanwhile: the merge took it out of its audiences
      const profile = current.get(p.next.id) as ProfileRecord;
      const { changed, next, writes: own } = reevaluate(profile, countersFromRows(rows, target.specs, scan, now), target, now);
      if (changed) {
        rewritten.push(next);
        add(own);
      }
    }
    if (rewritten.length > 0) await tx.putProfiles(rewritten);
    await persistAudienceWrites(tx, writes, { events: true });
  }, { durable });
}
