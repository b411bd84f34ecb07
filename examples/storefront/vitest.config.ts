import { mergeConfig } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared.ts';

// Browser tests share one Chromium and servers with controlled clocks: run the files one by one.
export default mergeConfig(sharedConfig, { test: { fileParallelism: false, testTimeout: 120_000 } });
