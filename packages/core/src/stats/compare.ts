import { invalidArgument } from './invalid.ts';
import { logBeta, normalCdf, Z95 } from './special.ts';
import { checkStats, type VariantStats } from './variant-stats.ts';

export interface Comparison {
  /** Variant conversion rate (conversions / exposures; 0 without exposures). */
  rate: number;
  controlRate: number;
  /** Relative lift of the rate over control (0.1 = +10%); null when either arm has no exposures or control converts nothing. */
  lift: number | null;
  /** 95% confidence interval of the lift; null exactly when lift is. */
  liftCi95: [number, number] | null;
  /** P(variant rate > control rate) under Beta(1 + conversions, 1 + non-conversions) posteriors; null when either arm has no exposures. */
  probabilityToBeatControl: number | null;
  /** Variant revenue / exposures (0 without exposures). */
  revenuePerExposure: number;
}

/**
 * A variant against the control on conversion rate.
 *
 * Lift interval: Katz's log method, the delta method on ln(rate / controlRate) with
 * Var ≈ 1/x − 1/n + 1/x₀ − 1/n₀ (x conversions out of n exposures), mapped back by exp(·) − 1, so
 * the interval is asymmetric and never below −100%. When the variant converts nothing the rate
 * ratio is 0: the lower bound is −1 and the upper bound adds ½ to each cell (Haldane–Anscombe).
 * Probability to beat control: exact, see probabilityBBeatsA.
 *
 * Units convert at most once, so conversions are capped at exposures (a conversion counted before
 * its exposure can briefly exceed them). Throws VALIDATION for counts that are not non-negative integers.
 */
export function compareToControl(control: VariantStats, variant: VariantStats): Comparison {
  checkStats(control, 'control');
  checkStats(variant, 'variant');
  const n = variant.exposures;
  const n0 = control.exposures;
  const x = Math.min(variant.conversions, n);
  const x0 = Math.min(control.conversions, n0);
  const rate = n > 0 ? x / n : 0;
  const controlRate = n0 > 0 ? x0 / n0 : 0;
  const revenuePerExposure = n > 0 ? variant.revenue / n : 0;
  if (n === 0 || n0 === 0) {
    return { rate, controlRate, lift: null, liftCi95: null, probabilityToBeatControl: null, revenuePerExposure };
  }
  let lift: number | null = null;
  let liftCi95: [number, number] | null = null;
  if (x0 > 0) {
    lift = rate / controlRate - 1;
    if (x > 0) {
      const logRatio = Math.log(rate / controlRate);
      const half = Z95 * Math.sqrt(1 / x - 1 / n + 1 / x0 - 1 / n0);
      liftCi95 = [Math.exp(logRatio - half) - 1, Math.exp(logRatio + half) - 1];
    } else {
      const logRatio = Math.log((0.5 / (n + 1)) * ((n0 + 1) / (x0 + 0.5)));
      const half = Z95 * Math.sqrt(1 / 0.5 - 1 / (n + 1) + 1 / (x0 + 0.5) - 1 / (n0 + 1));
      liftCi95 = [-1, Math.exp(logRatio + half) - 1];
    }
  }
  const probabilityToBeatControl = probabilityBBeatsA(1 + x0, 1 + n0 - x0, 1 + x, 1 + n - x);
  return { rate, controlRate, lift, liftCi95, probabilityToBeatControl, revenuePerExposure };
}

/** Past this many terms every parameter is huge: the normal approximation is then within ~1e-7 of the exact sum (which takes ~10 ms at this size). */
const EXACT_TERMS_LIMIT = 1_000_000;
const RESCALE = 1e200;
const LOG_RESCALE = Math.log(RESCALE);

/**
 * Σ_{i=0}^{a2−1} B(a1+i, b1+b2) / ((b2+i) · B(1+i, b2) · B(a1, b1)) = P(X2 > X1) for X1 ~ Beta(a1, b1),
 * X2 ~ Beta(a2, b2), a2 a positive integer (Evan Miller, "Formulas for Bayesian A/B testing").
 * Consecutive terms differ by the factor (a1+i)(b2+i) / ((a1+b1+b2+i)(1+i)), so the terms are
 * products relative to the first, rescaled before they overflow; only the first needs log-beta.
 */
function sumOverA2(a1: number, b1: number, a2: number, b2: number): number {
  let logScale = logBeta(a1, b1 + b2) - logBeta(a1, b1); // the i = 0 term: b2 · B(1, b2) = 1
  let term = 1;
  let sum = 0;
  for (let i = 0; i < a2; i++) {
    sum += term;
    term *= ((a1 + i) / (a1 + b1 + b2 + i)) * ((b2 + i) / (1 + i));
    if (term > RESCALE) {
      term /= RESCALE;
      sum /= RESCALE;
      logScale += LOG_RESCALE;
    }
  }
  return Math.exp(logScale + Math.log(sum));
}

