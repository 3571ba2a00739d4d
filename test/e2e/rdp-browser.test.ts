// An RDP desktop in the browser: headless Chromium loads the proxy's own client page (guacamole-common-js)
// with a signed token; `gatehouse proxy` starts one gatehouse-rdp process for the session, which connects to
// freerdp-shadow-cli sharing an Xvfb display. The canvas equals the X display (exactly with disable-gfx; with
// the graphics pipeline on, within what a lossy codec would need); typed keys and clicks reach X clients; NLA
// with a SAM file lets the right password in and answers a wrong one with 0x0301; an unreachable port ends
// with 0x0207; a browser resize leaves a server without display-update at its own size, and the pointer lands
// right on the scaled picture. xrdp: ./rdp-browser-xrdp.test.ts.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { after, before, describe, it, type TestContext } from 'node:test';
import { STATUS } from '../../src/protocol/guacamole/status.js';
import { skipUnlessInstalled } from './helpers/binaries.js';
import type { TestBrowser } from './helpers/browser.js';
import { pagePoint } from './helpers/client-page-hook.js';
import { freePort } from './helpers/free-port.js';
import type { ProxyProcess } from './helpers/gatehouse-proxy.js';
import { diffRgba } from './helpers/pixels.js';
import { type ProcessGroup, pollUntil, sleep } from './helpers/processes.js';
import {
  canvasPixels,
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
import { type ShadowServer, startShadowServer } from './helpers/rdp-servers.js';
import { startXvfb, type XDisplay } from './helpers/x-display.js';

const why =
  engineSkipReason() ??
  skipUnlessInstalled([
    'Xvfb',
    'freerdp-shadow-cli',
    'winpr-hash',
    'xsetroot',
    'xwd',
    'xterm',
    'xdotool',
    'xev',
    'chromium',
  ]);
const SKIP = why === undefined ? {} : { skip: why };
const T = { timeout: 60_000 };
const W = 1024;
const H = 768;
const FULL = { x: 0, y: 0, width: W, height: H };
const ROOT = '#336699';
/**
 * With GFX on, the largest channel error allowed (a lossy codec: RemoteFX, H.264). Observed: 0, since the
 * engine offers neither RemoteFX nor H.264 (Debian's FreeRDP 2 has none) and the shadow server's updates are
 * lossless.
 */
const GFX_TOLERANCE = 40;

let display: XDisplay;
let shadow: ShadowServer;
let proxy: ProxyProcess;
let browser: TestBrowser;

async function open(t: TestContext, extra: Record<string, string> = {}, opts: OpenOptions = {}) {
  const p = await openRdpPage(browser, proxy, rdpTarget(shadow, { security: 'tls', ...extra }), opts);
  t.after(() => p.close());
  return p.page;
}

function readIfThere(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** How many sessions so far reported the graphics pipeline active (the engine's log, through the proxy's). */
function gfxActiveLines(): number {
  return proxy.logs().filter((l) => l.msg === 'rdp engine: graphics pipeline (GFX) active').length;
}

/** Coloured rectangles (xterm windows with matching foreground, background and cursor) and a text window. */
async function drawScene(t: TestContext): Promise<string[]> {
  const ids: string[] = [];
  const boxes: Array<[string, string]> = [
    ['#e0301e', '20x6+40+40'],
    ['#22cc44', '30x8+520+90'],
    ['#f5d000', '12x20+300+380'],
  ];
  for (const [color, geometry] of boxes) {
    const w = await display.startXterm({
      geometry,
      args: ['-bg', color, '-fg', color, '-cr', color, '-bw', '0'],
    });
    t.after(() => w.stop());
    ids.push(w.windowId);
  }
  const text = await display.startXterm({
    geometry: '56x14+560+420',
    args: ['-bg', '#fdf6e3', '-fg', '#073642', '-e', 'sh', '-c', 'ls -l /usr/bin | head -14; exec sleep 120'],
  });
  t.after(() => text.stop());
  await sleep(500); // the text printed
  return ids;
}

describe('RDP through the proxy in Chromium: freerdp-shadow-cli (TLS) on Xvfb', {
  ...SKIP,
  timeout: 400_000,
}, () => {
  let xev: ProcessGroup;

  before(async () => {
    display = await startXvfb({ width: W, height: H });
    await display.setRootColor(ROOT);
    shadow = await startShadowServer({ display, security: 'tls' });
    ({ proxy, browser } = await startRdpBrowserRig('rdp-browser'));
  });

  after(() => stopRdpBrowserRig(proxy, browser, xev, shadow, display));

  it('disable-gfx: the canvas equals the X display exactly, and follows its changes', T, async (t) => {
    const [box] = await drawScene(t);
    const gfxBefore = gfxActiveLines();
    const t0 = Date.now();
    const page = await open(t, { 'disable-gfx': 'true' });
    const first = await waitForCanvasMatch(page, display, FULL, 0);
    const shownMs = Date.now() - t0;
    assert.deepEqual(await pageState(page).then((s) => [s.width, s.height]), [W, H]);
    // A new root colour and a moved window.
    await display.setRootColor('#7a1f5c');
    await display.xdotool('windowmove', box!, '180', '600');
    await waitForCanvasMatch(page, display, FULL, 0);
    await display.setRootColor(ROOT);
    await waitForCanvasMatch(page, display, FULL, 0);
    assert.equal(gfxActiveLines(), gfxBefore, 'disable-gfx: the graphics pipeline was used');
    process.stderr.write(
      `rdp-browser shadow disable-gfx: page open -> canvas equal to X ${shownMs} ms (${first.pixels} px, exact)\n`,
    );
  });

  it('GFX on: the graphics pipeline is used; the canvas matches the X display', T, async (t) => {
    await drawScene(t);
    const before = gfxActiveLines();
    const page = await open(t);
    const d = await waitForCanvasMatch(page, display, FULL, GFX_TOLERANCE, 20_000);
    assert.equal(gfxActiveLines(), before + 1, 'the engine did not report the graphics pipeline');
    await sleep(1000); // whatever refinement follows
    const exact = diffRgba(await display.screenshotRegion(0, 0, W, H), await canvasPixels(page, FULL), 0);
    process.stderr.write(
      `rdp-browser shadow GFX: max channel error ${exact.maxDelta}, ${exact.mismatched}/${exact.pixels} px not exact\n`,
    );
    assert.ok(d.maxDelta <= GFX_TOLERANCE);
    // Solid areas come through (nearly) exactly: a patch of the root window.
    const root = diffRgba(
      await display.screenshotRegion(200, 250, 64, 64),
      await canvasPixels(page, { x: 200, y: 250, width: 64, height: 64 }),
      8,
    );
    assert.equal(root.mismatched, 0, JSON.stringify(root));
  });

  it('typed keys and mouse clicks reach X clients on the shadowed display', T, async (t) => {
    const out = `/tmp/gatehouse-rdp-browser-${process.pid}-${Date.now()}`;
    t.after(() => rmSync(out, { force: true }));
    const term = await display.startXterm({
      geometry: '40x6+100+100',
      args: ['-e', 'sh', '-c', `IFS= read -r line; printf %s "$line" > ${out}`],
    });
    t.after(() => term.stop());
    xev = display.spawn('xev', ['-geometry', '200x150+600+400', '-event', 'keyboard', '-event', 'button']);
    await pollUntil(
      'the xev window',
      async () => (await display.xdotool('search', '--name', '^Event Tester$').catch(() => '')) || undefined,
      10_000,
    );
    const page = await open(t, { 'disable-gfx': 'true' });
    // No window manager: the keyboard focus follows the pointer, so the pointer goes into the xterm first.
    const g = await windowGeometry(display, term.windowId);
    await pointerTo(page, display, g.x + 30, g.y + 30);
    const text = 'Hello, RDP! [gatehouse] ~42 "ok"';
    await page.keyboard.type(text, { delay: 10 });
    await page.keyboard.press('Enter');
    const typed = await pollUntil('the typed line in the file', () => readIfThere(out), 10_000);
    assert.equal(typed, text);
    // Clicks: left, right, and a wheel turn, in the xev window.
    const p = await pagePoint(page, 700, 470);
    await page.mouse.click(p.x, p.y);
    await page.mouse.click(p.x, p.y, { button: 'right' });
    await page.mouse.wheel(0, 120);
    await pollUntil(
      'ButtonPress 1, 3 and 5 in xev',
      () => {
        const o = xev.output();
        return [1, 3, 5].every((b) => new RegExp(`ButtonPress event[\\s\\S]*?button ${b},`).test(o))
          ? true
          : undefined;
      },
      10_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nxev:\n${xev.output().slice(-3000)}`);
    });
    // Keys typed with the pointer over xev arrive there too (a shifted one included).
    await page.keyboard.type('qZ');
    await pollUntil(
      'KeyPress q and Z in xev',
      () =>
        /keysym 0x71, q\)/.test(xev.output()) && /keysym 0x5a, Z\)/.test(xev.output()) ? true : undefined,
      10_000,
    );
    await xev.stop();
  });

  it(
    'a browser resize against a server without display-update leaves the desktop at its size',
    T,
    async (t) => {
      const page = await open(t, { 'resize-method': 'display-update', 'disable-gfx': 'true' });
      await waitForCanvasMatch(page, display, FULL, 0);
      await page.setViewportSize({ width: 800, height: 600 });
      await sleep(1500); // the page's debounce (300 ms), the engine's throttle (500 ms)
      const s = await pageState(page);
      assert.equal(s.state, 'connected');
      assert.deepEqual([s.width, s.height], [W, H]);
      // The page scales the picture to the window; the canvas keeps the desktop's pixels.
      await display.setRootColor('#405060');
      await waitForCanvasMatch(page, display, FULL, 0);
      await display.setRootColor(ROOT);
      // The pointer lands where the scaled picture shows it.
      const scale = await page.evaluate(() =>
        (
          globalThis as unknown as { gatehouse: { client: { getDisplay(): { getScale(): number } } } }
        ).gatehouse.client
          .getDisplay()
          .getScale(),
      );
      assert.ok(scale < 1, `scale ${scale}`);
      await pointerTo(page, display, 500, 300);
    },
  );

  it('Caps Lock pressed in the page: letters still arrive in the case the page sends', {
    ...T,
  }, async (t) => {
    const out = `/tmp/gatehouse-rdp-browser-caps-${process.pid}-${Date.now()}`;
    t.after(() => rmSync(out, { force: true }));
    const term = await display.startXterm({
      geometry: '40x6+100+100',
      args: ['-e', 'sh', '-c', `IFS= read -r line; printf %s "$line" > ${out}`],
    });
    t.after(() => term.stop());
    const page = await open(t, { 'disable-gfx': 'true' });
    const g = await windowGeometry(display, term.windowId);
    await pointerTo(page, display, g.x + 30, g.y + 30);
    // Playwright types the characters as given (Caps Lock does not change event.key): keysyms c a p s a B.
    await page.keyboard.press('CapsLock');
    await page.keyboard.type('caps aB', { delay: 10 });
    await page.keyboard.press('CapsLock');
    await page.keyboard.press('Enter');
    const typed = await pollUntil('the typed line', () => readIfThere(out), 10_000);
    assert.equal(typed, 'caps aB');
  });

  it('an unreachable port ends the session with 0x0207 (UPSTREAM_NOT_FOUND)', T, async (t) => {
    const port = await freePort();
    const p = await openRdpPage(browser, proxy, rdpTarget({ ...shadow, port }, { security: 'tls' }), {
      until: 'settled',
    });
    t.after(() => p.close());
    const s = await waitForState(p.page, 'the error', (x) => x.status !== null, { failOnError: false });
    assert.equal(s.state, 'error');
    assert.equal(s.status?.code, STATUS.UPSTREAM_NOT_FOUND, JSON.stringify(s));
  });
});

describe('RDP through the proxy in Chromium: NLA with a SAM file', { ...SKIP, timeout: 120_000 }, () => {
  let x: XDisplay;
  let nla: ShadowServer;
  let nlaProxy: ProxyProcess;
  let nlaBrowser: TestBrowser;

  before(async () => {
    x = await startXvfb({ width: 800, height: 600 });
    await x.setRootColor('#5a5a10');
    nla = await startShadowServer({ display: x, security: 'nla' });
    ({ proxy: nlaProxy, browser: nlaBrowser } = await startRdpBrowserRig('rdp-browser (NLA)'));
  });

  after(() => stopRdpBrowserRig(nlaProxy, nlaBrowser, nla, x));

  it('the right password connects and the desktop shows', T, async (t) => {
    const p = await openRdpPage(nlaBrowser, nlaProxy, rdpTarget(nla, { security: 'nla' }), {
      viewport: { width: 800, height: 600 },
    });
    t.after(() => p.close());
    await waitForCanvasMatch(p.page, x, { x: 0, y: 0, width: 800, height: 600 }, GFX_TOLERANCE);
  });

  it('a wrong password ends the session with 0x0301 (CLIENT_UNAUTHORIZED)', T, async (t) => {
    const p = await openRdpPage(
      nlaBrowser,
      nlaProxy,
      rdpTarget({ ...nla, password: 'not-the-password' }, { security: 'nla' }),
      { until: 'settled' },
    );
    t.after(() => p.close());
    const s = await waitForState(p.page, 'the error', (st) => st.status !== null, { failOnError: false });
    assert.equal(s.state, 'error');
    assert.equal(s.status?.code, STATUS.CLIENT_UNAUTHORIZED, JSON.stringify(s));
    // Worded as the desktop refusing the password, not as a bad link (0x0301 means both, as in guacd).
    assert.equal(
      await p.page.textContent('#status-text'),
      'The remote desktop refused the sign-in (user name or password)',
    );
  });
});
