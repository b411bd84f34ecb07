import { evaluateCondition, type TraceEntry } from '../conditions/evaluate.ts';
import type { ConditionSubject, RequestContext } from '../conditions/types.ts';
import type { DecideContext, Experience, SlotContent, TableOutput } from '../protocol/decisions.ts';
import type { RecommendSpec } from '../protocol/recommend.ts';
import type { RecommendContext, RecommendedItem, RecommendResult } from '../recommend/service.ts';
import { shoppingOf } from '../recommend/shopping.ts';
import { allocate, bucketOf, inHoldout, inNamespace } from './bucketing.ts';
import type { ConnectorResult } from './connectors/runtime.ts';
import type { Connector } from './connectors/schema.ts';
import { type CompiledExperience, type CompiledManifest, compileManifest, type DecisionManifest, type ManifestExperiment, type Matcher, pageMatchOf, pageRow, referencedPaths } from './manifest.ts';
import { inSchedule, type OfferImpressions, type OfferTrace, type RankedOffer, rankOffers } from './offers.ts';
import { evaluateTable, type RuleTrace, readPath } from './tables.ts';

/**
 * What `decide()` knows of the visitor: a snapshot of the profile taken by the server, or sent to
 * the browser with the manifest. Nothing else of the profile is needed.
 */
export interface DecisionSnapshot {
  profileId: string | null;
  traits: Record<string, unknown>;
  computed: Record<string, unknown>;
  /** Audiences the profile is a member of now. */
  audiences: string[];
  /** Experiment variants already served to the profile: they stick, also across logins. */
  assignments: Record<string, { variant: string; at: number }>;
  /** Offer impressions, for frequency caps. */
  offers: Record<string, OfferImpressions>;
  /** Purposes the visitor granted (null: never expressed; absent: not read). */
  consent?: Record<string, boolean> | null;
}

export const EMPTY_SNAPSHOT: DecisionSnapshot = { profileId: null, traits: {}, computed: {}, audiences: [], assignments: {}, offers: {} };

export interface DecideInput {
  anonymousId?: string | undefined;
  userId?: string | undefined;
  context: DecideContext;
  slots: string[];
  explain?: boolean | undefined;
}

export interface ConnectorCaller {
  call(connector: Connector, scope: { profile: unknown; context: unknown }): Promise<ConnectorResult>;
}

/** Computes recommendations (the engine's recommendation service); decide() stays pure without one. */
export interface RecommendCaller {
  recommend(spec: RecommendSpec, ctx: RecommendContext): Promise<RecommendResult>;
}

export interface DecideDeps {
  /** Calls external data connectors; without it, a connector step yields its fallback. */
  connectors?: ConnectorCaller | undefined;
  /** Serves `recommend` slots; without it (a browser deciding locally) such a slot keeps the site's default. */
  recommendations?: RecommendCaller | undefined;
}

export type DecisionReason =
  | 'targeted'
  | 'experiment'
  | 'sticky'
  | 'holdout'
  | 'global_holdout'
  | 'no_experience'
  | 'unknown_slot'
  /** No personalization consent: the site's default, the profile not used. */
  | 'no_consent';

export type SlotPayload =
  | { type: 'content'; content: unknown }
  | { type: 'ref'; ref: { type: string; id: string }; offer?: RankedOffer }
  | { type: 'html'; html: string; css?: string; js?: string }
  | { type: 'offers'; offers: RankedOffer[] }
  | { type: 'value'; value: unknown }
  | { type: 'collect'; items: SlotPayload[] }
  | { type: 'recommendations'; strategy: string; items: RecommendedItem[] };

export interface TraceStep {
  step: 'holdout' | 'experience' | 'bucketing' | 'variant' | 'table' | 'model' | 'connector' | 'offers' | 'recommend' | 'consent';
  [key: string]: unknown;
}

export interface SlotDecision {
  experience: string | null;
  variant: string | null;
  experiment?: string;
  /** The slot's payload; null keeps the site's default. */
  content: SlotPayload | null;
  reason: DecisionReason;
  trace?: TraceStep[];
}

