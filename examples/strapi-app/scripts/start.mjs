#!/usr/bin/env node
// One command for the demo: an Attune engine (embedded store in .attune/) unless ATTUNE_URL points
// at one, the plugin's server bundle, the admin panel build (first time only), then Strapi.
//   pnpm --filter @attune/example-strapi-app start            (strapi start)
//   pnpm --filter @attune/example-strapi-app dev              (strapi develop: admin rebuilds on change)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '@attune/server';
import { buildServer } from '../../../plugins/strapi/scripts/build-server.mjs';

const app = join(dirname(fileURLToPath(import.meta.url)), '..');
const develop = process.argv.includes('--develop');
const env = { ...process.env, STRAPI_TELEMETRY_DISABLED: 'true' };

let engine = null;
if (!env.ATTUNE_URL) {
  env.ATTUNE_SECRET_KEY ??= 'sk_demo_strapi_0000000000000000';
  env.ATTUNE_WRITE_KEY ??= 'wk_demo_strapi_0000000000000000';
  engine = await startServer({ port: Number(env.ATTUNE_PORT ?? 4000), dataDir: join(app, '.attune'), secretKey: env.ATTUNE_SECRET_KEY, writeKey: env.ATTUNE_WRITE_KEY });
  env.ATTUNE_URL = engine.url;
  console.log(`Attune engine on ${engine.url} (secret key ${env.ATTUNE_SECRET_KEY})`);
}

await buildServer();
const strapiBin = join(app, 'node_modules', '.bin', 'strapi');
if (!develop && !existsSync(join(app, 'build', 'index.html'))) {
  console.log('Building the Strapi admin panel (first start only, about a minute)…');
  const r = spawnSync(strapiBin, ['build'], { cwd: app, env, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const child = spawn(strapiBin, [develop ? 'develop' : 'start'], { cwd: app, env, stdio: 'inherit' });
const stop = () => child.kill('SIGTERM');
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
child.on('exit', async (code) => {
  await engine?.close();
  process.exit(code ?? 0);
});
