import type {
  AggregateFn,
  Condition,
  ConditionSubject,
  ContextNode,
  Filter,
  FilterOp,
  RequestContext,
  SubjectEvent,
  Window,
} from './types.ts';
import { canonical } from './canonical.ts';
import { windowMs } from './validate.ts';

/** One node's outcome, for the explain trace. */
export interface TraceEntry {
  path: string;
  kind: string;
  result: boolean;
  detail?: string;
}

export interface EvaluateOptions {
  trace?: TraceEntry[];
}

/**
 * Evaluates a validated condition against a subject at time `now` (epoch ms). Pure and
 * deterministic: the same inputs give the same answer. Events later than `now` are ignored.
 */
export function evaluateCondition(condition: Condition, subject: ConditionSubject, now: number, options: EvaluateOptions = {}): boolean {
  return evalNode(condition, subject, now, options.trace ? '' : undefined, options.trace);
}

// Paths are built only when a trace is asked for: evaluation runs for every audience of every
// profile an ingest group touches.
function childPath(path: string | undefined, key: string, index?: number): string | undefined {
  if (path === undefined) return undefined;
  const base = path === '' ? key : `${path}.${key}`;
  return index === undefined ? base : `${base}[${index}]`;
}

function evalNode(c: Condition, s: ConditionSubject, now: number, path: string | undefined, trace: TraceEntry[] | undefined): boolean {
  let result: boolean;
  let kind: string;
  let detail: string | undefined;
  if ('all' in c) {
    kind = 'all';
    result = true;
    for (let i = 0; i < c.all.length && result; i++) result = evalNode(c.all[i] as Condition, s, now, childPath(path, 'all', i), trace);
  } else if ('any' in c) {
    kind = 'any';
    result = false;
    for (let i = 0; i < c.any.length && !result; i++) result = evalNode(c.any[i] as Condition, s, now, childPath(path, 'any', i), trace);
  } else if ('not' in c) {
    kind = 'not';
    result = !evalNode(c.not, s, now, childPath(path, 'not'), trace);
  } else if ('did' in c) {
    kind = 'did';
    const n = matchingCount(s, c.did, now);
    const spec = c.did.count ?? { op: 'at_least', value: 1 };
    result = spec.op === 'at_least' ? n >= spec.value : spec.op === 'at_most' ? n <= spec.value : n === spec.value;
    if (trace) detail = `${n} matching "${c.did.event}"`;
  } else if ('did_not' in c) {
    kind = 'did_not';
    const n = matchingCount(s, c.did_not, now);
    result = n === 0;
    if (trace) detail = `${n} matching "${c.did_not.event}"`;
  } else if ('have' in c) {
    kind = 'have';
    const h = c.have;
    let actual: unknown;
    if ('trait' in h) {
      const segments = h.trait.split('.');
      actual = getPath(segments[0] === 'traits' ? s.traits : s.computed, segments.slice(1));
    } else if ('aggregate' in h) {
      const a = h.aggregate;
      actual = recall(s, a, now);
      if (actual === UNKNOWN) actual = remember(s, a, now, aggregate(a.fn, matching(s, a.event, a.where, a.window, now), a.property));
    } else {
      const t = h.top;
      actual = recall(s, t, now);
      if (actual === UNKNOWN) actual = remember(s, t, now, topValue(matching(s, t.event, t.where, t.window, now), t.property));
    }
    result = compare(actual, h.op, h.value);
    if (trace) detail = `value ${JSON.stringify(actual) ?? 'missing'}`;
  } else if ('in_audience' in c) {
    kind = 'in_audience';
    result = s.isMember?.(c.in_audience) ?? false;
  } else {
    kind = 'context';
    const actual = contextValue(c.context, s.context ?? {}, now);
    result = c.context.op === 'matches' ? matchesGlob(actual, c.context.value) : compare(actual, c.context.op, c.context.value);
    if (trace) detail = `${c.context.field} = ${JSON.stringify(actual) ?? 'missing'}`;
  }
  if (trace) trace.push({ path: path === '' || path === undefined ? '(root)' : path, kind, result, ...(detail !== undefined ? { detail } : {}) });
  return result;
}

