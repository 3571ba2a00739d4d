// The broker end to end: `gatehouse webapp` (SQLite) + a real `gatehouse proxy` registered with it + Xvfb/x11vnc.
// Proxy selection with one healthy, one down and one hanging proxy; the tunnel relayed webapp -> proxy ->
// engine -> VNC; token binding and the replay window; an administrator ending a live session; the audit row.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { STATUS } from '../../src/protocol/guacamole/status.js';
import { forEachDatabase, type TestDatabase } from '../helpers/postgres.js';
import { skipUnlessInstalled } from './helpers/binaries.js';
import { freePort, LOOPBACK } from './helpers/free-port.js';
import {
  type ProxyProcess,
  startGatehouseProxy,
  TunnelClient,
  tunnelQuery,
} from './helpers/gatehouse-proxy.js';
import {
  type ApiClient,
  proxyEnvFor,
  startGatehouseWebapp,
  type WebappProcess,
} from './helpers/gatehouse-webapp.js';
import { leftoverProcesses, pollUntil, sleep } from './helpers/processes.js';
import { startX11vnc, type VncServer } from './helpers/vnc-servers.js';
import { startXvfb, type XDisplay } from './helpers/x-display.js';

const why = skipUnlessInstalled(['Xvfb', 'x11vnc', 'xsetroot']);
const T = { timeout: 60_000 };
const HEALTH_TIMEOUT_MS = 800;

