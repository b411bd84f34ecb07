import { matchesGlob } from '../conditions/evaluate.ts';
import type { Condition } from '../conditions/types.ts';
import type {
  DecisionModel,
  DecisionSettings,
  DecisionTable,
  Experience,
  Experiment,
  Offer,
  Pattern,
} from '../protocol/decisions.ts';
import type { Connector } from './connectors/schema.ts';

/** An experiment as served: its definition plus the bandit's current weights, when it has them. */
export interface ManifestExperiment extends Experiment {
  /** Bandit weights by variant key, set at each re-weight; between re-weights they do not change. */
  banditWeights?: Record<string, number>;
}

/**
 * Everything `decide()` needs besides the visitor: the compiled configuration. The server serves
 * it at GET /v1/manifest, so a browser, an edge worker or a CMS preview decides locally and
 * gets the same answers as the server.
 */
export interface DecisionManifest {
  version: string;
  generatedAt: string;
  settings: DecisionSettings;
  experiences: Experience[];
  experiments: ManifestExperiment[];
  offers: Offer[];
  tables: DecisionTable[];
  models: DecisionModel[];
  connectors: Connector[];
  /** Audiences whose condition reads only traits and context, so they can be evaluated live. */
  audiences: Array<{ id: string; condition: Condition }>;
}

export interface CompiledExperience {
  /** Position among the active experiences: per-request state is kept in arrays by it. */
  index: number;
  experience: Experience;
  experiment: ManifestExperiment | null;
  sites: Matcher[] | null;
  pages: Matcher[] | null;
  excludePages: Matcher[];
}

export interface CompiledManifest {
  manifest: DecisionManifest;
  /** Per slot key, the experiences that define it, highest priority first (ties: smaller id). */
  bySlot: Map<string, CompiledExperience[]>;
  offers: Map<string, Offer>;
  tables: Map<string, DecisionTable>;
  models: Map<string, DecisionModel>;
  connectors: Map<string, Connector>;
  liveAudiences: Map<string, Condition>;
  /** Slots some experience defines, active or not: a slot outside it is unknown. */
  knownSlots: Set<string>;
  /** How many active experiences there are (the size of per-request arrays). */
  size: number;
  /**
   * Site and page checks per page, memoized: most requests land on pages seen before, so the
   * globs and regular expressions run once per page and experience, not once per request.
   */
  pageMatches: Map<string, Uint8Array>;
}

const PAGE_CACHE_LIMIT = 10_000;

/** The memo row of one page: per experience, 1 when its site and page targeting admit the page, 2 when not, 0 not known yet. */
export function pageRow(m: CompiledManifest, host: string | undefined, path: string | undefined): Uint8Array {
  const key = `${host ?? ''}\u0000${path ?? ''}`;
  let row = m.pageMatches.get(key);
  if (!row) {
    if (m.pageMatches.size >= PAGE_CACHE_LIMIT) m.pageMatches.clear();
    row = new Uint8Array(m.size);
    m.pageMatches.set(key, row);
  }
  return row;
}

export function pageMatchOf(row: Uint8Array, c: CompiledExperience, host: string | undefined, path: string | undefined): boolean {
  let v = row[c.index] as number;
  if (v === 0) {
    const ok =
      (!c.sites || (host !== undefined && c.sites.some((x) => x.test(host)))) &&
      (!c.pages || (path !== undefined && c.pages.some((x) => x.test(path)))) &&
      !(path !== undefined && c.excludePages.some((x) => x.test(path)));
    v = ok ? 1 : 2;
    row[c.index] = v;
  }
  return v === 1;
}

export type Matcher = { source: string; test: (value: string) => boolean };

export function compilePattern(p: Pattern): Matcher {
  if (typeof p === 'string') return { source: p, test: (v) => matchesGlob(v, p) };
  const re = new RegExp(p.regex);
  return { source: `/${p.regex}/`, test: (v) => re.test(v) };
}

const compiledCache = new WeakMap<DecisionManifest, CompiledManifest>();