/** Window bounds: `last` is (now − length, now]; `between` is [from, to); `ever` is (−∞, now]. */
export function windowBounds(w: Window | undefined, now: number): { after: number; until: number; inclusiveStart: boolean } {
  if (w === undefined || w === 'ever') return { after: Number.NEGATIVE_INFINITY, until: now, inclusiveStart: true };
  if ('last' in w) return { after: now - windowMs(w), until: now, inclusiveStart: false };
  const from = Date.parse(w.between.from);
  const to = Date.parse(w.between.to);
  // Events after now have not happened yet, whatever the window says.
  return { after: from, until: Math.min(now, to - 1), inclusiveStart: true };
}

export function inWindow(ts: number, w: Window | undefined, now: number): boolean {
  const b = windowBounds(w, now);
  if (ts > b.until) return false;
  return b.inclusiveStart ? ts >= b.after : ts > b.after;
}

/** An event question (did's count, an aggregate, a top value), identified by what it asks, not by its node. */
type EventQuestion = { event: string; where?: Filter[] | undefined; window?: Window | undefined; fn?: AggregateFn; property?: string | undefined };

const questionKeys = new WeakMap<object, string>();

function questionKey(q: EventQuestion): string {
  let key = questionKeys.get(q);
  if (key === undefined) {
    key = canonical([q.event, q.where ?? null, q.window ?? null, q.fn ?? null, q.property ?? null]);
    questionKeys.set(q, key);
  }
  return key;
}

const UNKNOWN: unique symbol = Symbol('unknown');

/**
 * The value already computed for the same question at the same time, when the subject keeps a
 * memo (audiences repeat questions, and their next-change probes ask them at the same
 * candidate times), or UNKNOWN. No closure per call: this runs for every audience of every
 * touched profile.
 */
function recall(s: ConditionSubject, q: EventQuestion, now: number): unknown {
  const byTime = s.memo?.get(questionKey(q)) as Map<number, unknown> | undefined;
  return byTime !== undefined && byTime.has(now) ? byTime.get(now) : UNKNOWN;
}

function remember<T>(s: ConditionSubject, q: EventQuestion, now: number, value: T): T {
  if (s.memo === undefined) return value;
  const key = questionKey(q);
  let byTime = s.memo.get(key) as Map<number, unknown> | undefined;
  if (byTime === undefined) s.memo.set(key, (byTime = new Map()));
  byTime.set(now, value);
  return value;
}

/** How many of the subject's events answer a did / did not node at `now` (no list built). */
function matchingCount(s: ConditionSubject, q: EventQuestion, now: number): number {
  if (!s.select) return matching(s, q.event, q.where, q.window, now).length;
  const { after, until, inclusiveStart } = windowBounds(q.window, now);
  let n = 0;
  for (const e of s.select(q.event, q.where)) {
    const ts = e.timestamp;
    if (ts <= until && (inclusiveStart ? ts >= after : ts > after)) n++;
  }
  return n;
}

/** The subject's events of a name passing the filters, inside the window. */
export function matching(
  s: ConditionSubject,
  name: string,
  where: Filter[] | undefined,
  w: Window | undefined,
  now: number,
): SubjectEvent[] {
  const out: SubjectEvent[] = [];
  // The bounds once per call, not per event.
  const { after, until, inclusiveStart } = windowBounds(w, now);
  if (s.select) {
    for (const e of s.select(name, where)) {
      const ts = e.timestamp;
      if (ts <= until && (inclusiveStart ? ts >= after : ts > after)) out.push(e);
    }
    return out;
  }
  for (const e of s.events) {
    const ts = e.timestamp;
    if (e.name !== name || ts > until || (inclusiveStart ? ts < after : ts <= after)) continue;
    if (where && !where.every((f) => filterMatches(e.properties, f))) continue;
    out.push(e);
  }
  return out;
}

