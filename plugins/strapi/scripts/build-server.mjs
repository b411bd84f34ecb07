#!/usr/bin/env node
// Strapi requires a plugin's server entry as CommonJS JavaScript, so the TypeScript server (with
// the Attune packages it uses, read from their sources) is bundled into dist/server/index.js.
// Under a second; the tests and the example app run it before booting Strapi.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export const serverBuildOptions = {
  entryPoints: [join(root, 'server/src/index.ts')],
  outfile: join(root, 'dist/server/index.js'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  conditions: ['@attune/source'],
  external: ['@strapi/*'],
  sourcemap: true,
  logLevel: 'warning',
  // Strapi reads `default` of the required module.
  footer: { js: 'module.exports = module.exports.default;' },
};

export async function buildServer() {
  await esbuild.build(serverBuildOptions);
  // The package is ESM; this folder's bundle is CommonJS, which is what Strapi requires.
  writeFileSync(join(root, 'dist/server/package.json'), '{ "type": "commonjs" }\n');
  return serverBuildOptions.outfile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--watch')) {
    const ctx = await esbuild.context(serverBuildOptions);
    await ctx.watch();
  } else {
    console.log(`built ${await buildServer()}`);
  }
}
