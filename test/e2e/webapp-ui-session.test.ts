// The web UI's live sessions against the real thing: the webapp (in this process, HTTPS, SQLite), a real
// `gatehouse proxy` registered with it and TigerVNC's Xvnc. My servers → Connect opens the session page,
// which connects through the webapp's relay with the token it got (never in the address bar); an
// administrator ends the session from Active sessions and the page's Reconnect gets a fresh token and a new
// session; a signed-out user opening the session page signs in and lands back on it, connected; that user
// sees no admin pages, and signs out.
// Under the UI's CSP: no console errors, no violations.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { skipUnlessInstalled } from './helpers/binaries.js';
import { launchBrowser, type TestBrowser } from './helpers/browser.js';
import { freePort, LOOPBACK } from './helpers/free-port.js';
import { type ProxyProcess, startGatehouseProxy } from './helpers/gatehouse-proxy.js';
import { leftoverProcesses, pollUntil } from './helpers/processes.js';
import { startXvnc, type VncServer } from './helpers/vnc-servers.js';
import {
  ADMIN_PASSWORD,
  assertClean,
  heading,
  type Problems,
  row,
  signIn,
  startUiWebapp,
  type UiWebapp,
  uiContext,
} from './helpers/webapp-ui-page.js';

const skip = skipUnlessInstalled(['Xvnc', 'chromium']);
const T = { timeout: 45_000 };

declare const window: { gatehouse?: { state(): string } };

describe('web UI sessions and roles: Connect, Reconnect after an administrator ended it, a user signing in', {
  skip,
  timeout: 180_000,
}, () => {
  let web: UiWebapp;
  let vnc: VncServer;
  let proxy: ProxyProcess;
  let browser: TestBrowser;
  let deskId = '';
  const problems: Problems = [];

  const state = (page: Page, want: 'connected' | 'not connected') =>
    page.waitForFunction(
      (connected) => (window.gatehouse?.state() === 'connected') === connected,
      want === 'connected',
      { timeout: 15_000 },
    );
  const sessionsOfDesk = async () =>
    (await web.app.store.listSessions({ activeOnly: false, limit: 100 })).filter(
      (s) => s.serverId === deskId,
    );

  before(async () => {
    vnc = await startXvnc({ width: 320, height: 240 });
    web = await startUiWebapp();
    const made = await web.admin.request<{ secret: string }>('POST', '/api/admin/proxies', {
      name: 'ui-proxy',
      zoneId: web.zoneId,
      kind: 'guac',
    });
    assert.equal(made.status, 201, made.text);
    const port = await freePort();
    proxy = await startGatehouseProxy({
      managers: 1,
      port,
      env: {
        GATEHOUSE_PROXY_AUTH__MODE: 'webapp',
        GATEHOUSE_PROXY_AUTH__WEBAPP__URL: `${web.app.url}/api/proxy/redeem`,
        GATEHOUSE_PROXY_AUTH__WEBAPP__PROXY_ID: 'ui-proxy',
        GATEHOUSE_PROXY_AUTH__WEBAPP__PROXY_TOKEN: made.json.secret,
        GATEHOUSE_PROXY_AUTH__WEBAPP__CA_FILE: web.app.tlsCertFile ?? '',
        GATEHOUSE_PROXY_AUTH__WEBAPP__ADVERTISE_URL: `http://${LOOPBACK}:${port}`,
        GATEHOUSE_PROXY_AUTH__WEBAPP__ZONE: 'default',
      },
    });
    await pollUntil(
      'the proxy to register',
      async () => ((await web.app.store.getProxyByName('ui-proxy'))?.address ? true : undefined),
      15_000,
    );
    const bob = await web.admin.request<{ id: string }>('POST', '/api/admin/users', {
      username: 'bob',
      displayName: 'Bob',
      role: 'user',
      password: 'bob-password-1',
    });
    assert.equal(bob.status, 201, bob.text);
    const desk = await web.admin.request<{ id: string }>('POST', '/api/admin/servers', {
      name: 'desk',
      protocol: 'vnc',
      host: vnc.host,
      port: vnc.port,
      zoneId: web.zoneId,
      userIds: [bob.json.id],
    });
    assert.equal(desk.status, 201, desk.text);
    deskId = desk.json.id;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await proxy?.stop();
    await web?.stop();
    await vnc?.stop();
    assert.deepEqual(leftoverProcesses(), []);
  });

  it(
    'Connect opens the session page, connected; ended by the admin, Reconnect opens a new session',
    T,
    async () => {
      const admin = await (await uiContext(browser, problems)).newPage();
      await admin.goto(web.app.url);
      await signIn(admin, 'admin', ADMIN_PASSWORD);
      const desk = row(admin, 'server-row', 'desk');
      await desk.waitFor();
      const [session] = await Promise.all([
        admin.context().waitForEvent('page'),
        desk.getByTestId('connect').click(),
      ]);
      await state(session, 'connected');
      assert.doesNotMatch(session.url(), /token/);
      assert.equal(session.url(), `${web.app.url}/session/${deskId}`);
      await pollUntil(
        'the title',
        async () => ((await session.title()) === 'desk — Gatehouse' ? true : undefined),
        5000,
      );
      const [first] = await sessionsOfDesk();
      assert.ok(first && first.endedAt === null, 'one open session');

      await admin.getByRole('link', { name: 'Active sessions' }).click();
      const listed = row(admin, 'sessions-row', 'admin on desk');
      await listed.getByText('ui-proxy', { exact: true }).waitFor();
      await listed.getByRole('button', { name: 'End session admin on desk' }).click();
      await listed.waitFor({ state: 'detached' });
      await state(session, 'not connected');
      assert.equal((await web.app.store.getSession(first.id))?.endReason, 'ended by admin');

      // Reconnect asks the API for a fresh token (the first one is spent): a second session, open.
      await session.getByRole('button', { name: 'Reconnect' }).click();
      await state(session, 'connected');
      const all = await sessionsOfDesk();
      assert.equal(all.length, 2);
      assert.ok(all.some((s) => s.id !== first.id && s.endedAt === null));
      await admin.reload();
      await row(admin, 'sessions-row', 'admin on desk').waitFor();
      await assertClean(session, problems);
      await assertClean(admin, problems);
      await admin.context().close();
    },
  );

  it(
    'a signed-out user opening the session page signs in and lands back on it, connected; a user sees no admin pages; sign-out',
    T,
    async () => {
      const page = await (await uiContext(browser, problems)).newPage();
      await page.goto(`${web.app.url}/session/${deskId}`);
      await page.getByTestId('login-notice').getByText('Sign in to continue').waitFor();
      await signIn(page, 'bob', 'bob-password-1');
      await state(page, 'connected');
      assert.equal(page.url(), `${web.app.url}/session/${deskId}`);
      await page.goto(`${web.app.url}/`);
      await heading(page, 'My servers').waitFor();
      await row(page, 'server-row', 'desk').waitFor();
      assert.equal(await page.getByTestId('server-row').count(), 1);
      assert.equal(await page.getByRole('link', { name: 'Servers', exact: true }).count(), 0);
      await page.goto(`${web.app.url}/admin/servers`);
      await heading(page, 'Page not found').waitFor();
      await page.getByTestId('logout').click();
      await page.getByTestId('login-notice').getByText('You have signed out').waitFor();
      // The login really ended: a reload shows the plain sign-in form.
      await page.reload();
      await page.getByTestId('login-username').waitFor();
      assert.equal(await page.getByTestId('login-notice').count(), 0);
      await assertClean(page, problems);
      await page.context().close();
    },
  );
});