export interface Exposure {
  experiment: string;
  experience: string;
  variant: string;
  /** The bucketing unit the variant was hashed from. */
  unit: string;
}

export interface DecideResult {
  profileId: string | null;
  decisions: Record<string, SlotDecision>;
  /** Experiments served, to record as exposures (deduplicated per profile and experiment). */
  exposures: Exposure[];
  /** Offers shown, to count against frequency caps. */
  offersShown: string[];
  trace?: { unit: string; now: string };
}

interface ExperiencePick {
  eligible: boolean;
  variant: Experience['variants'][number] | null;
  reason: DecisionReason;
  steps: TraceStep[];
  exposure?: Exposure;
}

/** Turns the decide request's context into the condition language's request context. */
export function requestContextOfDecide(ctx: DecideContext, snapshot: DecisionSnapshot): RequestContext {
  const { url, path } = urlParts(ctx);
  const utm = ctx.utm ?? {};
  return {
    page: { ...(url !== undefined ? { url } : {}), ...(path !== undefined ? { path } : {}), ...(ctx.referrer !== undefined ? { referrer: ctx.referrer } : {}) },
    utm: { source: utm.source, medium: utm.medium, campaign: utm.campaign, term: utm.term, content: utm.content },
    ...(ctx.geo ? { geo: ctx.geo } : {}),
    ...(ctx.device?.type !== undefined ? { device: { type: ctx.device.type } } : {}),
    ...(ctx.browser !== undefined ? { browser: ctx.browser } : {}),
    ...(ctx.timezone !== undefined ? { timezone: ctx.timezone } : {}),
    isNewVisitor: snapshot.profileId === null || (typeof snapshot.computed.sessions === 'number' && snapshot.computed.sessions <= 1),
  };
}