/** Indexes a manifest for deciding; cached per manifest object, so callers can pass it every time. */
export function compileManifest(manifest: DecisionManifest): CompiledManifest {
  const hit = compiledCache.get(manifest);
  if (hit) return hit;
  const experiments = new Map<string, ManifestExperiment>();
  for (const x of manifest.experiments) {
    if (x.status !== 'running') continue;
    // One running experiment per experience; the smaller id wins if two were saved.
    const prev = experiments.get(x.experienceId);
    if (!prev || x.id < prev.id) experiments.set(x.experienceId, x);
  }
  const bySlot = new Map<string, CompiledExperience[]>();
  const knownSlots = new Set<string>();
  let size = 0;
  for (const e of manifest.experiences) {
    for (const v of e.variants) for (const s of Object.keys(v.slots)) knownSlots.add(s);
    if (e.status !== 'active') continue;
    const compiled: CompiledExperience = {
      index: size++,
      experience: e,
      experiment: experiments.get(e.id) ?? null,
      sites: e.targeting.sites?.map(compilePattern) ?? null,
      pages: e.targeting.pages?.map(compilePattern) ?? null,
      excludePages: e.targeting.excludePages?.map(compilePattern) ?? [],
    };
    const slots = new Set<string>();
    for (const v of e.variants) for (const s of Object.keys(v.slots)) slots.add(s);
    for (const s of slots) {
      let list = bySlot.get(s);
      if (!list) bySlot.set(s, (list = []));
      list.push(compiled);
    }
  }
  for (const list of bySlot.values()) {
    list.sort((a, b) => b.experience.priority - a.experience.priority || (a.experience.id < b.experience.id ? -1 : 1));
  }
  const out: CompiledManifest = {
    manifest,
    bySlot,
    offers: new Map(manifest.offers.map((o) => [o.id, o])),
    tables: new Map(manifest.tables.map((t) => [t.id, t])),
    models: new Map(manifest.models.map((m) => [m.id, m])),
    connectors: new Map(manifest.connectors.map((c) => [c.id, c])),
    liveAudiences: new Map(manifest.audiences.map((a) => [a.id, a.condition])),
    knownSlots,
    size,
    pageMatches: new Map(),
  };
  compiledCache.set(manifest, out);
  return out;
}

const HISTORY_KINDS = new Set(['did', 'did_not']);

/**
 * Where a condition reads event history (did, did not, aggregates, top-N), as paths. Decisions
 * read audiences, traits and context only: history belongs in an audience, kept in real time.
 */
export function historyNodes(c: Condition, at = ''): string[] {
  const key = Object.keys(c)[0] as string;
  const here = at === '' ? key : `${at}.${key}`;
  if ('all' in c) return c.all.flatMap((x, i) => historyNodes(x, `${here}[${i}]`).map((p) => p));
  if ('any' in c) return c.any.flatMap((x, i) => historyNodes(x, `${here}[${i}]`));
  if ('not' in c) return historyNodes(c.not, here);
  if (HISTORY_KINDS.has(key)) return [here];
  if ('have' in c && !('trait' in c.have)) return [here];
  return [];
}

/**
 * The manifest as a browser may hold it: connector URLs, headers and bodies can carry credentials,
 * so connectors keep only their outputs and fallbacks (a browser answers with the fallback).
 */
export function publicManifest(m: DecisionManifest): DecisionManifest {
  return {
    ...m,
    connectors: m.connectors.map((c) => ({ ...c, url: '', headers: {}, body: undefined, serverOnly: true }) as Connector),
  };
}

/** The profile paths (`traits.x`, `computed.y`) a manifest's decisions read. */
export function referencedPaths(m: DecisionManifest): Set<string> {
  const paths = new Set<string>(['computed.sessions']);
  const walk = (c: Condition | undefined): void => {
    if (!c) return;
    if ('all' in c) c.all.forEach(walk);
    else if ('any' in c) c.any.forEach(walk);
    else if ('not' in c) walk(c.not);
    else if ('have' in c && 'trait' in c.have) paths.add(c.have.trait.split('.').slice(0, 2).join('.'));
  };
  for (const e of m.experiences) walk(e.targeting.condition);
  for (const a of m.audiences) walk(a.condition);
  for (const o of m.offers) {
    walk(o.eligibility);
    for (const t of o.score?.traits ?? []) paths.add(t.path.split('.').slice(0, 2).join('.'));
    if (o.score?.affinity) {
      paths.add('computed.categoryViews');
      paths.add('computed.brandViews');
    }
  }
  for (const t of m.tables) {
    for (const i of t.inputs) if (/^(traits|computed)\./.test(i.source)) paths.add(i.source.split('.').slice(0, 2).join('.'));
    for (const match of JSON.stringify(t).matchAll(/\{\{\s*((?:traits|computed)\.[A-Za-z0-9_-]+)/g)) paths.add(match[1] as string);
  }
  return paths;
}
