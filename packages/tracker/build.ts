/**
 * Builds the tracker: dist/attune.min.js (the script-tag build) and dist/index.js (ESM).
 * `buildTracker()` is also used by tests and the storefront, so nothing depends on a prior build.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));

export async function buildTracker(): Promise<{ script: string; gzipBytes: number }> {
  const result = await build({
    entryPoints: [join(here, 'src/browser.ts')],
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['es2020'],
    write: false,
    legalComments: 'none',
  });
  const script = result.outputFiles[0]?.text ?? '';
  return { script, gzipBytes: gzipSync(script, { level: 9 }).length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { script, gzipBytes } = await buildTracker();
  mkdirSync(join(here, 'dist'), { recursive: true });
  writeFileSync(join(here, 'dist/attune.min.js'), script);
  await build({ entryPoints: [join(here, 'src/index.ts')], bundle: true, format: 'esm', target: ['es2020'], outfile: join(here, 'dist/index.js') });
  console.log(`dist/attune.min.js: ${script.length} bytes, ${gzipBytes} gzipped (budget 8192)`);
}