/** Host and path of the request: from `site`/`path` when given, else parsed from `url`. */
export function urlParts(ctx: DecideContext): { url?: string; host?: string; path?: string } {
  let host = ctx.site;
  let path = ctx.path;
  if (ctx.url !== undefined && (host === undefined || path === undefined)) {
    const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)([^?#]*)/i.exec(ctx.url);
    if (m) {
      host ??= (m[1] as string).replace(/^[^@]*@/, '').replace(/:\d+$/, '').toLowerCase();
      path ??= m[2] === '' ? '/' : (m[2] as string);
    } else if (ctx.url.startsWith('/')) path ??= ctx.url.split(/[?#]/)[0];
  }
  return { ...(ctx.url !== undefined ? { url: ctx.url } : {}), ...(host !== undefined ? { host } : {}), ...(path !== undefined ? { path } : {}) };
}

/**
 * Decides what each requested slot shows for one visitor. Pure given its inputs (manifest,
 * snapshot, request, `now`) apart from connector calls, which run under their latency budgets:
 * the server, a browser holding the manifest and a CMS preview all get the same answer.
 */
export async function decide(
  manifest: DecisionManifest,
  snapshot: DecisionSnapshot,
  input: DecideInput,
  now: number,
  deps: DecideDeps = {},
): Promise<DecideResult> {
  const run = new Run(compileManifest(manifest), snapshot, input, now, deps);
  const { m, explain, unit, result } = run;
  if (explain) result.trace = { unit, now: new Date(now).toISOString() };

  const settings = manifest.settings;
  if (settings.globalHoldout > 0 && inHoldout(unit, { seed: settings.holdoutSeed, percent: settings.globalHoldout })) {
    for (const slot of input.slots) {
      result.decisions[slot] = {
        experience: null,
        variant: null,
        content: null,
        reason: 'global_holdout',
        ...(explain ? { trace: [{ step: 'holdout', scope: 'global', percent: settings.globalHoldout, bucket: bucketOf(settings.holdoutSeed, unit) }] } : {}),
      };
    }
    return result;
  }

  for (const slot of input.slots) {
    const candidates = m.bySlot.get(slot);
    const trace: TraceStep[] = [];
    let decision: SlotDecision | undefined;
    if (candidates) {
      for (let i = 0; i < candidates.length; i++) {
        const c = candidates[i] as CompiledExperience;
        const pick = run.pick(c);
        if (explain) trace.push(...pick.steps);
        if (!pick.eligible) continue;
        const content = pick.variant?.slots[slot];
        const payload = content ? await resolveContent(content, run, trace) : null;
        decision = {
          experience: c.experience.id,
          variant: pick.variant?.key ?? null,
          ...(c.experiment ? { experiment: c.experiment.id } : {}),
          content: payload,
          reason: pick.reason,
        };
        break;
      }
    }
    decision ??= { experience: null, variant: null, content: null, reason: m.knownSlots.has(slot) ? 'no_experience' : 'unknown_slot' };
    if (explain) decision.trace = trace;
    result.decisions[slot] = decision;
  }
  return result;
}

const NO_EVENTS: ConditionSubject['events'] = [];
const NO_STEPS: TraceStep[] = [];
const INELIGIBLE: ExperiencePick = { eligible: false, variant: null, reason: 'no_experience', steps: NO_STEPS };
const NO_OPTIONS = {};

/**
 * One decision's state. A class rather than closures: decide() runs per request and per slot, so
 * what it allocates matters (the context, memberships and maps are built on first use).
 */
class Run implements ConditionSubject {
  readonly explain: boolean;
  readonly unit: string;
  readonly traits: Record<string, unknown>;
  readonly computed: Record<string, unknown>;
  readonly events = NO_EVENTS;
  readonly result: DecideResult;
  connectorResults: Map<string, Promise<ConnectorResult | null>> | undefined;
  private ctx: RequestContext | undefined;
  private where: { host?: string; path?: string } | undefined;
  private members: Set<string> | undefined;
  private live: Map<string, boolean> | undefined;
  private picks: Array<ExperiencePick | undefined> | undefined;

  constructor(
    readonly m: CompiledManifest,
    readonly snapshot: DecisionSnapshot,
    readonly input: DecideInput,
    readonly now: number,
    readonly deps: DecideDeps,
  ) {
    this.explain = input.explain === true;
    this.unit = input.anonymousId ?? input.userId ?? '';
    this.traits = snapshot.traits;
    this.computed = snapshot.computed;
    this.result = { profileId: snapshot.profileId, decisions: {}, exposures: [], offersShown: [] };
  }

  get context(): RequestContext {
    this.ctx ??= requestContextOfDecide(this.input.context, this.snapshot);
    return this.ctx;
  }

  get subject(): ConditionSubject {
    return this;
  }

  page(): { host?: string; path?: string } {
    this.where ??= urlParts(this.input.context);
    return this.where;
  }

  private row: Uint8Array | undefined;

  pageRow(): Uint8Array {
    if (!this.row) {
      const where = this.page();
      this.row = pageRow(this.m, where.host, where.path);
    }
    return this.row;
  }

  isMember(id: string): boolean {
    this.members ??= new Set(this.snapshot.audiences);
    if (this.members.has(id)) return true;
    const live = this.m.liveAudiences.get(id);
    if (!live) return false;
    this.live ??= new Map();
    let r = this.live.get(id);
    if (r === undefined) {
      this.live.set(id, false); // guards a reference cycle, which validation already rejects
      r = evaluateCondition(live, this, this.now);
      this.live.set(id, r);
    }
    return r;
  }

  /** The experience's outcome for this visitor, computed once per request (several slots share it). */
  pick(c: CompiledExperience): ExperiencePick {
    this.picks ??= new Array(this.m.size);
    let pick = this.picks[c.index];
    if (!pick) {
      pick = pickExperience(c, this);
      this.picks[c.index] = pick;
      if (pick.exposure) this.result.exposures.push(pick.exposure);
    }
    return pick;
  }
}

type Check = { check: string; result: boolean; value?: unknown; detail?: unknown };

function record(checks: Check[] | undefined, check: string, result: boolean, value?: unknown, detail?: unknown): void {
  checks?.push({ check, result, ...(value !== undefined ? { value } : {}), ...(detail !== undefined ? { detail } : {}) });
}

function ineligible(e: Experience, checks: Check[] | undefined): ExperiencePick {
  if (!checks) return INELIGIBLE;
  return { eligible: false, variant: null, reason: 'no_experience', steps: [{ step: 'experience', experience: e.id, priority: e.priority, eligible: false, checks }] };
}

function findMatch(matchers: Matcher[], value: string | undefined): Matcher | undefined {
  if (value === undefined) return undefined;
  for (let i = 0; i < matchers.length; i++) if ((matchers[i] as Matcher).test(value)) return matchers[i];
  return undefined;
}

function pickExperience(c: CompiledExperience, p: Run): ExperiencePick {
  const e = c.experience;
  const checks: Check[] | undefined = p.explain ? [] : undefined;
  const t = e.targeting;

  if (e.schedule) {
    const ok = inSchedule(e.schedule, p.now);
    record(checks, 'schedule', ok, checks ? new Date(p.now).toISOString() : undefined, e.schedule);
    if (!ok) return ineligible(e, checks);
  }
  if (checks) {
    // Explaining: every pattern is tested again so the trace shows which one matched.
    if (c.sites) {
      const host = p.page().host;
      const hit = findMatch(c.sites, host);
      record(checks, 'site', hit !== undefined, host ?? null, hit ? hit.source : c.sites.map((s) => s.source));
      if (!hit) return ineligible(e, checks);
    }
    if (c.pages) {
      const path = p.page().path;
      const hit = findMatch(c.pages, path);
      record(checks, 'page', hit !== undefined, path ?? null, hit ? hit.source : c.pages.map((s) => s.source));
      if (!hit) return ineligible(e, checks);
    }
    if (c.excludePages.length > 0) {
      const path = p.page().path;
      const hit = findMatch(c.excludePages, path);
      if (hit) {
        record(checks, 'excludePages', false, path, hit.source);
        return ineligible(e, checks);
      }
    }
  } else if (c.sites || c.pages || c.excludePages.length > 0) {
    const where = p.page();
    if (!pageMatchOf(p.pageRow(), c, where.host, where.path)) return INELIGIBLE;
  }
  if (t.contentTypes) {
    const ct = p.input.context.contentType;
    const ok = ct !== undefined && t.contentTypes.includes(ct);
    record(checks, 'contentType', ok, ct ?? null, t.contentTypes);
    if (!ok) return ineligible(e, checks);
  }
  if (t.tags) {
    const tags = p.input.context.tags ?? [];
    const ok = t.tags.some((x) => tags.includes(x));
    record(checks, 'tags', ok, tags, t.tags);
    if (!ok) return ineligible(e, checks);
  }
  if (t.locales) {
    const locale = p.input.context.locale;
    const ok = locale !== undefined && t.locales.some((l) => l === locale || locale.startsWith(`${l}-`));
    record(checks, 'locale', ok, locale ?? null, t.locales);
    if (!ok) return ineligible(e, checks);
  }
  if (t.audiences) {
    let hit: string | undefined;
    for (const a of t.audiences) {
      if (p.isMember(a)) {
        hit = a;
        break;
      }
    }
    record(checks, 'audiences', hit !== undefined, hit ?? p.snapshot.audiences, t.audiences);
    if (hit === undefined) return ineligible(e, checks);
  }
  if (t.condition) {
    const trace: TraceEntry[] | undefined = checks ? [] : undefined;
    const ok = evaluateCondition(t.condition, p, p.now, trace ? { trace } : NO_OPTIONS);
    record(checks, 'condition', ok, undefined, trace);
    if (!ok) return ineligible(e, checks);
  }
  const steps: TraceStep[] = checks ? [{ step: 'experience', experience: e.id, priority: e.priority, eligible: true, checks }] : [];
  const x = c.experiment;
  if (!x) return { eligible: true, variant: e.variants[0] ?? null, reason: 'targeted', steps };
  return pickVariant(e, x, p, steps);
}

function pickVariant(e: Experience, x: ManifestExperiment, p: Run, steps: TraceStep[]): ExperiencePick {
  const seed = x.seed ?? x.id;
  const sticky = p.snapshot.assignments[x.id];
  if (sticky) {
    const v = e.variants.find((vv) => vv.key === sticky.variant);
    if (v || sticky.variant === HOLDOUT_VARIANT) {
      if (p.explain) steps.push({ step: 'variant', experiment: x.id, variant: sticky.variant, sticky: true, since: new Date(sticky.at).toISOString() });
      return {
        eligible: true,
        variant: v ?? e.variants[0] ?? null,
        reason: v ? 'sticky' : 'holdout',
        steps,
      };
    }
  }
  if (x.layer && !inNamespace(p.unit, { id: x.layer.id, range: x.layer.range })) {
    if (p.explain) steps.push({ step: 'bucketing', experiment: x.id, layer: x.layer.id, range: x.layer.range, bucket: bucketOf(`layer:${x.layer.id}`, p.unit), inLayer: false });
    return { eligible: false, variant: null, reason: 'no_experience', steps };
  }
  if (x.holdout > 0 && inHoldout(p.unit, { seed: `${seed}:holdout`, percent: x.holdout })) {
    if (p.explain) steps.push({ step: 'holdout', scope: 'experiment', experiment: x.id, percent: x.holdout, bucket: bucketOf(`${seed}:holdout`, p.unit) });
    return {
      eligible: true,
      variant: e.variants[0] ?? null,
      reason: 'holdout',
      steps,
      exposure: { experiment: x.id, experience: e.id, variant: HOLDOUT_VARIANT, unit: p.unit },
    };
  }
  const weights = variantWeights(e, x);
  const a = allocate({ seed, id: p.unit, coverage: x.traffic / 100, weights });
  if (p.explain) {
    steps.push({ step: 'bucketing', experiment: x.id, seed, unit: p.unit, hash: a.unit, bucket: bucketOf(seed, p.unit), traffic: x.traffic, weights, variant: a.variant === null ? null : e.variants[a.variant]?.key });
  }
  if (a.variant === null) return { eligible: false, variant: null, reason: 'no_experience', steps };
  const v = e.variants[a.variant] ?? null;
  return {
    eligible: true,
    variant: v,
    reason: 'experiment',
    steps,
    ...(v ? { exposure: { experiment: x.id, experience: e.id, variant: v.key, unit: p.unit } } : {}),
  };
}

/** The variant key recorded for visitors an experiment holds out: they see the control. */
export const HOLDOUT_VARIANT = '_holdout';

/** Weights in variant order: the bandit's current ones, else the configured ones, else equal. */
export function variantWeights(e: Experience, x: ManifestExperiment): number[] {
  const source = x.mode === 'bandit' && x.banditWeights ? x.banditWeights : x.weights;
  if (!source) return e.variants.map(() => 1);
  const w = e.variants.map((v) => source[v.key] ?? 0);
  return w.some((n) => n > 0) ? w : e.variants.map(() => 1);
}

type ResolveScope = Run;

async function resolveContent(content: SlotContent, s: ResolveScope, trace: TraceStep[]): Promise<SlotPayload | null> {
  if ('content' in content) return { type: 'content', content: content.content };
  if ('html' in content) return { type: 'html', html: content.html, ...(content.css !== undefined ? { css: content.css } : {}), ...(content.js !== undefined ? { js: content.js } : {}) };
  if ('ref' in content) {
    if (content.ref.type === 'offer') {
      const offer = s.m.offers.get(content.ref.id);
      const ranked = offer ? rankOffers([offer], s.subject, s.snapshot.offers, s.now, 1) : [];
      if (ranked[0]) s.result.offersShown.push(ranked[0].id);
      return ranked[0] ? { type: 'ref', ref: content.ref, offer: ranked[0] } : null;
    }
    return { type: 'ref', ref: content.ref };
  }
  if ('offers' in content) {
    const pool = content.offers.from
      ? content.offers.from.map((id) => s.m.offers.get(id)).filter((o) => o !== undefined)
      : [...s.m.offers.values()];
    const tagged = content.offers.tags ? pool.filter((o) => o.tags?.some((t) => content.offers.tags?.includes(t))) : pool;
    const offerTrace: OfferTrace[] | undefined = s.explain ? [] : undefined;
    const ranked = rankOffers(tagged, s.subject, s.snapshot.offers, s.now, content.offers.limit, offerTrace);
    if (offerTrace) trace.push({ step: 'offers', ranked: ranked.map((r) => ({ id: r.id, priority: r.priority, score: r.score })), considered: offerTrace });
    s.result.offersShown.push(...ranked.map((r) => r.id));
    return { type: 'offers', offers: ranked };
  }
  if ('table' in content) return runTables([content.table], content.table, [], s, trace);
  if ('recommend' in content) return recommendations(content.recommend, s, trace);
  const model = s.m.models.get(content.model);
  if (!model) {
    trace.push({ step: 'model', model: content.model, error: 'unknown decision model' });
    return null;
  }
  if (s.explain) trace.push({ step: 'model', model: model.id, tables: model.tables, connectors: model.connectors });
  return runTables(model.tables, model.output ?? (model.tables[model.tables.length - 1] as string), model.connectors, s, trace);
}

/** Seeds of a recommendation slot: `context.productId` (the product on the page), then `context.items` (the cart). */
export function recommendSeeds(ctx: DecideContext): string[] {
  const out: string[] = [];
  const add = (v: unknown) => {
    if (typeof v === 'string' && v !== '' && v.length <= 200 && !out.includes(v) && out.length < 50) out.push(v);
  };
  add(ctx.productId);
  if (Array.isArray(ctx.items)) for (const v of ctx.items) add(v);
  return out;
}

async function recommendations(spec: RecommendSpec, s: ResolveScope, trace: TraceStep[]): Promise<SlotPayload | null> {
  const caller = s.deps.recommendations;
  if (!caller) {
    trace.push({ step: 'recommend', strategy: spec.strategy, error: { code: 'NO_RUNTIME', message: 'recommendations are not computed here' } });
    return null;
  }
  const r = await caller.recommend(spec, { shopping: shoppingOf(s.snapshot.computed), seeds: recommendSeeds(s.input.context) });
  if (s.explain) trace.push({ step: 'recommend', strategy: spec.strategy, items: r.items.length, fallback: r.fallback });
  return { type: 'recommendations', strategy: r.strategy, items: r.items };
}

async function runTables(tableIds: string[], outputId: string, connectorIds: string[], s: ResolveScope, trace: TraceStep[]): Promise<SlotPayload | null> {
  const connectors: Record<string, Record<string, unknown>> = {};
  await Promise.all(
    connectorIds.map(async (id) => {
      const r = await callConnector(id, s, trace);
      connectors[id] = r?.values ?? {};
    }),
  );
  const scope = {
    traits: s.subject.traits,
    computed: s.subject.computed,
    context: s.input.context,
    connectors,
    tables: {} as Record<string, unknown>,
  };
  let out: SlotPayload | null = null;
  for (const id of tableIds) {
    const table = s.m.tables.get(id);
    if (!table) {
      trace.push({ step: 'table', table: id, error: 'unknown decision table' });
      return null;
    }
    const inputs: Record<string, unknown> = {};
    for (const inp of table.inputs) {
      inputs[inp.id] = inp.source === 'audiences' ? [...new Set([...s.snapshot.audiences, ...[...s.m.liveAudiences.keys()].filter((a) => s.subject.isMember?.(a))])] : readPath(scope, inp.source);
    }
    const r = evaluateTable(table, inputs, s.explain);
    if (s.explain) {
      const step: TraceStep = { step: 'table', table: id, hitPolicy: table.hitPolicy, inputs, rules: r.rules as RuleTrace[], matched: r.matchedRows };
      if (!r.ok) step.error = r.error;
      else if (r.usedDefault) step.default = true;
      trace.push(step);
    }
    if (!r.ok) return null;
    const payloads = r.outputs.map((o) => outputPayload(o, s, scope)).filter((p) => p !== null);
    const value = table.hitPolicy === 'collect' ? payloads : (payloads[0] ?? null);
    scope.tables[id] = Array.isArray(value) ? value.map(plainValue) : value === null ? undefined : plainValue(value);
    if (id === outputId) out = Array.isArray(value) ? { type: 'collect', items: value } : value;
  }
  return out;
}

function plainValue(p: SlotPayload): unknown {
  if (p.type === 'value') return p.value;
  if (p.type === 'content') return p.content;
  if (p.type === 'ref') return p.offer?.id ?? p.ref.id;
  return p;
}

function outputPayload(o: TableOutput, s: ResolveScope, scope: Record<string, unknown>): SlotPayload | null {
  if ('value' in o) return { type: 'value', value: interpolate(o.value, scope) };
  if ('content' in o) return { type: 'content', content: interpolate(o.content, scope) };
  const offer = s.m.offers.get(o.offer);
  const ranked = offer ? rankOffers([offer], s.subject, s.snapshot.offers, s.now, 1) : [];
  if (!ranked[0]) return null;
  s.result.offersShown.push(ranked[0].id);
  return { type: 'ref', ref: { type: 'offer', id: o.offer }, offer: ranked[0] };
}

/** `{{connectors.price.amount}}` in strings is replaced by the value at that path; a whole-string reference keeps its type. */
export function interpolate(value: unknown, scope: Record<string, unknown>): unknown {
  if (typeof value === 'string') {
    const whole = /^\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}$/.exec(value);
    if (whole) return readPath(scope, whole[1] as string) ?? null;
    if (!value.includes('{{')) return value;
    return value.replace(/\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g, (_, p: string) => {
      const v = readPath(scope, p);
      return v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, scope));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, scope);
    return out;
  }
  return value;
}

async function callConnector(id: string, s: ResolveScope, trace: TraceStep[]): Promise<ConnectorResult | null> {
  const connector = s.m.connectors.get(id);
  if (!connector) {
    trace.push({ step: 'connector', connector: id, error: 'unknown connector' });
    return null;
  }
  s.connectorResults ??= new Map();
  let pending = s.connectorResults.get(id);
  if (!pending) {
    const caller = s.deps.connectors;
    pending = caller
      ? caller.call(connector, { profile: { traits: s.subject.traits, computed: s.subject.computed, id: s.snapshot.profileId }, context: s.input.context })
      : Promise.resolve(null);
    s.connectorResults.set(id, pending);
  }
  const r = await pending;
  if (r === null) {
    const values = (connector.fallback ?? {}) as Record<string, unknown>;
    trace.push({ step: 'connector', connector: id, source: 'fallback', ms: 0, error: { code: 'NO_RUNTIME', message: 'connectors are not callable here' } });
    return { id, values, source: 'fallback', ms: 0 } as ConnectorResult;
  }
  if (s.explain || r.error) trace.push({ step: 'connector', connector: id, source: r.source, ms: r.ms, ...(r.error ? { error: r.error } : {}), ...(s.explain ? { values: r.values } : {}) });
  return r;
}

/**
 * The snapshot a browser may receive for local decisions: memberships, sticky variants, offer
 * counts, and only the traits the manifest's decisions read — nothing else of the profile.
 */
export function browserSnapshot(snapshot: DecisionSnapshot, manifest: DecisionManifest): DecisionSnapshot {
  const paths = referencedPaths(manifest);
  const pick = (source: Record<string, unknown>, root: string) => {
    const out: Record<string, unknown> = {};
    for (const p of paths) {
      const [r, key] = p.split('.') as [string, string];
      if (r === root && Object.hasOwn(source, key)) out[key] = source[key];
    }
    return out;
  };
  return {
    profileId: null,
    traits: pick(snapshot.traits, 'traits'),
    computed: pick(snapshot.computed, 'computed'),
    audiences: snapshot.audiences,
    assignments: Object.fromEntries(Object.entries(snapshot.assignments).map(([k, a]) => [k, { variant: a.variant, at: a.at }])),
    offers: snapshot.offers,
  };
}
