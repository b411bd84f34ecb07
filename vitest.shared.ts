import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources through the `@attune/source`
// export condition, so tests never need a build first.
export const sharedConfig = defineConfig({
  resolve: { conditions: ['@attune/source'] },
  ssr: { resolve: { conditions: ['@attune/source'] } },
  test: {
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  },
});
