import type { RecItem } from '../store.ts';
import type { ShoppingState } from './shopping.ts';

export interface AffinityScore {
  /** 0..1: 0.5 category + 0.3 brand + 0.2 price fit. */
  score: number;
  category: number;
  brand: number;
  price: number;
}

const NONE: AffinityScore = { score: 0, category: 0, brand: 0, price: 0 };

/** The visitor's top weight per map, computed once per request. */
export interface AffinityProfile {
  shopping: ShoppingState;
  topCategory: number;
  topBrand: number;
  /** Mean and variance of ln(price) seen, when at least two prices were. */
  price: { mean: number; variance: number } | null;
}

export function affinityProfile(shopping: ShoppingState | null): AffinityProfile | null {
  if (!shopping) return null;
  const [n, sum, sumSq] = shopping.price;
  const mean = n > 0 ? sum / n : 0;
  return {
    shopping,
    topCategory: maxOf(shopping.categories),
    topBrand: maxOf(shopping.brands),
    // A floor on the variance: one price seen twice still allows neighbouring prices.
    price: n >= 2 ? { mean, variance: Math.max(sumSq / n - mean * mean, 0.05) } : null,
  };
}

/**
 * How well an item fits the visitor: its category's and brand's weight relative to the
 * visitor's strongest, and how close its price is to the prices they look at (log scale).
 */
export function affinityOf(item: Pick<RecItem, 'category' | 'brand' | 'price'> | undefined, p: AffinityProfile | null): AffinityScore {
  if (!p || !item) return NONE;
  const category = item.category && p.topCategory > 0 ? weight(p.shopping.categories, item.category) / p.topCategory : 0;
  const brand = item.brand && p.topBrand > 0 ? weight(p.shopping.brands, item.brand) / p.topBrand : 0;
  let price = 0;
  if (p.price && item.price !== null && item.price > 0) {
    const d = Math.log(item.price) - p.price.mean;
    price = Math.exp(-(d * d) / (2 * p.price.variance));
  }
  return { score: 0.5 * category + 0.3 * brand + 0.2 * price, category, brand, price };
}

/** The strongest part of an affinity, as a reason. */
export function affinityReason(a: AffinityScore): 'category' | 'brand' | 'price' {
  const c = 0.5 * a.category;
  const b = 0.3 * a.brand;
  const p = 0.2 * a.price;
  return c >= b && c >= p ? 'category' : b >= p ? 'brand' : 'price';
}

/** Keys by weight, highest first (ties: name order). */
export function topKeys(counts: Record<string, number>, n: number): string[] {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, n)
    .map((e) => e[0]);
}

function weight(counts: Record<string, number>, key: string): number {
  return Object.hasOwn(counts, key) ? (counts[key] ?? 0) : 0;
}

function maxOf(counts: Record<string, number>): number {
  let m = 0;
  for (const v of Object.values(counts)) if (v > m) m = v;
  return m;
}