/**
 * P(X_B > X_A) for X_A ~ Beta(aA, bA) and X_B ~ Beta(aB, bB), exactly for integer parameters.
 *
 * The closed-form sum runs over one integer parameter; by the symmetries P(X_B > X_A) =
 * 1 − P(X_A > X_B) = P(1 − X_A > 1 − X_B) it can run over any of the four, so it runs over the
 * smallest (usually the conversions of the arm converting least). When even the smallest exceeds
 * 1,000,000, or a parameter is not an integer, both distributions are replaced by normals of the same
 * mean and variance; with every parameter that large the Betas are practically normal. Precision of
 * the exact path: about 1e-8 absolute at millions of counts (the log-beta of the first term).
 */
export function probabilityBBeatsA(aA: number, bA: number, aB: number, bB: number): number {
  for (const [name, v] of [['aA', aA], ['bA', bA], ['aB', aB], ['bB', bB]] as const) {
    if (!(v > 0 && Number.isFinite(v))) throw invalidArgument(name, `must be a finite number > 0, got ${v}`);
  }
  const smallest = Math.min(aA, bA, aB, bB);
  const integers = Number.isInteger(aA) && Number.isInteger(bA) && Number.isInteger(aB) && Number.isInteger(bB);
  if (!integers || smallest > EXACT_TERMS_LIMIT) return normalProbabilityBBeatsA(aA, bA, aB, bB);
  let p: number;
  if (aB === smallest) p = sumOverA2(aA, bA, aB, bB);
  else if (aA === smallest) p = 1 - sumOverA2(aB, bB, aA, bA);
  else if (bA === smallest) p = sumOverA2(bB, aB, bA, aA); // X_B > X_A ⇔ (1 − X_A) > (1 − X_B)
  else p = 1 - sumOverA2(bA, aA, bB, aB);
  return Math.min(1, Math.max(0, p));
}

/** P(X_B > X_A) with each Beta replaced by the normal of the same mean and variance. */
export function normalProbabilityBBeatsA(aA: number, bA: number, aB: number, bB: number): number {
  const mean = (a: number, b: number) => a / (a + b);
  const variance = (a: number, b: number) => (a * b) / ((a + b) ** 2 * (a + b + 1));
  return normalCdf((mean(aB, bB) - mean(aA, bA)) / Math.sqrt(variance(aA, bA) + variance(aB, bB)));
}

export interface RevenueComparison {
  revenuePerExposure: number;
  controlRevenuePerExposure: number;
  /** Relative lift of revenue per exposure; null when either arm has fewer than 2 exposures or control's is ≤ 0. */
  lift: number | null;
  /** 95% interval of the lift by the delta method on the ratio of means; null exactly when lift is. */
  liftCi95: [number, number] | null;
}

/**
 * A variant against the control on revenue per exposure. Each exposure is one observation worth
 * its conversion value (0 without a conversion), so the sample variance of the mean follows from
 * revenue and revenueSquares (exact when a unit converts at most once). Lift interval: the delta
 * method on m / m₀, Var ≈ v/m₀² + m²·v₀/m₀⁴ with v the variance of each mean, symmetric around the lift.
 */
export function compareRevenueToControl(control: VariantStats, variant: VariantStats): RevenueComparison {
  checkStats(control, 'control');
  checkStats(variant, 'variant');
  const mean = (s: VariantStats) => (s.exposures > 0 ? s.revenue / s.exposures : 0);
  const m = mean(variant);
  const m0 = mean(control);
  const base = { revenuePerExposure: m, controlRevenuePerExposure: m0 };
  if (variant.exposures < 2 || control.exposures < 2 || !(m0 > 0)) return { ...base, lift: null, liftCi95: null };
  // Variance of a mean: the sample variance (Σx² − n·mean²)/(n − 1), divided by n.
  const varianceOfMean = (s: VariantStats, mu: number) => Math.max(0, (s.revenueSquares - s.exposures * mu * mu) / (s.exposures - 1)) / s.exposures;
  const v = varianceOfMean(variant, m);
  const v0 = varianceOfMean(control, m0);
  const lift = m / m0 - 1;
  const half = Z95 * Math.sqrt(v / (m0 * m0) + (m * m * v0) / m0 ** 4);
  return { ...base, lift, liftCi95: [lift - half, lift + half] };
}
