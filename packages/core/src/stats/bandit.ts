import { fnv1a32 } from '../decisions/bucketing.ts';

/** mulberry32: a small, fast 32-bit PRNG; the same seed gives the same sequence everywhere. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(rand: () => number): number {
  // Box–Muller; 1 − u keeps the logarithm finite.
  const u = 1 - rand();
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Gamma(shape, 1) by Marsaglia and Tsang (2000); shape < 1 through the boost Γ(a) = Γ(a+1)·U^(1/a). */
export function sampleGamma(shape: number, rand: () => number): number {
  if (shape < 1) return sampleGamma(shape + 1, rand) * (1 - rand()) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(rand);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rand();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

export function sampleBeta(a: number, b: number, rand: () => number): number {
  const x = sampleGamma(a, rand);
  const y = sampleGamma(b, rand);
  return x / (x + y);
}

/**
 * Thompson sampling weights: the share of `draws` Monte Carlo rounds each arm wins with
 * Beta(1 + successes, 1 + failures) draws, then floored at `minShare` (each arm gets minShare and
 * the rest is split by the win shares). Seeded, so one re-weight always gives the same weights.
 */
export function thompsonWeights(
  arms: ReadonlyArray<{ successes: number; trials: number }>,
  options: { seed: string; minShare: number; draws?: number },
): number[] {
  const k = arms.length;
  if (k === 0) return [];
  const rand = mulberry32(fnv1a32(options.seed));
  const draws = options.draws ?? 10_000;
  const wins = new Array<number>(k).fill(0);
  for (let d = 0; d < draws; d++) {
    let best = 0;
    let bestValue = -1;
    for (let i = 0; i < k; i++) {
      const arm = arms[i] as { successes: number; trials: number };
      const s = Math.max(0, arm.successes);
      const f = Math.max(0, arm.trials - s);
      const value = sampleBeta(1 + s, 1 + f, rand);
      if (value > bestValue) {
        bestValue = value;
        best = i;
      }
    }
    wins[best] = (wins[best] ?? 0) + 1;
  }
  const floor = Math.min(Math.max(0, options.minShare), 1 / k);
  const free = 1 - floor * k;
  return wins.map((w) => floor + (free * w) / draws);
}
