// The RDP engine's self-tests (native/rdp/test/*_selftest.cc), each a binary of the release build that
// checks one part without a server:
// - display: the Display driven with a fake FreeRDP context (first frame, unchanged repaint, new content, a
//   scroll as a copy hint, a wrong copy hint, a resize): the instructions, and that what the client shows
//   equals the framebuffer;
// - clipboard text: UTF-16LE <-> UTF-8 with surrogate pairs (the e2e server, xrdp 0.9, cannot carry
//   characters outside the BMP), repairs of invalid input, Windows-1252, the size limit, line endings, base64;
// - keymaps: every compiled-in file parses and resolves its parent, the layouts inherit the keys typing no
//   character, known keys of each layout, no two Latin-1 characters on one key and modifier set, and the
//   parser's refusals (unknown flag, unknown parent, cycle, duplicate name).
// The ASan/UBSan build runs the display self-test in sanitizers.test, right after building build-asan/
// (running the sanitizer builds from here could catch that build relinking them).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runRdpSelftest } from './rdp-sanitizer-runs.js';

const RELEASE = join(import.meta.dirname, '..', '..', '..', 'build', 'Release');

for (const [part, binary] of [
  ['display', 'gatehouse-rdp-selftest'],
  ['clipboard text', 'gatehouse-rdp-cliptext-selftest'],
  ['keymap', 'gatehouse-rdp-keymap-selftest'],
] as const) {
  const path = join(RELEASE, binary);
  describe(`gatehouse-rdp ${part} self-test`, () => {
    it(
      'passes (release build)',
      { timeout: 40_000, skip: existsSync(path) ? false : `${path} not built` },
      () => runRdpSelftest(path),
    );
  });
}
