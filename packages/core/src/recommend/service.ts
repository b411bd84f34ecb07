import type { Clock } from '../ports.ts';
import type { RecommendSpec, RecommendStrategy } from '../protocol/recommend.ts';
import type { RecItem, Store, TopItemsQuery } from '../store.ts';
import { type AffinityProfile, affinityOf, affinityProfile, affinityReason, topKeys } from './affinity.ts';
import { dayOf, decodeRecommendWrites, RecommendDeltas, type RecommendWrites } from './deltas.ts';
import type { ShoppingState } from './shopping.ts';
import { attributeTokens, similarity } from './similarity.ts';

export interface RecommendedItem {
  id: string;
  score: number;
  /** Why it is here: the strategy, a part of it (`for-you:category`), or `popular` for a fallback. */
  reason: string;
  category?: string;
  brand?: string;
  price?: number;
  name?: string;
}

export interface RecommendResult {
  strategy: RecommendStrategy;
  items: RecommendedItem[];
  /** How many items the popular fallback added. */
  fallback: number;
}

/** What a recommendation knows of the visitor and the page. */
export interface RecommendContext {
  /** The visitor's shopping state (computed.shopping), null for an unknown visitor. */
  shopping: ShoppingState | null;
  /** Seed items: the product on the page, the cart's items. */
  seeds: string[];
}

export interface RecommendServiceOptions {
  store: Store;
  clock: Pick<Clock, 'now'>;
  /**
   * How long global lists (popular, trending, per category and brand) and item attributes are
   * reused, in ms (default 5 minutes; an expired list is served while it is recomputed).
   */
  cacheMs?: number | undefined;
}

export interface RecommendService {
  recommend(spec: RecommendSpec, ctx: RecommendContext): Promise<RecommendResult>;
  /** Trending items with their score (recent rate against the 30-day baseline), highest first. */
  trending(): Promise<Array<{ id: string; n: number }>>;
  items(ids: string[]): Promise<Map<string, RecItem>>;
  /**
   * Adds the counters ingestion queued to the recommendation tables. Runs on a schedule (the
   * server's loop) and before a read when this process queued counters since the last fold.
   */
  fold(): Promise<FoldResult>;
  /** Ingestion queued counters in this process: the next read folds first. */
  noteQueued(): void;
}

export interface FoldResult {
  /** Queued rows (one per ingest transaction) added. */
  rows: number;
  /** Rows that could not be decoded, removed and skipped (a bug or a corrupted row). */
  invalid: number;
  /** Per-day count rows older than REC_DAYS_KEPT deleted (by the hourly prune). */
  prunedDays?: number;
}

/** Queued rows read and added per fold transaction. */
const FOLD_BATCH = 2000;
/**
 * Per-day item counts are read back at most 30 days (most viewed/purchased windows, the
 * trending baseline); older days are deleted, hourly, by the fold.
 */
export const REC_DAYS_KEPT = 90;
const PRUNE_EVERY_MS = 3_600_000;

/**
 * Adds queued recommendation counters, many ingest transactions' worth per write: rows are
 * summed first, so a pair or an item counted by many transactions is written once.
 */
export async function foldRecommendQueue(store: Store, batch = FOLD_BATCH): Promise<FoldResult> {
  const result: FoldResult = { rows: 0, invalid: 0 };
  for (;;) {
    const taken = await store.transaction(async (tx) => {
      const rows = await tx.takeRecommendQueue(batch);
      const sum = new RecommendDeltas();
      for (const row of rows) {
        let writes: RecommendWrites;
        try {
          writes = decodeRecommendWrites(row);
        } catch {
          result.invalid++;
          continue;
        }
        sum.add(writes);
      }
      if (!sum.empty) await tx.addRecommendCounts(sum.writes());
      return rows.length;
    });
    result.rows += taken;
    if (taken < batch) return result;
  }
}

interface Candidate {
  id: string;
  score: number;
  reason: string;
}

const POOL = 200;
/** Related items read per seed. */
const RELATED = 50;
const ITEM_CACHE_SIZE = 200_000;
/** Global lists, per category and brand lists, and each item's related items. */
const LIST_CACHE_SIZE = 100_000;
const TRENDING_RECENT_DAYS = 2;
const BASELINE_DAYS = 30;

