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
import { startX11vnc, type VncServer } from './helpers/vnc-servers.js';
import { startXvfb, type XDisplay } from './helpers/x-display.js';

const NEEDS: Binary[] = ['Xvfb', 'x11vnc', 'xsetroot', 'xwd', 'xterm', 'xdotool', 'xclip', 'chromium'];
const why = skipUnlessInstalled(NEEDS);
const SKIP = why === undefined ? {} : { skip: why };

const W = 640;
const H = 480;

let browser: TestBrowser;
let pages: GuacPageServer;
let engine: EngineProcess;
let lite: LiteServer;
const stops: (() => Promise<void>)[] = [];

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
): Promise<void> {
  let last = '';
  await pollUntil(
    `canvas region ${JSON.stringify(r)} to equal the X display`,
    async () => {
      const want = await x.screenshotRegion(r.x, r.y, r.width, r.height);
      const got = await client.readPixels(r.x, r.y, r.width, r.height);
      const d = diffRgba(want, got, tolerance);
      last = JSON.stringify(d);
      return d.mismatched === 0 ? true : undefined;
    },
    15_000,
    200,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last diff ${last}`);
  });
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

  it('x11vnc without password: root colour, an xterm window, a moved window (CopyRect)', {
    timeout: 60_000,
  }, async (t) => {
    const x = await startXvfb({ width: W, height: H });
    stops.push(() => x.stop());
    await x.setRootColor('#336699');
    const vnc = await startX11vnc(x);
    stops.push(() => vnc.stop());
    const client = await openSession(t, vnc);
    const status = await client.waitForSyncs(1);
    assert.equal(status.clientState, CLIENT_STATE.CONNECTED);
    await client.waitForPixels(
      'root colour',
      { x: 0, y: 0, width: W, height: H },
      (rgba) => matchColor(rgba, parseColor('#336699')).matching === W * H,
    );
    const term = await x.startXterm({ geometry: '30x8+40+50', args: ['-bg', '#ffff00', '-fg', '#000000'] });
    await waitForSameAsX(client, x, { x: 0, y: 0, width: W, height: H });
    await x.xdotool('windowmove', term.windowId, '300', '200');
    await waitForSameAsX(client, x, { x: 0, y: 0, width: W, height: H });
    const after = await client.status();
    assert.equal(after.errors.length, 0, JSON.stringify(after.errors));
    await client.disconnect();
    await vnc.stop();
  });
});

void STATUS;
void sleep;
