import { invalidArgument } from '../stats/invalid.ts';

/**
 * Deterministic bucketing, bit-for-bit the same in every runtime and language (server, browser,
 * edge, other SDKs). The full description and test vectors are in packages/core/spec/bucketing.json.
 *
 *   bytes  = UTF-8 of `seed + ":" + id` (an unpaired UTF-16 surrogate encodes as U+FFFD, EF BF BD)
 *   h1     = FNV-1a 32-bit over bytes: h = 0x811c9dc5; per byte h = (h XOR byte) × 0x01000193 mod 2^32
 *   h2     = FNV-1a 32-bit over the ASCII decimal digits of h1 (unsigned, no sign, no leading zeros)
 *   unit   = h2 / 2^32                     a float in [0, 1), exact in IEEE-754 double
 *   bucket = floor(unit × 10000)           = (h2 × 10000) >> 32 in 64-bit integer arithmetic
 *
 * One FNV-1a pass leaves ids that differ only in their last characters close together; the
 * second pass over the decimal string spreads them (GrowthBook's v2 hash does the same).
 * floor(unit × 10000) equals the integer formula: h2 × 10000 / 2^32 is either an integer or at
 * least 2^-28 away from one, far more than the rounding error of the double product.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const TWO_32 = 4294967296;

/** Buckets per unit interval: the resolution of traffic, weights and holdouts (0.01%). */
export const BUCKETS = 10_000;

/** FNV-1a 32-bit over the UTF-8 encoding of `text`, encoded by hand so no TextEncoder or Buffer is needed. */
export function fnv1a32(text: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      // ASCII, the common case: one byte.
      h = Math.imul(h ^ c, FNV_PRIME);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // an unpaired surrogate encodes as U+FFFD, as TextEncoder does
    if (c < 0x800) {
      h = Math.imul(h ^ (0xc0 | (c >> 6)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV_PRIME);
    } else if (c < 0x10000) {
      h = Math.imul(h ^ (0xe0 | (c >> 12)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV_PRIME);
    } else {
      h = Math.imul(h ^ (0xf0 | (c >> 18)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | ((c >> 12) & 0x3f)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV_PRIME);
    }
  }
  return h >>> 0;
}

/** A float in [0, 1) for an id under a seed (see the algorithm above). */
export function hashUnit(seed: string, id: string): number {
  return fnv1a32(String(fnv1a32(`${seed}:${id}`))) / TWO_32;
}

/** An integer bucket in [0, 10000): floor(hashUnit(seed, id) × 10000). */
export function bucketOf(seed: string, id: string): number {
  return Math.floor(hashUnit(seed, id) * BUCKETS);
}

export interface AllocateInput {
  seed: string;
  id: string;
  /** Share of ids in the experiment, 0..1. */
  coverage: number;
  /** Variant weights, control first; any non-negative scale. All zero: nobody is allocated. */
  weights: readonly number[];
}

export interface Allocation {
  /** Index into `weights`, or null when the id falls outside every variant's range. */
  variant: number | null;
  /** hashUnit(seed, id), for explain traces. */
  unit: number;
}

function checkCoverage(coverage: number): void {
  if (!(coverage >= 0 && coverage <= 1)) throw invalidArgument('coverage', `must be a number from 0 to 1, got ${coverage}`);
}

/** Sums the weights, rejecting an empty list and negative or non-finite weights. */
function totalWeight(weights: readonly number[]): number {
  if (weights.length === 0) throw invalidArgument('weights', 'must list at least one variant');
  let total = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i] as number;
    if (!(w >= 0 && w < Number.POSITIVE_INFINITY)) throw invalidArgument(`weights[${i}]`, `must be a finite number ≥ 0, got ${w}`);
    total += w;
  }
  return total;
}

/**
 * Variant ranges [start, end) on the unit interval: share_i = w_i / Σw, start_i = share_0 + … +
 * share_(i−1) summed left to right, end_i = start_i + coverage × share_i. A variant's start does
 * not depend on coverage, so raising coverage only extends ranges and an id already assigned keeps
 * its variant; ids between the ranges are outside the experiment.
 */
export function variantRanges(coverage: number, weights: readonly number[]): Array<[number, number]> {
  checkCoverage(coverage);
  const total = totalWeight(weights);
  let start = 0;
  return weights.map((w) => {
    const share = total > 0 ? w / total : 0;
    const range: [number, number] = [start, start + coverage * share];
    start += share;
    return range;
  });
}

/**
 * The variant of `id`: the first i with start_i ≤ unit < end_i (ranges of variantRanges), or null.
 * Throws VALIDATION for coverage outside [0, 1] and for negative or non-finite weights.
 */
export function allocate(input: AllocateInput): Allocation {
  checkCoverage(input.coverage);
  const weights = input.weights;
  const total = totalWeight(weights);
  const unit = hashUnit(input.seed, input.id);
  if (total === 0) return { variant: null, unit };
  // variantRanges() inlined, with the same arithmetic: this runs on every decision.
  let start = 0;
  for (let i = 0; i < weights.length; i++) {
    const share = (weights[i] as number) / total;
    if (unit >= start && unit < start + input.coverage * share) return { variant: i, unit };
    start += share;
  }
  return { variant: null, unit };
}

/** A layer of mutually exclusive experiments: each experiment owns a range [start, end) of the layer. */
export interface Namespace {
  id: string;
  range: readonly [number, number];
}

/** The seed a layer hashes ids with, independent of every experiment's own seed. */
export function namespaceSeed(namespaceId: string): string {
  return `layer:${namespaceId}`;
}

/**
 * True when hashUnit("layer:" + ns.id, id) lies in [start, end). All experiments of a layer hash
 * an id to the same point, so experiments with disjoint ranges never share an id.
 */
export function inNamespace(id: string, ns: Namespace): boolean {
  const [start, end] = ns.range;
  if (!(start >= 0 && start <= end && end <= 1)) {
    throw invalidArgument('range', `must be [start, end) with 0 ≤ start ≤ end ≤ 1, got [${start}, ${end}]`);
  }
  const u = hashUnit(namespaceSeed(ns.id), id);
  return u >= start && u < end;
}

export interface Holdout {
  /** Use a seed of its own (a global one, or `<experiment seed>:holdout`): sharing the experiment's seed would hold out its first variant. */
  seed: string;
  /** Share of ids held out, in percent (0–100). */
  percent: number;
}

/** True when hashUnit(seed, id) × 100 < percent: `percent`% of ids, the same ones on every call. */
export function inHoldout(id: string, holdout: Holdout): boolean {
  if (!(holdout.percent >= 0 && holdout.percent <= 100)) throw invalidArgument('percent', `must be a number from 0 to 100, got ${holdout.percent}`);
  return hashUnit(holdout.seed, id) * 100 < holdout.percent;
}
