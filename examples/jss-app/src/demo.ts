/**
 * `pnpm jss-app`: starts Attune in this process (embedded store under ./.attune-jss), creates the
 * example's audiences and personalization, and serves the JSS site next to it.
 */
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '@attune/core';
import { startServer } from '@attune/server';
import { createJssApp } from './app.ts';
import { configureAttune } from './config.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const sitePort = Number(process.env.SITE_PORT ?? 3100);
const secretKey = process.env.ATTUNE_SECRET_KEY ?? `sk_jss_${randomBytes(18).toString('base64url')}`;
const writeKey = process.env.ATTUNE_WRITE_KEY ?? `wk_jss_${randomBytes(18).toString('base64url')}`;

const attune = await startServer({
  port: Number(process.env.ATTUNE_PORT ?? 4100),
  host: '127.0.0.1',
  dataDir: process.env.ATTUNE_DATA_DIR ?? join(root, '.attune-jss'),
  secretKey,
  writeKey,
  logger: silentLogger,
});
await configureAttune(attune.url, secretKey);
const site = createJssApp({ attuneUrl: attune.url, writeKey }).listen(sitePort, () => {
  console.error(`\nThe JSS example site is running at http://localhost:${sitePort}  (Attune at ${attune.url})`);
  console.error('  "View a mountain bike" puts you among trail riders: the home and /bikes pages change;');
  console.error('  "View a city bike" makes you a commuter. The call to action is an A/B/C test; book a test ride to convert.');
  console.error(`  Languages: /da-DK/, /de-DE/. Variant permutations for a static build: http://localhost:${sitePort}/_manifest`);
  console.error(`  Keys for this run: ATTUNE_SECRET_KEY=${secretKey}  ATTUNE_WRITE_KEY=${writeKey}\n`);
});
const stop = () => {
  site.close();
  void attune.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
