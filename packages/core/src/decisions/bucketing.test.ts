import { describe, expect, it } from 'vitest';
import { chiSquareUniformity } from '../stats/results.ts';
import { allocate, bucketOf, hashUnit, inHoldout, inNamespace, variantRanges } from './bucketing.ts';

const ids = Array.from({ length: 100_000 }, (_, i) => `visitor-${i}-${(i * 2654435761) % 1000003}`);

describe('bucketing', () => {
  it('spreads 100,000 ids uniformly over 100 buckets (chi-square p > 0.01)', () => {
    const counts = new Array<number>(100).fill(0);
    for (const id of ids) {
      const k = Math.floor(bucketOf('uniformity', id) / 100);
      counts[k] = (counts[k] ?? 0) + 1;
    }
    expect(chiSquareUniformity(counts).pValue).toBeGreaterThan(0.01);
  });

  it.each([
    [[1, 1]],
    [[1, 1, 1]],
    [[1, 2, 3, 2, 2]],
    [[10, 90]],
  ])('splits 100,000 ids by weights %j (chi-square p > 0.01)', (weights) => {
    const counts = new Array<number>(weights.length).fill(0);
    for (const id of ids) {
      const v = allocate({ seed: `split-${weights.join('-')}`, id, coverage: 1, weights }).variant as number;
      counts[v] = (counts[v] ?? 0) + 1;
    }
    const total = weights.reduce((a, b) => a + b, 0);
    let chi = 0;
    for (const [i, w] of weights.entries()) {
      const expected = (ids.length * w) / total;
      chi += ((counts[i] as number) - expected) ** 2 / expected;
    }
    // Critical values of chi-square at p = 0.01 for 1, 2 and 4 degrees of freedom.
    const critical = { 1: 6.635, 2: 9.21, 4: 13.277 }[weights.length - 1] as number;
    expect(chi).toBeLessThan(critical);
  });

  it('keeps every assigned id in its variant when traffic rises from 10% to 20% (and 100%)', () => {
    let moved = 0;
    let at10 = 0;
    let at20 = 0;
    for (const id of ids) {
      const a = allocate({ seed: 'ramp', id, coverage: 0.1, weights: [1, 1, 2] }).variant;
      const b = allocate({ seed: 'ramp', id, coverage: 0.2, weights: [1, 1, 2] }).variant;
      const c = allocate({ seed: 'ramp', id, coverage: 1, weights: [1, 1, 2] }).variant;
      if (a !== null) {
        at10++;
        if (b !== a || c !== a) moved++;
      }
      if (b !== null) at20++;
    }
    expect(moved).toBe(0);
    expect(at10 / ids.length).toBeCloseTo(0.1, 1);
    expect(at20 / ids.length).toBeCloseTo(0.2, 1);
  });

  it('never puts one id in two experiments of a layer with disjoint ranges', () => {
    let both = 0;
    let first = 0;
    for (const id of ids) {
      const a = inNamespace(id, { id: 'checkout', range: [0, 0.3] });
      const b = inNamespace(id, { id: 'checkout', range: [0.3, 1] });
      if (a && b) both++;
      if (a) first++;
      expect(a || b).toBe(true);
    }
    expect(both).toBe(0);
    expect(first / ids.length).toBeCloseTo(0.3, 1);
  });

  it('holds out the configured share', () => {
    const held = ids.filter((id) => inHoldout(id, { seed: 'global', percent: 5 })).length;
    expect(held / ids.length).toBeGreaterThan(0.045);
    expect(held / ids.length).toBeLessThan(0.055);
  });

  it('gives ranges that start where the previous weights end', () => {
    expect(variantRanges(0.5, [1, 3])).toEqual([
      [0, 0.125],
      [0.25, 0.625],
    ]);
    expect(hashUnit('s', 'x')).toBeGreaterThanOrEqual(0);
    expect(hashUnit('s', 'x')).toBeLessThan(1);
  });
});
