// The web UI (src/webapp/ui) in headless Chromium against the real webapp (in this process, HTTPS, SQLite),
// every failure produced for real: a wrong password (401) and the login rate limit (429 + Retry-After), the
// API's field errors (port 70000) and conflicts (a taken name, a zone in use), no healthy proxy (503) on My
// servers and on the session page, a .rdp file through an RDP gateway record whose address accepts TCP,
// a proxy's secret and its health as the webapp's checks of a small /health server record it, users, groups,
// ending a session (opened at the proxies' callback) and an expired login. Live sessions (Connect, Reconnect),
// role checks and sign-out: webapp-ui-session.test.ts. Under the UI's CSP: no console errors, no violations.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { sha256Hex } from '../../src/webapp/security/tokens.js';
import { answer, type CountingServer, countingServer, hangingServer } from '../webapp/health-servers.js';
import { skipUnlessInstalled } from './helpers/binaries.js';
import { launchBrowser, type TestBrowser } from './helpers/browser.js';
import type { ApiAnswer } from './helpers/gatehouse-webapp.js';
import { leftoverProcesses } from './helpers/processes.js';
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

const skip = skipUnlessInstalled(['chromium']);
// Page-side functions run in the browser (no DOM types here): what they touch, declared.
declare const document: { activeElement: unknown };
const T = { timeout: 30_000 };

function ok<J>(r: ApiAnswer<J>, status: number, what: string): J {
  assert.equal(r.status, status, `${what}: ${r.status} ${r.text}`);
  return r.json;
}

