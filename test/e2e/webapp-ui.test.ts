// The web UI end to end, in headless Chromium against the real thing: `gatehouse webapp` (HTTPS, SQLite),
// a `gatehouse proxy` configured from the secret the admin UI shows, Xvfb + x11vnc. The admin signs in,
// adds the proxy, a user and a VNC server (granted to both) through the forms, connects from My servers and
// sees the X display's exact pixels on the canvas (webapp relay -> proxy -> engine -> x11vnc); the proxy
// shows healthy, the session is listed and ended from Active sessions; the user sees the server and no admin
// pages. No console errors and no CSP violations on the way.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { fromRoot } from '../helpers/paths.js';
import { skipUnlessInstalled } from './helpers/binaries.js';
import { launchBrowser, type TestBrowser } from './helpers/browser.js';
import { freePort } from './helpers/free-port.js';
import { type ProxyProcess, startGatehouseProxy } from './helpers/gatehouse-proxy.js';
import {
  ADMIN_PASSWORD,
  proxyEnvFor,
  startGatehouseWebapp,
  type WebappProcess,
} from './helpers/gatehouse-webapp.js';
import { diffRgba } from './helpers/pixels.js';
import { leftoverProcesses, pollUntil } from './helpers/processes.js';
import { startX11vnc, type VncServer } from './helpers/vnc-servers.js';
import { assertClean, row, uiContext } from './helpers/webapp-ui-page.js';
import { startXvfb, type XDisplay } from './helpers/x-display.js';

const why = skipUnlessInstalled(['Xvfb', 'x11vnc', 'xsetroot', 'xwd', 'xterm', 'chromium']);
const W = 640;
const H = 480;
const T = { timeout: 60_000 };

// Page-side functions run in the browser; tsc compiles for Node (no DOM types): the browser objects they
// touch are declared to the extent used.
interface GuacDisplay {
  flush(cb: () => void): void;
  flatten(): {
    getContext(k: '2d'): {
      getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
    };
  };
}
declare const window: {
  __csp: string[];
  gatehouse?: { state(): string; client: { getDisplay(): GuacDisplay } | null };
};
declare const document: {
  addEventListener(
    type: 'securitypolicyviolation',
    listener: (e: { violatedDirective: string; blockedURI: string }) => void,
  ): void;
};
declare function btoa(s: string): string;

