import { evaluateCondition, matching } from './evaluate.ts';
import type { Condition, ConditionSubject, Filter, Window } from './types.ts';
import { windowMs } from './validate.ts';

/** What a real-time engine must keep per profile to answer one event-history node. */
export interface CounterSpec {
  /** Stable key: the same event, filters and measure give the same key across audiences. */
  key: string;
  event: string;
  where: Filter[];
  measure: 'count' | { fn: 'sum' | 'avg' | 'min' | 'max' | 'count'; property?: string } | { top: string };
  /** The longest window asked of this key, in ms; null for `ever` or a date range. */
  windowMs: number | null;
}

/**
 * The event-history questions a condition asks, merged by key. An audience engine keeps one
 * incremental summary per key instead of rescanning a profile's events.
 */
export function analyzeCondition(condition: Condition): CounterSpec[] {
  const specs = new Map<string, CounterSpec>();
  const add = (event: string, where: Filter[] | undefined, measure: CounterSpec['measure'], w: Window | undefined) => {
    const key = canonical({ event, where: where ?? [], measure });
    const length = w !== undefined && w !== 'ever' && 'last' in w ? windowMs(w) : null;
    const prior = specs.get(key);
    if (!prior) specs.set(key, { key, event, where: where ?? [], measure, windowMs: length });
    else prior.windowMs = prior.windowMs === null || length === null ? null : Math.max(prior.windowMs, length);
  };
  const walk = (c: Condition) => {
    if ('all' in c) c.all.forEach(walk);
    else if ('any' in c) c.any.forEach(walk);
    else if ('not' in c) walk(c.not);
    else if ('did' in c) add(c.did.event, c.did.where, 'count', c.did.window);
    else if ('did_not' in c) add(c.did_not.event, c.did_not.where, 'count', c.did_not.window);
    else if ('have' in c) {
      const h = c.have;
      if ('aggregate' in h) {
        const a = h.aggregate;
        add(a.event, a.where, { fn: a.fn, ...(a.property !== undefined ? { property: a.property } : {}) }, a.window);
      } else if ('top' in h) add(h.top.event, h.top.where, { top: h.top.property }, h.top.window);
    }
  };
  walk(condition);
  return [...specs.values()];
}

/**
 * The earliest time after `now` at which the condition's answer changes with no new event
 * (an event leaving a `last …` window, a future-dated event arriving), or null if it never
 * does. Exact: candidate times are checked in order. This is what schedules an audience exit
 * ("did X in the last 7 days" ends 7 days after the last X). `in_audience` and request
 * context (time of day) are outside the profile: their changes are not predicted here.
 */
export function nextChangeAt(condition: Condition, subject: ConditionSubject, now: number): number | null {
  const candidates = new Set<number>();
  const collect = (event: string, where: Filter[] | undefined, w: Window | undefined) => {
    const all = matching(subject.events, event, where, 'ever', Number.POSITIVE_INFINITY);
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
  for (const t of [...candidates].sort((a, b) => a - b)) {
    if (evaluateCondition(condition, subject, t) !== current) return t;
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