/**
 * A filter on an event's properties. A path that crosses an array without an index
 * (`products.category`) matches when any element matches.
 */
export function filterMatches(props: Record<string, unknown>, f: Filter): boolean {
  if (!f.property.includes('.') && !Array.isArray(props)) {
    // One segment (the common case): no path walk, no arrays built.
    const v = props !== null && typeof props === 'object' && Object.hasOwn(props, f.property) ? props[f.property] : undefined;
    if (!Array.isArray(v)) {
      if (f.op === 'exists') {
        const present = v !== undefined && v !== null;
        return f.value === false ? !present : present;
      }
      return compare(v, f.op, f.value);
    }
  }
  const values = collectPath(props, f.property.split('.'));
  if (f.op === 'exists') {
    const present = values.some((v) => v !== undefined && v !== null);
    return f.value === false ? !present : present;
  }
  return values.some((v) => compare(v, f.op, f.value));
}

function collectPath(value: unknown, segments: string[]): unknown[] {
  if (segments.length === 0) return [value];
  if (value === null || typeof value !== 'object') return [undefined];
  const [head, ...rest] = segments as [string, ...string[]];
  if (Array.isArray(value) && !/^\d+$/.test(head)) return value.flatMap((item) => collectPath(item, segments));
  if (!Object.hasOwn(value, head)) return [undefined];
  return collectPath((value as Record<string, unknown>)[head], rest);
}

function getPath(value: unknown, segments: string[]): unknown {
  let current = value;
  for (const seg of segments) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, seg)) return undefined;
    current = (current as Record<string, unknown>)[seg];
  }
  return current;
}

/**
 * Compares without coercion: "10" is not 10. A missing or null value matches no operator
 * (exists aside). gt/gte/lt/lte compare numbers with numbers and strings with strings
 * (ISO dates compare correctly as strings). `contains` is a substring test on strings and a
 * membership test on arrays; `neq` and `not_in` need a value to be present.
 */
export function compare(actual: unknown, op: FilterOp, expected: unknown): boolean {
  if (op === 'exists') {
    const present = actual !== undefined && actual !== null;
    return expected === false ? !present : present;
  }
  if (actual === undefined || actual === null) return false;
  switch (op) {
    case 'eq':
      return same(actual, expected);
    case 'neq':
      return !same(actual, expected);
    case 'in':
      return Array.isArray(expected) && expected.some((e) => same(actual, e));
    case 'not_in':
      return Array.isArray(expected) && !expected.some((e) => same(actual, e));
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      if (typeof actual !== typeof expected || (typeof actual !== 'number' && typeof actual !== 'string')) return false;
      const a = actual as number | string;
      const b = expected as number | string;
      return op === 'gt' ? a > b : op === 'gte' ? a >= b : op === 'lt' ? a < b : a <= b;
    }
    case 'contains':
      if (typeof actual === 'string') return typeof expected === 'string' && actual.includes(expected);
      if (Array.isArray(actual)) return actual.some((item) => same(item, expected));
      return false;
    case 'starts_with':
      return typeof actual === 'string' && typeof expected === 'string' && actual.startsWith(expected);
  }
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** sum/avg/min/max over numeric values only (others are skipped); count counts events. Empty: count 0, others missing. */
export function aggregate(fn: AggregateFn, events: SubjectEvent[], property: string | undefined): number | undefined {
  if (fn === 'count') return property === undefined ? events.length : events.filter((e) => numbersAt(e, property).length > 0).length;
  const nums = events.flatMap((e) => numbersAt(e, property as string));
  if (nums.length === 0) return undefined;
  if (fn === 'sum') return round(nums.reduce((a, b) => a + b, 0));
  if (fn === 'avg') return round(nums.reduce((a, b) => a + b, 0) / nums.length);
  return fn === 'min' ? Math.min(...nums) : Math.max(...nums);
}

