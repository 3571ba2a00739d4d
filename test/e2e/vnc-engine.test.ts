// The VNC engine end to end: Xvfb + x11vnc (with and without a password) and TigerVNC Xvnc, `gatehouse engine`
// as a child process, guacamole-lite 1.2.0 in front of it, and guacamole-common-js in headless Chromium.
// What the X display shows must appear on the browser's canvas; keys, clicks, clipboard and resize go back.
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { STATUS } from '../../src/protocol/guacamole/status.js';
import { type Binary, skipUnlessInstalled } from './helpers/binaries.js';
import { launchBrowser, type TestBrowser } from './helpers/browser.js';
import { type EngineProcess, startGatehouseEngine } from './helpers/gatehouse-engine.js';
import {
  CLIENT_STATE,
  GuacClientPage,
  type GuacPageServer,
  startGuacPageServer,
} from './helpers/guac-client-page.js';
import { type LiteServer, startGuacamoleLite } from './helpers/guacamole-lite-server.js';
import { diffRgba, matchColor, parseColor } from './helpers/pixels.js';
import { leftoverProcesses, pollUntil, sleep } from './helpers/processes.js';
import { startX11vnc, startXvnc, type VncServer } from './helpers/vnc-servers.js';
import { startXvfb, type XDisplay } from './helpers/x-display.js';

const NEEDS: Binary[] = [
  'Xvfb',
  'x11vnc',
  'xsetroot',
  'xwd',
  'xterm',
  'xdotool',
  'xclip',
  'xev',
  'xprop',
  'chromium',
];
const why = skipUnlessInstalled(NEEDS);
const SKIP = why === undefined ? {} : { skip: why };

const W = 640;
const H = 480;

const FULL = { x: 0, y: 0, width: W, height: H };
const skip = (bins: Binary[]): { skip?: string } => {
  const reason = skipUnlessInstalled(bins);
  return reason === undefined ? {} : { skip: reason };
};

let browser: TestBrowser;
let pages: GuacPageServer;
let engine: EngineProcess;
let lite: LiteServer;
const stops: (() => Promise<void>)[] = [];

async function display(t: TestContext, colour: string): Promise<XDisplay> {
  const x = await startXvfb({ width: W, height: H });
  stops.push(() => x.stop());
  t.after(() => x.stop());
  await x.setRootColor(colour);
  return x;
}

async function server(t: TestContext, start: () => Promise<VncServer>): Promise<VncServer> {
  const vnc = await start();
  stops.push(() => vnc.stop());
  t.after(() => vnc.stop());
  return vnc;
}

async function openSession(
  t: TestContext,
  vnc: VncServer,
  settings: Record<string, string> = {},
  size: { width: number; height: number } = { width: W, height: H },
): Promise<GuacClientPage> {
  const page = await browser.newPage();
  t.after(() => page.context().close());
  const client = await GuacClientPage.open(page, pages);
  const data = lite.connectData(
    {
      type: 'vnc',
      settings: {
        hostname: vnc.host,
        port: String(vnc.port),
        password: vnc.password ?? '',
        image: ['image/png', 'image/jpeg', 'image/webp'],
        ...settings,
      },
    },
    { width: size.width, height: size.height, dpi: 96 },
  );
  await client.connect(lite.url, data);
  return client;
}

/** Waits until the canvas region equals the X display's region (allowing `tolerance` per channel). */
async function waitForSameAsX(
  client: GuacClientPage,
  x: XDisplay,
  r: { x: number; y: number; width: number; height: number },
  tolerance = 0,
  label = '',
): Promise<void> {
  let last = '';
  await pollUntil(
    `canvas region ${JSON.stringify(r)} to equal the X display`,
    async () => {
      const want = await x.screenshotRegion(r.x, r.y, r.width, r.height);
      const got = await client.readPixels(r.x, r.y, r.width, r.height);
      const d = diffRgba(want, got, tolerance);
      last = `${JSON.stringify(d)} within ${JSON.stringify(mismatchBox(want, got, tolerance, r.width))}`;
      return d.mismatched === 0 ? true : undefined;
    },
    15_000,
    200,
  ).catch((err: Error) => {
    throw new Error(`${label} ${err.message}; last diff ${last}`);
  });
}

/** The bounding box of the pixels that differ by more than tolerance, relative to the region. */
function mismatchBox(a: Uint8Array, b: Uint8Array, tolerance: number, width: number): unknown[] {
  let [x0, y0, x1, y1] = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, -1, -1];
  let sample = '';
  for (let i = 0; i < a.length; i += 4) {
    let worst = 0;
    for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs((a[i + c] ?? 0) - (b[i + c] ?? 0)));
    if (worst <= tolerance) continue;
    if (sample === '')
      sample = `X ${Array.from(a.subarray(i, i + 3))} vs canvas ${Array.from(b.subarray(i, i + 3))}`;
    const x = (i / 4) % width;
    const y = Math.floor(i / 4 / width);
    [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
  }
  return [x0, y0, x1, y1, sample];
}

