// The tunnel relay's refusals and limits, in process over HTTPS: a foreign Origin (403), an upgrade that is
// not a WebSocket (400), another path (404), a proxy that accepts the upgrade and never answers (the relay
// gives up after relay.connectTimeoutMs), and relay.maxTunnels (SERVER_BUSY on the tunnel).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { STATUS } from '../../src/protocol/guacamole/status.js';
import { TunnelClient } from '../e2e/helpers/gatehouse-proxy.js';
import type { ApiClient } from '../e2e/helpers/gatehouse-webapp.js';
import { registerTempDir, removeTempDir } from '../e2e/helpers/processes.js';
import { startTestWebapp, type TestWebapp } from './api-helpers.js';

const T = { timeout: 20_000 };

/** An upgrade request with the given headers; resolves with the HTTP status it gets. */
function upgradeStatus(w: TestWebapp, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${w.app.url}${path}`, {
      ca: w.app.tlsCertPem ?? '',
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', ...headers },
      timeout: 5000,
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('upgrade', (_res, socket: Socket) => {
      socket.destroy();
      resolve(101);
    });
    req.on('timeout', () => req.destroy(new Error('no answer')));
    req.on('error', reject);
    req.end();
  });
}

describe('tunnel relay: refusals and limits', { timeout: 60_000 }, () => {
  let w: TestWebapp;
  let dir: string;
  let stuck: Server;
  const held: Socket[] = [];
  let user: ApiClient;
  let serverId = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-relay-'));
    registerTempDir(dir);
    w = await startTestWebapp(join(dir, 'db.sqlite'), dir, {
      'webapp.relay.connectTimeoutMs': '400',
      'webapp.relay.maxTunnels': '1',
    });
    // A misbehaving proxy: healthy on /health, but it swallows tunnel upgrades without answering.
    stuck = createServer((_req, res) => res.end('{}'));
    stuck.on('upgrade', (_req, socket: Socket) => held.push(socket));
    await new Promise<void>((r) => stuck.listen(0, '127.0.0.1', r));
    const p = await w.admin.request('POST', '/api/admin/proxies', {
      name: 'stuck',
      zoneId: w.zoneId,
      kind: 'guac',
      address: `http://127.0.0.1:${(stuck.address() as { port: number }).port}`,
    });
    assert.equal(p.status, 201, p.text);
    const s = await w.admin.request<{ id: string }>('POST', '/api/admin/servers', {
      name: 's',
      protocol: 'vnc',
      host: 'h',
      port: 5900,
      zoneId: w.zoneId,
    });
    serverId = s.json.id;
    user = w.admin;
  });

  after(async () => {
    for (const s of held) s.destroy();
    stuck?.close();
    await w?.close();
    await removeTempDir(dir);
  });

  const token = async () =>
    (await user.request<{ token: string }>('POST', `/api/servers/${serverId}/connect`)).json.token;
  const open = (t: string, origin = w.app.url) =>
    TunnelClient.openUrl(`wss://127.0.0.1:${w.app.port}/api/tunnel?token=${t}`, {
      ca: w.app.tlsCertPem ?? '',
      headers: { cookie: user.cookie, origin },
    });

  it('a foreign Origin is refused with 403 before anything else', T, async () => {
    await assert.rejects(open(await token(), 'https://evil.example'), /refused the WebSocket upgrade/);
  });

  it('an upgrade without a WebSocket key is 400; another path is 404', T, async () => {
    const cookie = { Cookie: user.cookie };
    assert.equal(await upgradeStatus(w, `/api/tunnel?token=${await token()}`, cookie), 400);
    const key = { ...cookie, 'Sec-WebSocket-Key': 'AAAAAAAAAAAAAAAAAAAAAA==', 'Sec-WebSocket-Version': '13' };
    assert.equal(await upgradeStatus(w, '/api/elsewhere', key), 404);
  });

  it(
    'a proxy that never answers the upgrade: the relay gives up after its deadline; the limit counts live relays',
    T,
    async () => {
      const t0 = performance.now();
      const first = open(await token());
      // While the first waits for the stuck proxy, a second tunnel is over relay.maxTunnels = 1.
      await new Promise((r) => setTimeout(r, 150));
      const second = await open(await token());
      await second.closed;
      assert.equal(second.errors()[0]?.args[1], String(STATUS.SERVER_BUSY));
      await assert.rejects(first);
      const waited = performance.now() - t0;
      assert.ok(waited >= 350 && waited < 3000, `gave up after ${waited.toFixed(0)} ms`);
      // Nothing is left counted: a new tunnel gets as far as the proxy again (and is cut the same way).
      await assert.rejects(open(await token()));
    },
  );
});
