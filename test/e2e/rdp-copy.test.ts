// Moved content reaches the client as Guacamole `copy`, end to end: an xterm scrolls in an Xvnc session behind
// xrdp 0.9 (xrdp's VNC module turns the VNC server's CopyRect updates into RDP ScrBlt orders), the engine
// (driven directly, as in rdp-native.test.ts) replays the ScrBlt as `copy` after checking it against its copy
// of the client's screen, and the client's picture — modelled from every instruction — equals the session's
// screen pixel for pixel afterwards. Neither freerdp-shadow-cli nor an Xorg (xorgxrdp) session sends moved
// content, so this is the one place `copy` is seen coming from a real server.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { skipUnlessInstalled } from './helpers/binaries.js';
import { diffRgba } from './helpers/pixels.js';
import { pollUntil } from './helpers/processes.js';
import { assertNoSanitizerReports, engineSkipReason } from './helpers/rdp-engine-process.js';
import {
  ackSyncs,
  assertNoTempLeft,
  connectAndFirstFrame,
  engine,
  engines,
} from './helpers/rdp-native-rig.js';
import { rdpParams, startXrdp, type XrdpServer, xrdpSkipReason } from './helpers/rdp-servers.js';

const W = 1024;
const H = 768;
const why =
  engineSkipReason() ??
  xrdpSkipReason() ??
  skipUnlessInstalled(['xrdp', 'xrdp-sesman', 'Xvnc', 'xterm', 'xdotool', 'xwd', 'xdpyinfo', 'xsetroot']) ??
  (process.getuid?.() === 0
    ? undefined
    : 'needs root (xrdp runs in its own mount namespace with a test account)');
const SKIP = why ? { skip: why } : {};
const T = { timeout: 90_000 };
/**
 * The session: an xterm that prints 60 numbered lines, one every 50 ms (so that each scrolls the text by a
 * line: xterm redraws rather than scrolls output that comes faster than it can show), each time
 * $HOME/scroll-now appears.
 */
const SESSION = [
  `exec xterm -geometry 80x30+0+0 -bg '#102030' -fg '#f0e0a0' -T gatehouse-scroller -e sh -c '`,
  'while :; do if [ -e "$HOME/scroll-now" ]; then rm -f "$HOME/scroll-now"; ',
  'for i in $(seq 1 60); do echo "scrolled line $i"; sleep 0.05; done; fi; sleep 0.1; done',
  `'`,
].join('');

describe('RDP engine: moved content as copy (xrdp with an Xvnc session)', {
  ...SKIP,
  timeout: 200_000,
}, () => {
  let xrdp: XrdpServer;

  before(async () => {
    xrdp = await startXrdp({ backend: 'Xvnc', sessionCommand: SESSION, rootColor: '#334455' });
  });

  after(async () => {
    for (const e of engines) await e.stop();
    await xrdp?.stop();
    assertNoTempLeft();
    assertNoSanitizerReports(engines);
  });

  it(
    'a scrolling xterm arrives as copy instructions, and the picture equals the session screen',
    T,
    async () => {
      const e = engine();
      await connectAndFirstFrame(e, rdpParams(xrdp, { security: 'tls', 'disable-gfx': 'true' }), [W, H, 96]);
      const session = await xrdp.sessionDisplay(30_000);
      const copiesBefore = e.received.filter((i) => i.opcode === 'copy').length;
      writeFileSync(join(xrdp.account.home, 'scroll-now'), '');
      // The session consumes the trigger and scrolls; keep answering syncs so frames keep coming.
      await pollUntil(
        'copy instructions for the scrolling',
        () => {
          ackSyncs(e);
          return e.received.filter((i) => i.opcode === 'copy').length > copiesBefore ? true : undefined;
        },
        20_000,
        50,
      );
      // Once the scrolling has stopped, the client's picture (copies replayed, images drawn) equals the screen.
      let last = '';
      await pollUntil(
        "the client's picture equal to the session's screen",
        async () => {
          ackSyncs(e);
          await e.drawn();
          const screen = await session.screenshotRegion(0, 0, W, H);
          const d = diffRgba(e.layer.crop(0, 0, W, H), screen, 0);
          last = JSON.stringify(d);
          return d.mismatched === 0 ? true : undefined;
        },
        20_000,
        250,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; last diff ${last}`);
      });
      const copies = e.received.filter((i) => i.opcode === 'copy');
      // Scrolling moves content up within the xterm: same x, a smaller destination y.
      assert.ok(
        copies.some((c) => c.args[1] === c.args[7] && Number(c.args[8]) < Number(c.args[2])),
        copies.map((c) => c.args.join(',')).join(' '),
      );
      process.stderr.write(`rdp-copy: ${copies.length - copiesBefore} copy instruction(s) for the scroll\n`);
      e.closeInput();
      assert.deepEqual(await e.exit(10_000), { code: 0, signal: null });
    },
  );
});
