import { analyzeConditions, type CounterSpec, counterKey, isTimeDependent, nextChangeAt } from '../conditions/analyze.ts';
import { evaluateCondition } from '../conditions/evaluate.ts';
import type { Condition, ConditionSubject, RequestContext } from '../conditions/types.ts';
import { audienceRefs } from '../conditions/validate.ts';
import { summarizeComputed } from '../profiles/computed.ts';
import type { ProfileRecord } from '../profiles/types.ts';
import { counterEvents } from './counters.ts';

export interface AudienceDefinition {
  id: string;
  groupId: string;
  name: string;
  description?: string | undefined;
  condition: Condition;
}

/** The audiences in force, ordered so an audience comes after those it references. */
export interface CompiledAudiences {
  audiences: AudienceDefinition[];
  /** Ids of audiences whose answer can change with time alone: only these get next-check times. */
  timed: Set<string>;
  /** True when some audience reads the request context: only then is a profile's last context kept. */
  usesContext: boolean;
  specs: CounterSpec[];
  /** What each audience's answer depends on, so ingestion re-evaluates only what an event can change. */
  deps: Map<string, AudienceDeps>;
  /** Changes whenever the definitions do; profiles record it to know their counters are complete. */
  version: string;
}

/**
 * The inputs an audience reads. Time alone changes an answer only at the profile's scheduled
 * check, which evaluates everything; between checks an answer changes only when an input does.
 */
export interface AudienceDeps {
  /**
   * Keys of the counters it reads (did, did not, aggregates, top values): one per event and
   * filters, so a view of Bags does not re-evaluate "viewed Shoes in 7 days".
   */
  counters: Set<string>;
  /** Profile traits. */
  traits: boolean;
  /** Computed traits, new/returning visitor: these move with every call. */
  computed: boolean;
  /** The last request context (page, UTM, geo, device). */
  context: boolean;
  /** Time of day or day of week: evaluated on every change. */
  always: boolean;
}

/** What one ingestion group changed on a profile. */
export interface ProfileChanges {
  /** Everything may have changed (a new or merged profile): evaluate every audience. */
  full: boolean;
  /** Keys of the counters that got an entry. */
  counters: Set<string>;
  traits: boolean;
  context: boolean;
  /** Any call at all (computed traits moved). */
  calls: boolean;
}

export function emptyChanges(): ProfileChanges {
  return { full: false, counters: new Set(), traits: false, context: false, calls: false };
}

function conditionDeps(condition: Condition, known: Map<string, AudienceDeps>): AudienceDeps {
  const deps: AudienceDeps = { counters: new Set(), traits: false, computed: false, context: false, always: false };
  const merge = (other: AudienceDeps) => {
    for (const k of other.counters) deps.counters.add(k);
    deps.traits ||= other.traits;
    deps.computed ||= other.computed;
    deps.context ||= other.context;
    deps.always ||= other.always;
  };
  const walk = (c: Condition): void => {
    if ('all' in c) c.all.forEach(walk);
    else if ('any' in c) c.any.forEach(walk);
    else if ('not' in c) walk(c.not);
    else if ('did' in c) deps.counters.add(counterKey(c.did.event, c.did.where));
    else if ('did_not' in c) deps.counters.add(counterKey(c.did_not.event, c.did_not.where));
    else if ('have' in c) {
      const h = c.have;
      if ('aggregate' in h) deps.counters.add(counterKey(h.aggregate.event, h.aggregate.where));
      else if ('top' in h) deps.counters.add(counterKey(h.top.event, h.top.where));
      else if (h.trait.startsWith('computed.')) deps.computed = true;
      else deps.traits = true;
    } else if ('in_audience' in c) {
      const other = known.get(c.in_audience);
      if (other) merge(other);
      else deps.always = true;
    } else if ('context' in c) {
      if (c.context.field.startsWith('time.')) deps.always = true;
      else if (c.context.field === 'visitor.new') deps.computed = true;
      else deps.context = true;
    } else deps.always = true;
  };
  walk(condition);
  return deps;
}

/** Whether a change can move an audience's answer. */
export function mayChange(deps: AudienceDeps, changes: ProfileChanges): boolean {
  if (changes.full || deps.always) return true;
  if (deps.computed && changes.calls) return true;
  if (deps.traits && changes.traits) return true;
  if (deps.context && changes.context) return true;
  for (const k of changes.counters) if (deps.counters.has(k)) return true;
  return false;
}

export function compileAudiences(definitions: AudienceDefinition[], version: string): CompiledAudiences {
  const byId = new Map(definitions.map((d) => [d.id, d]));
  const ordered: AudienceDefinition[] = [];
  const placed = new Set<string>();
  const visit = (d: AudienceDefinition, path: Set<string>) => {
    if (placed.has(d.id) || path.has(d.id)) return; // cycles are refused when saving
    path.add(d.id);
    for (const ref of audienceRefs(d.condition)) {
      const dep = byId.get(ref);
      if (dep) visit(dep, path);
    }
    placed.add(d.id);
    ordered.push(d);
  };
  for (const d of [...definitions].sort((a, b) => a.id.localeCompare(b.id))) visit(d, new Set());
  // In dependency order, so an `in_audience` reference inherits what the audience it names reads.
  const deps = new Map<string, AudienceDeps>();
  for (const d of ordered) deps.set(d.id, conditionDeps(d.condition, deps));
  return {
    deps,
    audiences: ordered,
    timed: new Set(ordered.filter((d) => isTimeDependent(d.condition)).map((d) => d.id)),
    usesContext: ordered.some((d) => JSON.stringify(d.condition).includes('"context":')),
    specs: analyzeConditions(ordered.map((d) => d.condition)),
    version,
  };
}