const suite = (db: TestDatabase) => {
  let x: XDisplay;
  let vnc: VncServer;
  let webapp: WebappProcess;
  let proxy: ProxyProcess;
  let hanging: Server;
  const held: Socket[] = [];
  let serverId = '';
  let alice: ApiClient;
  let bob: ApiClient;

  const connect = (c: ApiClient) =>
    c.request<{ token: string; tunnelUrl: string; proxy: { name: string } }>(
      'POST',
      `/api/servers/${serverId}/connect`,
    );
  const tunnel = (c: ApiClient, token: string, cookie = true) =>
    TunnelClient.openUrl(`wss://${LOOPBACK}:${webapp.port}/api/tunnel?${tunnelQuery(token, 320, 240)}`, {
      ca: webapp.ca,
      headers: cookie ? { cookie: c.cookie, origin: webapp.url } : { origin: webapp.url },
    });

  before(async () => {
    x = await startXvfb({ width: 320, height: 240 });
    await x.setRootColor('#224466');
    vnc = await startX11vnc(x);
    webapp = await startGatehouseWebapp({
      database: db.database,
      env: {
        GATEHOUSE_WEBAPP__HEALTH_CHECK__TIMEOUT_MS: String(HEALTH_TIMEOUT_MS),
        GATEHOUSE_WEBAPP__HEALTH_CHECK__CACHE_MS: '0',
        GATEHOUSE_WEBAPP__HEALTH_CHECK__DOWN_MS: '0',
        GATEHOUSE_WEBAPP__TOKENS__REPLAY_WINDOW_SECONDS: '3',
      },
    });
    // A healthy proxy (registers itself), one whose port is closed, one that accepts and never answers.
    const good = await webapp.addProxy('good');
    const goodPort = await freePort();
    proxy = await startGatehouseProxy({
      managers: 1,
      port: goodPort,
      env: proxyEnvFor(webapp, 'good', good.secret, goodPort),
    });
    await webapp.addProxy('down', { address: `http://${LOOPBACK}:${await freePort()}` });
    hanging = createServer((s) => held.push(s));
    await new Promise<void>((r) => hanging.listen(0, LOOPBACK, r));
    await webapp.addProxy('hanging', {
      address: `http://${LOOPBACK}:${(hanging.address() as { port: number }).port}`,
    });

    const zoneId = await webapp.defaultZone();
    const users = await Promise.all(
      ['alice', 'bob'].map((u) =>
        webapp.admin.request<{ id: string }>('POST', '/api/admin/users', {
          username: u,
          role: 'user',
          password: `${u}-password`,
        }),
      ),
    );
    const srv = await webapp.admin.request<{ id: string }>('POST', '/api/admin/servers', {
      name: 'desk',
      protocol: 'vnc',
      host: vnc.host,
      port: vnc.port,
      zoneId,
      userIds: [users[0]?.json.id],
    });
    assert.equal(srv.status, 201, srv.text);
    serverId = srv.json.id;
    alice = webapp.admin.fresh();
    bob = webapp.admin.fresh();
    assert.equal((await alice.login('alice', 'alice-password')).status, 200);
    assert.equal((await bob.login('bob', 'bob-password')).status, 200);
    await pollUntil(
      'proxy registered',
      () => webapp.logs().find((l) => l.msg === 'proxy registered'),
      15_000,
    );
  });

  after(async () => {
    if (process.env.GATEHOUSE_TEST_SHOW_LOGS === '1') {
      for (const l of webapp?.logs() ?? [])
        if (Number(l.level) >= 40) console.error('webapp', JSON.stringify(l).slice(0, 600));
      for (const l of proxy?.logs() ?? [])
        if (Number(l.level) >= 40) console.error('proxy', JSON.stringify(l).slice(0, 600));
    }
    for (const s of held) s.destroy();
    hanging?.close();
    await proxy?.stop();
    await webapp?.stop();
    await vnc?.stop();
    await x?.stop();
  });

  it(
    'every connect picks the healthy proxy within the health-check timeout (one down, one hanging)',
    T,
    async () => {
      const times: number[] = [];
      for (let i = 0; i < 12; i++) {
        const t0 = performance.now();
        const r = await connect(alice);
        times.push(performance.now() - t0);
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.proxy.name, 'good');
        assert.equal(r.json.tunnelUrl, '/api/tunnel');
      }
      const worst = Math.max(...times);
      assert.ok(worst < HEALTH_TIMEOUT_MS + 700, `slowest connect ${worst.toFixed(0)} ms`);
      const proxies = await webapp.admin.request<{
        items: { name: string; lastHealth: { ok: boolean } | null }[];
      }>('GET', '/api/admin/proxies');
      const health = Object.fromEntries(proxies.json.items.map((p) => [p.name, p.lastHealth?.ok]));
      assert.deepEqual(health, { good: true, down: false, hanging: false });
    },
  );

  it("a user without a grant cannot connect; nobody can use another user's token", T, async () => {
    assert.equal((await connect(bob)).status, 403);
    const listed = await bob.request<{ servers: unknown[] }>('GET', '/api/servers');
    assert.deepEqual(listed.json.servers, []);
    const { json } = await connect(alice);
    const stolen = await tunnel(bob, json.token);
    const closed = await stolen.closed;
    assert.equal(stolen.errors()[0]?.args[1], String(STATUS.CLIENT_UNAUTHORIZED));
    assert.equal(closed.reason, String(STATUS.CLIENT_UNAUTHORIZED));
    const anonymous = await tunnel(alice, json.token, false);
    await anonymous.closed;
    assert.equal(anonymous.errors()[0]?.args[1], String(STATUS.CLIENT_UNAUTHORIZED));
  });

  it(
    'the tunnel is relayed to the desktop; the same proxy may reuse the token within the window, not after',
    T,
    async () => {
      const { json } = await connect(alice);
      const first = await tunnel(alice, json.token);
      await first.waitFor(
        'a frame through webapp -> proxy -> engine -> x11vnc',
        () => first.syncs >= 1,
        20_000,
      );
      assert.ok(first.received.some((i) => i.opcode === 'size' && i.args[1] === '320'));
      first.close();
      await first.closed;
      const again = await tunnel(alice, json.token);
      await again.waitFor('a frame on the reconnect', () => again.syncs >= 1, 20_000);
      again.close();
      await again.closed;
      await sleep(3500);
      const late = await tunnel(alice, json.token);
      await late.closed;
      assert.equal(
        late.errors()[0]?.args[1],
        String(STATUS.CLIENT_UNAUTHORIZED),
        JSON.stringify(late.received),
      );
    },
  );

  it('an administrator ends a live session; the audit row has the reason and the bytes', T, async () => {
    const { json } = await connect(alice);
    const c = await tunnel(alice, json.token);
    await c.waitFor('a frame', () => c.syncs >= 1, 20_000);
    type S = {
      id: string;
      live: boolean;
      userName: string;
      serverName: string;
      proxyName: string;
      endReason: string | null;
      bytesDown: number;
      bytesUp: number;
      endedAt: number | null;
    };
    const live = await pollUntil(
      'the session listed live',
      async () => {
        const r = await webapp.admin.request<{ items: S[] }>('GET', '/api/admin/sessions?active=1');
        return r.json.items.find((s) => s.live);
      },
      10_000,
    );
    assert.deepEqual([live.userName, live.serverName, live.proxyName], ['alice', 'desk', 'good']);
    const end = await webapp.admin.request('DELETE', `/api/admin/sessions/${live.id}`);
    assert.equal(end.status, 204, end.text);
    await c.closed;
    const done = await pollUntil(
      'the session ended in the audit',
      async () => {
        const r = await webapp.admin.request<{ items: S[] }>('GET', '/api/admin/sessions?active=0');
        return r.json.items.find((s) => s.id === live.id && s.endedAt !== null);
      },
      10_000,
    );
    assert.equal(done.endReason, 'ended by admin');
    assert.ok(done.bytesDown > 100 && done.bytesUp > 0, JSON.stringify(done));
    assert.equal((await webapp.admin.request('DELETE', `/api/admin/sessions/${live.id}`)).status, 404);
  });

  it('all proxies down: connect answers 503 with words', T, async () => {
    const list = await webapp.admin.request<{ items: { id: string; name: string }[] }>(
      'GET',
      '/api/admin/proxies',
    );
    const good = list.json.items.find((p) => p.name === 'good');
    await webapp.admin.request('PATCH', `/api/admin/proxies/${good?.id}`, { enabled: false });
    try {
      const r = await connect(alice);
      assert.equal(r.status, 503);
      const body = r.json as unknown as { error: string; message: string };
      assert.equal(body.error, 'no-proxy');
      assert.match(body.message, /No connection proxy is available/);
    } finally {
      await webapp.admin.request('PATCH', `/api/admin/proxies/${good?.id}`, { enabled: true });
    }
  });
};

if (why) describe('webapp: proxy selection, tunnel relay, tokens, sessions', { skip: why }, () => {});
else {
  forEachDatabase('webapp: proxy selection, tunnel relay, tokens, sessions', suite, { timeout: 300_000 });
  after(() => assert.deepEqual(leftoverProcesses(), []));
}
