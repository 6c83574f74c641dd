#!/usr/bin/env node
// Runs typecheck, lint and the whole Vitest suite, then prints the plain closing line CI reads:
// "N passed, N failed". Extra arguments go to vitest (e.g. `npm test -- packages/core`).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const extra = process.argv.slice(2);
const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit', shell: false }).status ?? 1;

let failedChecks = 0;
if (extra.length === 0) {
  console.log('== typecheck (tsc --noEmit) ==');
  if (run('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']) !== 0) failedChecks++;
  // The browser app has its own settings (DOM, JSX).
  if (run('npx', ['tsc', '-p', 'packages/web/tsconfig.json', '--noEmit']) !== 0) failedChecks++;
  console.log('== lint (biome check) ==');
  if (run('npx', ['biome', 'check', '.']) !== 0) failedChecks++;
}

const dir = mkdtempSync(join(tmpdir(), 'openiomt-test-'));
const report = join(dir, 'vitest.json');
const status = run('npx', [
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${report}`,
  ...extra,
]);
let passed = 0;
let failed = 0;
try {
  const json = JSON.parse(readFileSync(report, 'utf8'));
  passed = json.numPassedTests ?? 0;
  // Failed tests, plus test files that failed without a failing test (they did not load or run).
  const brokenFiles = (json.testResults ?? []).filter(
    (f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'),
  ).length;
  failed = (json.numFailedTests ?? 0) + brokenFiles;
  if (json.numTotalTests === 0) failed++;
} catch {
  failed++;
}
rmSync(dir, { recursive: true, force: true });
failed += failedChecks;
if (status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
