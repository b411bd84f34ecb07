import { AttuneError } from '../errors.ts';
import { invalidArgument } from './invalid.ts';

/**
 * Sufficient statistics of one variant for one goal, kept incrementally: exposed units, converted
 * units, and the sum and sum of squares of the goal value (revenue) per conversion. Everything the
 * results need (rates, intervals, revenue variance) is a function of these four numbers, and two
 * partial sums merge by addition, so shards and time buckets combine exactly.
 *
 * The helpers are immutable: each returns a new object and leaves its argument as it was.
 */
export interface VariantStats {
  exposures: number;
  conversions: number;
  revenue: number;
  revenueSquares: number;
}

export function emptyStats(): VariantStats {
  return { exposures: 0, conversions: 0, revenue: 0, revenueSquares: 0 };
}

/** One more exposed unit. */
export function addExposure(stats: VariantStats): VariantStats {
  return { ...stats, exposures: stats.exposures + 1 };
}

/** One more converted unit, worth `value` (0 for a goal without a value). Throws VALIDATION for a non-finite value. */
export function addConversion(stats: VariantStats, value = 0): VariantStats {
  if (!Number.isFinite(value)) {
    throw invalidArgument('value', `must be a finite number, got ${value}`);
  }
  return {
    exposures: stats.exposures,
    conversions: stats.conversions + 1,
    revenue: stats.revenue + value,
    revenueSquares: stats.revenueSquares + value * value,
  };
}

/** a + b, field by field (a new object). */
export function mergeStats(a: VariantStats, b: VariantStats): VariantStats {
  return {
    exposures: a.exposures + b.exposures,
    conversions: a.conversions + b.conversions,
    revenue: a.revenue + b.revenue,
    revenueSquares: a.revenueSquares + b.revenueSquares,
  };
}

/**
 * Checks stats read from storage or a request before computing with them: counts must be
 * non-negative integers and revenueSquares non-negative. `path` names the argument in the error.
 */
export function checkStats(stats: VariantStats, path: string): void {
  const issues: Array<{ path: string; message: string }> = [];
  for (const key of ['exposures', 'conversions'] as const) {
    const v = stats[key];
    if (!(Number.isInteger(v) && v >= 0)) issues.push({ path: `${path}.${key}`, message: `must be a non-negative integer, got ${v}` });
  }
  if (!Number.isFinite(stats.revenue)) issues.push({ path: `${path}.revenue`, message: `must be a finite number, got ${stats.revenue}` });
  if (!(stats.revenueSquares >= 0 && Number.isFinite(stats.revenueSquares))) {
    issues.push({ path: `${path}.revenueSquares`, message: `must be a finite number ≥ 0, got ${stats.revenueSquares}` });
  }
  if (issues.length > 0) {
    throw new AttuneError('VALIDATION', issues.map((i) => `${i.path}: ${i.message}`).join('; '), { issues });
  }
}
