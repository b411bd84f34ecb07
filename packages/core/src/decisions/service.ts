import type { z } from 'zod';
import type { AudienceService } from '../audiences/service.ts';
import { audienceRefs, validateCondition } from '../conditions/validate.ts';
import { AttuneError, type Issue } from '../errors.ts';
import type { Clock, Logger } from '../ports.ts';
import {
  DECISION_KINDS,
  type DecisionModel,
  type DecisionSettings,
  type DecisionTable,
  decisionModelSchema,
  decisionSettingsSchema,
  decisionTableSchema,
  type Experience,
  type Experiment,
  experienceSchema,
  experimentSchema,
  type Offer,
  offerSchema,
} from '../protocol/decisions.ts';
import { zodIssues } from '../protocol/parse.ts';
import { compareToControl, sampleRatioMismatch, thompsonWeights, type VariantStats } from '../stats/index.ts';
import type { ConfigDocument, Store } from '../store.ts';
import { type Connector, connectorSchema } from './connectors/schema.ts';
import { HOLDOUT_VARIANT } from './decide.ts';
import { type CompiledGoals, compileGoals, EXPOSURES_METRIC, NO_GOALS } from './exposures.ts';
import { type DecisionManifest, historyNodes, type ManifestExperiment } from './manifest.ts';

export type DecisionKind = 'experience' | 'offer' | 'table' | 'model' | 'experiment' | 'connector';

const SCHEMAS: Record<DecisionKind, z.ZodType> = {
  experience: experienceSchema,
  offer: offerSchema,
  table: decisionTableSchema,
  model: decisionModelSchema,
  experiment: experimentSchema,
  connector: connectorSchema,
};
const NAMES: Record<DecisionKind, string> = {
  experience: 'experience',
  offer: 'offer',
  table: 'decision table',
  model: 'decision model',
  experiment: 'experiment',
  connector: 'connector',
};
const SETTINGS_ID = 'global';
const BANDIT_KIND = 'bandit-state';

export interface DecisionDocView {
  version: number;
  createdAt: string;
  updatedAt: string;
  [key: string]: unknown;
}

export interface VariantResult {
  variant: string;
  exposures: number;
  conversions: number;
  rate: number;
  revenue: number;
  revenuePerExposure: number;
  lift: number | null;
  liftCi95: [number, number] | null;
  probabilityToBeatControl: number | null;
}

export interface ExperimentResults {
  experiment: string;
  goal: string;
  control: string;
  variants: VariantResult[];
  holdout: { exposures: number; conversions: number; rate: number; revenue: number } | null;
  /**
   * The split against the configured weights. Null for bandits: their weights change at each
   * re-weight, so the total split has no single expected ratio.
   */
  sampleRatio: { chiSquare: number; pValue: number; mismatch: boolean; expected: Record<string, number> } | null;
  banditWeights?: Record<string, number>;
}

/** The whole decision configuration, as `attune config export` writes and `config apply` reads it. */
export interface DecisionConfig {
  connectors?: unknown[];
  offers?: unknown[];
  tables?: unknown[];
  models?: unknown[];
  experiences?: unknown[];
  experiments?: unknown[];
  settings?: unknown;
}

export interface DecisionService {
  list(kind: DecisionKind): Promise<DecisionDocView[]>;
  get(kind: DecisionKind, id: string): Promise<DecisionDocView>;
  create(kind: DecisionKind, input: unknown): Promise<DecisionDocView>;
  update(kind: DecisionKind, id: string, input: unknown, version: number): Promise<DecisionDocView>;
  remove(kind: DecisionKind, id: string): Promise<void>;
  getSettings(): Promise<DecisionSettings>;
  putSettings(input: unknown): Promise<DecisionSettings>;
  /** The manifest in force (rebuilt when configuration changes). */
  manifest(): DecisionManifest;
  goals(): CompiledGoals;
  reload(): Promise<void>;
  results(experimentId: string): Promise<ExperimentResults>;
  /** Re-weights the bandit experiments whose interval has passed (or `force`, now); returns how many changed. */
  reweightBandits(options?: { force?: string }): Promise<number>;
  /** Validates a whole configuration, then creates or replaces every document in it. */
  apply(config: unknown, options?: { prune?: boolean }): Promise<{ created: number; updated: number; unchanged: number; deleted: number }>;
  exportConfig(): Promise<DecisionConfig>;
}