describe('web UI end to end: admin sets up a proxy and a VNC server, connects, sees the desktop', {
  ...(why ? { skip: why } : {}),
  timeout: 240_000,
}, () => {
  let x: XDisplay;
  let vnc: VncServer;
  let webapp: WebappProcess;
  let proxy: ProxyProcess | undefined;
  let browser: TestBrowser;
  let admin: Page;
  const problems: string[] = [];
  const timings: Record<string, number> = {};

  before(async () => {
    const t0 = performance.now();
    // What the build does (the proxy's client into dist/public, the UI into dist/public/webapp), so the
    // webapp serves the current sources.
    const script = pathToFileURL(fromRoot('scripts', 'copy-client-assets.mjs')).href;
    ((await import(script)) as { copyClientAssets: () => string[] }).copyClientAssets();
    x = await startXvfb({ width: W, height: H });
    await x.setRootColor('#336699');
    await x.startXterm({ geometry: '30x6+20+20', args: ['-bg', '#ffff00', '-fg', '#000000'] });
    vnc = await startX11vnc(x);
    webapp = await startGatehouseWebapp();
    browser = await launchBrowser();
    timings.setup = Math.round(performance.now() - t0);
  });

  after(async () => {
    process.stderr.write(`web UI e2e timings (ms): ${JSON.stringify(timings)}\n`);
    await browser?.close();
    await proxy?.stop();
    await webapp?.stop();
    await vnc?.stop();
    await x?.stop();
    assert.deepEqual(leftoverProcesses(), []);
  });

  const newContext = (): Promise<BrowserContext> => uiContext(browser, problems);
  const clean = (page: Page): Promise<void> => assertClean(page, problems);

  async function signIn(page: Page, username: string, password: string): Promise<void> {
    await page.goto(webapp.url);
    await page.getByTestId('login-username').fill(username);
    await page.getByTestId('login-password').fill(password);
    await page.getByTestId('login-submit').click();
    await page.getByRole('heading', { level: 1, name: 'My servers' }).waitFor();
  }

  const nav = (page: Page, name: string) => page.getByRole('link', { name, exact: true }).click();

  async function canvas(page: Page): Promise<Uint8Array> {
    const b64 = await page.evaluate(
      ([w, h]) =>
        new Promise<string>((resolve) => {
          const display = window.gatehouse!.client!.getDisplay();
          display.flush(() => {
            const d = display
              .flatten()
              .getContext('2d')
              .getImageData(0, 0, w as number, h as number).data;
            let s = '';
            for (let i = 0; i < d.length; i++) s += String.fromCharCode(d[i] as number);
            resolve(btoa(s));
          });
        }),
      [W, H],
    );
    return Uint8Array.from(Buffer.from(b64, 'base64'));
  }

  it(
    'the admin adds a connection proxy; its secret (shown once) configures a real proxy that registers',
    T,
    async () => {
      const t0 = performance.now();
      admin = await (await newContext()).newPage();
      await signIn(admin, 'admin', ADMIN_PASSWORD);
      await nav(admin, 'Connection proxies');
      await admin.getByTestId('add-proxies').click();
      const form = admin.getByTestId('proxies-form');
      await form.getByLabel('Name', { exact: true }).fill('ui-proxy');
      await form.getByTestId('save').click();
      const secret = await admin.getByTestId('proxy-secret').inputValue();
      assert.ok(secret.length >= 16, 'a secret');
      const yaml = (await admin.getByTestId('proxy-config').textContent()) ?? '';
      assert.ok(yaml.includes(`url: "${webapp.url}/api/proxy/redeem"`), yaml);
      assert.ok(yaml.includes('proxyId: "ui-proxy"') && yaml.includes(`proxyToken: "${secret}"`), yaml);
      assert.ok(yaml.includes('zone: "default"'), yaml);
      await admin.getByTestId('secret-done').click();

      const port = await freePort();
      proxy = await startGatehouseProxy({
        managers: 1,
        port,
        env: proxyEnvFor(webapp, 'ui-proxy', secret, port),
      });
      // The page reloads the list every 5 s: the address the proxy registered with shows up by itself.
      await row(admin, 'proxies-row', 'ui-proxy')
        .getByText(`http://127.0.0.1:${port}`)
        .waitFor({ timeout: 15_000 });
      timings['proxy added'] = Math.round(performance.now() - t0);
      await clean(admin);
    },
  );

  it('the admin adds a user and a VNC server granted to both through the forms', T, async () => {
    await nav(admin, 'Users');
    await admin.getByTestId('add-users').click();
    const user = admin.getByTestId('users-form');
    await user.getByLabel('User name').fill('alice');
    await user.getByLabel('Display name').fill('Alice');
    await user.getByLabel('Password').fill('alice-password-1');
    await user.getByTestId('save').click();
    await row(admin, 'users-row', 'alice').waitFor();

    await nav(admin, 'Servers');
    await admin.getByTestId('add-servers').click();
    const form = admin.getByTestId('servers-form');
    await form.getByLabel('Name', { exact: true }).fill('x-desk');
    await form.getByLabel('Protocol').selectOption('vnc');
    await form.getByLabel('Host').fill(vnc.host);
    await form.getByLabel('Port').fill('70000');
    await form.getByTestId('save').click();
    // The API's 400 names the field: the message shows next to it.
    await form.locator('[data-field="port"] .field-error').waitFor();
    assert.equal(await form.getByLabel('Port').getAttribute('aria-invalid'), 'true');
    await form.getByLabel('Port').fill(String(vnc.port));
    await form.getByLabel('Administrator (admin)').check();
    await form.getByLabel('Alice (alice)').check();
    await form.getByTestId('save').click();
    await admin.getByTestId('servers-status').getByText('Added server x-desk').waitFor();
    const listed = row(admin, 'servers-row', 'x-desk');
    // The status shows before the list is reloaded: wait for the row.
    await listed.waitFor();
    assert.deepEqual((await listed.locator('th, td').allInnerTexts()).slice(0, 6), [
      'x-desk',
      'VNC',
      `${vnc.host}:${vnc.port}`,
      'default',
      'None',
      '2 users',
    ]);
    await clean(admin);
  });

  it('Connect opens the session page; the canvas shows exactly what the X display shows', T, async () => {
    const t0 = performance.now();
    await nav(admin, 'My servers');
    const [session] = await Promise.all([
      admin.context().waitForEvent('page'),
      row(admin, 'server-row', 'x-desk').getByTestId('connect').click(),
    ]);
    await session.waitForFunction(() => window.gatehouse?.state() === 'connected', undefined, {
      timeout: 20_000,
    });
    timings['connect to connected'] = Math.round(performance.now() - t0);
    assert.doesNotMatch(session.url(), /token/);
    let last = '';
    await pollUntil(
      'canvas equal to the X display',
      async () => {
        const d = diffRgba(await x.screenshotRegion(0, 0, W, H), await canvas(session), 0);
        last = JSON.stringify(d);
        return d.mismatched === 0 ? true : undefined;
      },
      15_000,
      200,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last diff ${last}`);
    });
    timings['connect to same pixels'] = Math.round(performance.now() - t0);

    // The health check of that connect shows on the proxies page; the session is listed and can be ended.
    await nav(admin, 'Connection proxies');
    await row(admin, 'proxies-row', 'ui-proxy').getByText('Healthy').waitFor({ timeout: 12_000 });
    await nav(admin, 'Active sessions');
    const listed = row(admin, 'sessions-row', 'admin on x-desk');
    await listed.getByText('ui-proxy').waitFor();
    await listed.getByTestId('delete').click();
    await listed.waitFor({ state: 'detached' });
    await session.waitForFunction(() => window.gatehouse?.state() !== 'connected', undefined, {
      timeout: 10_000,
    });
    await clean(session);
    await session.close();
    await clean(admin);
  });

  it('the user sees the server granted to them and no admin pages', T, async () => {
    const page = await (await newContext()).newPage();
    await signIn(page, 'alice', 'alice-password-1');
    await row(page, 'server-row', 'x-desk').getByTestId('connect').waitFor();
    assert.equal(await page.getByRole('link', { name: 'Servers', exact: true }).count(), 0);
    await page.goto(`${webapp.url}/admin/servers`);
    await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
    await clean(page);
    await page.context().close();
  });
});
