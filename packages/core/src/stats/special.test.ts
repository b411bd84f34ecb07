import { describe, expect, it } from 'vitest';
import { chiSquarePValue, erfc, gammaP, gammaQ, logBeta, logGamma, normalCdf, Z95 } from './special.ts';

/** Relative difference, for values spanning many orders of magnitude. */
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('logGamma and logBeta', () => {
  it('match factorials and Γ(1/2) = √π', () => {
    let logFactorial = 0;
    for (let n = 1; n <= 170; n++) {
      // ln Γ(n + 1) = ln n!, summed term by term.
      logFactorial += Math.log(n);
      expect(rel(logGamma(n + 1), logFactorial) < 1e-13 || Math.abs(logGamma(n + 1) - logFactorial) < 1e-13).toBe(true);
    }
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 14);
    expect(logGamma(1)).toBeCloseTo(0, 14);
    expect(logGamma(2)).toBeCloseTo(0, 14);
  });

  it('match reference values at small, fractional and large arguments', () => {
    // Python math.lgamma (C library lgamma).
    expect(rel(logGamma(1e6), 12815504.569147611)).toBeLessThan(1e-14);
    expect(rel(logGamma(0.1), 2.2527126517342055)).toBeLessThan(1e-13);
    expect(rel(logGamma(123.456), 469.60554712992956)).toBeLessThan(1e-13);
    expect(rel(logGamma(1e-8), 18.42068073818021)).toBeLessThan(1e-12);
  });

  it('gives ln B(a, b) with B(a, 1) = 1/a and B(2, 2) = 1/6', () => {
    expect(logBeta(5, 1)).toBeCloseTo(-Math.log(5), 13);
    expect(logBeta(2, 2)).toBeCloseTo(-Math.log(6), 13);
    expect(logBeta(3, 7)).toBeCloseTo(logBeta(7, 3), 13);
  });
});

describe('regularized incomplete gamma', () => {
  it('gives P(1, x) = 1 − e^−x and, for integer s, the Poisson tail 1 − Σ_{k<s} e^−x x^k / k!', () => {
    for (const x of [0.01, 0.5, 1, 3, 10, 40]) {
      expect(gammaP(1, x)).toBeCloseTo(1 - Math.exp(-x), 14);
      for (const s of [2, 5, 12, 30]) {
        let term = Math.exp(-x);
        let cdf = 0;
        for (let k = 0; k < s; k++) {
          cdf += term;
          term *= x / (k + 1);
        }
        expect(Math.abs(gammaQ(s, x) - cdf), `s=${s} x=${x}`).toBeLessThan(1e-13);
        expect(Math.abs(gammaP(s, x) + gammaQ(s, x) - 1)).toBeLessThan(1e-14);
      }
    }
  });

  it('matches reference values (scipy.special.gammainc / gammaincc)', () => {
    expect(gammaP(2.5, 1.5)).toBeCloseTo(0.3000141641213724, 13);
    expect(gammaQ(2.5, 1.5)).toBeCloseTo(0.6999858358786276, 13);
    expect(rel(gammaQ(50, 80), 0.0001307839765914092)).toBeLessThan(1e-11);
    expect(gammaP(0.5, 0.01)).toBeCloseTo(0.11246291601828491, 13);
    expect(gammaQ(100, 100)).toBeCloseTo(0.48670120172085135, 12);
  });

  it('handles the edges: x = 0, x = ∞ and invalid shapes', () => {
    expect(gammaP(3, 0)).toBe(0);
    expect(gammaQ(3, 0)).toBe(1);
    expect(gammaP(3, Number.POSITIVE_INFINITY)).toBe(1);
    expect(gammaQ(3, Number.POSITIVE_INFINITY)).toBe(0);
    expect(gammaP(0, 1)).toBeNaN();
    expect(gammaQ(-1, 1)).toBeNaN();
  });
});

describe('chiSquarePValue', () => {
  // Critical values from the standard chi-square table (e.g. NIST/SEMATECH e-Handbook, 1.3.6.7.4).
  it.each([
    [3.841, 1, 0.05],
    [6.635, 1, 0.01],
    [10.828, 1, 0.001],
    [5.991, 2, 0.05],
    [9.21, 2, 0.01],
    [13.816, 2, 0.001],
    [7.815, 3, 0.05],
    [13.277, 4, 0.01],
    [20.515, 5, 0.001],
    [18.307, 10, 0.05],
    [23.209, 10, 0.01],
    [31.41, 20, 0.05],
    [124.342, 100, 0.05],
  ])('χ² = %d with %d df has p ≈ %d (table)', (x, df, p) => {
    // Table values are rounded to 3 decimals, which moves p by up to 0.1% of itself.
    expect(rel(chiSquarePValue(x, df), p)).toBeLessThan(2e-3);
  });

  it('matches closed forms: df = 2 gives e^(−χ²/2), df = 1 gives erfc(√(χ²/2))', () => {
    for (const x of [0.1, 1, 4, 10, 50, 200]) {
      expect(rel(chiSquarePValue(x, 2), Math.exp(-x / 2))).toBeLessThan(1e-12);
      expect(rel(chiSquarePValue(x, 1), erfc(Math.sqrt(x / 2)))).toBeLessThan(1e-12);
    }
  });

  it('matches reference values far in the tails and at many degrees of freedom (scipy.stats.chi2.sf)', () => {
    expect(rel(chiSquarePValue(200, 10), 1.6139305336977317e-37)).toBeLessThan(1e-9);
    expect(rel(chiSquarePValue(1000, 900), 0.010994608942135844)).toBeLessThan(1e-9);
    expect(chiSquarePValue(0.5, 3)).toBeCloseTo(0.9188914116546758, 12);
    expect(chiSquarePValue(0.001, 1)).toBeCloseTo(0.9747728793699604, 12);
    expect(chiSquarePValue(0, 3)).toBe(1);
    expect(chiSquarePValue(3, 0)).toBeNaN();
  });
});

describe('normal distribution', () => {
  it('matches reference values of Φ in the centre and both tails (scipy.stats.norm.cdf)', () => {
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(1.96)).toBeCloseTo(0.9750021048517795, 14);
    expect(normalCdf(0.5)).toBeCloseTo(0.6914624612740131, 14);
    expect(rel(normalCdf(-3), 0.0013498980316300933)).toBeLessThan(1e-12);
    expect(rel(normalCdf(-8), 6.22096057427174e-16)).toBeLessThan(1e-10);
    expect(rel(normalCdf(-20), 2.7536241186061556e-89)).toBeLessThan(1e-10);
    expect(normalCdf(Z95)).toBeCloseTo(0.975, 14);
  });

  it('is symmetric: Φ(z) + Φ(−z) = 1', () => {
    for (const z of [0.1, 0.7, 1.5, 2.5, 4]) expect(normalCdf(z) + normalCdf(-z)).toBeCloseTo(1, 14);
    expect(erfc(0)).toBe(1);
    expect(erfc(Number.NaN)).toBeNaN();
  });
});
