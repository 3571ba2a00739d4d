/**
 * Builds the ASan+UBSan variant (build-asan/: the addon and the RDP engine) and runs asan-corpus-runner.js
 * in a child node with the sanitizer runtime preloaded: the seed corpus and generated adversarial streams at
 * random chunkings, native compared with TypeScript. Passes when the child exits 0 with no sanitizer report.
 * Then the RDP engine's ASan build: its self-tests (every build-asan/Release/gatehouse-rdp-*selftest), and
 * the RDP session tests (rdp-native.test, rdp-engine.test) in a child test run against it with leak
 * checking on (rdp-sanitizer-runs.ts). Every ASan use of build-asan/ lives in this one file, whose tests
 * run one after another, so no other test reads build-asan/ while it is being rebuilt.
 *
 * The addon's runtime comes from the compiler that built it (g++: libasan.so; clang:
 * libclang_rt.asan-<arch>.so), found by sanitizerPreload() from build-asan/CMakeCache.txt. Node itself is
 * not instrumented, so ASan must be the first library loaded (LD_PRELOAD), and leak checking is off for
 * the addon because node does not free everything at exit. The engine is an executable linked with its
 * runtime: leak checking is on.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { loadNativeAddon } from '../../src/native/addon.js';
import { framerImplementation } from '../../src/native/select-framer.js';
import { fromRoot } from '../helpers/paths.js';
import { loadBuildScript } from './build-script.js';
import {
  rdpSkipReason,
  runRdpSelftest,
  runRdpSessionTests,
  SANITIZER_REPORT,
  tapFailures,
} from './rdp-sanitizer-runs.js';
import { runChild, tail } from './run-child.js';

const SKIP_NATIVE = process.env.GATEHOUSE_SKIP_NATIVE === '1' ? 'GATEHOUSE_SKIP_NATIVE=1' : undefined;
const SKIP_RDP = SKIP_NATIVE ?? rdpSkipReason();
/** Bound of the child test run (rdp-native + rdp-engine take ~40 s with the ASan engine on 2 cores). */
const RDP_RUN_MS = 300_000;

/** build-asan/Release/<name> after an (incremental) ASan build; fails the test if it was not built. */
async function asanRdpBinary(name: string): Promise<string> {
  const script = await loadBuildScript();
  const built = await script.buildNative({ variant: 'asan', quiet: true });
  assert.ok(built.ok, `ASan build failed: ${built.error}`);
  const path = join(dirname(built.path), name);
  assert.ok(
    existsSync(path),
    `${path} was not built although pkg-config finds FreeRDP 2 and the codecs (see ${built.logPath})`,
  );
  return path;
}

test('ASan+UBSan addon: seed corpus and generated streams match TypeScript, no sanitizer report', {
  timeout: 600_000,
  skip: SKIP_NATIVE ?? false,
}, async () => {
  const script = await loadBuildScript();
  const built = await script.buildNative({ variant: 'asan', quiet: true });
  assert.ok(built.ok, `ASan build failed: ${built.error}`);
  const runtime = script.sanitizerPreload();
  assert.ok(runtime, 'cannot find the ASan runtime of the compiler that built build-asan/');

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LD_PRELOAD: runtime.preload,
    ASAN_OPTIONS: 'detect_leaks=0:halt_on_error=1:abort_on_error=0:exitcode=86',
    UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1:exitcode=87',
    GATEHOUSE_NATIVE_PATH: built.path,
    GATEHOUSE_ASAN_RUNS: process.env.GATEHOUSE_ASAN_RUNS ?? '3000',
  };
  // The test runner's own settings are not for the child.
  delete env.NODE_OPTIONS;
  delete env.NODE_TEST_CONTEXT;
  const r = await runChild(process.execPath, [fromRoot('dist', 'test', 'native', 'asan-corpus-runner.js')], {
    env,
    cwd: fromRoot(),
    timeoutMs: 480_000,
  });
  const report = `exit ${r.status ?? r.signal}${r.timedOut ? ' (timed out)' : ''} after ${r.ms} ms\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr, 80)}`;
  assert.doesNotMatch(r.stderr, SANITIZER_REPORT, report);
  assert.equal(r.status, 0, report);
  assert.match(r.stdout, /asan runtime: /, report);
  assert.match(r.stdout, /all matched/, report);
});

test('a sanitizer build without its runtime preloaded is refused with a reason (loading it would abort node)', {
  timeout: 120_000,
  skip: SKIP_NATIVE ?? false,
}, async () => {
  const script = await loadBuildScript();
  const built = await script.buildNative({ variant: 'asan', quiet: true });
  assert.ok(built.ok, `ASan build failed: ${built.error}`);
  const saved = process.env.GATEHOUSE_NATIVE_PATH;
  process.env.GATEHOUSE_NATIVE_PATH = built.path;
  try {
    const r = loadNativeAddon();
    assert.equal(r.addon, null);
    assert.match(r.reason, /sanitizer build; load it with the ASan runtime in LD_PRELOAD/);
    assert.equal(framerImplementation({}, { GATEHOUSE_CODEC_IMPL: 'auto' }).impl, 'ts');
  } finally {
    if (saved === undefined) delete process.env.GATEHOUSE_NATIVE_PATH;
    else process.env.GATEHOUSE_NATIVE_PATH = saved;
  }
});

test('ASan+UBSan RDP engine: its self-tests (gatehouse-rdp-*selftest) pass with leak checking on', {
  timeout: 300_000,
  skip: SKIP_RDP ?? false,
}, async () => {
  const dir = dirname(await asanRdpBinary('gatehouse-rdp-selftest'));
  const selftests = readdirSync(dir).filter((f) => /^gatehouse-rdp(-[\w-]+)?-selftest$/.test(f));
  for (const name of selftests) runRdpSelftest(join(dir, name));
  console.log(`ran ${selftests.join(', ')}`);
});

test('ASan+UBSan RDP engine: the RDP session tests (rdp-native, rdp-engine) pass, no sanitizer report, no leak', {
  timeout: RDP_RUN_MS + 120_000,
  skip: SKIP_RDP ?? false,
}, async () => {
  const engine = await asanRdpBinary('gatehouse-rdp');
  const run = await runRdpSessionTests(engine, RDP_RUN_MS);
  const { child, counts } = run;
  const report = [
    `child exit ${child.status ?? child.signal}${child.timedOut ? ` (timed out after ${RDP_RUN_MS} ms)` : ''}`,
    ` after ${child.ms} ms; ${JSON.stringify(counts)}`,
    `\n--- failed tests\n${tapFailures(child.stdout)}`,
    `\n--- stdout\n${tail(child.stdout, 40)}\n--- stderr\n${tail(child.stderr, 40)}`,
  ].join('');
  const reports = run.reports.map((r) => r.name);
  const shown = run.reports.slice(0, 3).map((r) => `=== ${r.name}\n${r.text.slice(0, 6000)}`);
  assert.deepEqual(
    reports,
    [],
    `${reports.length} sanitizer report(s) from the ASan engine (${reports.slice(0, 20).join(' ')}), ` +
      `the first 3:\n${shown.join('\n')}\n${report}`,
  );
  assert.deepEqual(run.leftovers, [], `processes of the child run left behind (killed now)\n${report}`);
  assert.equal(child.status, 0, report);
  assert.ok(counts.pass > 0 && counts.fail === 0 && counts.cancelled === 0, report);
  assert.equal(counts.skipped, 0, `the child run skipped tests this run does not skip\n${report}`);
  console.log(`RDP session tests against ${engine}: ${counts.pass} passed in ${child.ms} ms`);
});
