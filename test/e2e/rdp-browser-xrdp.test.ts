// An xrdp 0.9 desktop in the browser: headless Chromium loads the proxy's own client page
// (guacamole-common-js) with a signed token; `gatehouse proxy` runs the RDP engine against xrdp + sesman
// (an Xorg/xorgxrdp session of a throwaway account, see helpers/xrdp-server.ts). The session's root colour
// and windows appear on the canvas exactly as on the session's X display; typed keys reach an xterm in the
// session; a browser resize resizes the session through the display-update channel, and the server's
// DesktopResize reaches the page; clipboard text goes both ways through cliprdr (xrdp-chansrv), Unicode
// included, and disable-copy / disable-paste stop it. The freerdp-shadow-cli cases: ./rdp-browser.test.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import { skipUnlessInstalled } from './helpers/binaries.js';
import type { TestBrowser } from './helpers/browser.js';
import type { ProxyProcess } from './helpers/gatehouse-proxy.js';
import { matchColor, parseColor } from './helpers/pixels.js';
import { pollUntil, sleep } from './helpers/processes.js';
import {
  canvasPixels,
  engineParamNames,
  engineProcesses,
  type OpenOptions,
  openRdpPage,
  pageState,
  pointerTo,
  rdpTarget,
  startRdpBrowserRig,
  stopRdpBrowserRig,
  waitForCanvasMatch,
  waitForState,
  windowGeometry,
} from './helpers/rdp-browser-page.js';
import { engineSkipReason } from './helpers/rdp-engine-process.js';
import { startXrdp, type XrdpServer, xrdpSkipReason } from './helpers/rdp-servers.js';
import type { XDisplay } from './helpers/x-display.js';

const why =
  engineSkipReason() ??
  xrdpSkipReason() ??
  skipUnlessInstalled([
    'xrdp',
    'xrdp-sesman',
    'Xorg',
    'xauth',
    'openssl',
    'unshare',
    'useradd',
    'xterm',
    'xsetroot',
    'xwd',
    'xdotool',
    'xdpyinfo',
    'chromium',
  ]);
const SKIP = why === undefined ? {} : { skip: why };
const T = { timeout: 90_000 };
/** Why the clipboard cases cannot run: the engine was built without its cliprdr module. */
const noClipboard =
  why === undefined && !engineParamNames().includes('normalize-clipboard')
    ? 'the engine has no clipboard module (its args lack normalize-clipboard)'
    : undefined;
const CLIP = { ...T, ...(noClipboard ? { skip: noClipboard } : {}) };
const ROOT = '#2a7f62';
const TYPING_TITLE = 'gatehouse-typing';
const APPEND_LINES = `while IFS= read -r line; do printf "%s\\n" "$line" >> "$HOME/typed.txt"; done`;
/** The session: an xterm that appends every line typed into it to ~/typed.txt, and another one to look at. */
const SESSION = [
  `xterm -geometry 50x4+40+40 -bg '#ffffff' -fg '#000000' -T ${TYPING_TITLE} -e sh -c '${APPEND_LINES}' &`,
  `exec xterm -geometry 40x8+360+260 -bg '#203040' -fg '#e0e0e0' -T gatehouse-xrdp-session`,
].join('\n');

/**
 * About 14 KB of UTF-8 in lines (several 6048-byte blobs). Not much more: xrdp 0.9.21's chansrv garbles
 * non-ASCII text pasted into the session beyond ~100 KB (the same with xfreerdp as the client).
 */
function longText(from: string): string {
  const line = `The quick brown fox from the ${from} jumps over the lazy dog. Grüße € ✓ 日本語\n`;
  return `${line.repeat(Math.ceil(12_000 / line.length))}end ${Date.now()}`;
}

