import { fnv1a32 } from '../decisions/bucketing.ts';
import { canonical } from './canonical.ts';
import { evaluateCondition, matching } from './evaluate.ts';
import type { Condition, ConditionSubject, Filter, Window } from './types.ts';
import { windowMs } from './validate.ts';

/** What a real-time engine must keep per profile for one (event, filters) question. */
export interface CounterSpec {
  /** Stable key: the same event and filters give the same key across nodes and audiences. */
  key: string;
  event: string;
  where: Filter[];
  /** Property paths read from the matching events (aggregate and top properties). */
  paths: string[];
  /** The longest `last …` window asked, in ms; null when some node asks `ever` or a date range. */
  windowMs: number | null;
}

// Keys are asked for on every evaluation: memoised per filter list (conditions are immutable once compiled).
const keysByWhere = new WeakMap<Filter[], Map<string, string>>();
const keysWithoutWhere = new Map<string, string>();

/**
 * The key of a counter in profile records: a 64-bit hash of the canonical (event, filters)
 * question, so the same question shares one counter across audiences and nodes. Short, because
 * every profile record carries one per question it answers.
 */
export function counterKey(event: string, where: Filter[] | undefined): string {
  const cache = where ? (keysByWhere.get(where) ?? new Map<string, string>()) : keysWithoutWhere;
  let key = cache.get(event);
  if (key === undefined) {
    key = counterKeyOf(canonical({ event, where: where ?? [] }));
    if (cache === keysWithoutWhere && cache.size > 10_000) cache.clear();
    cache.set(event, key);
    if (where && !keysByWhere.has(where)) keysByWhere.set(where, cache);
  }
  return key;
}

/** The short key of a canonical question; also turns the canonical keys records held before into short ones. */
export function counterKeyOf(canonicalQuestion: string): string {
  return `${fnv1a32(canonicalQuestion).toString(36)}.${fnv1a32(`\u0001${canonicalQuestion}`).toString(36)}`;
}

/** True when the condition's answer can change with time alone (it has a `last` or `between` window). */
export function isTimeDependent(condition: Condition): boolean {
  const timed = (w: Window | undefined) => w !== undefined && w !== 'ever';
  const walk = (c: Condition): boolean => {
    if ('all' in c) return c.all.some(walk);
    if ('any' in c) return c.any.some(walk);
    if ('not' in c) return walk(c.not);
    if ('did' in c) return timed(c.did.window);
    if ('did_not' in c) return timed(c.did_not.window);
    if ('have' in c) {
      const h = c.have;
      if ('aggregate' in h) return timed(h.aggregate.window);
      if ('top' in h) return timed(h.top.window);
    }
    return false;
  };
  return walk(condition);
}

/**
 * The event-history questions conditions ask, merged by event and filters. An audience
 * engine keeps one incremental summary per key instead of rescanning a profile's events.
 */
export function analyzeConditions(conditions: Condition[]): CounterSpec[] {
  const specs = new Map<string, CounterSpec>();
  const add = (event: string, where: Filter[] | undefined, path: string | undefined, w: Window | undefined) => {
    const key = counterKey(event, where);
    const length = w !== undefined && w !== 'ever' && 'last' in w ? windowMs(w) : null;
    let spec = specs.get(key);
    if (!spec) {
      spec = { key, event, where: where ?? [], paths: [], windowMs: length };
      specs.set(key, spec);
    } else spec.windowMs = spec.windowMs === null || length === null ? null : Math.max(spec.windowMs, length);
    if (path !== undefined && !spec.paths.includes(path)) spec.paths.push(path);
  };
  const walk = (c: Condition) => {
    if ('all' in c) c.all.forEach(walk);
    else if ('any' in c) c.any.forEach(walk);
    else if ('not' in c) walk(c.not);
    else if ('did' in c) add(c.did.event, c.did.where, undefined, c.did.window);
    else if ('did_not' in c) add(c.did_not.event, c.did_not.where, undefined, c.did_not.window);
    else if ('have' in c) {
      const h = c.have;
      if ('aggregate' in h) add(h.aggregate.event, h.aggregate.where, h.aggregate.property, h.aggregate.window);
      else if ('top' in h) add(h.top.event, h.top.where, h.top.property, h.top.window);
    }
  };
  conditions.forEach(walk);
  return [...specs.values()];
}

export function analyzeCondition(condition: Condition): CounterSpec[] {
  return analyzeConditions([condition]);
}

