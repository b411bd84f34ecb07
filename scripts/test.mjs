#!/usr/bin/env node
// The whole test suite: lint (keeps the core free of hosts), typecheck every package, then
// every vitest project. Ends with one plain totals line, `N passed, N failed, N skipped`,
// counting lint and typecheck as one check each.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', FORCE_COLOR: process.env.FORCE_COLOR ?? '0' };
const extra = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;

function step(name, cmd, args) {
  console.log(`\n== ${name}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env });
  if (r.status === 0) passed += 1;
  else {
    failed += 1;
    console.log(`== ${name} FAILED (exit ${r.status ?? r.signal})`);
  }
}

if (extra.length === 0) {
  step('lint', 'pnpm', ['exec', 'biome', 'lint', '.']);
  step('typecheck', 'pnpm', ['exec', 'turbo', 'run', 'typecheck', '--output-logs=errors-only']);
}

const dir = mkdtempSync(join(tmpdir(), 'attune-vitest-'));
const report = join(dir, 'report.json');
console.log('\n== tests: vitest run');
const r = spawnSync('pnpm', ['exec', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extra], {
  stdio: 'inherit',
  env,
});
if (existsSync(report)) {
  const json = JSON.parse(readFileSync(report, 'utf8'));
  passed += json.numPassedTests;
  failed += json.numFailedTests;
  skipped += json.numPendingTests + json.numTodoTests;
  // A file that fails to load has no tests to count; count it as a failure.
  for (const file of json.testResults ?? []) {
    if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) {
      failed += 1;
      console.log(`== ${file.name} failed to run: ${String(file.message ?? '').split('\n')[0]}`);
    }
  }
} else {
  failed += 1;
  console.log(`== vitest wrote no report (exit ${r.status ?? r.signal})`);
}
rmSync(dir, { recursive: true, force: true });
if (r.status !== 0 && failed === 0) failed += 1;

console.log(`\n${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
