/** The condition language: a JSON syntax tree. Every node is an object with one key. */

export type FilterOp =
  | 'eq'
  | 'neq'
  | 'gt'
  | 'gte'
  | 'lt'
  | 'lte'
  | 'in'
  | 'not_in'
  | 'contains'
  | 'starts_with'
  | 'exists';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A comparison of one value: `{ property: 'category', op: 'eq', value: 'Shoes' }`. */
export interface Filter {
  property: string;
  op: FilterOp;
  value?: JsonValue;
}

export interface Duration {
  minutes?: number;
  hours?: number;
  days?: number;
}

/** `{ last: { days: 7 } }`, `{ between: { from, to } }` or `'ever'` (the default). */
export type Window = 'ever' | { last: Duration } | { between: { from: string; to: string } };

export interface CountSpec {
  op: 'at_least' | 'at_most' | 'exactly';
  value: number;
}

export interface DidNode {
  event: string;
  where?: Filter[];
  count?: CountSpec;
  window?: Window;
}

export interface DidNotNode {
  event: string;
  where?: Filter[];
  window?: Window;
}

export type AggregateFn = 'sum' | 'count' | 'avg' | 'min' | 'max';

export interface HaveTrait {
  /** `traits.<path>` or `computed.<path>` (lifetimeValue, orderCount, channels, …). */
  trait: string;
  op: FilterOp;
  value?: JsonValue;
}

export interface HaveAggregate {
  aggregate: { fn: AggregateFn; event: string; property?: string; where?: Filter[]; window?: Window };
  op: FilterOp;
  value?: JsonValue;
}

export interface HaveTop {
  /** The most frequent value of `property` over the matching events (ties: the smaller value). */
  top: { event: string; property: string; where?: Filter[]; window?: Window };
  op: FilterOp;
  value?: JsonValue;
}

export type HaveNode = HaveTrait | HaveAggregate | HaveTop;

export type ContextField =
  | 'page.url'
  | 'page.path'
  | 'page.referrer'
  | 'utm.source'
  | 'utm.medium'
  | 'utm.campaign'
  | 'utm.term'
  | 'utm.content'
  | 'geo.country'
  | 'geo.region'
  | 'geo.city'
  | 'device.type'
  | 'browser'
  | 'time.hour'
  | 'time.day_of_week'
  | 'visitor.new';

export interface ContextNode {
  field: ContextField;
  /** Filter operators, plus `matches`: a glob (`*` within a path segment, `**` across segments). */
  op: FilterOp | 'matches';
  value?: JsonValue;
}

export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | { did: DidNode }
  | { did_not: DidNotNode }
  | { have: HaveNode }
  | { in_audience: string }
  | { context: ContextNode };

/** What a condition is evaluated against. */
export interface ConditionSubject {
  traits: Record<string, unknown>;
  computed: Record<string, unknown>;
  /** The profile's events (any order). */
  events: ReadonlyArray<SubjectEvent>;
  isMember?: (audienceId: string) => boolean;
  context?: RequestContext;
  /**
   * Returns the events of a name passing the filters (any time); when set it replaces
   * filtering `events`. The real-time audience engine answers it from its counters.
   */
  select?: (event: string, where: Filter[] | undefined) => ReadonlyArray<SubjectEvent>;
  /**
   * Event-derived values already computed for this subject, by question and time: audiences
   * asking the same question (the top category in 30 days, compared with six different
   * values) compute it once. Set it only while the subject's events do not change.
   */
  memo?: Map<string, unknown>;
}

export interface SubjectEvent {
  name: string;
  /** Epoch milliseconds. */
  timestamp: number;
  properties: Record<string, unknown>;
}

export interface RequestContext {
  page?: { url?: string; path?: string; referrer?: string };
  utm?: { source?: string; medium?: string; campaign?: string; term?: string; content?: string };
  geo?: { country?: string; region?: string; city?: string };
  device?: { type?: string };
  browser?: string;
  /** IANA time zone of the visitor, for time.hour and time.day_of_week (default UTC). */
  timezone?: string;
  isNewVisitor?: boolean;
}
