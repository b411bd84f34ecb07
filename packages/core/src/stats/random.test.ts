import { describe, expect, it } from 'vitest';
import { AttuneError } from '../errors.ts';
import { mulberry32, type Random, sampleBeta, sampleGamma, sampleNormal, seededRandom } from './random.ts';
import { gammaP, logGamma } from './special.ts';
import { chiSquareUniformity } from './srm.ts';

/** Bins the probability-integral transform cdf(x) of each draw: uniform when the draws follow cdf. */
function pitUniformity(draws: number, draw: () => number, cdf: (x: number) => number, bins = 20): number {
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < draws; i++) {
    const k = Math.min(bins - 1, Math.floor(cdf(draw()) * bins));
    counts[k] = (counts[k] as number) + 1;
  }
  return chiSquareUniformity(counts).pValue;
}

/** The Beta(a, b) CDF for integer a, b: I_x(a, b) = P(Binomial(a + b − 1, x) ≥ a), summed term by term. */
function betaCdf(a: number, b: number, x: number): number {
  const n = a + b - 1;
  let p = 0;
  for (let j = a; j <= n; j++) {
    p += Math.exp(logGamma(n + 1) - logGamma(j + 1) - logGamma(n - j + 1) + j * Math.log(x) + (n - j) * Math.log1p(-x));
  }
  return p;
}

function moments(n: number, draw: () => number): { mean: number; variance: number } {
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const x = draw();
    sum += x;
    squares += x * x;
  }
  const mean = sum / n;
  return { mean, variance: squares / n - mean * mean };
}

describe('mulberry32 and seededRandom', () => {
  it('repeat the same sequence for the same seed, in [0, 1)', () => {
    const a = mulberry32(123);
    const b = mulberry32(123);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const s = seededRandom('exp-1:3');
    const t = seededRandom('exp-1:3');
    const u = seededRandom('exp-1:4');
    const first = [s(), s(), s()];
    expect([t(), t(), t()]).toEqual(first);
    expect([u(), u(), u()]).not.toEqual(first);
  });

  it('are uniform: 200,000 draws over 100 bins pass chi-square (p > 0.001)', () => {
    const rand = seededRandom('uniform');
    expect(pitUniformity(200_000, rand, (x) => x, 100)).toBeGreaterThan(0.001);
  });
});

describe('samplers', () => {
  const rand: Random = seededRandom('samplers');

  it('draws standard normals (mean 0, variance 1)', () => {
    const { mean, variance } = moments(100_000, () => sampleNormal(rand));
    expect(Math.abs(mean)).toBeLessThan(0.016); // 5 standard errors
    expect(Math.abs(variance - 1)).toBeLessThan(0.025);
  });

  it.each([0.3, 1, 2.5, 10, 1000])('draws Gamma(%d): its CDF turns 40,000 draws uniform, with mean and variance equal to the shape', (shape) => {
    expect(pitUniformity(40_000, () => sampleGamma(shape, rand), (x) => gammaP(shape, x))).toBeGreaterThan(0.001);
    const { mean, variance } = moments(40_000, () => sampleGamma(shape, rand));
    expect(Math.abs(mean - shape)).toBeLessThan(5 * Math.sqrt(shape / 40_000));
    expect(Math.abs(variance / shape - 1)).toBeLessThan(0.1);
  });

  it.each([
    [1, 1],
    [2, 5],
    [11, 91],
    [40, 3],
  ])('draws Beta(%d, %d): the exact CDF turns 20,000 draws uniform', (a, b) => {
    expect(pitUniformity(20_000, () => sampleBeta(a, b, rand), (x) => betaCdf(a, b, x))).toBeGreaterThan(0.001);
  });

  it('rejects a shape that is not a positive finite number', () => {
    for (const shape of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => sampleGamma(shape, rand)).toThrow(AttuneError);
  });
});
