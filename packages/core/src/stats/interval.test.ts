import { describe, expect, it } from 'vitest';
import { wilsonInterval } from './interval.ts';

describe('wilsonInterval', () => {
  it('matches the textbook value and stays within [0, 1]', () => {
    // 10 of 100: Wilson 95% is 0.0552 to 0.1744.
    const [lo, hi] = wilsonInterval(10, 100);
    expect(lo).toBeCloseTo(0.0552, 4);
    expect(hi).toBeCloseTo(0.1744, 4);
    expect(wilsonInterval(0, 20)[0]).toBe(0);
    expect(wilsonInterval(20, 20)[1]).toBe(1);
    expect(wilsonInterval(0, 0)).toEqual([0, 1]);
  });
  it('rejects impossible counts, saying which', () => {
    expect(() => wilsonInterval(5, 3)).toThrow(/conversions/);
    expect(() => wilsonInterval(1, -1)).toThrow(/exposures/);
  });
});
