#!/usr/bin/env node
// Adds up the vitest JSON reports (test-results.json, written by vitest.shared.ts) of every workspace
// package into one line: `tests: N passed, N failed[, N skipped]`. Exits 1 when anything failed, when a
// package with tests left no report, or when no test ran at all.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
const brokenSuites = [];
for (const group of ['packages', 'examples', 'bench', 'scripts']) {
  const base = join(root, group);
  if (!existsSync(base)) continue;
  const dirs =
    group === 'bench' || group === 'scripts' ? [base] : readdirSync(base).map((d) => join(base, d));
  for (const dir of dirs) {
    if (!existsSync(join(dir, 'vitest.config.ts'))) continue;
    const file = join(dir, 'test-results.json');
    if (!existsSync(file)) {
      missing.push(dir.slice(root.length));
      continue;
    }
    const report = JSON.parse(readFileSync(file, 'utf8'));
    passed += report.numPassedTests ?? 0;
    failed += report.numFailedTests ?? 0;
    skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    // A file that failed to load (syntax error, failed globalSetup) counts no test but is a failure.
    for (const suite of report.testResults ?? [])
      if (suite.status === 'failed' && (suite.assertionResults ?? []).every((a) => a.status !== 'failed'))
        brokenSuites.push(suite.name.slice(root.length));
  }
}
failed += brokenSuites.length + missing.length;
for (const m of missing) console.error(`no test report from ${m}: its test run did not finish`);
for (const s of brokenSuites) console.error(`test file failed to run: ${s}`);
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