describe('VNC engine end to end (guacamole-lite + guacamole-common-js in Chromium)', {
  ...SKIP,
  timeout: 300_000,
}, () => {
  before(async () => {
    browser = await launchBrowser();
    pages = await startGuacPageServer();
    engine = await startGatehouseEngine();
    lite = await startGuacamoleLite({ guacdPort: engine.port });
  });

  after(async () => {
    await Promise.allSettled(stops.map((s) => s()));
    await lite?.stop();
    await engine?.stop();
    await pages?.close();
    await browser?.close();
    const left = leftoverProcesses();
    assert.deepEqual(left, [], `processes left running:\n${left.join('\n')}`);
  });

  it('x11vnc without password: root colour, an xterm window, a moved window', {
    timeout: 60_000,
  }, async (t) => {
    const x = await display(t, '#336699');
    const vnc = await server(t, () => startX11vnc(x));
    const client = await openSession(t, vnc);
    const status = await client.waitForSyncs(1);
    assert.equal(status.clientState, CLIENT_STATE.CONNECTED);
    await client.waitForPixels(
      'root colour',
      { x: 0, y: 0, width: W, height: H },
      (rgba) => matchColor(rgba, parseColor('#336699')).matching === W * H,
    );
    const term = await x.startXterm({ geometry: '30x8+40+50', args: ['-bg', '#ffff00', '-fg', '#000000'] });
    await waitForSameAsX(client, x, FULL);
    await x.xdotool('windowmove', term.windowId, '300', '200');
    await waitForSameAsX(client, x, FULL);
    assert.deepEqual((await client.status()).errors, []);
    await client.disconnect();
  });

  it('x11vnc: a click and keys typed in the browser reach an X client (xev)', {
    timeout: 60_000,
  }, async (t) => {
    const x = await display(t, '#202020');
    const vnc = await server(t, () => startX11vnc(x));
    const xev = x.spawn('xev', ['-geometry', '200x150+300+200', '-event', 'keyboard', '-event', 'button']);
    t.after(() => xev.stop());
    await pollUntil(
      'the xev window',
      async () => {
        const r = await x.run('xdotool', ['search', '--name', '^Event Tester$'], { check: false });
        return r.stdout.toString().trim() || undefined;
      },
      10_000,
    );
    const client = await openSession(t, vnc);
    await client.waitForSyncs(1);
    await client.click(350, 260, 1);
    await pollUntil(
      'ButtonPress in xev',
      () => (/ButtonPress event[\s\S]*?button 1/.test(xev.output()) ? true : undefined),
      10_000,
    );
    await client.click(350, 260, 4);
    await pollUntil(
      'right button in xev',
      () => (/ButtonPress event[\s\S]*?button 3/.test(xev.output()) ? true : undefined),
      10_000,
    );
    await client.typeText('gQ');
    await pollUntil(
      'KeyPress g and Q in xev',
      () => {
        const out = xev.output();
        return /keysym 0x67, g\)/.test(out) && /keysym 0x51, Q\)/.test(out) ? true : undefined;
      },
      10_000,
    );
    await client.disconnect();
  });

  it('x11vnc: clipboard from the browser to X and from X (cut buffer) to the browser', {
    timeout: 60_000,
  }, async (t) => {
    // x11vnc on a display without a window manager neither takes nor watches the X selections reliably; it
    // always mirrors CUT_BUFFER0 both ways, so that is what is checked here (Xvnc checks the selections).
    const x = await display(t, '#204020');
    const vnc = await server(t, () => startX11vnc(x));
    const client = await openSession(t, vnc, { 'clipboard-encoding': 'UTF-8' });
    await client.waitForSyncs(1);
    await client.setClipboard('pasted from the browser');
    await pollUntil(
      'CUT_BUFFER0 set by x11vnc',
      async () => ((await x.cutBuffer()).includes('"pasted from the browser"') ? true : undefined),
      15_000,
    );
    await x.offerCutBuffer('copied in X: café ✓', async () =>
      (await client.status()).clipboard.some((c) => c.text === 'copied in X: café ✓'),
    );
    await client.disconnect();
  });

  it('x11vnc: disable-copy and disable-paste', { timeout: 60_000 }, async (t) => {
    const x = await display(t, '#402020');
    const vnc = await server(t, () => startX11vnc(x));
    const client = await openSession(t, vnc, { 'disable-copy': 'true', 'disable-paste': 'true' });
    await client.waitForSyncs(1);
    await x.writeClipboard('secret in X');
    await x.setCutBuffer('secret cut buffer');
    await client.setClipboard('secret from the browser');
    await sleep(2000);
    assert.deepEqual((await client.status()).clipboard, []);
    assert.equal(await x.readClipboard(), 'secret in X');
    await client.disconnect();
  });

  it('x11vnc with a password: the right one connects, a wrong one ends with 0x0301', {
    timeout: 60_000,
  }, async (t) => {
    const x = await display(t, '#663399');
    const vnc = await server(t, () => startX11vnc(x, { password: 'sesame' }));
    const good = await openSession(t, vnc);
    await good.waitForPixels(
      'root colour',
      { x: 0, y: 0, width: 64, height: 64 },
      (rgba) => matchColor(rgba, parseColor('#663399')).matching === 64 * 64,
    );
    await good.disconnect();
    const bad = await openSession(t, vnc, { password: 'wrong' });
    const s = await bad.waitForError(15_000);
    assert.equal(s.errors[0]?.code, STATUS.CLIENT_UNAUTHORIZED, JSON.stringify(s.errors));
    const line = await engine.waitForLog(/^vnc: /, 5000);
    assert.ok(line);
    const logged = engine.logs().find((l) => l.status === STATUS.CLIENT_UNAUTHORIZED);
    assert.ok(logged, 'the engine logs the refused authentication');
    assert.ok(!JSON.stringify(engine.logs()).includes('sesame'), 'the password never appears in the log');
  });

  it('encodings and colour depths render the same pixels as the X display', {
    timeout: 120_000,
  }, async (t) => {
    const x = await display(t, '#336699');
    await x.startXterm({ geometry: '40x10+20+30', args: ['-bg', '#ffff00', '-fg', '#800000'] });
    await x.startXterm({ geometry: '30x6+280+250', args: ['-bg', '#00ffff', '-fg', '#000080'] });
    await x.run('sh', ['-c', 'xsetroot -solid "#336699"']);
    const vnc = await server(t, () => startX11vnc(x));
    const cases: Array<{ settings: Record<string, string>; tolerance: number }> = [
      { settings: { encodings: 'raw' }, tolerance: 0 },
      { settings: { encodings: 'hextile' }, tolerance: 0 },
      { settings: { encodings: 'rre' }, tolerance: 0 },
      { settings: { encodings: 'zrle' }, tolerance: 0 },
      { settings: { encodings: 'tight' }, tolerance: 0 },
      { settings: { encodings: 'zrle', 'color-depth': '16' }, tolerance: 8 },
      { settings: { encodings: 'hextile', 'color-depth': '8' }, tolerance: 48 },
      { settings: { encodings: 'zrle', 'color-depth': '32', 'force-lossless': 'true' }, tolerance: 0 },
    ];
    for (const c of cases) {
      const client = await openSession(t, vnc, c.settings);
      await client.waitForSyncs(1);
      await waitForSameAsX(client, x, FULL, c.tolerance, JSON.stringify(c.settings));
      await client.disconnect();
    }
  });

  it('Xvnc: pixels, a moved window as copy, resize from the browser (SetDesktopSize), UTF-8 clipboard both ways', {
    ...skip(['Xvnc', 'vncpasswd', 'xwininfo']),
    timeout: 90_000,
  }, async (t) => {
    const vnc = await server(t, () => startXvnc({ width: W, height: H, password: 'tiger' }));
    const x = vnc.display;
    await x.setRootColor('#993333');
    const term = await x.startXterm({ geometry: '30x8+40+50', args: ['-bg', '#ffffff', '-fg', '#000000'] });
    const client = await openSession(t, vnc);
    await client.waitForSyncs(1);
    // Xvnc draws the X pointer into its screen image (which xwd reads) but sends it to us as a cursor: compare
    // with the pointer parked outside the compared region.
    await client.sendMouse(W - 1, H - 1, 0);
    const VIEW = { x: 0, y: 0, width: W - 40, height: H - 40 };
    await waitForSameAsX(client, x, VIEW);
    // Xvnc sends a moved window as CopyRect, which must arrive as `copy`.
    const copies = (await client.status()).opcodes.copy ?? 0;
    await x.xdotool('windowmove', term.windowId, '200', '150');
    await waitForSameAsX(client, x, VIEW);
    const after = await client.status();
    assert.ok((after.opcodes.copy ?? 0) > copies, `window move as copy: ${JSON.stringify(after.opcodes)}`);

    await client.resize(800, 600);
    await client.waitFor('display 800x600', (s) => s.displayWidth === 800 && s.displayHeight === 600, 15_000);
    const root = await x.run('xwininfo', ['-root']);
    assert.match(root.stdout.toString(), /Width: 800[\s\S]*Height: 600/);
    await waitForSameAsX(client, x, VIEW);

    await x.writeClipboard('from Xvnc: ✓ 日本語 ünïcode');
    await client.waitFor(
      'UTF-8 clipboard from Xvnc',
      (s) => s.clipboard.some((c) => c.text === 'from Xvnc: ✓ 日本語 ünïcode'),
      15_000,
    );
    await client.setClipboard('from the browser: ✓ 中文 ß');
    await pollUntil(
      'the X clipboard on Xvnc',
      async () => {
        const got = await x.readClipboard();
        return got === 'from the browser: ✓ 中文 ß' ? got : undefined;
      },
      15_000,
    );
    await client.disconnect();
  });
});
