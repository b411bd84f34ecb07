/**
 * `pnpm jss-app`: starts Attune (embedded store under ./.attune-jss), creates the example's
 * audiences and personalization, and serves the JSS site next to it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJssApp } from './app.ts';
import { configureAttune } from './config.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const attunePort = Number(process.env.ATTUNE_PORT ?? 4100);
const sitePort = Number(process.env.SITE_PORT ?? 3100);
const secretKey = process.env.ATTUNE_SECRET_KEY ?? `sk_jss_${randomBytes(18).toString('base64url')}`;
const writeKey = process.env.ATTUNE_WRITE_KEY ?? `wk_jss_${randomBytes(18).toString('base64url')}`;
const attuneUrl = `http://localhost:${attunePort}`;

const attune: ChildProcess = spawn(process.execPath, ['--conditions=@attune/source', '--import', 'tsx', join(root, 'packages/server/src/cli.ts'), 'start'], {
  cwd: root,
  env: { ...process.env, PORT: String(attunePort), ATTUNE_DATA_DIR: process.env.ATTUNE_DATA_DIR ?? join(root, '.attune-jss'), ATTUNE_SECRET_KEY: secretKey, ATTUNE_WRITE_KEY: writeKey },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const stop = () => {
  attune.kill('SIGTERM');
  setTimeout(() => process.exit(0), 500).unref();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
attune.on('exit', (code) => {
  console.error(`attune exited (${code}); stopping the JSS site`);
  process.exit(code ?? 1);
});

for (let i = 0; ; i++) {
  if (await fetch(`${attuneUrl}/health`).then((r) => r.ok, () => false)) break;
  if (i > 600) throw new Error('attune did not start within 60 s');
  await new Promise((r) => setTimeout(r, 100));
}
await configureAttune(attuneUrl, secretKey);
createJssApp({ attuneUrl, writeKey }).listen(sitePort, () => {
  console.error(`\nThe JSS example site is running at http://localhost:${sitePort}  (Attune at ${attuneUrl})`);
  console.error('  "View a mountain bike" puts you among trail riders: the home and /bikes pages change;');
  console.error('  "View a city bike" makes you a commuter. The call to action is an A/B/C test; book a test ride to convert.');
  console.error(`  Languages: /da-DK/, /de-DE/. Variant permutations for a static build: http://localhost:${sitePort}/_manifest`);
  console.error(`  Keys for this run: ATTUNE_SECRET_KEY=${secretKey}  ATTUNE_WRITE_KEY=${writeKey}\n`);
});
