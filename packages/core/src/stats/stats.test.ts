import { describe, expect, it } from 'vitest';
import { thompsonWeights } from './bandit.ts';
import { compareToControl, probabilityBBeatsA, sampleRatioMismatch } from './results.ts';
import { chiSquarePValue, logGamma } from './special.ts';

/** P(X_B > X_A) by plain numeric integration over a fine grid: slow, and obviously right. */
function integrate(aA: number, bA: number, aB: number, bB: number): number {
  const n = 20_000;
  const pdf = (a: number, b: number, x: number) => Math.exp((a - 1) * Math.log(x) + (b - 1) * Math.log(1 - x) - (logGamma(a) + logGamma(b) - logGamma(a + b)));
  let cdfA = 0;
  let p = 0;
  for (let i = 0; i < n; i++) {
    const x = (i + 0.5) / n;
    cdfA += pdf(aA, bA, x) / n;
    p += (pdf(aB, bB, x) / n) * cdfA;
  }
  return p;
}

describe('statistics', () => {
  it('computes chi-square p-values matching published tables', () => {
    // Table values: the statistic at p = 0.05 and p = 0.01 for 1, 2 and 10 degrees of freedom.
    expect(chiSquarePValue(3.841, 1)).toBeCloseTo(0.05, 4);
    expect(chiSquarePValue(6.635, 1)).toBeCloseTo(0.01, 4);
    expect(chiSquarePValue(5.991, 2)).toBeCloseTo(0.05, 4);
    expect(chiSquarePValue(23.209, 10)).toBeCloseTo(0.01, 4);
    expect(chiSquarePValue(0, 3)).toBe(1);
  });

  it('computes the probability to beat control exactly (checked by numeric integration)', () => {
    for (const [aA, bA, aB, bB] of [
      [2, 10, 5, 8],
      [11, 91, 15, 87],
      [1, 1, 1, 1],
      [30, 170, 28, 172],
    ] as Array<[number, number, number, number]>) {
      expect(probabilityBBeatsA(aA, bA, aB, bB)).toBeCloseTo(integrate(aA, bA, aB, bB), 3);
    }
  });

  it('compares a variant with the control: lift, its 95% interval, and the probability to beat it', () => {
    const control = { exposures: 1000, conversions: 100, revenue: 5000, revenueSquares: 0 };
    const variant = { exposures: 1000, conversions: 130, revenue: 6500, revenueSquares: 0 };
    const c = compareToControl(control, variant);
    expect(c.rate).toBeCloseTo(0.13, 10);
    expect(c.lift).toBeCloseTo(0.3, 10);
    const [lo, hi] = c.liftCi95 as [number, number];
    // log-ratio SE = sqrt(0.87/130 + 0.9/100) = 0.1252; exp(ln 1.3 ± 1.96 × SE) − 1.
    expect(lo).toBeCloseTo(Math.exp(Math.log(1.3) - 1.959964 * Math.sqrt(0.87 / 130 + 0.9 / 100)) - 1, 6);
    expect(hi).toBeCloseTo(Math.exp(Math.log(1.3) + 1.959964 * Math.sqrt(0.87 / 130 + 0.9 / 100)) - 1, 6);
    expect(c.probabilityToBeatControl).toBeGreaterThan(0.97);
    expect(c.revenuePerExposure).toBe(6.5);
    expect(compareToControl(control, { exposures: 0, conversions: 0, revenue: 0, revenueSquares: 0 }).lift).toBeNull();
  });

  it('flags a sample-ratio mismatch only beyond chance', () => {
    expect(sampleRatioMismatch([5030, 4970], [1, 1]).mismatch).toBe(false);
    expect(sampleRatioMismatch([5300, 4700], [1, 1]).mismatch).toBe(true);
    expect(sampleRatioMismatch([1000, 9000], [1, 9]).mismatch).toBe(false);
    expect(sampleRatioMismatch([0, 0], [1, 1])).toEqual({ chiSquare: 0, pValue: 1, mismatch: false });
  });

  it('draws Thompson weights deterministically, floored at the minimum share', () => {
    const arms = [
      { successes: 10, trials: 200 },
      { successes: 30, trials: 200 },
      { successes: 11, trials: 200 },
    ];
    const a = thompsonWeights(arms, { seed: 'x:1', minShare: 0.1 });
    expect(thompsonWeights(arms, { seed: 'x:1', minShare: 0.1 })).toEqual(a);
    expect(a.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 10);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0.1);
    expect(a[1]).toBeGreaterThan(0.75);
    const even = thompsonWeights([{ successes: 0, trials: 0 }, { successes: 0, trials: 0 }], { seed: 'y', minShare: 0 });
    expect(even[0]).toBeCloseTo(0.5, 1);
  });
});