interface ServiceOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  audiences: AudienceService;
}

const EMPTY_SETTINGS: DecisionSettings = { globalHoldout: 0, holdoutSeed: 'attune-global-holdout' };

function validation(issues: Issue[]): AttuneError {
  return new AttuneError('VALIDATION', `${issues[0]?.path}: ${issues[0]?.message}`, { issues });
}

export function createDecisionService({ store, clock, logger, audiences }: ServiceOptions): DecisionService {
  let manifest: DecisionManifest = emptyManifest('none', clock.now());
  let goals: CompiledGoals = NO_GOALS;

  const iso = (t: number) => new Date(t).toISOString();
  const view = (d: ConfigDocument): DecisionDocView => ({
    ...(d.body as Record<string, unknown>),
    version: d.version,
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
  });

  function parse(kind: DecisionKind, input: unknown, prefix: PropertyKey[] = []): Record<string, unknown> {
    const r = SCHEMAS[kind].safeParse(input);
    if (!r.success) throw validation(zodIssues(r.error, prefix));
    return r.data as Record<string, unknown>;
  }

  async function all(kind: DecisionKind): Promise<Map<string, unknown>> {
    return new Map((await store.docs.list(DECISION_KINDS[kind])).map((d) => [d.id, d.body]));
  }

  /** Cross-document checks: references resolve and decisions read no event history directly. */
  const audienceIdSet = async () => new Set((await audiences.listAudiences()).map((a) => a.id));

  async function checkReferences(
    kind: DecisionKind,
    body: Record<string, unknown>,
    pending?: Map<DecisionKind, Map<string, unknown>>,
    prefix: PropertyKey[] = [],
    pendingOnly = false,
    audienceIds?: ReadonlySet<string>,
  ): Promise<void> {
    const issues: Issue[] = [];
    const at = (...p: PropertyKey[]) => [...prefix, ...p].map((x) => (typeof x === 'number' ? `[${x}]` : `.${String(x)}`)).join('').replace(/^\./, '');
    const known = async (k: DecisionKind, id: string) =>
      pending?.get(k)?.has(id) || (!pendingOnly && (await store.docs.get(DECISION_KINDS[k], id)) !== null);
    const knownAudiences = audienceIds ?? (await audienceIdSet());
    const checkCondition = (c: unknown, path: PropertyKey[]) => {
      if (c === undefined) return;
      for (const node of historyNodes(c as never)) {
        issues.push({ path: `${at(...path)}.${node}`, message: 'decisions read audiences, traits and context; put event-history conditions (did, did_not, aggregates, top) in an audience and target it' });
      }
      for (const ref of audienceRefs(c as never)) if (!knownAudiences.has(ref)) issues.push({ path: at(...path), message: `unknown audience "${ref}"` });
    };
    if (kind === 'experience') {
      const e = body as unknown as Experience;
      for (const [i, a] of (e.targeting.audiences ?? []).entries()) if (!knownAudiences.has(a)) issues.push({ path: at('targeting', 'audiences', i), message: `unknown audience "${a}"` });
      checkCondition(e.targeting.condition, ['targeting', 'condition']);
      for (const [i, v] of e.variants.entries()) {
        for (const [slot, c] of Object.entries(v.slots)) {
          const path = at('variants', i, 'slots', slot);
          if ('table' in c && !(await known('table', c.table))) issues.push({ path: `${path}.table`, message: `unknown decision table "${c.table}"` });
          if ('model' in c && !(await known('model', c.model))) issues.push({ path: `${path}.model`, message: `unknown decision model "${c.model}"` });
          if ('ref' in c && c.ref.type === 'offer' && !(await known('offer', c.ref.id))) issues.push({ path: `${path}.ref.id`, message: `unknown offer "${c.ref.id}"` });
          if ('offers' in c) for (const [j, o] of (c.offers.from ?? []).entries()) if (!(await known('offer', o))) issues.push({ path: `${path}.offers.from[${j}]`, message: `unknown offer "${o}"` });
        }
      }
    } else if (kind === 'offer') {
      checkCondition((body as unknown as Offer).eligibility, ['eligibility']);
    } else if (kind === 'table') {
      for (const [i, r] of (body as unknown as DecisionTable).rules.entries()) {
        if ('offer' in r.then && !(await known('offer', r.then.offer))) issues.push({ path: at('rules', i, 'then', 'offer'), message: `unknown offer "${r.then.offer}"` });
      }
    } else if (kind === 'model') {
      const m = body as unknown as DecisionModel;
      for (const [i, t] of m.tables.entries()) if (!(await known('table', t))) issues.push({ path: at('tables', i), message: `unknown decision table "${t}"` });
      for (const [i, c] of m.connectors.entries()) if (!(await known('connector', c))) issues.push({ path: at('connectors', i), message: `unknown connector "${c}"` });
    } else if (kind === 'experiment') {
      const x = body as unknown as Experiment;
      const experience = (pending?.get('experience')?.get(x.experienceId) ??
        (pendingOnly ? undefined : (await store.docs.get(DECISION_KINDS.experience, x.experienceId))?.body)) as Experience | undefined;
      if (!experience) issues.push({ path: at('experienceId'), message: `unknown experience "${x.experienceId}"` });
      else {
        if (experience.variants.length < 2) issues.push({ path: at('experienceId'), message: `experience "${x.experienceId}" needs at least two variants (a control and a challenger) to be tested` });
        for (const key of Object.keys(x.weights ?? {})) {
          if (!experience.variants.some((v) => v.key === key)) issues.push({ path: at('weights', key), message: `experience "${x.experienceId}" has no variant "${key}"` });
        }
      }
    }
    if (issues.length > 0) throw validation(issues);
  }

  /** Where a document is referenced from, so deleting it would break a decision. */
  async function usages(kind: DecisionKind, id: string): Promise<string[]> {
    const out: string[] = [];
    if (kind === 'offer' || kind === 'table' || kind === 'model') {
      for (const [eid, body] of await all('experience')) if (experienceRefs(body as Experience)[kind].has(id)) out.push(`experience "${eid}"`);
    }
    if (kind === 'offer') for (const [tid, body] of await all('table')) if ((body as DecisionTable).rules.some((r) => 'offer' in r.then && r.then.offer === id)) out.push(`decision table "${tid}"`);
    if (kind === 'table' || kind === 'connector') {
      for (const [mid, body] of await all('model')) {
        const m = body as DecisionModel;
        if ((kind === 'table' ? m.tables : m.connectors).includes(id)) out.push(`decision model "${mid}"`);
      }
    }
    if (kind === 'experience') for (const [xid, body] of await all('experiment')) if ((body as Experiment).experienceId === id) out.push(`experiment "${xid}"`);
    return out;
  }

  async function reload(): Promise<void> {
    const kinds = ['experience', 'offer', 'table', 'model', 'experiment', 'connector'] as const;
    const docs = await Promise.all(kinds.map((k) => store.docs.list(DECISION_KINDS[k])));
    const [settingsDoc, banditDocs] = await Promise.all([store.docs.get(DECISION_KINDS.settings, SETTINGS_ID), store.docs.list(BANDIT_KIND)]);
    const audienceViews = await audiences.listAudiences();
    const version = [
      ...docs.flat().map((d) => `${d.kind}/${d.id}@${d.version}`),
      settingsDoc ? `settings@${settingsDoc.version}` : '',
      ...banditDocs.map((d) => `bandit/${d.id}@${d.version}`),
      ...audienceViews.map((a) => `audience/${a.id}@${a.version}`),
    ].join(',');
    if (version === manifest.version) return;
    const bodies = docs.map((list) => list.map((d) => d.body));
    const bandits = new Map(banditDocs.map((d) => [d.id, (d.body as { weights: Record<string, number> }).weights]));
    const experiments = (bodies[4] as Experiment[]).map((x): ManifestExperiment => {
      const w = bandits.get(x.id);
      return x.mode === 'bandit' && w ? { ...x, banditWeights: w } : x;
    });
    manifest = {
      version,
      generatedAt: iso(clock.now()),
      settings: (settingsDoc?.body as DecisionSettings | undefined) ?? EMPTY_SETTINGS,
      experiences: bodies[0] as Experience[],
      offers: bodies[1] as Offer[],
      tables: bodies[2] as DecisionTable[],
      models: bodies[3] as DecisionModel[],
      experiments,
      connectors: bodies[5] as Connector[],
      audiences: audienceViews.filter((a) => historyNodes(a.condition).length === 0).map((a) => ({ id: a.id, condition: a.condition })),
    };
    goals = compileGoals(experiments, version);
  }

  async function results(experimentId: string): Promise<ExperimentResults> {
    const doc = await store.docs.get(DECISION_KINDS.experiment, experimentId);
    if (!doc) throw new AttuneError('NOT_FOUND', `no experiment "${experimentId}"`);
    const x = doc.body as Experiment;
    const experience = (await store.docs.get(DECISION_KINDS.experience, x.experienceId))?.body as Experience | undefined;
    const keys = experience?.variants.map((v) => v.key) ?? [];
    const goal = x.primaryGoal ?? (x.goals[0] as Experiment['goals'][number]).id;
    const rows = await store.experimentStats(experimentId);
    const statsOf = (variant: string): VariantStats => {
      const exposed = rows.find((r) => r.variant === variant && r.metric === EXPOSURES_METRIC);
      const conv = rows.find((r) => r.variant === variant && r.metric === goal);
      return { exposures: exposed?.count ?? 0, conversions: conv?.count ?? 0, revenue: conv?.sum ?? 0, revenueSquares: conv?.sumSquares ?? 0 };
    };
    const control = keys[0] ?? 'control';
    const controlStats = statsOf(control);
    const variants = keys.map((k): VariantResult => {
      const s = statsOf(k);
      const c = compareToControl(controlStats, s);
      return {
        variant: k,
        exposures: s.exposures,
        conversions: s.conversions,
        rate: c.rate,
        revenue: s.revenue,
        revenuePerExposure: c.revenuePerExposure,
        lift: k === control ? null : c.lift,
        liftCi95: k === control ? null : c.liftCi95,
        probabilityToBeatControl: k === control ? null : c.probabilityToBeatControl,
      };
    });
    const h = statsOf(HOLDOUT_VARIANT);
    const banditDoc = x.mode === 'bandit' ? await store.docs.get(BANDIT_KIND, experimentId) : null;
    const weightsUsed = (banditDoc?.body as { weights?: Record<string, number> } | undefined)?.weights ?? x.weights;
    const expectedWeights = keys.map((k) => (weightsUsed ? (weightsUsed[k] ?? 0) : 1));
    const srm = sampleRatioMismatch(
      variants.map((v) => v.exposures),
      expectedWeights.some((w) => w > 0) ? expectedWeights : keys.map(() => 1),
    );
    const total = expectedWeights.reduce((a, b) => a + b, 0) || 1;
    return {
      experiment: experimentId,
      goal,
      control,
      variants,
      holdout: h.exposures > 0 ? { exposures: h.exposures, conversions: h.conversions, rate: h.conversions / h.exposures, revenue: h.revenue } : null,
      sampleRatio: x.mode === 'bandit' ? null : { ...srm, expected: Object.fromEntries(keys.map((k, i) => [k, (expectedWeights[i] ?? 0) / total])) },
      ...(x.mode === 'bandit' && banditDoc ? { banditWeights: (banditDoc.body as { weights: Record<string, number> }).weights } : {}),
    };
  }

  const service: DecisionService = {
    async list(kind) {
      return (await store.docs.list(DECISION_KINDS[kind])).map(view);
    },
    async get(kind, id) {
      const d = await store.docs.get(DECISION_KINDS[kind], id);
      if (!d) throw new AttuneError('NOT_FOUND', `no ${NAMES[kind]} "${id}"`);
      return view(d);
    },
    async create(kind, input) {
      const body = parse(kind, input);
      await checkReferences(kind, body);
      const d = await store.docs.put(DECISION_KINDS[kind], body.id as string, body, 0, clock.now());
      if (!d) throw new AttuneError('CONFLICT', `${NAMES[kind]} "${body.id as string}" already exists`);
      await reload();
      return view(d);
    },
    async update(kind, id, input, version) {
      const bodyId = (input as { id?: unknown } | null)?.id;
      if (bodyId !== undefined && bodyId !== id) {
        throw validation([{ path: 'id', message: `cannot be changed once created; it is "${id}"` }]);
      }
      const body = parse(kind, { ...(input as object), id });
      if (!(await store.docs.get(DECISION_KINDS[kind], id))) throw new AttuneError('NOT_FOUND', `no ${NAMES[kind]} "${id}"`);
      await checkReferences(kind, body);
      const d = await store.docs.put(DECISION_KINDS[kind], id, body, version, clock.now());
      if (!d) throw new AttuneError('CONFLICT', `${NAMES[kind]} "${id}" is not at version ${version}: read it again and retry`);
      await reload();
      return view(d);
    },
    async remove(kind, id) {
      const used = await usages(kind, id);
      if (used.length > 0) throw new AttuneError('CONFLICT', `${NAMES[kind]} "${id}" is still used by ${used.join(', ')}`);
      if (!(await store.docs.delete(DECISION_KINDS[kind], id))) throw new AttuneError('NOT_FOUND', `no ${NAMES[kind]} "${id}"`);
      if (kind === 'experiment') await store.docs.delete(BANDIT_KIND, id);
      await reload();
    },
    async getSettings() {
      const d = await store.docs.get(DECISION_KINDS.settings, SETTINGS_ID);
      return (d?.body as DecisionSettings | undefined) ?? EMPTY_SETTINGS;
    },
    async putSettings(input) {
      const r = decisionSettingsSchema.safeParse(input);
      if (!r.success) throw validation(zodIssues(r.error));
      for (let attempt = 0; attempt < 5; attempt++) {
        const current = await store.docs.get(DECISION_KINDS.settings, SETTINGS_ID);
        if (await store.docs.put(DECISION_KINDS.settings, SETTINGS_ID, r.data, current?.version ?? 0, clock.now())) {
          await reload();
          return r.data;
        }
      }
      throw new AttuneError('CONFLICT', 'the settings changed concurrently; retry');
    },
    manifest: () => manifest,
    goals: () => goals,
    reload,
    results,
    async reweightBandits(options = {}) {
      let changed = 0;
      const now = clock.now();
      if (options.force !== undefined) {
        const x = manifest.experiments.find((e) => e.id === options.force);
        if (!x) throw new AttuneError('NOT_FOUND', `no running experiment "${options.force}"`);
        if (x.mode !== 'bandit') throw new AttuneError('CONFLICT', `experiment "${x.id}" is not a bandit`);
      }
      for (const x of manifest.experiments) {
        if (x.mode !== 'bandit' || x.status !== 'running') continue;
        if (options.force !== undefined && x.id !== options.force) continue;
        const doc = await store.docs.get(BANDIT_KIND, x.id);
        const state = doc?.body as { epoch: number; at: number } | undefined;
        if (options.force === undefined && state && now - state.at < x.bandit.reweightMinutes * 60_000) continue;
        const r = await results(x.id);
        const epoch = (state?.epoch ?? 0) + 1;
        const w = thompsonWeights(
          r.variants.map((v) => ({ successes: v.conversions, trials: v.exposures })),
          { seed: `${x.id}:${epoch}`, minShare: x.bandit.minShare },
        );
        const weights = Object.fromEntries(r.variants.map((v, i) => [v.variant, Math.round((w[i] ?? 0) * 1e6) / 1e6]));
        // Optimistic versioning: with several nodes, one of them re-weights per interval.
        if (await store.docs.put(BANDIT_KIND, x.id, { epoch, at: now, weights }, doc?.version ?? 0, now)) {
          changed++;
          logger.info({ experiment: x.id, epoch, weights }, 'bandit re-weighted');
        }
      }
      if (changed > 0) await reload();
      return changed;
    },
    async apply(config, options = {}) {
      return applyConfig(config, options.prune === true);
    },
    async exportConfig() {
      const strip = (d: ConfigDocument) => d.body;
      const lists = await Promise.all((['connector', 'offer', 'table', 'model', 'experience', 'experiment'] as const).map((k) => store.docs.list(DECISION_KINDS[k])));
      return {
        connectors: (lists[0] ?? []).map(strip),
        offers: (lists[1] ?? []).map(strip),
        tables: (lists[2] ?? []).map(strip),
        models: (lists[3] ?? []).map(strip),
        experiences: (lists[4] ?? []).map(strip),
        experiments: (lists[5] ?? []).map(strip),
        settings: await service.getSettings(),
      };
    },
  };

  const ORDER: Array<[keyof DecisionConfig, DecisionKind]> = [
    ['connectors', 'connector'],
    ['offers', 'offer'],
    ['tables', 'table'],
    ['models', 'model'],
    ['experiences', 'experience'],
    ['experiments', 'experiment'],
  ];

  async function applyConfig(config: unknown, prune: boolean): Promise<{ created: number; updated: number; unchanged: number; deleted: number }> {
    if (config === null || typeof config !== 'object' || Array.isArray(config)) throw validation([{ path: '(root)', message: 'must be an object with connectors, offers, tables, models, experiences, experiments and settings' }]);
    const c = config as Record<string, unknown>;
    const unknownKeys = Object.keys(c).filter((k) => !['connectors', 'offers', 'tables', 'models', 'experiences', 'experiments', 'settings'].includes(k));
    if (unknownKeys.length > 0) throw validation(unknownKeys.map((k) => ({ path: k, message: 'unknown section (expected connectors, offers, tables, models, experiences, experiments, settings)' })));
    // Validate everything first, so a bad file changes nothing.
    const pending = new Map<DecisionKind, Map<string, unknown>>();
    const issues: Issue[] = [];
    for (const [section, kind] of ORDER) {
      const items = c[section];
      if (items === undefined) continue;
      if (!Array.isArray(items)) {
        issues.push({ path: section, message: 'must be a list' });
        continue;
      }
      const parsed = new Map<string, unknown>();
      for (const [i, item] of items.entries()) {
        try {
          const body = parse(kind, item, [section, i]);
          if (parsed.has(body.id as string)) issues.push({ path: `${section}[${i}].id`, message: `duplicate id "${body.id as string}"` });
          parsed.set(body.id as string, body);
        } catch (e) {
          issues.push(...(e as AttuneError).issues);
        }
      }
      pending.set(kind, parsed);
    }
    let settings: DecisionSettings | undefined;
    if (c.settings !== undefined) {
      const r = decisionSettingsSchema.safeParse(c.settings);
      if (!r.success) issues.push(...zodIssues(r.error, ['settings']));
      else settings = r.data;
    }
    if (issues.length > 0) throw validation(issues);
    const audienceIds = await audienceIdSet();
    for (const [section, kind] of ORDER) {
      for (const [i, [, body]] of [...(pending.get(kind) ?? new Map()).entries()].entries()) {
        try {
          await checkReferences(kind, body as Record<string, unknown>, pending, [section, i], prune, audienceIds);
        } catch (e) {
          issues.push(...(e as AttuneError).issues);
        }
      }
    }
    if (issues.length > 0) throw validation(issues);
    const counts = { created: 0, updated: 0, unchanged: 0, deleted: 0 };
    for (const [, kind] of ORDER) {
      for (const [id, body] of pending.get(kind) ?? []) {
        const current = await store.docs.get(DECISION_KINDS[kind], id);
        if (current && canonicalJson(current.body) === canonicalJson(body)) {
          counts.unchanged++;
          continue;
        }
        const d = await store.docs.put(DECISION_KINDS[kind], id, body, current?.version ?? 0, clock.now());
        if (!d) throw new AttuneError('CONFLICT', `${NAMES[kind]} "${id}" changed while applying; run apply again`);
        counts[current ? 'updated' : 'created']++;
      }
    }
    if (prune) {
      // Dependents first: experiments, then experiences, models, tables, offers, connectors.
      for (const [, kind] of [...ORDER].reverse()) {
        for (const d of await store.docs.list(DECISION_KINDS[kind])) {
          if (pending.get(kind)?.has(d.id)) continue;
          await store.docs.delete(DECISION_KINDS[kind], d.id);
          if (kind === 'experiment') await store.docs.delete(BANDIT_KIND, d.id);
          counts.deleted++;
        }
      }
    }
    if (settings || prune) await service.putSettings(settings ?? EMPTY_SETTINGS);
    await reload();
    return counts;
  }

  return service;
}

