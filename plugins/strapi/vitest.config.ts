import { mergeConfig } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared.ts';

// Each integration file boots a real Strapi (~10 s) and an Attune server: one file at a time on a
// small machine.
export default mergeConfig(sharedConfig, {
  test: {
    include: ['server/src/**/*.test.ts', 'test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
