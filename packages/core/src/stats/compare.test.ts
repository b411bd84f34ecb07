import { describe, expect, it } from 'vitest';
import { AttuneError } from '../errors.ts';
import { compareRevenueToControl, compareToControl, normalProbabilityBBeatsA, probabilityBBeatsA } from './compare.ts';
import { mulberry32 } from './random.ts';
import type { VariantStats } from './variant-stats.ts';

/** ln((n)!) by summing logs: slow, and obviously right. */
function logFactorial(n: number): number {
  let s = 0;
  for (let k = 2; k <= n; k++) s += Math.log(k);
  return s;
}

/**
 * P(X_B > X_A) = ∫ f_B(x) F_A(x) dx by the midpoint rule on a fine grid, with the densities built
 * from factorials (integer parameters): an independent check of the closed-form sum.
 */
function integrate(aA: number, bA: number, aB: number, bB: number, n = 200_000): number {
  const logNorm = (a: number, b: number) => logFactorial(a + b - 1) - logFactorial(a - 1) - logFactorial(b - 1);
  const nA = logNorm(aA, bA);
  const nB = logNorm(aB, bB);
  const pdf = (a: number, b: number, norm: number, x: number) => Math.exp(norm + (a - 1) * Math.log(x) + (b - 1) * Math.log1p(-x));
  let cdfA = 0;
  let p = 0;
  for (let i = 0; i < n; i++) {
    const x = (i + 0.5) / n;
    const fA = pdf(aA, bA, nA, x) / n;
    p += (pdf(aB, bB, nB, x) / n) * (cdfA + fA / 2);
    cdfA += fA;
  }
  return p;
}

const stats = (exposures: number, conversions: number, revenue = 0, revenueSquares = 0): VariantStats => ({ exposures, conversions, revenue, revenueSquares });

describe('probabilityBBeatsA', () => {
  it.each([
    [2, 10, 5, 8],
    [11, 91, 15, 87],
    [30, 170, 28, 172],
    [3, 48, 1, 50],
    [95, 6, 90, 11], // rates near 1: the failures are the smallest parameters
    [40, 3, 45, 9],
    [1, 1, 1, 1],
    [7, 7, 7, 7],
  ])('P(Beta(%d, %d) < Beta(%d, %d)) equals numeric integration', (aA, bA, aB, bB) => {
    expect(Math.abs(probabilityBBeatsA(aA, bA, aB, bB) - integrate(aA, bA, aB, bB))).toBeLessThan(1e-8);
  });

  it('matches reference values (scipy.integrate.quad of pdf_B × cdf_A)', () => {
    expect(probabilityBBeatsA(1, 1, 2, 1)).toBeCloseTo(2 / 3, 13);
    expect(probabilityBBeatsA(2, 10, 5, 8)).toBeCloseTo(0.9045439686171953, 12);
    expect(probabilityBBeatsA(11, 91, 15, 87)).toBeCloseTo(0.8034168744483831, 12);
    expect(probabilityBBeatsA(101, 901, 131, 871)).toBeCloseTo(0.9821650661163508, 11);
    expect(probabilityBBeatsA(1001, 9001, 1101, 8901)).toBeCloseTo(0.9894573544317129, 10);
    expect(probabilityBBeatsA(6, 995, 2, 999)).toBeCloseTo(0.062171711267435745, 12);
  });

  it('equals E[X_B] against a uniform A and 1 − E[X_A] against a uniform B, at any size', () => {
    // P(U < X) = E[X] for U uniform on [0, 1]: exact answers even where integration is hard.
    for (const [a, b] of [
      [1, 1],
      [3, 9],
      [500, 9500],
      [20_000, 180_000],
      [9, 2],
    ] as Array<[number, number]>) {
      // The first term's log-beta differences limit precision to ~1e-9 at 200,000 counts.
      expect(probabilityBBeatsA(1, 1, a, b)).toBeCloseTo(a / (a + b), 8);
      expect(probabilityBBeatsA(a, b, 1, 1)).toBeCloseTo(1 - a / (a + b), 8);
    }
  });

  it('is antisymmetric, P(B > A) + P(A > B) = 1, and ½ for equal arms', () => {
    for (const [aA, bA, aB, bB] of [
      [12, 300, 20, 290],
      [300, 12, 290, 20],
      [5, 5, 6, 4],
      [2000, 48_000, 2100, 47_900],
    ] as Array<[number, number, number, number]>) {
      expect(probabilityBBeatsA(aA, bA, aB, bB) + probabilityBBeatsA(aB, bB, aA, bA)).toBeCloseTo(1, 10);
    }
    expect(probabilityBBeatsA(51, 950, 51, 950)).toBeCloseTo(0.5, 10);
  });

  it('rejects parameters that are not positive', () => {
    expect(() => probabilityBBeatsA(0, 1, 1, 1)).toThrow(/aA/);
    expect(() => probabilityBBeatsA(1, 1, 1, Number.NaN)).toThrow(/bB/);
  });

  it('stays exact with large counts and hands over to the normal approximation only when every parameter is huge', () => {
    // 200,000 conversions per arm: still the exact sum; the normal approximation is already within 1e-5.
    const exact = probabilityBBeatsA(200_001, 1_800_001, 201_001, 1_799_001);
    expect(exact).toBeGreaterThan(0.9);
    expect(Math.abs(exact - normalProbabilityBBeatsA(200_001, 1_800_001, 201_001, 1_799_001))).toBeLessThan(1e-5);
    const huge = [1_000_002, 9_000_001, 1_001_001, 8_999_001] as const;
    expect(probabilityBBeatsA(...huge)).toBe(normalProbabilityBBeatsA(...huge));
    // Small counts are never approximated: the normal answer would be visibly off here.
    expect(Math.abs(probabilityBBeatsA(1, 20, 3, 18) - normalProbabilityBBeatsA(1, 20, 3, 18))).toBeGreaterThan(0.005);
    expect(probabilityBBeatsA(1, 20, 3, 18)).toBeCloseTo(integrate(1, 20, 3, 18), 8);
  });
});