export function createRecommendService(options: RecommendServiceOptions): RecommendService {
  const { store, clock } = options;
  const cacheMs = options.cacheMs ?? 300_000;
  const cache = new Map<string, { until: number; value: Promise<Array<{ id: string; n: number }>>; refreshing?: boolean }>();

  /**
   * Global lists are shared by every visitor: computed once per cache period, concurrent callers
   * share the promise, and an expired list is served while its replacement is computed, so no
   * request waits for a refresh once a list exists.
   */
  function cached(key: string, load: () => Promise<Array<{ id: string; n: number }>>): Promise<Array<{ id: string; n: number }>> {
    const now = clock.now();
    const hit = cache.get(key);
    if (hit && hit.until > now) return hit.value;
    if (cacheMs <= 0) return load();
    if (hit) {
      if (!hit.refreshing) {
        hit.refreshing = true;
        const next = load();
        next.then(
          () => cache.set(key, { until: clock.now() + cacheMs, value: next }),
          () => {
            hit.refreshing = false;
          },
        );
      }
      return hit.value;
    }
    const value = load();
    evictOldest(cache, LIST_CACHE_SIZE);
    cache.set(key, { until: now + cacheMs, value });
    value.catch(() => cache.delete(key));
    return value;
  }

  // Item attributes and totals change slowly; every candidate list reads them, so they are kept as long as the lists.
  const itemCache = new Map<string, { until: number; item: RecItem | null }>();
  async function items(ids: string[]): Promise<Map<string, RecItem>> {
    const now = clock.now();
    const out = new Map<string, RecItem>();
    const missing: string[] = [];
    for (const id of ids) {
      const hit = cacheMs > 0 ? itemCache.get(id) : undefined;
      if (hit && hit.until > now) {
        if (hit.item) out.set(id, hit.item);
      } else missing.push(id);
    }
    if (missing.length === 0) return out;
    const loaded = await store.recommend.items(missing);
    if (cacheMs > 0) evictOldest(itemCache, ITEM_CACHE_SIZE - missing.length);
    for (const id of missing) {
      const item = loaded.get(id) ?? null;
      if (item) out.set(id, item);
      if (cacheMs > 0) itemCache.set(id, { until: now + cacheMs, item });
    }
    return out;
  }

  const today = () => dayOf(clock.now());
  const top = (q: TopItemsQuery) =>
    cached(`top:${q.metric}:${q.fromDay ?? ''}:${q.toDay ?? ''}:${q.category ?? ''}:${q.brand ?? ''}:${q.limit}`, () => store.recommend.top(q));

  async function trending(): Promise<Array<{ id: string; n: number }>> {
    const d = today();
    return cached(`trending:${d}`, async () => {
      const recent = await store.recommend.top({ metric: 'activity', fromDay: d - TRENDING_RECENT_DAYS + 1, limit: 500 });
      if (recent.length === 0) return [];
      const base = await store.recommend.counts(
        recent.map((r) => r.id),
        { metric: 'activity', fromDay: d - BASELINE_DAYS + 1, toDay: d - TRENDING_RECENT_DAYS },
      );
      const baselineDays = BASELINE_DAYS - TRENDING_RECENT_DAYS;
      const out: Array<{ id: string; n: number }> = [];
      for (const r of recent) {
        // Excess over what the baseline rate predicts, in standard deviations (Poisson); at least one.
        const expected = ((base.get(r.id) ?? 0) * TRENDING_RECENT_DAYS) / baselineDays;
        const z = (r.n - expected) / Math.sqrt(expected + 1);
        if (z >= 1) out.push({ id: r.id, n: Math.round(z * 1000) / 1000 });
      }
      return out.sort((a, b) => b.n - a.n || (a.id < b.id ? -1 : 1));
    });
  }

  async function popular(category: string | undefined): Promise<Candidate[]> {
    const fromDay = today() - 29;
    const bought = await top({ metric: 'purchases', fromDay, category, limit: POOL });
    const viewed = bought.length >= POOL ? [] : await top({ metric: 'views', fromDay, category, limit: POOL });
    const maxB = bought[0]?.n ?? 1;
    const maxV = viewed[0]?.n ?? 1;
    // Bought items first, then viewed ones: scores stay in (1, 2] and (0, 1].
    return [...bought.map((r) => ({ id: r.id, score: 1 + r.n / maxB, reason: 'popular' })), ...viewed.map((r) => ({ id: r.id, score: r.n / maxV, reason: 'popular' }))];
  }

  async function related(kind: 'view' | 'buy', seeds: string[], reason: string): Promise<Candidate[]> {
    const lists = await Promise.all(seeds.map((s) => cached(`rel:${kind}:${s}`, () => store.recommend.related(kind, s, RELATED))));
    const sum = new Map<string, number>();
    for (const list of lists) for (const r of list) sum.set(r.id, (sum.get(r.id) ?? 0) + r.n);
    if (sum.size === 0) return [];
    // Damped by the item's own count: co-occurring with everything is not being related.
    const found = await items([...sum.keys()]);
    const out: Candidate[] = [];
    for (const [id, n] of sum) {
      const it = found.get(id);
      const count = it ? (kind === 'view' ? it.views : it.purchases) : 0;
      out.push({ id, score: n / Math.sqrt(count + 1), reason });
    }
    return out;
  }

  async function forYou(ctx: RecommendContext, aff: AffinityProfile | null): Promise<Candidate[]> {
    const s = ctx.shopping;
    if (!s || !aff) return [];
    const fromDay = today() - 29;
    const lists = await Promise.all([
      ...topKeys(s.categories, 3).map((category) => top({ metric: 'activity', fromDay, category, limit: 60 })),
      ...topKeys(s.brands, 2).map((brand) => top({ metric: 'activity', fromDay, brand, limit: 50 })),
    ]);
    const pop = new Map<string, number>();
    for (const list of lists) {
      const max = list[0]?.n ?? 1;
      for (const r of list) pop.set(r.id, Math.max(pop.get(r.id) ?? 0, r.n / max));
    }
    const co = new Map<string, number>();
    const boughtSeeds = s.bought.slice(0, 3).map((e) => e[0]);
    const viewSeeds = s.views.slice(0, 3).map((e) => e[0]);
    for (const c of [...(await related('buy', boughtSeeds, '')), ...(await related('view', viewSeeds, ''))]) co.set(c.id, (co.get(c.id) ?? 0) + c.score);
    const maxCo = Math.max(0, ...co.values()) || 1;
    const ids = [...new Set([...pop.keys(), ...co.keys()])];
    const found = await items(ids);
    return ids.map((id) => {
      const a = affinityOf(found.get(id), aff);
      const c = (co.get(id) ?? 0) / maxCo;
      const score = a.score + 0.3 * c + 0.2 * (pop.get(id) ?? 0);
      return { id, score, reason: 0.3 * c > a.score ? 'for-you:together' : `for-you:${affinityReason(a)}` };
    });
  }

  async function moreLikeThis(seed: string | undefined): Promise<Candidate[]> {
    if (seed === undefined) return [];
    const base = (await items([seed])).get(seed);
    if (!base) return [];
    const pools = await Promise.all([
      base.category !== null ? top({ metric: 'activity', category: base.category, limit: 150 }) : Promise.resolve([]),
      base.brand !== null ? top({ metric: 'activity', brand: base.brand, limit: 100 }) : Promise.resolve([]),
      cached(`rel:view:${seed}`, () => store.recommend.related('view', seed, RELATED)),
    ]);
    const ids = [...new Set(pools.flat().map((r) => r.id))].filter((id) => id !== seed);
    const found = await items(ids);
    const tokens = attributeTokens(base);
    const out: Candidate[] = [];
    for (const id of ids) {
      const it = found.get(id);
      if (it) out.push({ id, score: similarity(base, it, tokens), reason: 'more-like-this' });
    }
    return out;
  }

  async function candidatesOf(spec: RecommendSpec, ctx: RecommendContext, seeds: string[], aff: AffinityProfile | null): Promise<Candidate[]> {
    const fromDay = today() - spec.window + 1;
    const ranked = (rows: Array<{ id: string; n: number }>, reason: string) => rows.map((r) => ({ id: r.id, score: r.n, reason }));
    switch (spec.strategy) {
      case 'viewed-together':
        return related('view', seeds, 'viewed-together');
      case 'bought-together':
        return related('buy', seeds, 'bought-together');
      case 'most-viewed':
        return ranked(await top({ metric: 'views', fromDay, category: spec.filters.category, limit: POOL }), 'most-viewed');
      case 'most-purchased':
        return ranked(await top({ metric: 'purchases', fromDay, category: spec.filters.category, limit: POOL }), 'most-purchased');
      case 'trending':
        return ranked(await trending(), 'trending');
      case 'recently-viewed':
        return (ctx.shopping?.views ?? []).map(([id, at]) => ({ id, score: at, reason: 'recently-viewed' }));
      case 'for-you':
        return forYou(ctx, aff);
      case 'more-like-this':
        return moreLikeThis(seeds[0]);
      case 'popular':
        return popular(spec.filters.category);
    }
  }

  let pending = false;
  let folding: Promise<FoldResult> | null = null;
  let prunedAt = Number.NEGATIVE_INFINITY;
  function fold(): Promise<FoldResult> {
    if (folding) return folding;
    pending = false;
    folding = (async () => {
      const result = await foldRecommendQueue(store);
      const now = clock.now();
      if (now - prunedAt >= PRUNE_EVERY_MS) {
        prunedAt = now;
        result.prunedDays = await store.transaction((tx) => tx.pruneRecommendDays(dayOf(now) - REC_DAYS_KEPT));
      }
      return result;
    })().finally(() => {
      folding = null;
    });
    return folding;
  }
  async function caughtUp(): Promise<void> {
    if (folding) await folding;
    if (pending) await fold();
  }

  return {
    fold,
    noteQueued() {
      pending = true;
    },
    async trending() {
      await caughtUp();
      return trending();
    },
    async items(ids) {
      await caughtUp();
      return items(ids);
    },
    async recommend(spec, ctx) {
      await caughtUp();
      const aff = affinityProfile(ctx.shopping);
      const seeds = seedsOf(spec.strategy, ctx);
      const excluded = new Set<string>(spec.filters.exclude ?? []);
      // Seeds are what the visitor is looking at: recommending them back is noise (recently viewed excepted).
      if (spec.strategy !== 'recently-viewed') for (const id of seeds) excluded.add(id);
      if (spec.filters.excludePurchased && ctx.shopping) for (const [id] of ctx.shopping.bought) excluded.add(id);

      const picked: RecommendedItem[] = [];
      const taken = new Set<string>();
      const take = async (cands: Candidate[]) => {
        const ordered = cands
          .filter((c) => !excluded.has(c.id) && !taken.has(c.id))
          .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
        // Filters read attributes: load a few more than needed at a time.
        for (let i = 0; i < ordered.length && picked.length < spec.limit; ) {
          const batch = ordered.slice(i, i + Math.max(2 * (spec.limit - picked.length), 10));
          i += batch.length;
          const found = await items(batch.map((c) => c.id));
          for (const c of batch) {
            const it = found.get(c.id);
            if (!passes(it, spec)) continue;
            taken.add(c.id);
            picked.push(describe(c, it));
            if (picked.length >= spec.limit) break;
          }
        }
      };
      await take(await candidatesOf(spec, ctx, seeds, aff));
      const own = picked.length;
      if (spec.fallback && picked.length < spec.limit && spec.strategy !== 'popular') await take(await popular(spec.filters.category));
      return { strategy: spec.strategy, items: picked, fallback: picked.length - own };
    },
  };
}

