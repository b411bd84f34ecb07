import { describe, expect, it } from 'vitest';
import { AttuneError } from '../errors.ts';
import { chiSquareUniformity, sampleRatioMismatch } from '../stats/srm.ts';
import { allocate, BUCKETS, bucketOf, fnv1a32, hashUnit, inHoldout, inNamespace, namespaceSeed, variantRanges } from './bucketing.ts';

const N = 100_000;
// Sequential ids differing only in their last characters: the hardest case for a simple hash.
const ids = Array.from({ length: N }, (_, i) => `user-${i}`);

/** FNV-1a over bytes, fed by the platform's own UTF-8 encoder: the reference for the hand-written one. */
function fnvOfBytes(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}

function counts(n: number, values: Iterable<number | null>): { counts: number[]; outside: number } {
  const out = new Array<number>(n).fill(0);
  let outside = 0;
  for (const v of values) {
    if (v === null) outside++;
    else out[v] = (out[v] as number) + 1;
  }
  return { counts: out, outside };
}

describe('fnv1a32', () => {
  it('matches the published FNV-1a 32-bit test values', () => {
    // From the FNV reference test suite (isthe.com/chongo/tech/comp/fnv): "", "a", "foobar".
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('encodes UTF-8 by hand exactly as TextEncoder does, lone surrogates included', () => {
    // Core's tsconfig has no DOM or Node types; the test runs in Node, which has TextEncoder.
    const { TextEncoder } = globalThis as unknown as { TextEncoder: new () => { encode(text: string): Uint8Array } };
    const encoder = new TextEncoder();
    const pieces = ['a', 'é', 'ß', 'ид', '€', '北', '😀', '\ud800', '\udc00', '\ud83d', '\u0000', '\u007f', '\u0080', '\u07ff', '\u0800', '\uffff', ':'];
    let mismatches = 0;
    let state = 7;
    for (let n = 0; n < 5000; n++) {
      let s = '';
      const len = n % 12;
      for (let k = 0; k < len; k++) {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        s += pieces[state % pieces.length];
      }
      if (fnv1a32(s) !== fnvOfBytes(encoder.encode(s))) mismatches++;
    }
    expect(mismatches).toBe(0);
  });
});

describe('hashUnit and bucketOf', () => {
  it('return a unit in [0, 1) and its bucket, equal to the integer formula (h2 × 10000) >> 32', () => {
    let wrong = 0;
    for (const id of ids) {
      const unit = hashUnit('exp', id);
      const h2 = BigInt(fnv1a32(String(fnv1a32(`exp:${id}`))));
      if (!(unit >= 0 && unit < 1) || bucketOf('exp', id) !== Number((h2 * 10000n) >> 32n) || unit !== Number(h2) / 2 ** 32) wrong++;
    }
    expect(wrong).toBe(0);
  });

  it('spreads 100,000 sequential ids uniformly over 100 and over 10,000 buckets (chi-square p > 0.01)', () => {
    for (const seed of ['uniformity', '']) {
      const coarse = counts(100, ids.map((id) => Math.floor(bucketOf(seed, id) / 100))).counts;
      const fine = counts(BUCKETS, ids.map((id) => bucketOf(seed, id))).counts;
      expect(chiSquareUniformity(coarse).pValue, seed).toBeGreaterThan(0.01);
      expect(chiSquareUniformity(fine).pValue, seed).toBeGreaterThan(0.01);
    }
  });

  it('gives unrelated assignments under different seeds', () => {
    // Under two seeds, a 50/50 split puts about half the ids on the same side by chance alone.
    const same = ids.filter((id) => (hashUnit('seed-a', id) < 0.5) === (hashUnit('seed-b', id) < 0.5)).length;
    expect(Math.abs(same / N - 0.5)).toBeLessThan(0.005);
  });
});

describe('allocate', () => {
  it.each([
    { weights: [1, 1], label: '2 variants 50/50' },
    { weights: [1, 2], label: '2 variants 1:2' },
    { weights: [1, 1, 1], label: '3 variants equal' },
    { weights: [0.2, 0.5, 0.3], label: '3 variants 20/50/30' },
    { weights: [1, 2, 3, 2, 2], label: '5 variants 1:2:3:2:2' },
    { weights: [5, 5, 5, 5, 80], label: '5 variants 5/5/5/5/80' },
  ])('splits 100,000 ids by the weights: $label (chi-square p > 0.01)', ({ weights }) => {
    const seed = `split-${weights.join('-')}`;
    const { counts: observed, outside } = counts(weights.length, ids.map((id) => allocate({ seed, id, coverage: 1, weights }).variant));
    expect(outside).toBe(0);
    const srm = sampleRatioMismatch(observed, weights);
    expect(srm.pValue).toBeGreaterThan(0.01);
    expect(srm.mismatch).toBe(false);
  });

  it('keeps every assigned id in its variant when traffic rises 10% → 20% → 50% → 100% with fixed weights', () => {
    const weights = [1, 1, 2];
    const steps = [0.1, 0.2, 0.5, 1];
    const assigned = steps.map((coverage) => ids.map((id) => allocate({ seed: 'ramp', id, coverage, weights }).variant));
    for (let s = 1; s < steps.length; s++) {
      const before = assigned[s - 1] as Array<number | null>;
      const after = assigned[s] as Array<number | null>;
      let moved = 0;
      let kept = 0;
      for (let i = 0; i < N; i++) {
        if (before[i] === null) continue;
        if (after[i] === before[i]) kept++;
        else moved++;
      }
      expect(moved, `${steps[s - 1]} → ${steps[s]}`).toBe(0);
      expect(kept).toBeGreaterThan(0);
    }
    steps.forEach((coverage, s) => {
      const { counts: c, outside } = counts(3, assigned[s] as Array<number | null>);
      // Binomial standard deviation at 100,000 ids is at most 0.0016: allow 0.006.
      expect(Math.abs(1 - outside / N - coverage), `coverage ${coverage}`).toBeLessThan(0.006);
      expect(sampleRatioMismatch(c, weights).pValue, `split at ${coverage}`).toBeGreaterThan(0.01);
    });
  });

  it('is a pure function of seed, id, coverage and weights', () => {
    const input = { seed: 'exp-7', id: 'user-42', coverage: 0.4, weights: [3, 1] };
    const first = allocate(input);
    for (let i = 0; i < 100; i++) expect(allocate({ ...input, weights: [...input.weights] })).toEqual(first);
    expect(first.unit).toBe(hashUnit('exp-7', 'user-42'));
  });

  it('agrees with variantRanges, whose starts do not depend on coverage', () => {
    expect(variantRanges(0.5, [1, 3])).toEqual([
      [0, 0.125],
      [0.25, 0.625],
    ]);
    expect(variantRanges(1, [1, 1, 2]).map((r) => r[0])).toEqual(variantRanges(0.1, [1, 1, 2]).map((r) => r[0]));
    const ranges = variantRanges(0.3, [2, 0, 5]);
    let disagreements = 0;
    for (const id of ids.slice(0, 20_000)) {
      const { variant, unit } = allocate({ seed: 'r', id, coverage: 0.3, weights: [2, 0, 5] });
      const expected = ranges.findIndex(([start, end]) => unit >= start && unit < end);
      if (variant !== (expected === -1 ? null : expected)) disagreements++;
    }
    expect(disagreements).toBe(0);
  });

  it('allocates nobody at coverage 0 or with all weights 0, and never a variant of weight 0', () => {
    const sample = ids.slice(0, 10_000);
    expect(sample.every((id) => allocate({ seed: 'z', id, coverage: 0, weights: [1, 1] }).variant === null)).toBe(true);
    expect(sample.every((id) => allocate({ seed: 'z', id, coverage: 1, weights: [0, 0] }).variant === null)).toBe(true);
    expect(sample.every((id) => allocate({ seed: 'z', id, coverage: 1, weights: [0, 1, 0] }).variant === 1)).toBe(true);
  });

  it.each([
    [{ coverage: 1.5, weights: [1, 1] }, 'coverage'],
    [{ coverage: -0.1, weights: [1, 1] }, 'coverage'],
    [{ coverage: Number.NaN, weights: [1, 1] }, 'coverage'],
    [{ coverage: 1, weights: [] }, 'weights'],
    [{ coverage: 1, weights: [1, -1] }, 'weights[1]'],
    [{ coverage: 1, weights: [Number.POSITIVE_INFINITY, 1] }, 'weights[0]'],
    [{ coverage: 1, weights: [1, Number.NaN] }, 'weights[1]'],
  ])('rejects %j, naming %s', (input, path) => {
    const run = () => allocate({ seed: 's', id: 'x', ...input });
    expect(run).toThrow(AttuneError);
    try {
      run();
    } catch (error) {
      expect((error as AttuneError).code).toBe('VALIDATION');
      expect((error as AttuneError).issues[0]?.path).toBe(path);
    }
  });
});

describe('inNamespace', () => {
  it('puts each of 100,000 ids in exactly one of three experiments sharing a layer, in proportion to the ranges', () => {
    const parts: Array<[number, number]> = [
      [0, 0.3],
      [0.3, 0.6],
      [0.6, 1],
    ];
    const memberships = ids.map((id) => parts.filter((range) => inNamespace(id, { id: 'checkout', range })).length);
    expect(memberships.every((m) => m === 1)).toBe(true);
    const firstShare = ids.filter((id) => inNamespace(id, { id: 'checkout', range: [0, 0.3] })).length / N;
    expect(Math.abs(firstShare - 0.3)).toBeLessThan(0.006);
  });

  it('never lets experiments with disjoint ranges share an id, whatever their own seeds', () => {
    let shared = 0;
    for (const id of ids) {
      const a = inNamespace(id, { id: 'home', range: [0.1, 0.4] }) && allocate({ seed: 'exp-a', id, coverage: 1, weights: [1, 1] }).variant !== null;
      const b = inNamespace(id, { id: 'home', range: [0.4, 0.45] }) && allocate({ seed: 'exp-b', id, coverage: 1, weights: [1, 1] }).variant !== null;
      if (a && b) shared++;
    }
    expect(shared).toBe(0);
  });

  it('is independent of the experiment split: ids in a layer range still split evenly', () => {
    const inside = ids.filter((id) => inNamespace(id, { id: 'checkout', range: [0, 0.3] }));
    const { counts: c } = counts(2, inside.map((id) => allocate({ seed: 'checkout-test', id, coverage: 1, weights: [1, 1] }).variant));
    expect(sampleRatioMismatch(c, [1, 1]).pValue).toBeGreaterThan(0.01);
  });

  it('hashes with the seed "layer:" + the layer id, and rejects a malformed range', () => {
    expect(namespaceSeed('checkout')).toBe('layer:checkout');
    const u = hashUnit('layer:checkout', 'user-1');
    expect(inNamespace('user-1', { id: 'checkout', range: [u, u] })).toBe(false);
    expect(inNamespace('user-1', { id: 'checkout', range: [u, 1] })).toBe(true);
    expect(inNamespace('user-1', { id: 'checkout', range: [0, u] })).toBe(false);
    for (const range of [
      [0.5, 0.2],
      [-0.1, 0.5],
      [0, 1.5],
      [Number.NaN, 1],
    ] as Array<[number, number]>) {
      expect(() => inNamespace('x', { id: 'l', range })).toThrow(/range/);
    }
  });
});

describe('inHoldout', () => {
  it.each([1, 5, 10, 50])('holds out %d%% of 100,000 ids, within 5 standard deviations', (percent) => {
    const held = ids.filter((id) => inHoldout(id, { seed: 'attune-global-holdout', percent })).length / N;
    const p = percent / 100;
    expect(Math.abs(held - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / N));
  });

  it('nests: a larger holdout contains the smaller one under the same seed', () => {
    const small = ids.filter((id) => inHoldout(id, { seed: 'g', percent: 2 }));
    expect(small.every((id) => inHoldout(id, { seed: 'g', percent: 7 }))).toBe(true);
  });

  it('is independent of the experiment split when it has a seed of its own', () => {
    const held = ids.filter((id) => inHoldout(id, { seed: 'exp-1:holdout', percent: 20 }));
    const { counts: c } = counts(3, held.map((id) => allocate({ seed: 'exp-1', id, coverage: 1, weights: [1, 1, 1] }).variant));
    expect(sampleRatioMismatch(c, [1, 1, 1]).pValue).toBeGreaterThan(0.01);
  });

  it('holds out nobody at 0%, everybody at 100%, and rejects other percentages', () => {
    const sample = ids.slice(0, 5000);
    expect(sample.some((id) => inHoldout(id, { seed: 'h', percent: 0 }))).toBe(false);
    expect(sample.every((id) => inHoldout(id, { seed: 'h', percent: 100 }))).toBe(true);
    for (const percent of [-1, 100.5, Number.NaN]) expect(() => inHoldout('x', { seed: 'h', percent })).toThrow(/percent/);
  });
});

describe('chi-square helper used above', () => {
  it('would notice a skewed split of 100,000 ids', () => {
    // A guard for the uniformity tests: a 50.6/49.4 split of 100,000 is already a significant difference.
    expect(chiSquareUniformity([50_600, 49_400]).pValue).toBeLessThan(0.001);
  });
});
