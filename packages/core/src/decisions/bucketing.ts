/**
 * Deterministic bucketing, the same in every runtime (server, browser, edge):
 *
 *   h1   = FNV-1a 32-bit over the UTF-8 bytes of `seed + ":" + id`
 *   h2   = FNV-1a 32-bit over the UTF-8 bytes of the decimal string of h1
 *   unit = h2 / 2^32                      (a float in [0, 1))
 *   bucket = floor(unit × 10000)          (an integer in [0, 10000))
 *
 * Hashing twice spreads ids that differ only in their last characters (GrowthBook's v2 hash does
 * the same). Test vectors are in packages/core/spec/bucketing.json.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a 32-bit over the UTF-8 encoding of `text` (encoded by hand: no TextEncoder needed). */
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

/** A float in [0, 1) for an id under a seed. */
export function hashUnit(seed: string, id: string): number {
  return fnv1a32(String(fnv1a32(`${seed}:${id}`))) / 4294967296;
}

/** An integer bucket in [0, 10000). */
export function bucketOf(seed: string, id: string): number {
  return Math.floor(hashUnit(seed, id) * 10000);
}

/**
 * Variant ranges on [0, 1): variant i starts where the weights before it end (its start never
 * moves with coverage) and spans coverage × its share. Raising coverage only extends ranges, so
 * every id already assigned keeps its variant; ids outside every range are not in the experiment.
 */
export function variantRanges(coverage: number, weights: readonly number[]): Array<[number, number]> {
  const total = weights.reduce((a, w) => a + Math.max(0, w), 0);
  const c = Math.min(1, Math.max(0, coverage));
  let start = 0;
  return weights.map((w) => {
    const share = total > 0 ? Math.max(0, w) / total : 0;
    const range: [number, number] = [start, start + c * share];
    start += share;
    return range;
  });
}

export function allocate(input: { seed: string; id: string; coverage: number; weights: readonly number[] }): { variant: number | null; unit: number } {
  const unit = hashUnit(input.seed, input.id);
  // variantRanges() inlined: this runs on every decision.
  const weights = input.weights;
  let total = 0;
  for (let i = 0; i < weights.length; i++) total += Math.max(0, weights[i] as number);
  if (total <= 0) return { variant: null, unit };
  const c = Math.min(1, Math.max(0, input.coverage));
  let start = 0;
  for (let i = 0; i < weights.length; i++) {
    const share = Math.max(0, weights[i] as number) / total;
    if (unit >= start && unit < start + c * share) return { variant: i, unit };
    start += share;
  }
  return { variant: null, unit };
}

/** Layers (namespaces): experiments given disjoint ranges of one layer never share an id. */
export function inNamespace(id: string, ns: { id: string; range: readonly [number, number] }): boolean {
  const u = hashUnit(`layer:${ns.id}`, id);
  return u >= ns.range[0] && u < ns.range[1];
}

/** Holdouts: `percent` of ids (0–100) under a seed. */
export function inHoldout(id: string, holdout: { seed: string; percent: number }): boolean {
  return hashUnit(holdout.seed, id) * 100 < holdout.percent;
}
