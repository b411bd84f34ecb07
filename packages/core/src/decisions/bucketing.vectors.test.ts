import { describe, expect, it } from 'vitest';
import specJson from '../../spec/bucketing.json' with { type: 'json' };
import { bucketOf, fnv1a32, hashUnit } from './bucketing.ts';

const spec = specJson as unknown as {
  vectors: Array<{ seed: string; id: string; h1: number; unit: number; bucket: number }>;
};

describe('spec/bucketing.json vectors', () => {
  it.each(spec.vectors.map((v) => [`${JSON.stringify(v.seed)} / ${JSON.stringify(v.id)}`, v] as const))('%s', (_n, v) => {
    expect(fnv1a32(`${v.seed}:${v.id}`)).toBe(v.h1);
    expect(hashUnit(v.seed, v.id)).toBe(v.unit);
    expect(bucketOf(v.seed, v.id)).toBe(v.bucket);
  });
});
