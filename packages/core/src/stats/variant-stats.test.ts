import { describe, expect, it } from 'vitest';
import { AttuneError } from '../errors.ts';
import { addConversion, addExposure, checkStats, emptyStats, mergeStats, type VariantStats } from './variant-stats.ts';

describe('variant statistics', () => {
  it('accumulate exposures, conversions and the sums of value and squared value, without mutating', () => {
    const start = emptyStats();
    const one = addExposure(start);
    const two = addConversion(addExposure(one), 20);
    const three = addConversion(two, 5);
    expect(start).toEqual({ exposures: 0, conversions: 0, revenue: 0, revenueSquares: 0 });
    expect(one).toEqual({ exposures: 1, conversions: 0, revenue: 0, revenueSquares: 0 });
    expect(three).toEqual({ exposures: 2, conversions: 2, revenue: 25, revenueSquares: 425 });
    expect(addConversion(three)).toEqual({ exposures: 2, conversions: 3, revenue: 25, revenueSquares: 425 });
    expect(emptyStats()).not.toBe(emptyStats());
  });

  it('merge partial sums into the stats of the whole stream', () => {
    const events: Array<number | null> = [null, 12, null, null, 3.5, 0, null, 99, null, 7];
    const fold = (list: Array<number | null>) => list.reduce<VariantStats>((s, e) => (e === null ? addExposure(s) : addConversion(s, e)), emptyStats());
    for (let cut = 0; cut <= events.length; cut++) {
      expect(mergeStats(fold(events.slice(0, cut)), fold(events.slice(cut)))).toEqual(fold(events));
    }
    const a = fold(events);
    const b = addExposure(emptyStats());
    expect(mergeStats(a, b)).toEqual(mergeStats(b, a));
    expect(a).toEqual(fold(events)); // inputs untouched
  });

  it('rejects a conversion value that is not finite and stats that cannot be counts', () => {
    expect(() => addConversion(emptyStats(), Number.NaN)).toThrow(AttuneError);
    expect(() => addConversion(emptyStats(), Number.POSITIVE_INFINITY)).toThrow(/value/);
    expect(() => checkStats({ exposures: 3, conversions: 1, revenue: 2, revenueSquares: 4 }, 'x')).not.toThrow();
    try {
      checkStats({ exposures: 1.5, conversions: -1, revenue: Number.NaN, revenueSquares: -3 }, 'variant');
      expect.unreachable();
    } catch (error) {
      expect((error as AttuneError).issues.map((i) => i.path)).toEqual(['variant.exposures', 'variant.conversions', 'variant.revenue', 'variant.revenueSquares']);
    }
  });
});
