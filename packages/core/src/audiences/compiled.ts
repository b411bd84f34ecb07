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
  /** Changes whenever the definitions do; profiles record it to know their counters are complete. */
  version: string;
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
  return {
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

export const NO_AUDIENCES: CompiledAudiences = { audiences: [], timed: new Set(), usesContext: false, specs: [], version: 'none' };

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
export function evaluateAudiences(profile: ProfileRecord, compiled: CompiledAudiences, now: number): MembershipOutcome {
  const members: Record<string, number> = {};
  const summary = summarizeComputed(profile.computed) as unknown as Record<string, unknown>;
  const selected = new Map<string, ReturnType<typeof counterEvents>>();
  const subject: ConditionSubject = {
    traits: profile.traits,
    computed: summary,
    events: [],
    context: profileContext(profile),
    isMember: (id) => Object.hasOwn(members, id),
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
  for (const a of compiled.audiences) {
    const isIn = evaluateCondition(a.condition, subject, now);
    const was = profile.audiences[a.id];
    if (isIn) {
      members[a.id] = was ?? now;
      if (was === undefined) entered.push(a.id);
    } else if (was !== undefined) exited.push(a.id);
    if (!compiled.timed.has(a.id)) continue;
    const next = nextChangeAt(a.condition, subject, now, MAX_PROBES);
    if (next !== null && (nextCheckAt === null || next < nextCheckAt)) nextCheckAt = next;
  }
  // Memberships of audiences that no longer exist end too.
  for (const id of Object.keys(profile.audiences)) {
    if (!compiled.audiences.some((a) => a.id === id)) exited.push(id);
  }
  return { members, entered, exited, nextCheckAt };
}
