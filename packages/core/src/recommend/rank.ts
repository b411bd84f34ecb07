import type { RankRules, RankWeights, RuleMatch } from '../protocol/recommend.ts';
import type { RecItem } from '../store.ts';
import { type AffinityProfile, affinityOf, affinityReason } from './affinity.ts';

/** A part of the score below this does not explain an item's place. */
const NOTABLE = 0.05;

export type RankReason = 'pinned' | 'boosted' | 'buried' | 'affinity:category' | 'affinity:brand' | 'affinity:price' | 'trending' | 'original';

export interface RankedItem {
  id: string;
  /** 1-based. */
  position: number;
  score: number;
  reason: RankReason;
  /** The weighted parts of the score. */
  parts: { original: number; affinity: number; trending: number; boost: number };
}

export interface RankResult {
  items: RankedItem[];
  hidden: Array<{ id: string; rule: number }>;
}

export interface RankInput {
  ids: string[];
  items: Map<string, RecItem>;
  affinity: AffinityProfile | null;
  /** Trending score per item, 0..1. */
  trending: Map<string, number>;
  rules: RankRules;
  weights: RankWeights;
}

/**
 * Re-ranks a list (search results, a category page) for one visitor: the list's own order, the
 * visitor's affinities and what is trending, weighted; then the merchandiser's rules: hide
 * removes, boost adds to the score, bury sends after everything else, pin fixes a position.
 * Pure: the caller loads items, affinities and trending scores.
 */
export function rankItems(input: RankInput): RankResult {
  const { ids, items, rules, weights } = input;
  const hidden: RankResult['hidden'] = [];
  const rows: Array<RankedItem & { index: number; buried: boolean }> = [];
  const n = ids.length;
  for (const [index, id] of ids.entries()) {
    const item = items.get(id);
    const hide = rules.hide.findIndex((r) => matches(r.match, id, item));
    if (hide >= 0) {
      hidden.push({ id, rule: hide });
      continue;
    }
    const a = affinityOf(item, input.affinity);
    const parts = {
      original: weights.original * (n === 1 ? 1 : 1 - index / n),
      affinity: weights.affinity * a.score,
      trending: weights.trending * (input.trending.get(id) ?? 0),
      boost: 0,
    };
    for (const b of rules.boost) if (matches(b.match, id, item)) parts.boost += b.weight;
    const buried = rules.bury.some((r) => matches(r.match, id, item));
    let reason: RankReason = 'original';
    if (buried) reason = 'buried';
    else if (parts.boost > 0 && parts.boost >= Math.max(parts.affinity, parts.trending)) reason = 'boosted';
    else if (parts.affinity >= NOTABLE && parts.affinity >= parts.trending) reason = `affinity:${affinityReason(a)}`;
    else if (parts.trending >= NOTABLE) reason = 'trending';
    const score = parts.original + parts.affinity + parts.trending + parts.boost;
    rows.push({ id, position: 0, score: round(score), reason, parts: mapValues(parts, round), index, buried });
  }
  rows.sort((x, y) => Number(x.buried) - Number(y.buried) || y.score - x.score || x.index - y.index);
  // Pins take their positions in rule order: a later pin wanting a taken place gets the next free one.
  const pins = new Map<string, number>();
  for (const p of rules.pin) if (!pins.has(p.id)) pins.set(p.id, p.position);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const pinned = [...pins.keys()].map((id) => byId.get(id)).filter((r) => r !== undefined);
  const order: Array<(typeof rows)[number] | undefined> = new Array(rows.length);
  for (const r of pinned) {
    let at = Math.min(pins.get(r.id) as number, rows.length) - 1;
    while (order[at] !== undefined && at < rows.length - 1) at++;
    while (order[at] !== undefined) at--;
    r.reason = 'pinned';
    order[at] = r;
  }
  let next = 0;
  for (const r of rows) {
    if (pins.has(r.id)) continue;
    while (order[next] !== undefined) next++;
    order[next] = r;
  }
  return {
    items: order.map((r, i) => {
      const { index: _i, buried: _b, ...item } = r as (typeof rows)[number];
      return { ...item, position: i + 1 };
    }),
    hidden,
  };
}

function matches(m: RuleMatch, id: string, item: RecItem | undefined): boolean {
  if (m.ids?.includes(id)) return true;
  if (m.category !== undefined && item?.category === m.category) return true;
  if (m.brand !== undefined && item?.brand === m.brand) return true;
  return false;
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

function mapValues<T extends Record<string, number>>(o: T, f: (v: number) => number): T {
  const out = {} as Record<string, number>;
  for (const [k, v] of Object.entries(o)) out[k] = f(v);
  return out as T;
}
