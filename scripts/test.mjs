#!/usr/bin/env node
// The test command (`npm test`): system packages, build, lint, then every test file under node's runner.
//
//   node scripts/test.mjs [FILTER...]     FILTER: substrings of test file paths to run only those
//
// Bounded: each test has a timeout (GATEHOUSE_TEST_TIMEOUT_MS, default 10 min); the fuzz run is bounded
// by GATEHOUSE_FUZZ_SECONDS.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const filters = process.argv.slice(2);

function step(name, cmd, cmdArgs, opts = {}) {
  process.stderr.write(`\n== ${name}\n`);
  const r = spawnSync(cmd, cmdArgs, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) {
    process.stderr.write(`\n== ${name} failed (exit ${r.status ?? r.signal})\n`);
    process.exit(r.status || 1);
  }
}

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

step('system packages (test profile)', 'bash', ['scripts/install-system-deps.sh', 'test']);
step('build', process.execPath, ['scripts/build.mjs']);
step('lint and format (biome)', process.execPath, [
  join(root, 'node_modules', '@biomejs', 'biome', 'bin', 'biome'),
  'check',
  '--error-on-warnings',
  '.',
]);

let files = findTests(join(root, 'dist', 'test')).map((f) => relative(root, f));
if (filters.length > 0) files = files.filter((f) => filters.some((flt) => f.includes(flt)));
if (files.length === 0) {
  process.stderr.write('no test files matched\n');
  process.exit(1);
}
const timeout = process.env.GATEHOUSE_TEST_TIMEOUT_MS ?? '600000';
step(`tests (${files.length} files)`, process.execPath, [
  '--test',
  `--test-timeout=${timeout}`,
  '--test-concurrency=2',
  ...files,
]);
