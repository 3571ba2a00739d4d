// The RDP engine's display pipeline without a server: native/rdp/test/display_selftest.cc drives the
// Display with a fake FreeRDP context (first frame, unchanged repaint, new content, a scroll as a copy hint,
// a wrong copy hint, a resize) and checks the instructions and that what the client shows equals the
// framebuffer. Runs the release build; the ASan/UBSan build runs it in sanitizers.test, right after
// building build-asan/ (running it from here could catch that build relinking the binary).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runRdpSelftest } from './rdp-sanitizer-runs.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const RELEASE = join(ROOT, 'build', 'Release', 'gatehouse-rdp-selftest');

describe('gatehouse-rdp display self-test', () => {
  it(
    'passes (release build)',
    { timeout: 40_000, skip: existsSync(RELEASE) ? false : `${RELEASE} not built` },
    () => runRdpSelftest(RELEASE),
  );
});
