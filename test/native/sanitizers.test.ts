/**
 * Builds the ASan+UBSan variant of the addon (build-asan/) and runs asan-corpus-runner.js in a child node
 * with the sanitizer runtime preloaded: the seed corpus and generated adversarial streams at random
 * chunkings, native compared with TypeScript. Passes when the child exits 0 with no sanitizer report.
 *
 * The runtime comes from the compiler that built the addon (g++: libasan.so; clang:
 * libclang_rt.asan-<arch>.so), found by sanitizerPreload() from build-asan/CMakeCache.txt. Node itself is
 * not instrumented, so ASan must be the first library loaded (LD_PRELOAD), and leak checking is off
 * because node does not free everything at exit.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadNativeAddon } from '../../src/native/addon.js';
import { framerImplementation } from '../../src/native/select-framer.js';
import { fromRoot } from '../helpers/paths.js';
import { loadBuildScript } from './build-script.js';
import { runChild, tail } from './run-child.js';

const SANITIZER_REPORT =
  /ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer|SUMMARY: \w+Sanitizer/;

test('ASan+UBSan addon: seed corpus and generated streams match TypeScript, no sanitizer report', {
  timeout: 600_000,
  skip: process.env.GATEHOUSE_SKIP_NATIVE === '1' ? 'GATEHOUSE_SKIP_NATIVE=1' : false,
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
  skip: process.env.GATEHOUSE_SKIP_NATIVE === '1' ? 'GATEHOUSE_SKIP_NATIVE=1' : false,
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
