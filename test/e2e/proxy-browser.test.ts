// A browser reaches a desktop through Gatehouse: headless Chromium loads the proxy's own client page with a
// minted token in the URL fragment; the proxy (2 connection managers) runs the VNC engine against Xvfb +
// x11vnc. The canvas must equal the X display; typing and clicking reach an X client (xev); the clipboard
// goes both ways; disable-paste and read-only tokens are honoured.
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import type { Policy } from '../../src/proxy/types.js';
import { skipUnlessInstalled } from './helpers/binaries.js';
import { launchBrowser, type TestBrowser } from './helpers/browser.js';
import { type GatehouseHook, pagePoint } from './helpers/client-page-hook.js';
import { type ProxyProcess, startGatehouseProxy } from './helpers/gatehouse-proxy.js';
import { diffRgba } from './helpers/pixels.js';
import { leftoverProcesses, type ProcessGroup, pollUntil, sleep } from './helpers/processes.js';
import { startX11vnc, type VncServer } from './helpers/vnc-servers.js';
import { startXvfb, type XDisplay } from './helpers/x-display.js';

const why = skipUnlessInstalled([
  'Xvfb',
  'x11vnc',
  'xsetroot',
  'xwd',
  'xterm',
  'xdotool',
  'xev',
  'xprop',
  'chromium',
]);
const W = 640;
const H = 480;
const T = { timeout: 60_000 };

describe('proxy + client page in Chromium, against x11vnc', {
  ...(why ? { skip: why } : {}),
  timeout: 240_000,
}, () => {
  let x: XDisplay;
  let vnc: VncServer;
  let proxy: ProxyProcess;
  let browser: TestBrowser;
  let xev: ProcessGroup;

  before(async () => {
    x = await startXvfb({ width: W, height: H });
    await x.setRootColor('#336699');
    await x.startXterm({ geometry: '30x6+20+20', args: ['-bg', '#ffff00', '-fg', '#000000'] });
    xev = x.spawn('xev', ['-geometry', '200x150+400+300', '-event', 'keyboard', '-event', 'button']);
    await pollUntil(
      'the xev window',
      async () => {
        const r = await x.run('xdotool', ['search', '--name', '^Event Tester$'], { check: false });
        return r.stdout.toString().trim() || undefined;
      },
      10_000,
    );
    vnc = await startX11vnc(x);
    proxy = await startGatehouseProxy({ managers: 2 });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await proxy?.stop();
    await xev?.stop();
    await vnc?.stop();
    await x?.stop();
    assert.deepEqual(leftoverProcesses(), []);
  });

  async function openPage(t: TestContext, policy?: Partial<Policy>): Promise<Page> {
    const token = await proxy.token(
      { protocol: 'vnc', params: { hostname: vnc.host, port: String(vnc.port) } },
      policy,
    );
    const page = await browser.newPage();
    t.after(() => page.context().close());
    await page.setViewportSize({ width: W, height: H });
    await page.goto(`${proxy.url}/#token=${encodeURIComponent(token)}`);
    await page.waitForFunction(
      () => (globalThis as unknown as GatehouseHook).gatehouse?.state() === 'connected',
      undefined,
      {
        timeout: 15_000,
      },
    );
    return page;
  }

  async function canvas(page: Page, r = { x: 0, y: 0, w: W, h: H }): Promise<Uint8Array> {
    const b64 = await page.evaluate(
      (r) =>
        new Promise<string>((resolve) => {
          const display = (globalThis as unknown as GatehouseHook).gatehouse.client!.getDisplay();
          display.flush(() => {
            const d = display.flatten().getContext('2d').getImageData(r.x, r.y, r.w, r.h).data;
            let s = '';
            for (let i = 0; i < d.length; i++) s += String.fromCharCode(d[i] as number);
            resolve(btoa(s));
          });
        }),
      r,
    );
    return Uint8Array.from(Buffer.from(b64, 'base64'));
  }

  async function waitForSameAsX(page: Page): Promise<void> {
    let last = '';
    await pollUntil(
      'canvas equal to the X display',
      async () => {
        const d = diffRgba(await x.screenshotRegion(0, 0, W, H), await canvas(page), 0);
        last = JSON.stringify(d);
        return d.mismatched === 0 ? true : undefined;
      },
      15_000,
      200,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last diff ${last}`);
    });
  }

  it('the canvas shows exactly what the X display shows', T, async (t) => {
    const page = await openPage(t);
    await waitForSameAsX(page);
  });

  it('a click and typed keys reach an X client', T, async (t) => {
    const page = await openPage(t);
    const p = await pagePoint(page, 500, 375);
    await page.mouse.click(p.x, p.y);
    await pollUntil(
      'ButtonPress in xev',
      () => (/ButtonPress event[\s\S]*?button 1/.test(xev.output()) ? true : undefined),
      10_000,
    );
    await page.keyboard.type('gQ');
    await pollUntil(
      'KeyPress g and Q in xev',
      () => {
        const out = xev.output();
        return /keysym 0x67, g\)/.test(out) && /keysym 0x51, Q\)/.test(out) ? true : undefined;
      },
      10_000,
    );
  });

  it('clipboard both ways: the panel to X (cut buffer), X to the panel', T, async (t) => {
    const page = await openPage(t);
    await page.click('#clipboard-toggle');
    await page.fill('#clipboard-text', 'from the browser panel');
    await page.dispatchEvent('#clipboard-text', 'change');
    await pollUntil(
      'CUT_BUFFER0 set by x11vnc',
      async () => ((await x.cutBuffer()).includes('"from the browser panel"') ? true : undefined),
      15_000,
    );
    await x.offerCutBuffer(
      'from X to the page',
      async () => (await page.inputValue('#clipboard-text')) === 'from X to the page',
    );
  });

  it('disable-paste: text from the page never reaches X', T, async (t) => {
    await x.setCutBuffer('unchanged');
    const page = await openPage(t, { disablePaste: true });
    await page.click('#clipboard-toggle');
    await page.fill('#clipboard-text', 'must not arrive');
    await page.dispatchEvent('#clipboard-text', 'change');
    await sleep(2000);
    assert.match(await x.cutBuffer(), /"unchanged"/);
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as GatehouseHook).gatehouse.state()),
      'connected',
    );
  });

  it('read-only: keys and clicks are dropped, the picture still arrives', T, async (t) => {
    const before = xev.output().length;
    const page = await openPage(t, { readOnly: true });
    await waitForSameAsX(page);
    const p = await pagePoint(page, 500, 375);
    await page.mouse.click(p.x, p.y);
    await page.keyboard.type('zz');
    await sleep(1500);
    const since = xev.output().slice(before);
    assert.doesNotMatch(since, /ButtonPress|keysym 0x7a/);
  });
});
