import { describe, expect, it } from 'vitest';
import { AttuneError } from '../errors.ts';
import { thompsonWeights } from './bandit.ts';
import { probabilityBBeatsA } from './compare.ts';

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('thompsonWeights', () => {
  const arms = [
    { successes: 10, trials: 200 },
    { successes: 30, trials: 200 },
    { successes: 11, trials: 200 },
  ];

  it('gives the same weights for the same arms and seed, and other draws for another seed', () => {
    const a = thompsonWeights(arms, { seed: 'x:1', minShare: 0.1 });
    expect(thompsonWeights(arms.map((arm) => ({ ...arm })), { seed: 'x:1', minShare: 0.1 })).toEqual(a);
    const b = thompsonWeights(arms, { seed: 'x:2', minShare: 0.1 });
    expect(b).not.toEqual(a);
    // Both are estimates of the same probabilities: they differ by Monte Carlo noise only.
    for (let i = 0; i < 3; i++) expect(Math.abs((a[i] as number) - (b[i] as number))).toBeLessThan(0.03);
  });

  it('sums to 1 with every arm at or above minShare', () => {
    for (const minShare of [0, 0.05, 0.1, 0.2, 1 / 3]) {
      const w = thompsonWeights(arms, { seed: `floor-${minShare}`, minShare, draws: 2000 });
      expect(sum(w)).toBeCloseTo(1, 12);
      expect(Math.min(...w)).toBeGreaterThanOrEqual(minShare - 1e-12);
    }
    const w = thompsonWeights(arms, { seed: 'x', minShare: 0.1 });
    expect(w[1]).toBeGreaterThan(0.75);
    expect(Math.min(...w)).toBeGreaterThanOrEqual(0.1);
  });

  it('splits evenly when the floor cannot be met for every arm (minShare × arms > 1)', () => {
    expect(thompsonWeights(arms, { seed: 'x', minShare: 0.5, draws: 100 })).toEqual([1 / 3, 1 / 3, 1 / 3]);
  });

  it('estimates P(arm is best): with two arms, the weight of the second is the exact probability to beat the first', () => {
    const pair = [
      { successes: 40, trials: 1000 },
      { successes: 52, trials: 1000 },
    ];
    const draws = 40_000;
    const w = thompsonWeights(pair, { seed: 'two-arms', minShare: 0, draws });
    const p = probabilityBBeatsA(41, 961, 53, 949);
    // Within 4.5 standard errors of the Monte Carlo estimate.
    expect(Math.abs((w[1] as number) - p)).toBeLessThan(4.5 * Math.sqrt((p * (1 - p)) / draws));
  });

  it('splits evenly between arms without data and favours none of five equal arms', () => {
    const even = thompsonWeights([{ successes: 0, trials: 0 }, { successes: 0, trials: 0 }], { seed: 'y', minShare: 0, draws: 20_000 });
    expect(Math.abs((even[0] as number) - 0.5)).toBeLessThan(0.02);
    const five = thompsonWeights(Array.from({ length: 5 }, () => ({ successes: 50, trials: 500 })), { seed: 'z', minShare: 0, draws: 20_000 });
    for (const w of five) expect(Math.abs(w - 0.2)).toBeLessThan(0.02);
  });

  it('caps successes at trials and handles no arms', () => {
    expect(thompsonWeights([], { seed: 's', minShare: 0.1 })).toEqual([]);
    const w = thompsonWeights([{ successes: 12, trials: 10 }, { successes: 0, trials: 10 }], { seed: 's', minShare: 0.05, draws: 1000 });
    expect(w[0]).toBeCloseTo(0.95, 12);
  });

  it.each([
    [{ successes: -1, trials: 10 }, { minShare: 0.1 }, 'arms[0].successes'],
    [{ successes: 1, trials: Number.NaN }, { minShare: 0.1 }, 'arms[0].trials'],
    [{ successes: 1, trials: 10 }, { minShare: -0.1 }, 'minShare'],
    [{ successes: 1, trials: 10 }, { minShare: 1.5 }, 'minShare'],
    [{ successes: 1, trials: 10 }, { minShare: 0.1, draws: 0 }, 'draws'],
    [{ successes: 1, trials: 10 }, { minShare: 0.1, draws: 2.5 }, 'draws'],
  ])('rejects arm %j with options %j, naming %s', (arm, options, path) => {
    try {
      thompsonWeights([arm], { seed: 's', ...options });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(AttuneError);
      expect((error as AttuneError).issues[0]?.path).toBe(path);
    }
  });
});