describe('RDP through the proxy in Chromium: xrdp 0.9 (Xorg session)', { ...SKIP, timeout: 400_000 }, () => {
  let xrdp: XrdpServer;
  let proxy: ProxyProcess;
  let browser: TestBrowser;
  /** The session's X display, once a client has logged in. */
  let session: XDisplay | undefined;

  before(async () => {
    xrdp = await startXrdp({ rootColor: ROOT, sessionCommand: SESSION });
    ({ proxy, browser } = await startRdpBrowserRig('rdp-browser-xrdp'));
  });

  after(() => stopRdpBrowserRig(proxy, browser, xrdp));

  async function open(t: TestContext, extra: Record<string, string> = {}, opts: OpenOptions = {}) {
    const p = await openRdpPage(browser, proxy, rdpTarget(xrdp, { security: 'tls', ...extra }), {
      viewport: { width: 800, height: 600 },
      timeoutMs: 30_000,
      ...opts,
    });
    t.after(() => p.close());
    session ??= await xrdp.sessionDisplay(20_000);
    return p.page;
  }

  /** Waits until the session's X screen has this size (xdpyinfo). */
  async function sessionSize(width: number, height: number): Promise<void> {
    await pollUntil(
      `the session's X screen at ${width}x${height}`,
      async () => {
        const r = await session!.run('xdpyinfo', [], { check: false });
        return r.stdout.toString().includes(`dimensions:    ${width}x${height} pixels`) ? true : undefined;
      },
      15_000,
      200,
    );
  }

  it("the session's root colour and windows appear on the canvas exactly", T, async (t) => {
    const t0 = Date.now();
    const page = await open(t);
    const s = await pageState(page);
    assert.deepEqual([s.width, s.height], [800, 600]);
    await sessionSize(800, 600);
    // A corner of the root window (the xterms sit further in).
    await pollUntil(
      'the root colour in the top left corner',
      async () => {
        const m = matchColor(
          await canvasPixels(page, { x: 0, y: 0, width: 30, height: 30 }),
          parseColor(ROOT),
          0,
        );
        return m.matching === m.pixels ? true : undefined;
      },
      15_000,
      100,
    );
    const shownMs = Date.now() - t0;
    const d = await waitForCanvasMatch(page, session!, { x: 0, y: 0, width: 800, height: 600 }, 0);
    process.stderr.write(
      `rdp-browser xrdp: page open -> root colour shown ${shownMs} ms; ${d.pixels} px exact\n`,
    );
    // A change on the session's display follows.
    await session!.setRootColor('#803010');
    await waitForCanvasMatch(page, session!, { x: 0, y: 0, width: 800, height: 600 }, 0);
    await session!.setRootColor(ROOT);
    await waitForCanvasMatch(page, session!, { x: 0, y: 0, width: 800, height: 600 }, 0);
  });

  /** Moves the session's pointer into the typing xterm (no window manager: the focus follows it). */
  async function focusTypingXterm(page: Page): Promise<void> {
    const id = (await session!.xdotool('search', '--name', `^${TYPING_TITLE}$`)).split('\n')[0]!;
    const g = await windowGeometry(session!, id);
    await pointerTo(page, session!, g.x + 20, g.y + 20);
  }

  /** Waits until ~/typed.txt has this line (the session's locale may be UTF-8 or Latin-1). */
  async function typedLine(line: string): Promise<void> {
    const file = join(xrdp.account.home, 'typed.txt');
    const lines = (): string[] => {
      try {
        const bytes = readFileSync(file);
        return [...bytes.toString('utf8').split('\n'), ...bytes.toString('latin1').split('\n')];
      } catch {
        return [];
      }
    };
    await pollUntil(
      'the line in ~/typed.txt',
      () => (lines().includes(line) ? true : undefined),
      10_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; typed.txt: ${JSON.stringify(lines().slice(-3))}`);
    });
  }

  it('typed keys reach an xterm in the session', T, async (t) => {
    const page = await open(t);
    await focusTypingXterm(page);
    const line = `typed in Chromium ${Date.now()}: Hello, xrdp! {}[]|~`;
    await page.keyboard.type(line, { delay: 10 });
    await page.keyboard.press('Enter');
    await typedLine(line);
  });

  // Each layout's characters, typed one key event each (as a user of that keyboard would), reach the session
  // as those characters: the engine sends the layout's scancodes and the layout id; xrdp maps them back
  // with its km-<id>.ini and sets the session's X layout to match. Latin-1 only: xterm writes what it
  // gets in the session's locale, and € is not in Latin-1.
  for (const [layout, text] of [
    ['de-de-qwertz', "zyZY äöüÄÖÜß §°²³µ @{[]}\\|~ <>#'+*-_"],
    ['fr-fr-azerty', 'azqwmAZQWM &é"\'(-è_çà)= 1234567890 °+ ù%*µ <> ,?;.:/!§ @#{[|\\^]}'],
    ['en-gb-qwerty', 'qwerty QWERTY "£@#~¬\\| 2345'],
    ['es-es-qwerty', "ñÑçÇ ºª¡¿·\\|@#~¬ []{} '?+*<>"],
    ['it-it-qwerty', "òàùèéìç°§£ \\|[]{}@# '?^+*<>"],
    ['de-ch-qwertz', 'zyZY üöä èéà §°+"*ç%&/()=?\' @#|¢¬ []{}$£<>\\ !'],
    ['sv-se-qwerty', 'åäöÅÄÖ §½!"#¤%&/()=? @£$ {[]}\\| \'*<>µ'],
  ] as const) {
    it(`typed keys with server-layout ${layout} arrive as the same characters`, T, async (t) => {
      const page = await open(t, { 'server-layout': layout });
      await focusTypingXterm(page);
      const line = `${layout} ${Date.now()} ${text}`;
      // Playwright's keyboard only knows the US layout's keys: send each character as a key (trusted
      // keyDown/keyUp with that key and text) through the DevTools protocol, as another keyboard would.
      const cdp = await page.context().newCDPSession(page);
      for (const ch of line) {
        await cdp.send('Input.dispatchKeyEvent', { type: 'keyDown', key: ch, text: ch, unmodifiedText: ch });
        await cdp.send('Input.dispatchKeyEvent', { type: 'keyUp', key: ch });
      }
      await cdp.detach();
      await page.keyboard.press('Enter');
      await typedLine(line);
    });
  }

  /**
   * Resizes the page's viewport; waits until the page's display, the session's X screen and the canvas (equal
   * to the session's pixels) have that size. Returns the time until the page's display had it.
   */
  async function resizeTo(page: Page, width: number, height: number): Promise<number> {
    const t0 = Date.now();
    await page.setViewportSize({ width, height });
    const s = await waitForState(
      page,
      `the display at ${width}x${height}`,
      (x) => x.width === width && x.height === height,
      { timeoutMs: 20_000 },
    );
    const ms = Date.now() - t0;
    assert.equal(s.state, 'connected');
    await sessionSize(width, height);
    await waitForCanvasMatch(page, session!, { x: 0, y: 0, width, height }, 0);
    return ms;
  }

  it(
    'a browser resize resizes the session (display-update); DesktopResize reaches the page',
    T,
    async (t) => {
      const page = await open(t, { 'resize-method': 'display-update' });
      await sessionSize(800, 600);
      const resizedMs = await resizeTo(page, 1024, 700);
      // And back, smaller.
      await resizeTo(page, 640, 480);
      process.stderr.write(`rdp-browser xrdp: viewport resize -> display resized ${resizedMs} ms\n`);
    },
  );

  it(
    'resize-method=reconnect: a browser resize reconnects at the new size; the session goes on',
    T,
    async (t) => {
      const page = await open(t, { 'resize-method': 'reconnect' });
      await sessionSize(800, 600);
      const engines = engineProcesses(proxy.process.pid);
      const resizedMs = await resizeTo(page, 960, 720);
      // The same engine process (one session, reconnected: no new one), and input still reaches the session.
      const now = engineProcesses(proxy.process.pid);
      assert.ok(now.length > 0 && now.every((pid) => engines.includes(pid)), `engines ${engines} -> ${now}`);
      await focusTypingXterm(page);
      const line = `after reconnect ${Date.now()}`;
      await page.keyboard.type(line, { delay: 10 });
      await page.keyboard.press('Enter');
      await typedLine(line);
      process.stderr.write(
        `rdp-browser xrdp: viewport resize -> reconnected at the new size ${resizedMs} ms\n`,
      );
    },
  );

  /** Opens the page's clipboard panel and sends `text` as the page does when the panel's text changes. */
  async function sendFromPanel(page: Page, text: string): Promise<void> {
    if (await page.isHidden('#clipboard-panel')) await page.click('#clipboard-toggle');
    await page.fill('#clipboard-text', text);
    await page.dispatchEvent('#clipboard-text', 'change');
  }

  /**
   * Makes the session's CLIPBOARD hold `text` (xclip), again every 3 s, until the page's clipboard panel shows
   * it: xrdp-chansrv announces a selection change to the client, which then asks for the text.
   */
  async function offerFromSession(page: Page, text: string): Promise<void> {
    let lastSet = 0;
    await pollUntil(
      `the page's clipboard panel to show ${JSON.stringify(text)}`,
      async () => {
        if (Date.now() - lastSet > 3000) {
          lastSet = Date.now();
          await session!.writeClipboard(text);
        }
        return (await page.inputValue('#clipboard-text')) === text ? true : undefined;
      },
      20_000,
      200,
    ).catch(async (err: Error) => {
      throw new Error(
        `${err.message}; the panel shows ${JSON.stringify(await page.inputValue('#clipboard-text'))}`,
      );
    });
  }

  /** Waits until the session's CLIPBOARD (read through xrdp-chansrv from the engine) is `text`. */
  async function sessionClipboardIs(text: string): Promise<void> {
    let last: string | null = null;
    await pollUntil(
      `the session's CLIPBOARD to be ${JSON.stringify(text)}`,
      async () => {
        last = await session!.readClipboard();
        return last === text ? true : undefined;
      },
      20_000,
      300,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last read ${JSON.stringify(last)}`);
    });
  }

  it('clipboard, session -> browser: text copied in the session reaches the page', CLIP, async (t) => {
    const page = await open(t);
    await offerFromSession(page, `from the xrdp session ${Date.now()}`);
    // Beyond ASCII (CF_UNICODETEXT <-> UTF-8), and several lines. Only the Basic Multilingual Plane: xrdp 0.9's
    // chansrv mangles surrogate pairs either way (an emoji arrives as U+F600; one sent becomes 6 x U+FFFD).
    await offerFromSession(page, `Grüße, ÿ € ✓ 日本語\nsecond line ${Date.now()}`);
    // Longer than one blob (6048 bytes): several blobs, multi-byte characters split between them.
    await offerFromSession(page, longText('session'));
  });

  it('clipboard, browser -> session: text set in the page can be pasted in the session', CLIP, async (t) => {
    const page = await open(t);
    const text = `from the browser ${Date.now()}`;
    await sendFromPanel(page, text);
    await sessionClipboardIs(text);
    const unicode = `Grüße, ÿ € ✓ 日本語\nline two ${Date.now()}`;
    await sendFromPanel(page, unicode);
    await sessionClipboardIs(unicode);
    const long = longText('browser');
    await sendFromPanel(page, long);
    await sessionClipboardIs(long);
  });

  it('clipboard: disable-copy and disable-paste (engine parameters) stop each direction', CLIP, async (t) => {
    const page = await open(t, { 'disable-copy': 'true', 'disable-paste': 'true' });
    const marker = `must stay in the session ${Date.now()}`;
    await session!.writeClipboard(marker);
    await sendFromPanel(page, `must stay in the browser ${Date.now()}`);
    await sleep(3000);
    assert.notEqual(await page.inputValue('#clipboard-text'), marker);
    assert.equal(await session!.readClipboard(), marker);
    assert.equal((await pageState(page)).state, 'connected');
  });

  // Last: it ends the shared session (a later connection would start a new one).
  it('logging off inside the session ends the page normally (disconnected, no error)', {
    ...T,
  }, async (t) => {
    const page = await open(t);
    const id = (await session!.xdotool('search', '--name', '^gatehouse-xrdp-session$')).split('\n')[0]!;
    const pid = Number(await session!.xdotool('getwindowpid', id));
    process.kill(pid, 'SIGTERM'); // the session's last command: its end is the user's logoff
    const s = await waitForState(page, 'the session to end', (x) => x.state !== 'connected', {
      failOnError: false,
    });
    assert.equal(s.state, 'disconnected', JSON.stringify(s));
  });
});
