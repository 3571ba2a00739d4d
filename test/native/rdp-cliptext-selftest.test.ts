// The RDP engine's clipboard text conversions (native/rdp/src/cliprdr_text.*) on their own:
// native/rdp/test/cliptext_selftest.cc checks UTF-16LE <-> UTF-8 with surrogate pairs (the e2e server, xrdp
// 0.9, cannot carry characters outside the BMP), repairs of invalid input, Windows-1252, the size limit,
// line endings and base64. Runs the release build (the ASan/UBSan one is run by hand: running it from here
// could catch sanitizers.test relinking build-asan/).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runRdpSelftest } from './rdp-sanitizer-runs.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const RELEASE = join(ROOT, 'build', 'Release', 'gatehouse-rdp-cliptext-selftest');

describe('gatehouse-rdp clipboard text self-test', () => {
  it(
    'passes (release build)',
    { timeout: 30_000, skip: existsSync(RELEASE) ? false : `${RELEASE} not built` },
    () => runRdpSelftest(RELEASE),
  );
});
