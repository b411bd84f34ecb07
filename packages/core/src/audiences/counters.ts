import type { CounterSpec } from '../conditions/analyze.ts';
import { filterMatches } from '../conditions/evaluate.ts';
import type { SubjectEvent } from '../conditions/types.ts';
import type { CounterState } from '../profiles/types.ts';

/** Most entries one counter keeps per profile; older ones are dropped (counts above saturate). */
export const MAX_COUNTER_ENTRIES = 2000;

/** A profile-side summary of one (event, filters) question: the matching events' times and read properties. */
export function recordInCounters(
  counters: Record<string, CounterState>,
  specs: ReadonlyArray<CounterSpec>,
  event: SubjectEvent,
  now: number,
  /** Gets the key of every counter the event went into. */
  touched?: Set<string>,
): void {
  for (const spec of specs) {
    if (spec.event !== event.name) continue;
    if (!spec.where.every((f) => filterMatches(event.properties, f))) continue;
    touched?.add(spec.key);
    const state = Object.hasOwn(counters, spec.key) ? (counters[spec.key] as CounterState) : { entries: [] };
    const entry: CounterState['entries'][number] = { t: event.timestamp };
    if (spec.paths.length > 0) entry.p = project(event.properties, spec.paths);
    // Usually the newest: append; a late event is inserted in time order.
    const entries = state.entries;
    let i = entries.length;
    while (i > 0 && (entries[i - 1] as { t: number }).t > entry.t) i--;
    entries.splice(i, 0, entry);
    prune(state, spec, now);
    Object.defineProperty(counters, spec.key, { value: state, enumerable: true, writable: true, configurable: true });
  }
}

/** Drops entries that left the longest window, then the oldest past the cap. */
export function prune(state: CounterState, spec: CounterSpec, now: number): void {
  if (spec.windowMs !== null) {
    const cutoff = now - spec.windowMs;
    let drop = 0;
    while (drop < state.entries.length && (state.entries[drop] as { t: number }).t <= cutoff) drop++;
    if (drop > 0) state.entries.splice(0, drop);
  }
  if (state.entries.length > MAX_COUNTER_ENTRIES) {
    const extra = state.entries.length - MAX_COUNTER_ENTRIES;
    state.entries.splice(0, extra);
    state.dropped = (state.dropped ?? 0) + extra;
  }
}

/** Counters of two profiles of one person, merged: entries in time order, then pruned. */
export function mergeCounters(
  into: Record<string, CounterState>,
  from: Record<string, CounterState>,
  specs: ReadonlyArray<CounterSpec>,
  now: number,
): void {
  for (const spec of specs) {
    const a = into[spec.key];
    const b = from[spec.key];
    if (!b) continue;
    const merged: CounterState = {
      entries: [...(a?.entries ?? []), ...b.entries].sort((x, y) => x.t - y.t),
      ...((a?.dropped ?? 0) + (b.dropped ?? 0) > 0 ? { dropped: (a?.dropped ?? 0) + (b.dropped ?? 0) } : {}),
    };
    prune(merged, spec, now);
    Object.defineProperty(into, spec.key, { value: merged, enumerable: true, writable: true, configurable: true });
  }
}

/** The events a counter stands for, as the condition evaluator reads them. */
export function counterEvents(state: CounterState | undefined, event: string): SubjectEvent[] {
  if (!state) return [];
  return state.entries.map((e) => ({ name: event, timestamp: e.t, properties: (e.p ?? {}) as Record<string, unknown> }));
}

/** Copies only the given property paths out of an object, keeping their nesting (arrays included). */
export function project(props: Record<string, unknown>, paths: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const path of paths) merge(out, pick(props, path.split('.')));
  return out;
}

function pick(value: unknown, segments: string[]): unknown {
  if (segments.length === 0) return value;
  if (value === null || typeof value !== 'object') return undefined;
  const [head, ...rest] = segments as [string, ...string[]];
  if (Array.isArray(value)) {
    if (/^\d+$/.test(head)) {
      const arr: unknown[] = [];
      arr[Number(head)] = pick(value[Number(head)], rest);
      return arr;
    }
    return value.map((item) => pick(item, segments));
  }
  if (!Object.hasOwn(value, head)) return undefined;
  const inner = pick((value as Record<string, unknown>)[head], rest);
  return inner === undefined ? undefined : { [head]: inner };
}

function merge(target: Record<string, unknown>, source: unknown): void {
  if (source === null || typeof source !== 'object' || Array.isArray(source)) return;
  for (const [k, v] of Object.entries(source)) {
    const existing = target[k];
    if (existing && typeof existing === 'object' && !Array.isArray(existing) && v && typeof v === 'object' && !Array.isArray(v)) {
      merge(existing as Record<string, unknown>, v);
    } else if (Array.isArray(existing) && Array.isArray(v)) {
      v.forEach((item, i) => {
        const cur = existing[i];
        if (cur && typeof cur === 'object' && item && typeof item === 'object') merge(cur as Record<string, unknown>, item);
        else if (item !== undefined) existing[i] = item;
      });
    } else if (v !== undefined) {
      Object.defineProperty(target, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
  }
}
