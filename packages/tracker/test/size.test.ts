import { describe, expect, it } from 'vitest';
import { buildTracker } from '../build.ts';

describe('tracker size budget', () => {
  it('stays at or under 8 KB minified and gzipped', async () => {
    const { script, gzipBytes } = await buildTracker();
    console.log(`attune.min.js: ${script.length} bytes minified, ${gzipBytes} gzipped`);
    expect(script.length).toBeGreaterThan(1000);
    expect(gzipBytes).toBeLessThanOrEqual(8192);
  });
});