describe('compareToControl', () => {
  it('reports rates, lift and the Katz 95% interval of the published example (scipy relative_risk: 10/75 vs 12/225)', () => {
    const c = compareToControl(stats(225, 12), stats(75, 10));
    expect(c.rate).toBeCloseTo(10 / 75, 14);
    expect(c.controlRate).toBeCloseTo(12 / 225, 14);
    expect(c.lift).toBeCloseTo(1.5, 12);
    // scipy.stats.contingency.relative_risk(10, 75, 12, 225).confidence_interval() = (1.1261564003469628, 5.549850800541033)
    expect(c.liftCi95?.[0]).toBeCloseTo(1.1261564003469628 - 1, 12);
    expect(c.liftCi95?.[1]).toBeCloseTo(5.549850800541033 - 1, 12);
  });

  it.each([
    [stats(1000, 100), stats(1000, 130), 0.0169842709710455, 0.6617759470226026],
    [stats(60, 7), stats(50, 3), 0.14024482586777462 - 1, 1.8859148227524136 - 1],
  ])('matches scipy relative_risk intervals: control %j, variant %j', (control, variant, lo, hi) => {
    const c = compareToControl(control, variant);
    expect(c.liftCi95?.[0]).toBeCloseTo(lo, 12);
    expect(c.liftCi95?.[1]).toBeCloseTo(hi, 12);
  });

  it('gives the probability to beat control from Beta(1 + conversions, 1 + non-conversions) posteriors', () => {
    const c = compareToControl(stats(1000, 100, 5000), stats(1000, 130, 6500));
    expect(c.probabilityToBeatControl).toBeCloseTo(integrate(101, 901, 131, 871), 8);
    expect(c.revenuePerExposure).toBe(6.5);
    expect(compareToControl(stats(50, 5), stats(50, 5)).probabilityToBeatControl).toBeCloseTo(0.5, 10);
  });

  it('answers null where a quantity is undefined', () => {
    const none = compareToControl(stats(100, 10), stats(0, 0));
    expect(none).toEqual({ rate: 0, controlRate: 0.1, lift: null, liftCi95: null, probabilityToBeatControl: null, revenuePerExposure: 0 });
    expect(compareToControl(stats(0, 0), stats(100, 10)).probabilityToBeatControl).toBeNull();
    // Control converts nothing: no relative lift, but the probability is still defined.
    const zeroControl = compareToControl(stats(100, 0), stats(100, 4));
    expect(zeroControl.lift).toBeNull();
    expect(zeroControl.liftCi95).toBeNull();
    expect(zeroControl.probabilityToBeatControl).toBeGreaterThan(0.9);
  });

  it('bounds the interval at −100% when the variant converts nothing', () => {
    const c = compareToControl(stats(200, 20), stats(200, 0));
    expect(c.lift).toBe(-1);
    const [lo, hi] = c.liftCi95 as [number, number];
    expect(lo).toBe(-1);
    expect(hi).toBeGreaterThan(-1);
    expect(hi).toBeLessThan(0);
    expect(c.probabilityToBeatControl).toBeLessThan(1e-4);
  });

  it('caps conversions at exposures and rejects counts that are not non-negative integers', () => {
    expect(compareToControl(stats(10, 12), stats(10, 5)).controlRate).toBe(1);
    for (const bad of [stats(-1, 0), stats(10, 1.5), stats(Number.NaN, 0), stats(10, 1, Number.POSITIVE_INFINITY), stats(10, 1, 5, -1)]) {
      expect(() => compareToControl(stats(10, 1), bad)).toThrow(AttuneError);
    }
    expect(() => compareToControl(stats(10, -2), stats(10, 1))).toThrow(/control\.conversions/);
  });

  it('covers the true lift in about 95% of 2,000 simulated experiments', () => {
    const rand = mulberry32(20261122);
    const binomial = (n: number, p: number) => {
      let x = 0;
      for (let i = 0; i < n; i++) if (rand() < p) x++;
      return x;
    };
    const trueLift = 0.12 / 0.1 - 1;
    let covered = 0;
    const runs = 2000;
    for (let r = 0; r < runs; r++) {
      const c = compareToControl(stats(2000, binomial(2000, 0.1)), stats(2000, binomial(2000, 0.12)));
      const [lo, hi] = c.liftCi95 as [number, number];
      if (lo <= trueLift && trueLift <= hi) covered++;
    }
    // 95% ± 3 standard deviations of a proportion over 2,000 runs (0.0049 each).
    expect(covered / runs).toBeGreaterThan(0.935);
    expect(covered / runs).toBeLessThan(0.965);
  });
});

