import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as core from '@attune/core';
import { describe, expect, it } from 'vitest';

const SERVER_DIR = fileURLToPath(new URL('../../', import.meta.url));

type Core = Pick<typeof core, 'allocate' | 'bucketOf' | 'hashUnit' | 'inHoldout' | 'inNamespace' | 'thompsonWeights'>;

/**
 * The computation both processes run. The child gets this function's source text, so it uses only
 * its argument (the `@attune/core` module) and plain JavaScript.
 */
function compute(attune: Core) {
  const ids = Array.from({ length: 1000 }, (_, i) => (i % 3 === 0 ? `proc-${i}` : i % 3 === 1 ? `прок-${i}-ü` : `用户${i}😀`));
  return {
    rows: ids.map((id) => [
      id,
      attune.hashUnit('cross-process', id),
      attune.bucketOf('cross-process', id),
      attune.allocate({ seed: 'cross-process', id, coverage: 0.5, weights: [1, 2, 1] }).variant,
      attune.inNamespace(id, { id: 'checkout', range: [0.2, 0.7] }),
      attune.inHoldout(id, { seed: 'attune-global-holdout', percent: 10 }),
    ]),
    bandit: attune.thompsonWeights(
      [
        { successes: 12, trials: 300 },
        { successes: 20, trials: 310 },
        { successes: 0, trials: 0 },
      ],
      { seed: 'exp-1:7', minShare: 0.05, draws: 5000 },
    ),
  };
}

describe('bucketing across processes', () => {
  it('gives a separate Node process the same units, buckets, variants, layers, holdouts and bandit weights for 1,000 ids', async () => {
    const script = `import * as core from '@attune/core';\nprocess.stdout.write(JSON.stringify((${compute.toString()})(core)));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=@attune/source', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: SERVER_DIR,
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    });
    const theirs = JSON.parse(stdout) as ReturnType<typeof compute>;
    const ours = compute(core);
    expect(theirs.rows).toHaveLength(1000);
    expect(theirs).toEqual(ours);
    // The comparison covers every outcome: three variants and "not in the experiment", both sides of a layer and a holdout.
    expect(new Set(ours.rows.map((r) => r[3]))).toEqual(new Set([0, 1, 2, null]));
    expect(new Set(ours.rows.map((r) => r[4]))).toEqual(new Set([true, false]));
    expect(new Set(ours.rows.map((r) => r[5]))).toEqual(new Set([true, false]));
  });
});
