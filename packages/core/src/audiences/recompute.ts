import type { CounterSpec } from '../conditions/analyze.ts';
import { filterMatches } from '../conditions/evaluate.ts';
import type { Filter } from '../conditions/types.ts';
import type { CounterState, ProfileRecord } from '../profiles/types.ts';
import type { CounterRow, CounterScanSpec, PushedFilter, Store, VersionedProfile } from '../store.ts';
import { applyAudiences, persistAudienceWrites } from './apply.ts';
import type { CompiledAudiences } from './compiled.ts';
import { MAX_COUNTER_ENTRIES, project, prune } from './counters.ts';

/** Profiles whose counters or membership change, written per transaction. */
const APPLY_CHUNK = 2000;

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

/** A profile with rebuilt counters, re-evaluated: whether anything must be written, and what. */
function reevaluate(profile: ProfileRecord, counters: Record<string, CounterState>, target: CompiledAudiences, now: number) {
  const countersChanged = !sameCounters(profile.counters, counters, target.specs, now);
  const next: ProfileRecord = { ...profile, counters: countersChanged ? counters : profile.counters, audiences: { ...profile.audiences }, nextCheckAt: profile.nextCheckAt ?? null };
  const writes = applyAudiences([next], target, now);
  const changed = countersChanged || writes.memberships.length > 0 || writes.checks.length > 0 || writes.outbox.length > 0;
  return { changed, next };
}

/** Walks an ordered stream of batches, handing out the rows of one profile at a time. */
class RowCursor {
  private batch: CounterRow[] = [];
  private at = 0;
  private done = false;
  constructor(private readonly source: AsyncIterator<CounterRow[]>) {}

  /** The rows of `profileId`; rows of smaller ids (profiles merged away or gone) are skipped. */
  async rowsOf(profileId: string): Promise<CounterRow[]> {
    const out: CounterRow[] = [];
    for (;;) {
      if (this.at >= this.batch.length) {
        if (this.done) return out;
        const next = await this.source.next();
        if (next.done) {
          this.done = true;
          return out;
        }
        this.batch = next.value;
        this.at = 0;
        continue;
      }
      const row = this.batch[this.at] as CounterRow;
      if (row.profileId > profileId) return out;
      if (row.profileId === profileId) out.push(row);
      this.at++;
    }
  }
}

interface Pending {
  id: string;
  version: string;
  counters: Record<string, CounterState>;
}

/**
 * Rebuilds every live profile's counters and membership set-based: the store scans the
 * events once for the counter specs (filters in SQL), the profiles are read from the same
 * snapshot, and only profiles whose counters or membership change are locked and written,
 * in large batches. A profile written since the snapshot (an event ingested meanwhile, a
 * merge) has its counter events read again under its lock, so nothing ingested during the
 * recompute is lost or counted twice. `progress` is told how many profiles were checked.
 */
export async function recomputeSetBased(store: Store, target: CompiledAudiences, now: number, progress: (checked: number) => void): Promise<void> {
  const scan = counterScanOf(target.specs, now);
  const snapshot = await store.counterSnapshot(scan);
  try {
    const rows = new RowCursor(snapshot.rows()[Symbol.asyncIterator]());
    let pending: Pending[] = [];
    let checked = 0;
    for await (const batch of snapshot.profiles()) {
      for (const { profile, version } of batch as VersionedProfile[]) {
        const counters = countersFromRows(await rows.rowsOf(profile.id), target.specs, scan, now);
        if (reevaluate(profile, counters, target, now).changed) pending.push({ id: profile.id, version, counters });
      }
      checked += batch.length;
      if (pending.length >= APPLY_CHUNK) {
        await applyChanges(store, pending, target, scan, now);
        pending = [];
      }
      progress(checked);
    }
    if (pending.length > 0) await applyChanges(store, pending, target, scan, now);
  } finally {
    await snapshot.close();
  }
}

async function applyChanges(store: Store, pending: Pending[], target: CompiledAudiences, scan: CounterScanSpec[], now: number): Promise<void> {
  const ids = pending.map((p) => p.id);
  await store.transaction(async (tx) => {
    const profiles = await tx.getProfiles(ids);
    const versions = await tx.profileVersions(ids);
    // Written since the snapshot: read their counter events again, now that they are locked.
    const stale = pending.filter((p) => versions.get(p.id) !== p.version && profiles.get(p.id)?.mergedInto === null).map((p) => p.id);
    const fresh = new Map<string, CounterRow[]>(stale.map((id) => [id, []]));
    if (stale.length > 0) for (const row of await tx.counterRows(scan, stale)) fresh.get(row.profileId)?.push(row);
    const changed: ProfileRecord[] = [];
    for (const p of pending) {
      const profile = profiles.get(p.id);
      // Merged away since the snapshot: the merge already took it out of its audiences.
      if (!profile || profile.mergedInto !== null) continue;
      const rows = fresh.get(p.id);
      const counters = rows ? countersFromRows(rows, target.specs, scan, now) : p.counters;
      const { changed: differs, next } = reevaluate(profile, counters, target, now);
      if (differs) changed.push({ ...profile, counters: next.counters, nextCheckAt: profile.nextCheckAt ?? null });
    }
    const writes = applyAudiences(changed, target, now);
    await tx.putProfiles(changed);
    await persistAudienceWrites(tx, writes, { events: true });
  });
}
