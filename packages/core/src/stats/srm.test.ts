import { describe, expect, it } from 'vitest';
import { AttuneError } from '../errors.ts';
import { mulberry32 } from './random.ts';
import { chiSquarePValue } from './special.ts';
import { chiSquareUniformity, SRM_THRESHOLD, sampleRatioMismatch } from './srm.ts';

describe('sampleRatioMismatch', () => {
  it('computes the goodness-of-fit statistic by hand and its p-value', () => {
    // 1000 units asked to split 1:1:2; expected 250, 250, 500.
    const r = sampleRatioMismatch([240, 270, 490], [1, 1, 2]);
    const chi = 10 ** 2 / 250 + 20 ** 2 / 250 + 10 ** 2 / 500;
    expect(r.chiSquare).toBeCloseTo(chi, 12);
    expect(r.pValue).toBeCloseTo(chiSquarePValue(chi, 2), 14);
    expect(r.pValue).toBeCloseTo(Math.exp(-chi / 2), 12); // df = 2: closed form
    expect(r.mismatch).toBe(false);
  });

  it('flags a split only beyond chance (p < 0.001)', () => {
    expect(sampleRatioMismatch([5030, 4970], [1, 1]).mismatch).toBe(false);
    expect(sampleRatioMismatch([5300, 4700], [1, 1]).mismatch).toBe(true);
    expect(sampleRatioMismatch([1000, 9000], [1, 9]).mismatch).toBe(false);
    expect(sampleRatioMismatch([1000, 9000], [0.1, 0.9]).chiSquare).toBeCloseTo(0, 12);
    // χ² = 10.828 is the table's 0.001 critical value for 1 df: just above and just below it.
    const n = 100_000;
    const atChi = (chi: number) => {
      const d = Math.sqrt((chi * n) / 4);
      return sampleRatioMismatch([n / 2 + d, n / 2 - d], [1, 1]);
    };
    expect(atChi(10.9).mismatch).toBe(true);
    expect(atChi(10.7).mismatch).toBe(false);
    expect(SRM_THRESHOLD).toBe(0.001);
  });

  it('treats units in an arm of weight 0 as a certain mismatch and leaves empty zero-weight arms out of the degrees of freedom', () => {
    expect(sampleRatioMismatch([500, 500, 3], [1, 1, 0])).toEqual({ chiSquare: Number.POSITIVE_INFINITY, pValue: 0, mismatch: true });
    const withEmpty = sampleRatioMismatch([480, 520, 0], [1, 1, 0]);
    const without = sampleRatioMismatch([480, 520], [1, 1]);
    expect(withEmpty).toEqual(without);
  });

  it('answers p = 1 with no units or a single arm to test', () => {
    expect(sampleRatioMismatch([0, 0], [1, 1])).toEqual({ chiSquare: 0, pValue: 1, mismatch: false });
    expect(sampleRatioMismatch([700], [1])).toEqual({ chiSquare: 0, pValue: 1, mismatch: false });
    expect(sampleRatioMismatch([700, 0], [1, 0])).toEqual({ chiSquare: 0, pValue: 1, mismatch: false });
  });

  it.each([
    [[1, 2], [1], 'expectedWeights'],
    [[1, -2], [1, 1], 'observed[1]'],
    [[1, Number.NaN], [1, 1], 'observed[1]'],
    [[1, 2], [1, -1], 'expectedWeights[1]'],
    [[1, 2], [0, 0], 'expectedWeights'],
    [[1, 2], [Number.POSITIVE_INFINITY, 1], 'expectedWeights[0]'],
  ])('rejects observed %j against weights %j, naming %s', (observed, weights, path) => {
    try {
      sampleRatioMismatch(observed, weights);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(AttuneError);
      expect((error as AttuneError).code).toBe('VALIDATION');
      expect((error as AttuneError).issues[0]?.path).toBe(path);
    }
  });

  it('is calibrated: over 3,000 honest random splits, p-values are uniform and about 0.1% are flagged', () => {
    const rand = mulberry32(42);
    const weights = [1, 2, 2];
    const runs = 3000;
    const pBins = new Array<number>(10).fill(0);
    let flagged = 0;
    for (let r = 0; r < runs; r++) {
      const observed = [0, 0, 0];
      for (let i = 0; i < 500; i++) {
        const u = rand() * 5;
        const arm = u < 1 ? 0 : u < 3 ? 1 : 2;
        observed[arm] = (observed[arm] as number) + 1;
      }
      const { pValue, mismatch } = sampleRatioMismatch(observed, weights);
      pBins[Math.min(9, Math.floor(pValue * 10))] = (pBins[Math.min(9, Math.floor(pValue * 10))] as number) + 1;
      if (mismatch) flagged++;
    }
    // Under the null, p ~ U(0, 1) (up to the discreteness of counts); 3 expected flags out of 3,000.
    expect(chiSquareUniformity(pBins).pValue).toBeGreaterThan(0.001);
    expect(flagged).toBeLessThanOrEqual(12);
  });
});

describe('chiSquareUniformity', () => {
  it('tests counts against an even split', () => {
    expect(chiSquareUniformity([100, 100, 100, 100])).toEqual({ chiSquare: 0, pValue: 1 });
    const r = chiSquareUniformity([90, 110]);
    expect(r.chiSquare).toBeCloseTo(2, 12);
    expect(r.pValue).toBeCloseTo(0.15729920705028105, 12); // scipy.stats.chisquare([90, 110]).pvalue
    expect(() => chiSquareUniformity([])).toThrow(/counts/);
  });
});