/**
 * The earliest time after `now` at which the condition's answer changes with no new event
 * (an event leaving a `last …` window, a future-dated event arriving), or null if it never
 * does. Exact: candidate times are checked in order. This is what schedules an audience exit
 * ("did X in the last 7 days" ends 7 days after the last X). `in_audience` and request
 * context (time of day) are outside the profile: their changes are not predicted here.
 */
export function nextChangeAt(
  condition: Condition,
  subject: ConditionSubject,
  now: number,
  /**
   * Most candidate times to evaluate. Past it, the last probed candidate is returned: an
   * answer cannot change before it, so checking again then (and looking further) is safe.
   */
  maxProbes = Number.POSITIVE_INFINITY,
  /** The answer at `now`, when the caller already has it. */
  current?: boolean,
): number | null {
  const direct = windowExit(condition, subject, now);
  if (direct !== undefined) return direct;
  return probeNextChange(condition, subject, now, maxProbes, current);
}

/**
 * The next change of the commonest timed shapes in closed form — "did X (at least N times) in
 * the last W" and "did not X in the last W" — with no probing: the answer ends or starts when
 * the N-th newest (or the newest) matching event leaves the window. `undefined` for any other
 * shape, or when a future-dated event makes the general search necessary.
 */
function windowExit(c: Condition, subject: ConditionSubject, now: number): number | null | undefined {
  let event: string;
  let where: Filter[] | undefined;
  let w: Window | undefined;
  let rank: number;
  if ('did' in c) {
    const count = c.did.count;
    if (count !== undefined && count.op !== 'at_least') return undefined;
    ({ event, where, window: w } = c.did);
    rank = count?.value ?? 1;
  } else if ('did_not' in c) {
    ({ event, where, window: w } = c.did_not);
    rank = 1;
  } else return undefined;
  if (w === undefined || w === 'ever' || !('last' in w)) return undefined;
  if (rank < 1) return null; // "at least 0 times" always holds
  const length = windowMs(w);
  const inside: number[] = [];
  for (const e of matching(subject, event, where, 'ever', Number.POSITIVE_INFINITY)) {
    if (e.timestamp > now) return undefined;
    if (e.timestamp > now - length) inside.push(e.timestamp);
  }
  if (inside.length < rank) return null;
  inside.sort((a, b) => b - a);
  return (inside[rank - 1] as number) + length;
}

/** The general search: candidate times (window exits, future events) probed in order. */
export function probeNextChange(condition: Condition, subject: ConditionSubject, now: number, maxProbes = Number.POSITIVE_INFINITY, current?: boolean): number | null {
  const candidates: number[] = [];
  collectCandidates(condition, subject, now, candidates);
  if (candidates.length === 0) return null;
  const answer = current ?? evaluateCondition(condition, subject, now);
  candidates.sort((a, b) => a - b);
  let probes = 0;
  let last = Number.NaN;
  for (const t of candidates) {
    if (t === last) continue;
    last = t;
    if (evaluateCondition(condition, subject, t) !== answer) return t;
    if (++probes >= maxProbes) return t;
  }
  return null;
}

function collectCandidates(c: Condition, subject: ConditionSubject, now: number, out: number[]): void {
  if ('all' in c) for (const x of c.all) collectCandidates(x, subject, now, out);
  else if ('any' in c) for (const x of c.any) collectCandidates(x, subject, now, out);
  else if ('not' in c) collectCandidates(c.not, subject, now, out);
  else if ('did' in c) collectEventTimes(c.did.event, c.did.where, c.did.window, subject, now, out);
  else if ('did_not' in c) collectEventTimes(c.did_not.event, c.did_not.where, c.did_not.window, subject, now, out);
  else if ('have' in c) {
    const h = c.have;
    if ('aggregate' in h) collectEventTimes(h.aggregate.event, h.aggregate.where, h.aggregate.window, subject, now, out);
    else if ('top' in h) collectEventTimes(h.top.event, h.top.where, h.top.window, subject, now, out);
  }
}

function collectEventTimes(event: string, where: Filter[] | undefined, w: Window | undefined, subject: ConditionSubject, now: number, out: number[]): void {
  const length = w !== undefined && w !== 'ever' && 'last' in w ? windowMs(w) : null;
  const to = w !== undefined && w !== 'ever' && 'between' in w ? Date.parse(w.between.to) : null;
  for (const e of matching(subject, event, where, 'ever', Number.POSITIVE_INFINITY)) {
    if (e.timestamp > now) out.push(e.timestamp);
    if (length !== null) {
      const leaves = e.timestamp + length;
      if (leaves > now) out.push(leaves);
    } else if (to !== null && to > now) out.push(to);
  }
}
