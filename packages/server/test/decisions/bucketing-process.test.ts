import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { allocate, bucketOf } from '@attune/core';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

describe('bucketing across processes', () => {
  it('gives another Node process the same buckets and variants for 1,000 ids', () => {
    const script = `
      import { allocate, bucketOf } from '@attune/core';
      const out = [];
      for (let i = 0; i < 1000; i++) {
        const id = 'proc-' + i + '-ü';
        out.push([bucketOf('cross-process', id), allocate({ seed: 'cross-process', id, coverage: 0.5, weights: [1, 2, 1] }).variant]);
      }
      process.stdout.write(JSON.stringify(out));
    `;
    const stdout = execFileSync(process.execPath, ['--conditions=@attune/source', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: `${REPO_ROOT}packages/server`,
      encoding: 'utf8',
    });
    const theirs = JSON.parse(stdout) as Array<[number, number | null]>;
    const ours = Array.from({ length: 1000 }, (_, i) => {
      const id = `proc-${i}-ü`;
      return [bucketOf('cross-process', id), allocate({ seed: 'cross-process', id, coverage: 0.5, weights: [1, 2, 1] }).variant];
    });
    expect(theirs).toEqual(ours);
    expect(new Set(ours.map((o) => o[1])).size).toBe(4); // three variants and "not in the experiment"
  });
});