/**
 * Candidate times probed per audience at ingestion; past them the profile is simply checked
 * again at the last one, which keeps ingestion cost bounded for very active profiles.
 */
const MAX_PROBES = 4;

export const NO_AUDIENCES: CompiledAudiences = { audiences: [], timed: new Set(), usesContext: false, specs: [], deps: new Map(), version: 'none' };

export interface MembershipOutcome {
  /** Audience id → entry time, after this evaluation. */
  members: Record<string, number>;
  entered: string[];
  exited: string[];
  /** Next time an answer can change with no new event, or null. */
  nextCheckAt: number | null;
}

/** The request context conditions see for a profile: that of its latest web or app event. */
export function profileContext(profile: ProfileRecord): RequestContext {
  const ctx = profile.lastContext ?? {};
  const page = (ctx.page ?? {}) as Record<string, unknown>;
  const campaign = (ctx.campaign ?? {}) as Record<string, unknown>;
  const location = (ctx.location ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const device = profile.computed.devices.reduce<ProfileRecord['computed']['devices'][number] | undefined>(
    (latest, d) => (!latest || d.lastSeen > latest.lastSeen ? d : latest),
    undefined,
  );
  const out: RequestContext = {
    page: { ...(str(page.url) ? { url: str(page.url) } : {}), ...(str(page.path) ? { path: str(page.path) } : {}), ...(str(page.referrer) ? { referrer: str(page.referrer) } : {}) },
    utm: {
      ...(str(campaign.source) ? { source: str(campaign.source) } : {}),
      ...(str(campaign.medium) ? { medium: str(campaign.medium) } : {}),
      ...(str(campaign.name) ? { campaign: str(campaign.name) } : {}),
      ...(str(campaign.term) ? { term: str(campaign.term) } : {}),
      ...(str(campaign.content) ? { content: str(campaign.content) } : {}),
    },
    geo: {
      ...(str(location.country) ? { country: str(location.country) } : {}),
      ...(str(location.region) ? { region: str(location.region) } : {}),
      ...(str(location.city) ? { city: str(location.city) } : {}),
    },
    ...(device ? { device: { type: device.type } } : {}),
    ...(device?.browser ? { browser: device.browser } : {}),
    ...(str(ctx.timezone) ? { timezone: str(ctx.timezone) } : {}),
    isNewVisitor: profile.computed.sessions <= 1,
  };
  return out;
}

/**
 * Evaluates every audience for a profile from its counters and traits, at `now`: no event
 * history is read. Returns the new membership, the changes and the next check time.
 */
export function evaluateAudiences(profile: ProfileRecord, compiled: CompiledAudiences, now: number, changes?: ProfileChanges): MembershipOutcome {
  // A check that is due (or overdue) re-evaluates everything: time may have moved any answer.
  const scheduled = profile.nextCheckAt ?? null;
  const partial = changes !== undefined && !changes.full && (scheduled === null || scheduled > now);
  const members: Record<string, number> = {};
  // Computed traits and the request context are built only if some evaluated audience reads them.
  let summary: Record<string, unknown> | undefined;
  let context: RequestContext | undefined;
  const selected = new Map<string, ReturnType<typeof counterEvents>>();
  const subject: ConditionSubject = {
    traits: profile.traits,
    get computed() {
      summary ??= summarizeComputed(profile.computed) as unknown as Record<string, unknown>;
      return summary;
    },
    events: [],
    get context() {
      context ??= profileContext(profile);
      return context;
    },
    isMember: (id) => Object.hasOwn(members, id),
    // Shared by the audiences and the probes of their next change: the counters stay as they are.
    memo: new Map(),
    select: (event, where) => {
      const key = counterKey(event, where);
      let events = selected.get(key);
      if (!events) {
        events = counterEvents(profile.counters[key], event);
        selected.set(key, events);
      }
      return events;
    },
  };
  const entered: string[] = [];
  const exited: string[] = [];
  let nextCheckAt: number | null = null;
  let skippedTimed = false;
  for (const a of compiled.audiences) {
    if (partial && !mayChange(compiled.deps.get(a.id) as AudienceDeps, changes)) {
      // Nothing it reads changed: its answer and its own next change time stand.
      const was = profile.audiences[a.id];
      if (was !== undefined) members[a.id] = was;
      if (compiled.timed.has(a.id)) skippedTimed = true;
      continue;
    }
    const isIn = evaluateCondition(a.condition, subject, now);
    const was = profile.audiences[a.id];
    if (isIn) {
      members[a.id] = was ?? now;
      if (was === undefined) entered.push(a.id);
    } else if (was !== undefined) exited.push(a.id);
    if (!compiled.timed.has(a.id)) continue;
    const next = nextChangeAt(a.condition, subject, now, MAX_PROBES, isIn);
    if (next !== null && (nextCheckAt === null || next < nextCheckAt)) nextCheckAt = next;
  }
  // A skipped audience's next change is no earlier than the check already scheduled (the
  // earliest of all); keeping that check at worst evaluates once more than needed.
  if (skippedTimed && scheduled !== null && (nextCheckAt === null || scheduled < nextCheckAt)) nextCheckAt = scheduled;
  // Memberships of audiences that no longer exist end too.
  for (const id of Object.keys(profile.audiences)) {
    if (!compiled.audiences.some((a) => a.id === id)) exited.push(id);
  }
  return { members, entered, exited, nextCheckAt };
}