/** The request's seed items; without any, the visitor's latest views (or purchases, for bought-together). */
function seedsOf(strategy: RecommendStrategy, ctx: RecommendContext): string[] {
  if (ctx.seeds.length > 0) return ctx.seeds;
  const latest = (list: Array<[string, number]> | undefined, n: number) => (list ?? []).slice(0, n).map((e) => e[0]);
  if (strategy === 'viewed-together') return latest(ctx.shopping?.views, 3);
  if (strategy === 'bought-together') return latest(ctx.shopping?.bought, 3);
  if (strategy === 'more-like-this') return latest(ctx.shopping?.views, 1);
  return [];
}

/** Drops the oldest entries (insertion order) so that at most `max` remain. */
function evictOldest<V>(m: Map<string, V>, max: number): void {
  if (m.size <= max) return;
  // A tenth at a time, so eviction is rare.
  let drop = m.size - max + Math.ceil(max / 10);
  for (const k of m.keys()) {
    if (drop-- <= 0) break;
    m.delete(k);
  }
}

function passes(item: RecItem | undefined, spec: RecommendSpec): boolean {
  if (item?.deleted) return false;
  if (spec.filters.inStock && item?.inStock === false) return false;
  if (spec.filters.category !== undefined && item?.category !== spec.filters.category) return false;
  return true;
}

function describe(c: Candidate, it: RecItem | undefined): RecommendedItem {
  const out: RecommendedItem = { id: c.id, score: Math.round(c.score * 10_000) / 10_000, reason: c.reason };
  if (it?.category) out.category = it.category;
  if (it?.brand) out.brand = it.brand;
  if (it?.price !== null && it?.price !== undefined) out.price = it.price;
  if (it?.name) out.name = it.name;
  return out;
}