function numbersAt(e: SubjectEvent, property: string): number[] {
  return collectPath(e.properties, property.split('.')).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
}

/** The most frequent string or number value of a property; ties go to the smaller value. */
export function topValue(events: SubjectEvent[], property: string): string | number | undefined {
  const counts = new Map<string | number, number>();
  const segments = property.split('.');
  const plain = segments.length === 1;
  for (const e of events) {
    const props = e.properties;
    // One segment and no array on the way: the value itself, no path walk.
    const direct = plain && props !== null && typeof props === 'object' && !Array.isArray(props) && !Array.isArray(props[property]);
    for (const v of direct ? [Object.hasOwn(props, property) ? props[property] : undefined] : collectPath(props, segments)) {
      if (typeof v === 'string' || typeof v === 'number') counts.set(v, (counts.get(v) ?? 0) + 1);
    }
  }
  let best: string | number | undefined;
  let bestCount = 0;
  for (const [v, n] of counts) {
    if (n > bestCount || (n === bestCount && best !== undefined && String(v) < String(best))) {
      best = v;
      bestCount = n;
    }
  }
  return best;
}

const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const formatters = new Map<string, Intl.DateTimeFormat>();

/** Hour (0–23) and day of week (0 = Sunday) at `now` in a time zone. */
export function localTime(now: number, timeZone: string): { hour: number; dayOfWeek: number } {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hour: 'numeric', hourCycle: 'h23', weekday: 'long' });
    formatters.set(timeZone, f);
  }
  let hour = 0;
  let day = 0;
  for (const part of f.formatToParts(now)) {
    if (part.type === 'hour') hour = Number(part.value) % 24;
    if (part.type === 'weekday') day = DAY_NAMES.indexOf(part.value.toLowerCase());
  }
  return { hour, dayOfWeek: day };
}

function contextValue(node: ContextNode, ctx: RequestContext, now: number): unknown {
  switch (node.field) {
    case 'page.url':
      return ctx.page?.url;
    case 'page.path':
      return ctx.page?.path;
    case 'page.referrer':
      return ctx.page?.referrer;
    case 'geo.country':
      return ctx.geo?.country;
    case 'geo.region':
      return ctx.geo?.region;
    case 'geo.city':
      return ctx.geo?.city;
    case 'device.type':
      return ctx.device?.type;
    case 'browser':
      return ctx.browser;
    case 'visitor.new':
      return ctx.isNewVisitor;
    case 'time.hour':
      return localTime(now, ctx.timezone ?? 'UTC').hour;
    case 'time.day_of_week':
      return localTime(now, ctx.timezone ?? 'UTC').dayOfWeek;
    default: {
      const key = node.field.slice('utm.'.length) as keyof NonNullable<RequestContext['utm']>;
      return ctx.utm?.[key];
    }
  }
}

const globCache = new Map<string, RegExp>();

/** Glob over URLs and paths: `*` matches within a segment, `**` across segments, `?` one character. */
export function matchesGlob(actual: unknown, pattern: unknown): boolean {
  if (typeof actual !== 'string' || typeof pattern !== 'string') return false;
  let re = globCache.get(pattern);
  if (!re) {
    let src = '';
    for (let i = 0; i < pattern.length; i++) {
      const ch = pattern[i] as string;
      if (ch === '*' && pattern[i + 1] === '*') {
        src += '.*';
        i++;
      } else if (ch === '*') src += '[^/]*';
      else if (ch === '?') src += '[^/]';
      else src += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    re = new RegExp(`^${src}$`);
    if (globCache.size > 1000) globCache.clear();
    globCache.set(pattern, re);
  }
  return re.test(actual);
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
