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

export function counterKey(event: string, where: Filter[] | undefined): string {
  const cache = where ? (keysByWhere.get(where) ?? new Map<string, string>()) : keysWithoutWhere;
  let key = cache.get(event);
  if (key === undefined) {
    key = canonical({ event, where: where ?? [] });
    if (cache === keysWithoutWhere && cache.size > 10_000) cache.clear();
    cache.set(event, key);
    if (where && !keysByWhere.has(where)) keysByWhere.set(where, cache);
  }
  return key;
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
): number | null {
  const candidates = new Set<number>();
  const collect = (event: string, where: Filter[] | undefined, w: Window | undefined) => {
    const all = matching(subject, event, where, 'ever', Number.POSITIVE_INFINITY);
    for (const e of all) {
      if (e.timestamp > now) candidates.add(e.timestamp);
      if (w !== undefined && w !== 'ever') {
        if ('last' in w) {
          const leaves = e.timestamp + windowMs(w);
          if (leaves > now) candidates.add(leaves);
        } else {
          const to = Date.parse(w.between.to);
          if (to > now) candidates.add(to);
        }
      }
    }
  };
  const walk = (c: Condition) => {
    if ('all' in c) c.all.forEach(walk);
    else if ('any' in c) c.any.forEach(walk);
    else if ('not' in c) walk(c.not);
    else if ('did' in c) collect(c.did.event, c.did.where, c.did.window);
    else if ('did_not' in c) collect(c.did_not.event, c.did_not.where, c.did_not.window);
    else if ('have' in c) {
      const h = c.have;
      if ('aggregate' in h) collect(h.aggregate.event, h.aggregate.where, h.aggregate.window);
      else if ('top' in h) collect(h.top.event, h.top.where, h.top.window);
    }
  };
  walk(condition);
  const current = evaluateCondition(condition, subject, now);
  let probes = 0;
  for (const t of [...candidates].sort((a, b) => a - b)) {
    if (evaluateCondition(condition, subject, t) !== current) return t;
    if (++probes >= maxProbes) return t;
  }
  return null;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