describe('web UI flows against the real webapp', { skip, timeout: 240_000 }, () => {
  let web: UiWebapp;
  let browser: TestBrowser;
  /** /health of proxy p1: its status is switched by the tests. */
  let health: CountingServer;
  let healthStatus = 503;
  /** Accepts TCP: the address of the RDP gateway record. */
  let gateway: CountingServer;
  const problems: Problems = [];
  const ids: Record<string, string> = {};
  let adminPage: Page;
  let p1Secret = '';

  const api = <J = Record<string, unknown>>(method: string, path: string, body?: unknown) =>
    web.admin.request<J>(method, path, body);
  const addServer = async (name: string, zoneId: string, protocol = 'rdp') =>
    ok(
      await api<{ id: string }>('POST', '/api/admin/servers', {
        name,
        protocol,
        host: 'h',
        port: 3389,
        zoneId,
      }),
      201,
      `add server ${name}`,
    ).id;
  const open = async (path: string): Promise<Page> => {
    const page = await (await uiContext(browser, problems)).newPage();
    await page.goto(`${web.app.url}${path}`);
    return page;
  };

  before(async () => {
    health = await countingServer((req, res) => answer(healthStatus)(req, res));
    gateway = await hangingServer();
    web = await startUiWebapp({
      'webapp.login.maxFailures': '2',
      'webapp.login.windowSeconds': '30',
      'webapp.healthCheck.cacheMs': '0',
      'webapp.healthCheck.downMs': '0',
      'webapp.healthCheck.timeoutMs': '2000',
    });
    for (const zone of ['health', 'nowhere']) {
      ids[zone] = ok(await api<{ id: string }>('POST', '/api/admin/zones', { name: zone }), 201, zone).id;
    }
    ok(
      await api('POST', '/api/admin/proxies', {
        name: 'gw',
        zoneId: web.zoneId,
        kind: 'rdp-gateway',
        address: `127.0.0.1:${gateway.port}`,
      }),
      201,
      'add gateway',
    );
    ids.win = await addServer('win', web.zoneId);
    ids['noproxy-win'] = await addServer('noproxy-win', ids.nowhere as string);
    ids['health-desk'] = await addServer('health-desk', ids.health as string, 'vnc');
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await web?.stop();
    await health?.close();
    await gateway?.close();
    assert.deepEqual(leftoverProcesses(), []);
  });

  it(
    'sign-in errors are sentences: wrong password (401), then too many attempts (429) with the wait',
    T,
    async () => {
      const page = await open('/');
      await signIn(page, 'mallory', 'nope');
      await page.getByText('Wrong user name or password').waitFor();
      assert.equal(await page.getByTestId('login-password').inputValue(), '');
      await page.getByTestId('login-password').fill('nope');
      await page.keyboard.press('Enter');
      await page.getByText('Wrong user name or password').waitFor();
      await page.getByTestId('login-password').fill('nope');
      await page.keyboard.press('Enter');
      // Two failures within the 30 s window: the third attempt is refused with Retry-After ≈ 30.
      await page.getByText(/^Too many attempts — try again in (2\d|30) s$/).waitFor();
      assert.equal(await page.getByTestId('login-submit').isDisabled(), true);
      await assertClean(page, problems);
      await page.context().close();
    },
  );

  it(
    'the admin adds a VNC server through the form (API field errors next to the field) and grants it',
    T,
    async () => {
      adminPage = await open('/');
      const page = adminPage;
      await signIn(page, 'admin', ADMIN_PASSWORD);
      await heading(page, 'My servers').waitFor();
      await page.getByRole('link', { name: 'Servers', exact: true }).click();
      await heading(page, 'Servers').waitFor();
      await page.getByTestId('add-servers').click();
      const form = page.getByTestId('servers-form');
      await form.getByLabel('Name', { exact: true }).fill('desk');
      await form.getByLabel('Protocol').selectOption('vnc');
      assert.equal(await form.getByLabel('Port').inputValue(), '5900');
      await form.getByLabel('Host').fill('127.0.0.1');
      await form.getByLabel('Port').fill('70000');
      await form.getByTestId('save').click();
      // The API's 400 names the field: its words show next to the port, which gets focus.
      await form.locator('[data-field="port"]').getByText('port must be <= 65535').waitFor();
      assert.equal(await form.getByLabel('Port').getAttribute('aria-invalid'), 'true');
      assert.equal(await form.getByLabel('Port').evaluate((el) => el === document.activeElement), true);

      await form.getByLabel('Port').fill('5901');
      // A misspelt parameter: named next to the parameters.
      await form.getByLabel('Extra connection parameters').fill('colour-depth=16');
      await form.getByTestId('save').click();
      await form
        .locator('[data-field="params"]')
        .getByText("'colour-depth' is not a VNC connection parameter")
        .waitFor();
      await form
        .getByLabel('Extra connection parameters')
        .fill('color-depth=16\n\n# comment\nread-only=false');
      await form.getByTestId('credentials-password').fill('vnc-pw');
      await form.getByTestId('dlp-clipboardDown').selectOption('false');
      await form.getByLabel('Administrator (admin)').check();
      await form.getByTestId('save').click();
      await page.getByTestId('servers-status').getByText('Added server desk').waitFor();
      await row(page, 'servers-row', 'desk').waitFor();
      const server = (await web.app.store.listServers()).find((s) => s.name === 'desk');
      assert.ok(server);
      assert.deepEqual(
        { ...server, id: '', createdAt: 0 },
        {
          id: '',
          createdAt: 0,
          name: 'desk',
          protocol: 'vnc',
          host: '127.0.0.1',
          port: 5901,
          zoneId: web.zoneId,
          hasCredentials: true,
          params: { 'color-depth': '16', 'read-only': 'false' },
          dlp: { clipboardDown: false },
          userIds: [(await web.app.store.getUserByUsername('admin'))?.id],
          groupIds: [],
        },
      );
      assert.deepEqual(await web.app.store.getServerCredentials(server.id), { password: 'vnc-pw' });

      // Edit: credentials show as stored (never their value); removing them sends credentials: null.
      await row(page, 'servers-row', 'desk').getByTestId('edit').click();
      await form
        .getByTestId('credentials-status')
        .getByText(/^Stored/)
        .waitFor();
      assert.equal(await form.getByTestId('credentials-password').inputValue(), '');
      await form.getByTestId('credentials-clear').check();
      await form.getByTestId('save').click();
      await page.getByTestId('servers-status').getByText('Saved server desk').waitFor();
      assert.equal(await web.app.store.getServerCredentials(server.id), null);

      // A taken name: the store's conflict, 409 naming the field, shown next to the name.
      await page.getByTestId('add-servers').click();
      await form.getByLabel('Name', { exact: true }).fill('desk');
      await form.getByLabel('Host').fill('h');
      await form.getByTestId('save').click();
      await form.locator('[data-field="name"]').getByText('a server named "desk" exists').waitFor();
      await page.keyboard.press('Escape');
      await form.waitFor({ state: 'detached' });
      await assertClean(page, problems);
    },
  );

  it(
    '.rdp download through a reachable gateway; no proxy (503) in words on the list and on the session page',
    T,
    async () => {
      const page = adminPage;
      await page.getByRole('link', { name: 'My servers' }).click();
      const desk = row(page, 'server-row', 'desk');
      await desk.waitFor(); // the list loads after the page shows (allInnerTexts does not wait)
      assert.deepEqual(await desk.locator('th, td').allInnerTexts(), ['desk', 'VNC', 'default', 'Connect']);
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        row(page, 'server-row', 'win').getByTestId('download-rdp').click(),
      ]);
      assert.equal(download.suggestedFilename(), 'win.rdp');
      const chunks: Buffer[] = [];
      for await (const c of await download.createReadStream()) chunks.push(c as Buffer);
      // UTF-16LE with a byte-order mark, pointing at the gateway (whose port the webapp's check reached).
      const text = Buffer.concat(chunks).toString('utf16le');
      assert.ok(text.includes(`127.0.0.1:${gateway.port}`), text.slice(0, 400));
      assert.ok(gateway.connections >= 1);
      await page.getByTestId('servers-status').getByText('Downloaded win.rdp').waitFor();

      await row(page, 'server-row', 'noproxy-win').getByTestId('download-rdp').click();
      await page
        .getByTestId('servers-error')
        .getByText('noproxy-win: No connection proxy is available for this server right now')
        .waitFor();

      const session = await page.context().newPage();
      await session.goto(`${web.app.url}/session/${ids['noproxy-win']}`);
      await session
        .locator('#status-text')
        .getByText('No connection proxy is available for this server right now')
        .waitFor();
      await session
        .locator('#status-detail')
        .getByText("No connection proxy serves this server's zone")
        .waitFor();
      assert.equal(await session.getByRole('button', { name: 'Try again' }).isVisible(), true);
      await assertClean(session, problems);
      await session.close();
      await assertClean(page, problems);
    },
  );

  it(
    'proxies: the secret is shown once with the configuration; health updates live; New secret',
    T,
    async () => {
      const page = adminPage;
      await page.getByRole('link', { name: 'Connection proxies' }).click();
      await page.getByTestId('add-proxies').click();
      const form = page.getByTestId('proxies-form');
      await form.getByLabel('Name', { exact: true }).fill('p1');
      await form.getByLabel('Zone').selectOption({ label: 'health' });
      await form.getByLabel('Address').fill(health.url);
      await form.getByTestId('save').click();
      const secret = await page.getByTestId('proxy-secret').inputValue();
      assert.equal((await web.app.store.getProxyByName('p1'))?.secretHash, sha256Hex(secret));
      const config = (await page.getByTestId('proxy-config').textContent()) ?? '';
      assert.ok(config.includes(`url: "${web.app.url}/api/proxy/redeem"`), config);
      for (const line of [
        'mode: webapp',
        'proxyId: "p1"',
        'zone: "health"',
        `advertiseUrl: "${health.url}"`,
      ]) {
        assert.ok(config.includes(line), `${line} in ${config}`);
      }
      assert.ok(config.includes(`proxyToken: "${secret}"`));
      assert.ok(
        ((await page.getByTestId('proxy-env').textContent()) ?? '').includes(`PROXY_TOKEN=${secret}`),
      );
      await page.getByTestId('secret-done').click();
      await page.getByTestId('secret-panel').waitFor({ state: 'detached' });

      // The webapp checks p1 when someone connects to a server of its zone, and records what it found; the
      // page reloads the list every 5 s.
      const p1 = row(page, 'proxies-row', 'p1');
      await p1.getByText('Not checked yet').waitFor();
      const connect = () => api('POST', `/api/servers/${ids['health-desk']}/connect`);
      ok(await connect(), 503, 'connect while p1 answers 503');
      await p1.getByText('Down').waitFor({ timeout: 8000 });
      await p1.getByText('HTTP 503 (draining)').waitFor();
      healthStatus = 200;
      ok(await connect(), 200, 'connect while p1 is healthy');
      await p1.getByText('Healthy').waitFor({ timeout: 8000 });
      await p1.getByText(/checked \d+ s ago/).waitFor();
      assert.ok(health.hits >= 2);

      await p1.getByTestId('rotate-secret').click();
      p1Secret = await page.getByTestId('proxy-secret').inputValue();
      assert.notEqual(p1Secret, secret);
      assert.equal((await web.app.store.getProxyByName('p1'))?.secretHash, sha256Hex(p1Secret));
      await page.getByTestId('secret-done').click();
      await assertClean(page, problems);
    },
  );

  it('users, groups, zones (409 while in use) and ending a session', T, async () => {
    const page = adminPage;
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByTestId('add-users').click();
    let form = page.getByTestId('users-form');
    await form.getByLabel('User name').fill('bob');
    await form.getByLabel('Display name').fill('Bob');
    await form.getByLabel('Password').fill('bob-password-1');
    await form.getByTestId('save').click();
    await row(page, 'users-row', 'bob').waitFor();
    ok(await web.admin.fresh().login('bob', 'bob-password-1'), 200, 'bob signs in');

    await page.getByRole('link', { name: 'Groups' }).click();
    await page.getByTestId('add-groups').click();
    form = page.getByTestId('groups-form');
    await form.getByLabel('Name', { exact: true }).fill('staff');
    await form.getByLabel('Bob (bob)').check();
    await form.getByTestId('dlp-printing').selectOption('true');
    await form.getByTestId('save').click();
    await row(page, 'groups-row', 'staff').getByText('Allow: Printing').waitFor();
    const staff = (await web.app.store.listGroups()).find((g) => g.name === 'staff');
    assert.deepEqual([staff?.memberIds.length, staff?.dlp], [1, { printing: true }]);

    await page.getByRole('link', { name: 'Zones' }).click();
    await row(page, 'zones-row', 'default').getByTestId('delete').click();
    await page
      .getByTestId('zones-error')
      .getByText(/^default is still in use: the zone is in use by 2 server\(s\) and 1 proxy/)
      .waitFor();
    await page.getByTestId('add-zones').click();
    await page.getByTestId('zones-form').getByLabel('Name', { exact: true }).fill('eu');
    await page.getByTestId('zones-form').getByTestId('save').click();
    await row(page, 'zones-row', 'eu').getByTestId('delete').click();
    await row(page, 'zones-row', 'eu').waitFor({ state: 'detached' });
    assert.equal(await web.app.store.getZoneByName('eu'), null);

    // A session as p1 opens one: a connect token, redeemed with p1's secret at the proxies' callback.
    const { token } = ok(
      await api<{ token: string }>('POST', `/api/servers/${ids['health-desk']}/connect`),
      200,
      'connect',
    );
    const redeemed = ok(
      await web.admin
        .fresh()
        .request<{ id: string }>(
          'POST',
          '/api/proxy/redeem',
          { token, proxy: { id: 'p1' }, client: { remoteAddress: '203.0.113.9' } },
          { authorization: `Bearer ${p1Secret}` },
        ),
      200,
      'redeem',
    );
    await page.getByRole('link', { name: 'Active sessions' }).click();
    const s1 = row(page, 'sessions-row', 'admin on health-desk');
    await s1.getByText('0 B / 0 B').waitFor();
    await s1.getByText('203.0.113.9').waitFor();
    await s1.getByText('p1', { exact: true }).waitFor();
    await s1.getByRole('button', { name: 'End session admin on health-desk' }).click();
    await s1.waitFor({ state: 'detached' });
    await page
      .getByTestId('sessions-status')
      .getByText('Ended the session of admin on health-desk')
      .waitFor();
    const ended = await web.app.store.getSession(redeemed.id);
    assert.equal(ended?.endReason, 'ended by admin');
    await assertClean(page, problems);
  });

  it('an expired login shows the sign-in form saying so, then the same page again', T, async () => {
    const page = adminPage;
    const admin = await web.app.store.getUserByUsername('admin');
    const db = (web.app.store as unknown as { db: { run(sql: string, p: unknown[]): Promise<unknown> } }).db;
    await db.run('UPDATE web_sessions SET expires_at = ? WHERE user_id = ?', [Date.now() - 1000, admin?.id]);
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByTestId('login-notice').getByText('Your session expired, sign in again').waitFor();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await heading(page, 'Users').waitFor();
    assert.match(page.url(), /\/admin\/users$/);
    ok(await web.admin.login('admin', ADMIN_PASSWORD), 200, 'the API client signs in again');
    await assertClean(page, problems);
  });
});