/** The offers, tables and models an experience's slots use. */
export function experienceRefs(e: Experience): { offer: Set<string>; table: Set<string>; model: Set<string> } {
  const refs = { offer: new Set<string>(), table: new Set<string>(), model: new Set<string>() };
  for (const v of e.variants) {
    for (const c of Object.values(v.slots)) {
      if ('ref' in c && c.ref.type === 'offer') refs.offer.add(c.ref.id);
      else if ('offers' in c) for (const o of c.offers.from ?? []) refs.offer.add(o);
      else if ('table' in c) refs.table.add(c.table);
      else if ('model' in c) refs.model.add(c.model);
    }
  }
  return refs;
}

export function emptyManifest(version: string, now: number): DecisionManifest {
  return {
    version,
    generatedAt: new Date(now).toISOString(),
    settings: EMPTY_SETTINGS,
    experiences: [],
    experiments: [],
    offers: [],
    tables: [],
    models: [],
    connectors: [],
    audiences: [],
  };
}

/**
 * Builds a manifest straight from a configuration file (the shape of `attune config export`, plus
 * `audiences`): for previews, edge workers and tests that decide without a server. Throws a
 * VALIDATION error naming the node at fault.
 */
export function manifestFromConfig(config: DecisionConfig & { audiences?: Array<{ id: string; condition: unknown }> }, now: number): DecisionManifest {
  const issues: Issue[] = [];
  const section = <T>(name: keyof DecisionConfig, kind: DecisionKind): T[] =>
    ((config[name] as unknown[] | undefined) ?? []).flatMap((item, i) => {
      const r = SCHEMAS[kind].safeParse(item);
      if (!r.success) {
        issues.push(...zodIssues(r.error, [name, i]));
        return [];
      }
      return [r.data as T];
    });
  const m = emptyManifest('config', now);
  m.connectors = section<Connector>('connectors', 'connector');
  m.offers = section<Offer>('offers', 'offer');
  m.tables = section<DecisionTable>('tables', 'table');
  m.models = section<DecisionModel>('models', 'model');
  m.experiences = section<Experience>('experiences', 'experience');
  m.experiments = section<Experiment>('experiments', 'experiment');
  const settings = decisionSettingsSchema.safeParse(config.settings ?? {});
  if (settings.success) m.settings = settings.data;
  else issues.push(...zodIssues(settings.error, ['settings']));
  for (const [i, a] of (config.audiences ?? []).entries()) {
    const r = validateCondition(a.condition);
    if (!r.ok) issues.push(...r.issues.map((x) => ({ path: `audiences[${i}].condition.${x.path}`, message: x.message })));
    else if (historyNodes(r.condition).length === 0) m.audiences.push({ id: a.id, condition: r.condition });
  }
  if (issues.length > 0) throw validation(issues);
  return m;
}

/** JSON with object keys sorted, so documents compare equal whatever order a store keeps keys in. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
