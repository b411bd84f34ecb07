import { chiSquarePValue, logBeta, normalCdf } from './special.ts';

/**
 * Sufficient statistics of one variant for one goal, kept incrementally at ingestion: exposed
 * profiles, converted profiles, and the sum and sum of squares of per-profile goal value.
 */
export interface VariantStats {
  exposures: number;
  conversions: number;
  revenue: number;
  revenueSquares: number;
}

export function emptyStats(): VariantStats {
  return { exposures: 0, conversions: 0, revenue: 0, revenueSquares: 0 };
}

/** Adds b to a (returns a new object). */
export function mergeStats(a: VariantStats, b: VariantStats): VariantStats {
  return { exposures: a.exposures + b.exposures, conversions: a.conversions + b.conversions, revenue: a.revenue + b.revenue, revenueSquares: a.revenueSquares + b.revenueSquares };
}

export interface Comparison {
  rate: number;
  controlRate: number;
  /** Relative lift of the conversion rate over control (0.1 = +10%); null when control converts nothing. */
  lift: number | null;
  /** 95% confidence interval of the lift (delta method on the log of the rate ratio). */
  liftCi95: [number, number] | null;
  /** P(variant rate > control rate) with uniform Beta(1, 1) priors, computed exactly. */
  probabilityToBeatControl: number | null;
  revenuePerExposure: number;
}

const Z95 = 1.959963984540054;

export function compareToControl(control: VariantStats, variant: VariantStats): Comparison {
  const rate = variant.exposures > 0 ? variant.conversions / variant.exposures : 0;
  const controlRate = control.exposures > 0 ? control.conversions / control.exposures : 0;
  const revenuePerExposure = variant.exposures > 0 ? variant.revenue / variant.exposures : 0;
  if (variant.exposures === 0 || control.exposures === 0) {
    return { rate, controlRate, lift: null, liftCi95: null, probabilityToBeatControl: null, revenuePerExposure };
  }
  const lift = controlRate > 0 ? rate / controlRate - 1 : null;
  let liftCi95: [number, number] | null = null;
  if (lift !== null && rate > 0) {
    // Var(ln p̂) ≈ (1 − p) / (n p) for each arm; the log ratio's variance is their sum.
    const v = (1 - rate) / (variant.exposures * rate) + (1 - controlRate) / (control.exposures * controlRate);
    const logRatio = Math.log(rate / controlRate);
    const half = Z95 * Math.sqrt(v);
    liftCi95 = [Math.exp(logRatio - half) - 1, Math.exp(logRatio + half) - 1];
  }
  const probabilityToBeatControl = probabilityBBeatsA(
    1 + control.conversions,
    1 + control.exposures - control.conversions,
    1 + variant.conversions,
    1 + variant.exposures - variant.conversions,
  );
  return { rate, controlRate, lift, liftCi95, probabilityToBeatControl, revenuePerExposure };
}

/**
 * P(X_B > X_A) for X_A ~ Beta(aA, bA), X_B ~ Beta(aB, bB), by the closed form
 * Σ_{i=0}^{aB−1} B(aA+i, bA+bB) / ((bB+i) · B(1+i, bB) · B(aA, bA)) (integer aB), summed in log
 * space. Past 50,000 terms the counts are large enough for the normal approximation.
 */
export function probabilityBBeatsA(aA: number, bA: number, aB: number, bB: number): number {
  if (!Number.isInteger(aB) || aB > 50_000) {
    const mean = (a: number, b: number) => a / (a + b);
    const variance = (a: number, b: number) => (a * b) / ((a + b) ** 2 * (a + b + 1));
    const z = (mean(aB, bB) - mean(aA, bA)) / Math.sqrt(variance(aA, bA) + variance(aB, bB));
    return normalCdf(z);
  }
  let total = 0;
  const lbA = logBeta(aA, bA);
  for (let i = 0; i < aB; i++) {
    total += Math.exp(logBeta(aA + i, bA + bB) - Math.log(bB + i) - logBeta(1 + i, bB) - lbA);
  }
  return Math.min(1, Math.max(0, total));
}

export interface SampleRatioCheck {
  chiSquare: number;
  pValue: number;
  /** True when p < 0.001: the split differs from the configured weights beyond chance. */
  mismatch: boolean;
}

/** Chi-square goodness of fit of observed counts against expected weights (df = arms − 1). */
export function sampleRatioMismatch(observed: readonly number[], expectedWeights: readonly number[]): SampleRatioCheck {
  const n = observed.reduce((a, b) => a + b, 0);
  const wTotal = expectedWeights.reduce((a, b) => a + b, 0);
  let chiSquare = 0;
  let arms = 0;
  for (let i = 0; i < observed.length; i++) {
    const w = expectedWeights[i] ?? 0;
    if (w <= 0) continue;
    arms++;
    const expected = (n * w) / wTotal;
    if (expected > 0) chiSquare += ((observed[i] ?? 0) - expected) ** 2 / expected;
  }
  if (n === 0 || arms < 2) return { chiSquare: 0, pValue: 1, mismatch: false };
  const pValue = chiSquarePValue(chiSquare, arms - 1);
  return { chiSquare, pValue, mismatch: pValue < 0.001 };
}

/** Chi-square test of counts against a uniform split. */
export function chiSquareUniformity(counts: readonly number[]): { chiSquare: number; pValue: number } {
  const r = sampleRatioMismatch(counts, counts.map(() => 1));
  return { chiSquare: r.chiSquare, pValue: r.pValue };
}
