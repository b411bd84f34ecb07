import { describe, expect, it } from 'vitest';
import specJson from '../../spec/bucketing.json' with { type: 'json' };
import { allocate, bucketOf, fnv1a32, hashUnit, inHoldout, inNamespace } from './bucketing.ts';

// Written by spec/bucketing.gen.py, an independent Python implementation of the algorithm.
const spec = specJson as unknown as {
  algorithm: Record<string, string>;
  vectors: Array<{ seed: string; id?: string; idUtf16?: number[]; h1: number; h2: number; unit: number; bucket: number }>;
  allocations: Array<{ seed: string; id: string; coverage: number; weights: number[]; variant: number | null; unit: number }>;
  namespaces: Array<{ id: string; namespace: { id: string; range: [number, number] }; unit: number; in: boolean }>;
  holdouts: Array<{ id: string; holdout: { seed: string; percent: number }; unit: number; in: boolean }>;
};

// An id with an unpaired surrogate comes as UTF-16 code units: many JSON parsers reject it as a string.
const vectors = spec.vectors.map((v) => ({ ...v, id: v.id ?? String.fromCharCode(...(v.idUtf16 ?? [])) }));

const label = (seed: string, id: string) => `${JSON.stringify(seed)} / ${JSON.stringify(id.length > 40 ? `${id.slice(0, 20)}…(${id.length})` : id)}`;

describe('spec/bucketing.json', () => {
  it('describes every step of the algorithm and holds at least 50 vectors, with an empty seed and non-ASCII ids', () => {
    for (const key of ['bytes', 'fnv1a32', 'h1', 'h2', 'unit', 'bucket', 'allocation', 'namespace', 'holdout']) {
      expect(spec.algorithm[key], key).toMatch(/\w{3,}/);
    }
    expect(vectors.length).toBeGreaterThanOrEqual(50);
    expect(vectors.some((v) => v.seed === '')).toBe(true);
    expect(vectors.filter((v) => /[^\x20-\x7e]/.test(v.id)).length).toBeGreaterThanOrEqual(10);
    expect(vectors.some((v) => /[\ud800-\udfff]/.test(v.id) && !/[\ud800-\udbff][\udc00-\udfff]/.test(v.id))).toBe(true);
  });

  it.each(vectors.map((v) => [label(v.seed, v.id), v] as const))('vector %s', (_n, v) => {
    expect(fnv1a32(`${v.seed}:${v.id}`)).toBe(v.h1);
    expect(fnv1a32(String(v.h1))).toBe(v.h2);
    expect(hashUnit(v.seed, v.id)).toBe(v.unit);
    expect(bucketOf(v.seed, v.id)).toBe(v.bucket);
  });

  it('hashes an unpaired surrogate as U+FFFD and a colon in the id like any other byte', () => {
    const unit = (seed: string, id: string) => vectors.find((v) => v.seed === seed && v.id === id)?.unit;
    expect(unit('exp-1', '\ud800x')).toBe(unit('exp-1', '\ufffdx'));
    expect(unit('exp-1', 'a:b')).toBe(unit('exp-1:a', 'b'));
  });

  it.each(spec.allocations.map((a) => [`${a.seed} ${a.id} coverage ${a.coverage} weights ${a.weights.join(',')}`, a] as const))(
    'allocation %s',
    (_n, a) => {
      expect(allocate({ seed: a.seed, id: a.id, coverage: a.coverage, weights: a.weights })).toEqual({ variant: a.variant, unit: a.unit });
    },
  );

  it('covers every kind of allocation outcome', () => {
    const outcomes = new Set(spec.allocations.map((a) => a.variant));
    for (const v of [null, 0, 1, 2]) expect(outcomes.has(v)).toBe(true);
  });

  it.each(spec.namespaces.map((c) => [`${c.id} in ${c.namespace.id} [${c.namespace.range.join(', ')})`, c] as const))('namespace %s', (_n, c) => {
    expect(hashUnit(`layer:${c.namespace.id}`, c.id)).toBe(c.unit);
    expect(inNamespace(c.id, c.namespace)).toBe(c.in);
  });

  it.each(spec.holdouts.map((c) => [`${c.id} under ${c.holdout.seed} at ${c.holdout.percent}%`, c] as const))('holdout %s', (_n, c) => {
    expect(hashUnit(c.holdout.seed, c.id)).toBe(c.unit);
    expect(inHoldout(c.id, c.holdout)).toBe(c.in);
  });
});
