/**
 * `pnpm demo`: starts Attune with the demo data set (as `attune start --demo`), applies the
 * storefront's personalization, and starts the storefront next to it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStorefront } from './app.ts';
import { STOREFRONT_CONFIG } from './config.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const attunePort = Number(process.env.PORT ?? 4000);
const shopPort = Number(process.env.SHOP_PORT ?? 3000);
const secretKey = process.env.ATTUNE_SECRET_KEY ?? `sk_demo_${randomBytes(18).toString('base64url')}`;
const writeKey = process.env.ATTUNE_WRITE_KEY ?? `wk_demo_${randomBytes(18).toString('base64url')}`;
const attuneUrl = `http://localhost:${attunePort}`;

const attune: ChildProcess = spawn(
  process.execPath,
  ['--conditions=@attune/source', '--import', 'tsx', join(root, 'packages/server/src/cli.ts'), 'start', '--demo', ...process.argv.slice(2)],
  { cwd: root, env: { ...process.env, PORT: String(attunePort), ATTUNE_SECRET_KEY: secretKey, ATTUNE_WRITE_KEY: writeKey }, stdio: ['ignore', 'ignore', 'inherit'] },
);
const stop = () => {
  attune.kill('SIGTERM');
  setTimeout(() => process.exit(0), 500).unref();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
attune.on('exit', (code) => {
  console.error(`attune exited (${code}); stopping the storefront`);
  process.exit(code ?? 1);
});

for (let i = 0; ; i++) {
  const ok = await fetch(`${attuneUrl}/health`).then((r) => r.ok, () => false);
  if (ok) break;
  if (i > 600) throw new Error('attune did not start within 60 s');
  await new Promise((r) => setTimeout(r, 100));
}
// The demo audiences exist once seeding has created them; the experiences target them.
for (let i = 0; ; i++) {
  const res = await fetch(`${attuneUrl}/v1/config`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(STOREFRONT_CONFIG),
  });
  if (res.ok) break;
  if (i > 600) throw new Error(`the storefront configuration was refused: ${await res.text()}`);
  await new Promise((r) => setTimeout(r, 200));
}
const app = await createStorefront({ attuneUrl, writeKey, secretKey });
app.listen(shopPort, () => {
  console.error(`\nThe storefront is running at http://localhost:${shopPort}  (Attune at ${attuneUrl})`);
  console.error(`  Accept cookies, browse, add to cart; http://localhost:${shopPort}/debug shows your profile, audiences and decisions.`);
  console.error(`  Keys for this run: ATTUNE_SECRET_KEY=${secretKey}  ATTUNE_WRITE_KEY=${writeKey}`);
  console.error(`  Try ?country=FR on any page for the location promotion; /react is the React example.\n`);
});
