// The RDP engine's display pipeline without a server: native/rdp/test/display_selftest.cc drives the
// Display with a fake FreeRDP context (first frame, unchanged repaint, new content, a scroll as a copy hint,
// a wrong copy hint, a resize) and checks the instructions and that what the client shows equals the
// framebuffer. Runs the release build, and the ASan/UBSan build when it exists.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const RELEASE = join(ROOT, 'build', 'Release', 'gatehouse-rdp-selftest');
const ASAN = join(ROOT, 'build-asan', 'Release', 'gatehouse-rdp-selftest');

function runSelftest(binary: string): void {
  const r = spawnSync(binary, [], {
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      ...process.env,
      ASAN_OPTIONS: 'detect_leaks=1',
      UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
    },
  });
  assert.equal(r.status, 0, `${binary} exited ${r.status ?? r.signal}:\n${r.stderr}`);
  assert.match(r.stderr, /^0 failure\(s\)$/m);
  assert.doesNotMatch(r.stderr, /FAIL:|ERROR: (Address|Leak)Sanitizer|runtime error:/);
}

describe('gatehouse-rdp display self-test', () => {
  it(
    'passes (release build)',
    { timeout: 40_000, skip: existsSync(RELEASE) ? false : `${RELEASE} not built` },
    () => runSelftest(RELEASE),
  );
  it(
    'passes (ASan/UBSan build)',
    { timeout: 40_000, skip: existsSync(ASAN) ? false : `${ASAN} not built` },
    () => runSelftest(ASAN),
  );
});