describe('compareRevenueToControl', () => {
  it('computes revenue per exposure, its lift and the delta-method interval', () => {
    // Control: 4 exposures worth 0, 0, 10, 30; variant: 4 worth 0, 20, 20, 40.
    const control = stats(4, 2, 40, 1000);
    const variant = stats(4, 3, 80, 2000);
    const r = compareRevenueToControl(control, variant);
    expect(r.controlRevenuePerExposure).toBe(10);
    expect(r.revenuePerExposure).toBe(20);
    expect(r.lift).toBe(1);
    // Sample variances: control (1000 − 4·100)/3 = 200, variant (2000 − 4·400)/3 = 133.3; of the means ÷ 4.
    const v0 = 200 / 4;
    const v = 400 / 3 / 4;
    const half = 1.959963984540054 * Math.sqrt(v / 100 + (400 * v0) / 10_000);
    expect(r.liftCi95?.[0]).toBeCloseTo(1 - half, 12);
    expect(r.liftCi95?.[1]).toBeCloseTo(1 + half, 12);
  });

  it('answers null without two exposures per arm or without control revenue', () => {
    expect(compareRevenueToControl(stats(1, 1, 5, 25), stats(10, 1, 5, 25)).lift).toBeNull();
    expect(compareRevenueToControl(stats(10, 0), stats(10, 1, 5, 25)).liftCi95).toBeNull();
    expect(compareRevenueToControl(stats(10, 0), stats(10, 1, 5, 25)).revenuePerExposure).toBe(0.5);
  });

  it('covers the true revenue lift in about 95% of 1,000 simulated experiments with skewed order values', () => {
    const rand = mulberry32(7);
    // Orders convert at 20% and are worth an exponential amount with mean 50 (control) or 60 (variant).
    const simulate = (n: number, mean: number): VariantStats => {
      let conversions = 0;
      let revenue = 0;
      let revenueSquares = 0;
      for (let i = 0; i < n; i++) {
        if (rand() >= 0.2) continue;
        const value = -mean * Math.log(1 - rand());
        conversions++;
        revenue += value;
        revenueSquares += value * value;
      }
      return stats(n, conversions, revenue, revenueSquares);
    };
    let covered = 0;
    const runs = 1000;
    for (let r = 0; r < runs; r++) {
      const c = compareRevenueToControl(simulate(3000, 50), simulate(3000, 60));
      const [lo, hi] = c.liftCi95 as [number, number];
      if (lo <= 0.2 && 0.2 <= hi) covered++;
    }
    expect(covered / runs).toBeGreaterThan(0.93);
    expect(covered / runs).toBeLessThan(0.97);
  });
});
