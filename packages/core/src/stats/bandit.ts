import { invalidArgument } from './invalid.ts';
import { sampleBeta, seededRandom } from './random.ts';

export interface BanditArm {
  successes: number;
  trials: number;
}

export interface ThompsonOptions {
  /** Seeds the Monte Carlo draws: the same arms and seed give the same weights (use e.g. `<experiment>:<epoch>`). */
  seed: string;
  /** Every arm keeps at least this share of traffic, so a losing arm can still recover. */
  minShare: number;
  /** Monte Carlo rounds; default 10,000 (standard error of a weight ≤ 0.005). */
  draws?: number;
}

/**
 * Thompson sampling weights. Each of `draws` rounds draws every arm's rate from its posterior
 * Beta(1 + successes, 1 + failures) (seededRandom(seed), Marsaglia–Tsang gamma draws) and counts a
 * win for the highest; winsᵢ/draws estimates P(arm i is best). The weights are then
 * minShare + (1 − k·minShare) · winsᵢ/draws: they sum to 1 and none is below minShare. When
 * k·minShare > 1 no weights can satisfy the floor and every arm gets 1/k.
 *
 * failures = max(0, trials − successes): a success counted before its trial cannot make it negative.
 * Throws VALIDATION for negative or non-finite counts, minShare outside [0, 1] or draws not a positive integer.
 */
export function thompsonWeights(arms: readonly BanditArm[], options: ThompsonOptions): number[] {
  const draws = options.draws ?? 10_000;
  if (!(Number.isInteger(draws) && draws > 0)) throw invalidArgument('draws', `must be a positive integer, got ${draws}`);
  if (!(options.minShare >= 0 && options.minShare <= 1)) throw invalidArgument('minShare', `must be a number from 0 to 1, got ${options.minShare}`);
  const k = arms.length;
  if (k === 0) return [];
  const alpha: number[] = [];
  const beta: number[] = [];
  arms.forEach((arm, i) => {
    for (const key of ['successes', 'trials'] as const) {
      if (!(arm[key] >= 0 && Number.isFinite(arm[key]))) throw invalidArgument(`arms[${i}].${key}`, `must be a finite number ≥ 0, got ${arm[key]}`);
    }
    alpha.push(1 + arm.successes);
    beta.push(1 + Math.max(0, arm.trials - arm.successes));
  });
  const rand = seededRandom(options.seed);
  const wins = new Array<number>(k).fill(0);
  for (let d = 0; d < draws; d++) {
    let best = 0;
    let bestValue = -1;
    for (let i = 0; i < k; i++) {
      const value = sampleBeta(alpha[i] as number, beta[i] as number, rand);
      if (value > bestValue) {
        bestValue = value;
        best = i;
      }
    }
    wins[best] = (wins[best] as number) + 1;
  }
  const floor = Math.min(options.minShare, 1 / k);
  const free = 1 - floor * k;
  return wins.map((w) => floor + (free * w) / draws);
}
