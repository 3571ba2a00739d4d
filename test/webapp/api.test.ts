// The webapp's JSON API on SQLite and on PostgreSQL (real databases, the real server in process, HTTPS):
// sign-in, cookies, CSRF, expiry, rate limit; authorization of servers; admin validation naming fields;
// tokens through the proxies' callback (single use, TTL, other proxy, replay window); registration; OpenAPI.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, it } from 'node:test';
import type { ApiClient } from '../e2e/helpers/gatehouse-webapp.js';
import { forEachDatabase } from '../helpers/postgres.js';
import { startTestWebapp, type TestWebapp } from './api-helpers.js';

const T = { timeout: 30_000 };

forEachDatabase('webapp API', (db) => {
  let w: TestWebapp;
  let health: Server;
  let healthUrl = '';
  const ids = { alice: '', bob: '', group: '', vnc: '', rdp: '', p1: '', p2: '' };
  const secrets = { p1: '', p2: '' };
  let alice: ApiClient;
  let bob: ApiClient;

  before(async () => {
    w = await startTestWebapp(db.database, db.dataDir, {
      'webapp.tokens.ttlSeconds': '2',
      'webapp.tokens.replayWindowSeconds': '2',
      'webapp.login.maxFailures': '3',
      'webapp.session.idleMinutes': '1',
    });
    // A stand-in /health endpoint answering 200: the health check is all connect asks of a proxy here
    // (the relay to a real proxy is tested in test/e2e/webapp-relay.test.ts).
    health = createServer((_req, res) => res.end('{"status":"ok"}'));
    await new Promise<void>((r) => health.listen(0, '127.0.0.1', r));
    healthUrl = `http://127.0.0.1:${(health.address() as { port: number }).port}`;
    const a = w.admin;
    const mk = async (path: string, body: unknown) => {
      const r = await a.request<{ id: string }>('POST', path, body);
      assert.equal(r.status, 201, `${path}: ${r.text}`);
      return r.json;
    };
    ids.alice = (
      await mk('/api/admin/users', { username: 'alice', role: 'user', password: 'alice-password' })
    ).id;
    ids.bob = (await mk('/api/admin/users', { username: 'bob', role: 'user', password: 'bob-password' })).id;
    ids.group = (
      await mk('/api/admin/groups', { name: 'ops', memberIds: [ids.alice], dlp: { clipboardDown: false } })
    ).id;
    ids.vnc = (
      await mk('/api/admin/servers', {
        name: 'vnc-a',
        protocol: 'vnc',
        host: '10.0.0.5',
        port: 5900,
        zoneId: w.zoneId,
        groupIds: [ids.group],
        credentials: { password: 'vnc-secret' },
      })
    ).id;
    ids.rdp = (
      await mk('/api/admin/servers', {
        name: 'rdp-a',
        protocol: 'rdp',
        host: '10.0.0.6',
        port: 3389,
        zoneId: w.zoneId,
        userIds: [ids.alice],
        dlp: { drives: false },
        credentials: { username: 'alice', password: 'rdp-secret', domain: 'CORP' },
      })
    ).id;
    for (const name of ['p1', 'p2'] as const) {
      const r = await a.request<{ proxy: { id: string }; secret: string }>('POST', '/api/admin/proxies', {
        name,
        zoneId: w.zoneId,
        kind: 'guac',
        address: healthUrl,
      });
      assert.equal(r.status, 201, r.text);
      ids[name] = r.json.proxy.id;
      secrets[name] = r.json.secret;
    }
    await a.request('PATCH', `/api/admin/proxies/${ids.p2}`, { enabled: false });
    alice = a.fresh();
    bob = a.fresh();
    assert.equal((await alice.login('alice', 'alice-password')).status, 200);
    assert.equal((await bob.login('bob', 'bob-password')).status, 200);
  });

  after(async () => {
    await w?.close();
    health?.close();
  });

  const redeem = (secret: string, proxyName: string, token: string) =>
    w.admin
      .fresh()
      .request<Record<string, unknown>>(
        'POST',
        '/api/proxy/redeem',
        { token, proxy: { id: proxyName }, client: { remoteAddress: '203.0.113.9' } },
        { authorization: `Bearer ${secret}` },
      );

  it('sign-in: wrong password 401, unknown user 401, cookie flags, me, logout', T, async () => {
    const c = w.admin.fresh();
    assert.equal((await c.login('alice', 'nope-nope')).status, 401);
    assert.equal((await c.login('nobody', 'whatever1')).status, 401);
    const ok = await c.request('POST', '/api/login', { username: 'alice', password: 'alice-password' });
    const cookie = String(ok.headers['set-cookie']);
    assert.match(
      cookie,
      /^__Host-gh_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; Secure; SameSite=Strict/,
    );
    c.csrf = (ok.json as { csrfToken: string }).csrfToken;
    const me = await c.request<{ user: { username: string } }>('GET', '/api/me');
    assert.equal(me.json.user.username, 'alice');
    assert.equal((await c.request('POST', '/api/logout')).status, 204);
    assert.equal((await c.request('GET', '/api/me')).status, 401);
  });

  it('login rate limit: after 3 failures 429 with Retry-After, even with the right password', T, async () => {
    const c = w.admin.fresh();
    for (let i = 0; i < 3; i++) assert.equal((await c.login('bob', 'wrong-password')).status, 401);
    const limited = await c.login('bob', 'bob-password');
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers['retry-after']) > 0);
    assert.match(String(limited.json.message), /try again in \d+ s/);
  });

  it(
    'CSRF: a change without the token (or with a wrong one, or from a foreign Origin) is 403',
    T,
    async () => {
      const r1 = await alice.request('POST', `/api/servers/${ids.vnc}/connect`, undefined, {
        'x-csrf-token': '',
      });
      assert.equal(r1.status, 403);
      assert.equal(r1.json.error, 'csrf');
      const r2 = await alice.request('POST', `/api/servers/${ids.vnc}/connect`, undefined, {
        'x-csrf-token': 'x'.repeat(43),
      });
      assert.equal(r2.status, 403);
      const r3 = await alice.request('POST', `/api/servers/${ids.vnc}/connect`, undefined, {
        origin: 'https://evil.example',
      });
      assert.equal(r3.status, 403);
    },
  );

  it('session expiry: an expired login is 401 and its row is gone', T, async () => {
    const c = w.admin.fresh();
    await c.login('alice', 'alice-password');
    // Expire it in the database (idle expiry is minutes; the check is the same).
    const sessions = w.app.store as unknown as { db: { run(sql: string, p: unknown[]): Promise<unknown> } };
    await sessions.db.run('UPDATE web_sessions SET expires_at = ? WHERE user_id = ?', [
      Date.now() - 1,
      ids.alice,
    ]);
    assert.equal((await c.request('GET', '/api/me')).status, 401);
    assert.equal((await alice.request('GET', '/api/me')).status, 401, 'every expired login of alice');
    assert.equal((await alice.login('alice', 'alice-password')).status, 200);
  });

  it('authorization: bob sees no servers and cannot connect or download; alice sees hers', T, async () => {
    const mine = await alice.request<{ servers: { name: string }[] }>('GET', '/api/servers');
    assert.deepEqual(mine.json.servers.map((s) => s.name).sort(), ['rdp-a', 'vnc-a']);
    const his = await bob.request<{ servers: unknown[] }>('GET', '/api/servers');
    assert.deepEqual(his.json.servers, []);
    assert.equal((await bob.request('POST', `/api/servers/${ids.vnc}/connect`)).status, 403);
    assert.equal((await bob.request('GET', `/api/servers/${ids.rdp}/rdp`)).status, 403);
    assert.equal((await bob.request('POST', '/api/servers/no-such-id/connect')).status, 404);
    assert.equal((await bob.request('GET', '/api/admin/users')).status, 403);
    assert.equal((await w.admin.fresh().request('GET', '/api/servers')).status, 401);
  });

  it('admin validation: 400 naming the field; 409 on a taken name; 404 unknown', T, async () => {
    const bad = await w.admin.request('POST', '/api/admin/servers', {
      name: 'x',
      protocol: 'telnet',
      host: 'h',
      port: 1,
      zoneId: w.zoneId,
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.field, 'protocol');
    const port = await w.admin.request('POST', '/api/admin/servers', {
      name: 'x',
      protocol: 'vnc',
      host: 'h',
      port: 70000,
      zoneId: w.zoneId,
    });
    assert.equal(port.json.field, 'port');
    const extra = await w.admin.request('POST', '/api/admin/zones', { name: 'z', color: 'red' });
    assert.equal(extra.json.field, 'color');
    const missing = await w.admin.request('POST', '/api/admin/users', { username: 'carol', role: 'user' });
    assert.equal(missing.json.field, 'password');
    const taken = await w.admin.request('POST', '/api/admin/users', {
      username: 'alice',
      role: 'user',
      password: 'whatever-1',
    });
    assert.equal(taken.status, 409);
    assert.equal(taken.json.field, 'username');
    const zone = await w.admin.request('POST', '/api/admin/servers', {
      name: 'y',
      protocol: 'vnc',
      host: 'h',
      port: 1,
      zoneId: 'nope',
    });
    assert.deepEqual([zone.status, zone.json.field], [400, 'zoneId']);
    assert.equal((await w.admin.request('PATCH', '/api/admin/zones/nope', { name: 'q' })).status, 404);
    const json = await w.admin.request('POST', '/api/admin/zones', '{not json', {
      'content-type': 'application/json',
    });
    assert.deepEqual([json.status, json.json.error], [400, 'bad-json']);
    const big = await w.admin.request('POST', '/api/admin/zones', { name: 'z'.repeat(100_000) });
    assert.equal(big.status, 413);
    const inUse = await w.admin.request('DELETE', `/api/admin/zones/${w.zoneId}`);
    assert.equal(inUse.status, 409);
    const me = (await w.admin.request<{ user: { id: string } }>('GET', '/api/me')).json.user.id;
    assert.equal((await w.admin.request('DELETE', `/api/admin/users/${me}`)).status, 409);
    assert.equal(
      (await w.admin.request('PATCH', `/api/admin/users/${me}`, { role: 'user' })).status,
      409,
      'last admin',
    );
  });

  it(
    "admin validation of a server's connection parameters: guacd's names, values as the engines take them",
    T,
    async () => {
      const server = (protocol: string, params: Record<string, string>) =>
        w.admin.request<{ id: string; field?: string; message?: string }>('POST', '/api/admin/servers', {
          name: `params-${Math.random().toString(36).slice(2)}`,
          protocol,
          host: 'desk.example',
          port: 3389,
          zoneId: w.zoneId,
          params,
        });
      for (const [protocol, params, field, words] of [
        ['rdp', { 'server-layot': 'de-de-qwertz' }, 'params.server-layot', /not a RDP connection parameter/],
        ['rdp', { hostname: 'other' }, 'params.hostname', /set from the server's host/],
        ['rdp', { password: 'x' }, 'params.password', /credentials/],
        ['rdp', { 'disable-copy': 'true' }, 'params.disable-copy', /DLP policy/],
        ['rdp', { 'color-depth': '12' }, 'params.color-depth', /not 8, 16, 24 or 32/],
        ['rdp', { 'server-layout': 'xx-yy' }, 'params.server-layout', /not a layout/],
        ['vnc', { security: 'nla' }, 'params.security', /not a VNC connection parameter/],
        ['vnc', { 'read-only': 'maybe' }, 'params.read-only', /read-only/],
        ['ssh', { encodings: 'raw' }, 'params.encodings', /not a SSH connection parameter/],
      ] as const) {
        const r = await server(protocol, params);
        assert.deepEqual([r.status, r.json.field], [400, field], `${protocol} ${JSON.stringify(params)}`);
        assert.match(String(r.json.message), words);
      }
      // guacd's names the engines do not implement (for an external guacd) and valid values are accepted.
      const ok = await server('rdp', {
        'server-layout': 'de-de-qwertz',
        'resize-method': 'reconnect',
        'recording-path': '/var/rec',
        'gateway-hostname': 'gw',
      });
      assert.equal(ok.status, 201);
      // A change of protocol is checked against the parameters kept.
      const patch = await w.admin.request('PATCH', `/api/admin/servers/${ok.json.id}`, { protocol: 'vnc' });
      assert.deepEqual([patch.status, patch.json.field], [400, 'params.server-layout']);
      const fixed = await w.admin.request('PATCH', `/api/admin/servers/${ok.json.id}`, { params: {} });
      assert.equal(fixed.status, 200);
      assert.equal((await w.admin.request('DELETE', `/api/admin/servers/${ok.json.id}`)).status, 204);
    },
  );

  it(
    'server credentials are write-only and DLP reaches the grant (group restriction + server restriction)',
    T,
    async () => {
      const s = await w.admin.request<Record<string, unknown>>('GET', `/api/admin/servers/${ids.rdp}`);
      assert.equal(s.json.hasCredentials, true);
      assert.ok(!JSON.stringify(s.json).includes('rdp-secret'));
      const c = await alice.request<{ token: string }>('POST', `/api/servers/${ids.vnc}/connect`);
      assert.equal(c.status, 200, c.text);
      const g = await redeem(secrets.p1, 'p1', c.json.token);
      assert.equal(g.status, 200, g.text);
      const grant = g.json as {
        user: string;
        target: { protocol: string; params: Record<string, string> };
        policy: Record<string, boolean>;
      };
      assert.equal(grant.user, 'alice');
      assert.deepEqual(grant.target.params, {
        hostname: '10.0.0.5',
        port: '5900',
        password: 'vnc-secret',
        'disable-copy': 'true',
      });
      assert.equal(grant.policy.disableCopy, true);
      assert.equal(grant.policy.disablePaste, false);
    },
  );

  it('tokens: single use, TTL, bound to their proxy, replay window for the same proxy', T, async () => {
    const issue = async () =>
      (
        await alice.request<{ token: string; proxy: { name: string } }>(
          'POST',
          `/api/servers/${ids.vnc}/connect`,
        )
      ).json;
    const t1 = await issue();
    assert.equal(t1.proxy.name, 'p1', 'p2 is disabled');
    await w.admin.request('PATCH', `/api/admin/proxies/${ids.p2}`, { enabled: true });
    try {
      assert.equal((await redeem(secrets.p2, 'p2', t1.token)).status, 401, 'another proxy');
      assert.equal((await redeem(secrets.p1, 'p1', t1.token)).status, 200, 'first redeem');
      assert.equal((await redeem(secrets.p1, 'p1', t1.token)).status, 200, 'reconnect within the window');
      assert.equal((await redeem(secrets.p2, 'p2', t1.token)).status, 401, 'other proxy within the window');
    } finally {
      await w.admin.request('PATCH', `/api/admin/proxies/${ids.p2}`, { enabled: false });
    }
    const t2 = await issue();
    await new Promise((r) => setTimeout(r, 2300));
    assert.equal((await redeem(secrets.p1, 'p1', t1.token)).status, 401, 'replay after the window');
    const expired = await redeem(secrets.p1, 'p1', t2.token);
    assert.deepEqual([expired.status, expired.json.error], [401, 'token-invalid'], 'expired (TTL 2 s)');
    assert.deepEqual(
      (await redeem('wrong-secret', 'p1', (await issue()).token)).json.error,
      'proxy-unauthorized',
    );
    assert.equal((await redeem(secrets.p1, 'p1', 'x')).status, 401);
  });

  it(
    'access revoked between connect and redeem: 403 forbidden; server deleted: 404 unknown-target',
    T,
    async () => {
      const tmp = await w.admin.request<{ id: string }>('POST', '/api/admin/servers', {
        name: 'tmp',
        protocol: 'vnc',
        host: 'h',
        port: 5901,
        zoneId: w.zoneId,
        userIds: [ids.alice],
      });
      const t = (await alice.request<{ token: string }>('POST', `/api/servers/${tmp.json.id}/connect`)).json
        .token;
      await w.admin.request('PATCH', `/api/admin/servers/${tmp.json.id}`, { userIds: [] });
      assert.equal((await redeem(secrets.p1, 'p1', t)).json.error, 'forbidden');
      await w.admin.request('PATCH', `/api/admin/servers/${tmp.json.id}`, { userIds: [ids.alice] });
      const t2 = (await alice.request<{ token: string }>('POST', `/api/servers/${tmp.json.id}/connect`)).json
        .token;
      await w.admin.request('DELETE', `/api/admin/servers/${tmp.json.id}`);
      const gone = await redeem(secrets.p1, 'p1', t2);
      assert.ok(gone.status === 404 || gone.status === 401, gone.text);
    },
  );

  it('registration: right secret updates the address; wrong zone 409; wrong secret 401', T, async () => {
    const reg = (secret: string, zone: string | null) =>
      w.admin
        .fresh()
        .request(
          'POST',
          '/api/proxy/register',
          { proxy: { id: 'p1' }, kind: 'guac', address: healthUrl, zone, version: '1.2.3' },
          { authorization: `Bearer ${secret}` },
        );
    const ok = await reg(secrets.p1, 'default');
    assert.deepEqual([ok.status, ok.json], [200, { id: 'p1', zone: 'default' }]);
    assert.equal((await reg(secrets.p1, 'elsewhere')).status, 409);
    assert.equal((await reg(secrets.p2, null)).status, 401);
    const p = await w.admin.request<{ registeredAt: number | null }>('GET', `/api/admin/proxies/${ids.p1}`);
    assert.ok((p.json.registeredAt ?? 0) > 0);
  });

  it('.rdp download for an RDP server; 400 for VNC; 503 without a gateway', T, async () => {
    assert.equal((await alice.request('GET', `/api/servers/${ids.vnc}/rdp`)).status, 400);
    assert.equal((await alice.request('GET', `/api/servers/${ids.rdp}/rdp`)).status, 503);
    const gw = await w.admin.request<{ proxy: { id: string } }>('POST', '/api/admin/proxies', {
      name: 'gw1',
      zoneId: w.zoneId,
      kind: 'rdp-gateway',
      address: healthUrl.replace('http://', ''),
    });
    assert.equal(gw.status, 201, gw.text);
    const file = await alice.request('GET', `/api/servers/${ids.rdp}/rdp`);
    assert.equal(file.status, 200, file.text);
    assert.match(String(file.headers['content-type']), /^application\/x-rdp/);
    assert.match(String(file.headers['content-disposition']), /^attachment; filename="rdp-a\.rdp"/);
    const { verifyRdpFile } = await import('../../src/webapp/rdp-file/sign.js');
    const text = decodeRdp(file.raw);
    assert.match(text, /full address:s:127\.0\.0\.1:\d+/);
    assert.match(text, /drivestoredirect:s:\r\n/);
    assert.equal(verifyRdpFile(text).valid, true);
  });

  it(
    "a zone without proxies: 503, or the other zones' proxies when it may search alternate zones",
    T,
    async () => {
      const z = await w.admin.request<{ id: string }>('POST', '/api/admin/zones', { name: 'branch' });
      const s = await w.admin.request<{ id: string }>('POST', '/api/admin/servers', {
        name: 'branch-desk',
        protocol: 'vnc',
        host: 'h',
        port: 5900,
        zoneId: z.json.id,
        userIds: [ids.alice],
      });
      const none = await alice.request('POST', `/api/servers/${s.json.id}/connect`);
      assert.deepEqual([none.status, none.json.error], [503, 'no-proxy']);
      assert.match(String(none.json.message), /No connection proxy serves this server's zone/);
      await w.admin.request('PATCH', `/api/admin/zones/${z.json.id}`, { searchAlternateZones: true });
      const other = await alice.request<{ proxy: { name: string } }>(
        'POST',
        `/api/servers/${s.json.id}/connect`,
      );
      assert.equal(other.status, 200, other.text);
      assert.equal(other.json.proxy.name, 'p1');
    },
  );

  it('OpenAPI document lists every route with its schemas', T, async () => {
    const doc = await w.admin.request<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(
      'GET',
      '/api/openapi.json',
    );
    assert.equal(doc.json.openapi, '3.1.0');
    for (const p of [
      '/api/login',
      '/api/servers/{id}/connect',
      '/api/servers/{id}/rdp',
      '/api/proxy/redeem',
      '/api/admin/servers/{id}',
      '/api/tunnel',
    ]) {
      assert.ok(doc.json.paths[p], p);
    }
    assert.ok((doc.json.paths['/api/admin/servers'] as { post: { requestBody: unknown } }).post.requestBody);
  });
});

/** The .rdp body as text: UTF-16LE after a byte-order mark. */
function decodeRdp(raw: Buffer): string {
  assert.deepEqual([...raw.subarray(0, 2)], [0xff, 0xfe], 'UTF-16LE BOM');
  return raw.subarray(2).toString('utf16le');
}
