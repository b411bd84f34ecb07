import { mergeConfig } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared.ts';

// Medusa loads its config and the project's files with require(): tsx makes TypeScript loadable,
// the condition resolves workspace packages to their sources, as everywhere else in tests.
export default mergeConfig(sharedConfig, {
  test: {
    globals: true,
    pool: 'forks',
    execArgv: ['--conditions=@attune/source', '--import', 'tsx'],
    testTimeout: 180_000,
    hookTimeout: 240_000,
    // The runner turns SSL on unless the database URL says localhost; the local server has none.
    env: { DB_HOST: 'localhost', DB_USERNAME: 'postgres', DB_PASSWORD: '', NODE_ENV: 'test', LOG_LEVEL: 'error', MEDUSA_DISABLE_TELEMETRY: 'true' },
  },
});
