import { invalidArgument } from './invalid.ts';
import { chiSquarePValue } from './special.ts';

export interface SampleRatioCheck {
  chiSquare: number;
  /** Upper-tail p-value of chiSquare with (arms of positive weight − 1) degrees of freedom. */
  pValue: number;
  /** True when p < 0.001: the split differs from the configured weights beyond chance. */
  mismatch: boolean;
}

/** The p-value below which a split counts as a sample ratio mismatch (the usual, conservative threshold). */
export const SRM_THRESHOLD = 0.001;

/**
 * Chi-square goodness of fit of observed counts (exposures per arm) against the split the weights
 * ask for: χ² = Σ (oᵢ − eᵢ)² / eᵢ with eᵢ = N·wᵢ/Σw, p = Q((k − 1)/2, χ²/2) by the regularized
 * incomplete gamma function, k the number of arms with positive weight. An arm of weight 0 that
 * received units is a certain mismatch (χ² = ∞, p = 0). No units at all: χ² = 0, p = 1.
 * Throws VALIDATION when the lists differ in length, a count or weight is negative or not finite,
 * or no weight is positive.
 */
export function sampleRatioMismatch(observed: readonly number[], expectedWeights: readonly number[]): SampleRatioCheck {
  if (observed.length !== expectedWeights.length) {
    throw invalidArgument('expectedWeights', `must have one weight per observed count (${observed.length}), got ${expectedWeights.length}`);
  }
  let n = 0;
  let wTotal = 0;
  for (let i = 0; i < observed.length; i++) {
    const o = observed[i] as number;
    const w = expectedWeights[i] as number;
    if (!(o >= 0 && Number.isFinite(o))) throw invalidArgument(`observed[${i}]`, `must be a finite number ≥ 0, got ${o}`);
    if (!(w >= 0 && Number.isFinite(w))) throw invalidArgument(`expectedWeights[${i}]`, `must be a finite number ≥ 0, got ${w}`);
    n += o;
    wTotal += w;
  }
  if (!(wTotal > 0)) throw invalidArgument('expectedWeights', 'must have at least one positive weight');
  if (n === 0) return { chiSquare: 0, pValue: 1, mismatch: false };
  let chiSquare = 0;
  let arms = 0;
  for (let i = 0; i < observed.length; i++) {
    const o = observed[i] as number;
    const w = expectedWeights[i] as number;
    if (w === 0) {
      if (o > 0) return { chiSquare: Number.POSITIVE_INFINITY, pValue: 0, mismatch: true };
      continue;
    }
    arms++;
    const expected = (n * w) / wTotal;
    chiSquare += (o - expected) ** 2 / expected;
  }
  // A single arm of positive weight received everything it could: nothing to test.
  const pValue = arms > 1 ? chiSquarePValue(chiSquare, arms - 1) : 1;
  return { chiSquare, pValue, mismatch: pValue < SRM_THRESHOLD };
}

/** Chi-square test of counts against an even split (k − 1 degrees of freedom). */
export function chiSquareUniformity(counts: readonly number[]): { chiSquare: number; pValue: number } {
  if (counts.length === 0) throw invalidArgument('counts', 'must list at least one count');
  const { chiSquare, pValue } = sampleRatioMismatch(
    counts,
    counts.map(() => 1),
  );
  return { chiSquare, pValue };
}
