import { mergeConfig } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared.ts';

// Vendure's telemetry would write an installation id and try to reach its servers.
export default mergeConfig(sharedConfig, { test: { env: { VENDURE_DISABLE_TELEMETRY: 'true' } } });
