import { fnv1a32 } from '../decisions/bucketing.ts';
import { invalidArgument } from './invalid.ts';

/**
 * Seeded random numbers for the Monte Carlo parts of the statistics (bandit weights). Math.random
 * is never used: the same seed gives the same sequence in every process and on every node, so a
 * re-weight computed twice gives the same weights.
 */

/** A source of uniform floats in [0, 1). */
export type Random = () => number;

/**
 * mulberry32 (Tommy Ettinger, public domain): a 32-bit state advanced by the odd constant
 * 0x6d2b79f5 (period 2^32), output mixed by two multiply-xorshift rounds; u32 / 2^32 in [0, 1).
 */
export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A generator seeded by a string: mulberry32 started from FNV-1a-32 of the string's UTF-8 bytes. */
export function seededRandom(seed: string): Random {
  return mulberry32(fnv1a32(seed));
}

/** A standard normal draw by Box–Muller; 1 − u keeps the logarithm finite. */
export function sampleNormal(rand: Random): number {
  const u = 1 - rand();
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * A Gamma(shape, 1) draw by Marsaglia and Tsang (2000): a squeezed rejection from a transformed
 * normal that accepts over 95% of candidates for shape ≥ 1; shape < 1 through the boost
 * Gamma(a) = Gamma(a + 1) · U^(1/a).
 */
export function sampleGamma(shape: number, rand: Random): number {
  if (!(shape > 0 && Number.isFinite(shape))) throw invalidArgument('shape', `must be a finite number > 0, got ${shape}`);
  if (shape < 1) return sampleGamma(shape + 1, rand) * (1 - rand()) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = sampleNormal(rand);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rand();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** A Beta(a, b) draw as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b). */
export function sampleBeta(a: number, b: number, rand: Random): number {
  const x = sampleGamma(a, rand);
  const y = sampleGamma(b, rand);
  return x / (x + y);
}
