// ProxyHealthChecker against real servers started here: verdicts and details, the deadline (a hanging server),
// the body cap, caching (healthy for cacheMs, down for downMs), single flight, keep-alive and its stale-socket
// retry, https with a private CA, TCP checks for HOST:PORT addresses, and the throttled onResult hook.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type HealthResult, healthUrl, ProxyHealthChecker } from '../../src/webapp/proxies/health.js';
import { LOOPBACK } from '../e2e/helpers/free-port.js';
import { pollUntil } from '../e2e/helpers/processes.js';
import { writeTestCertificate } from '../helpers/test-cert.js';
import {
  answer,
  type CountingServer,
  closedPortUrl,
  countingServer,
  hangingServer,
} from './health-servers.js';

const servers: CountingServer[] = [];
const checkers: ProxyHealthChecker[] = [];
after(async () => {
  for (const c of checkers) c.close();
  await Promise.all(servers.map((s) => s.close()));
});
const serve = async (s: Promise<CountingServer>): Promise<CountingServer> => {
  const server = await s;
  servers.push(server);
  return server;
};
const checker = (
  opts: Partial<ConstructorParameters<typeof ProxyHealthChecker>[0]> = {},
): ProxyHealthChecker => {
  const c = new ProxyHealthChecker({ timeoutMs: 400, cacheMs: 0, downMs: 0, ...opts });
  checkers.push(c);
  return c;
};
/** A clock the test moves. */
const clock = (): { now: () => number; advance(ms: number): void } => {
  let t = 1_000_000;
  return {
    now: () => t,
    advance(ms) {
      t += ms;
    },
  };
};

describe('ProxyHealthChecker: verdicts', { timeout: 30_000 }, () => {
  it('200 is healthy; 503 from a draining proxy, other statuses, refused and bad addresses are not', async () => {
    const ok = await serve(countingServer(answer(200)));
    const draining = await serve(countingServer(answer(503)));
    const notFound = await serve(
      countingServer((_q, r) => {
        r.writeHead(404, { 'content-type': 'text/html' }).end('<h1>nope</h1>');
      }),
    );
    const c = checker();
    const r = await c.check({ id: 'a', address: ok.url });
    assert.equal(r.ok, true);
    assert.equal(r.detail, 'HTTP 200');
    assert.equal(r.cached, false);
    assert.ok(r.latencyMs > 0 && r.latencyMs < 400, String(r.latencyMs));
    assert.deepEqual(
      { ...(await c.check({ id: 'b', address: draining.url })), latencyMs: 0, at: 0 },
      { ok: false, detail: 'HTTP 503 (draining)', latencyMs: 0, at: 0, cached: false },
    );
    assert.equal((await c.check({ id: 'c', address: notFound.url })).detail, 'HTTP 404');
    assert.equal((await c.check({ id: 'd', address: await closedPortUrl() })).detail, 'connection refused');
    for (const [address, detail] of [
      ['not a url', 'invalid address'],
      ['ftp://127.0.0.1:21', 'unsupported scheme ftp:'],
      ['http://u:p@127.0.0.1:1', 'invalid address (credentials in it)'],
    ] as const) {
      const bad = await c.check({ id: `bad-${detail}`, address });
      assert.equal(bad.ok, false);
      assert.equal(bad.detail, detail);
    }
    // The /health path keeps a base path.
    assert.equal(String(healthUrl('https://h:1/prefix/')), 'https://h:1/prefix/health');
    assert.equal(String(healthUrl('http://h:1')), 'http://h:1/health');
  });

  it('one deadline: a server that accepts and never answers gives "timeout after N ms"; the socket is closed', async () => {
    const hang = await serve(hangingServer());
    const c = checker({ timeoutMs: 300 });
    const t0 = performance.now();
    const r = await c.check({ id: 'h', address: hang.url });
    const took = performance.now() - t0;
    assert.equal(r.ok, false);
    assert.equal(r.detail, 'timeout after 300 ms');
    assert.ok(took >= 290 && took < 700, `took ${took} ms`);
    await pollUntil(
      'the hanging connection is closed',
      () => (hang.closedConnections === 1 ? true : undefined),
      2000,
    );
  });

  it('a slow body counts against the same deadline', async () => {
    const slow = await serve(
      countingServer((_q, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"status":');
      }),
    );
    const r = await checker({ timeoutMs: 300 }).check({ id: 's', address: slow.url });
    assert.equal(r.detail, 'timeout after 300 ms');
  });

  it('reads at most 64 KiB: a huge 200 is healthy at once, a huge 503 is not; the connection is dropped', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const huge = (status: number) =>
      countingServer((_q, res) => {
        res.writeHead(status, { 'content-type': 'text/plain' });
        // 64 MiB announced by streaming; the checker must stop long before.
        let sent = 0;
        const pump = (): void => {
          while (sent < 1024 && res.write(chunk)) sent++;
          if (sent < 1024) res.once('drain', pump);
          else res.end();
        };
        res.on('close', () => {
          sent = 1024;
        });
        pump();
      });
    const big200 = await serve(huge(200));
    const big503 = await serve(huge(503));
    const c = checker({ timeoutMs: 2000 });
    const t0 = performance.now();
    const a = await c.check({ id: 'big200', address: big200.url });
    const b = await c.check({ id: 'big503', address: big503.url });
    assert.ok(performance.now() - t0 < 1500);
    assert.deepEqual([a.ok, a.detail, b.ok, b.detail], [true, 'HTTP 200', false, 'HTTP 503']);
    await pollUntil(
      'both connections closed',
      () => (big200.closedConnections + big503.closedConnections === 2 ? true : undefined),
      2000,
    );
  });

  it('https: verified against caPem; without it the self-signed certificate fails as a TLS error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-health-tls-'));
    try {
      const { cert, key } = writeTestCertificate(dir, 'gatehouse-test');
      const tls = await serve(countingServer(answer(200), { cert, key }));
      assert.deepEqual(
        [(await checker({ caPem: cert }).check({ id: 't', address: tls.url })).detail],
        ['HTTP 200'],
      );
      const untrusted = await checker().check({ id: 't', address: tls.url });
      assert.equal(untrusted.ok, false);
      assert.match(untrusted.detail, /^TLS: /);
      // An http:// address pointing at the TLS port: no answer that makes sense, unhealthy.
      assert.equal((await checker().check({ id: 'x', address: tls.url.replace('https', 'http') })).ok, false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('HOST:PORT addresses (RDP gateways) are checked by a TCP connection', async () => {
    const listening = await serve(hangingServer());
    const c = checker();
    assert.deepEqual(
      [(await c.check({ id: 'g', address: `${LOOPBACK}:${listening.port}` })).detail],
      ['TCP connect'],
    );
    const refused = (await closedPortUrl()).replace('http://', '');
    assert.equal((await c.check({ id: 'g2', address: refused })).detail, 'connection refused');
    assert.equal((await c.check({ id: 'g3', address: 'host:99999' })).detail, 'invalid address');
  });
});

describe('ProxyHealthChecker: cache, single flight, keep-alive, hook', { timeout: 30_000 }, () => {
  let ok: CountingServer;
  let down: CountingServer;
  before(async () => {
    ok = await serve(countingServer(answer(200)));
    down = await serve(countingServer(answer(503)));
  });

  it('concurrent checks of one proxy share one request; healthy cached for cacheMs, down for downMs', async () => {
    const t = clock();
    const c = checker({ cacheMs: 5000, downMs: 20_000, now: t.now });
    const before = ok.hits;
    const results = await Promise.all(
      Array.from({ length: 25 }, () => c.check({ id: 'p', address: ok.url })),
    );
    assert.equal(ok.hits - before, 1);
    assert.ok(results.every((r) => r.ok && !r.cached));
    t.advance(4999);
    const cached = await c.check({ id: 'p', address: ok.url });
    assert.deepEqual([cached.ok, cached.cached, ok.hits - before], [true, true, 1]);
    t.advance(1);
    assert.equal((await c.check({ id: 'p', address: ok.url })).cached, false);
    assert.equal(ok.hits - before, 2);

    const d0 = down.hits;
    await Promise.all(Array.from({ length: 10 }, () => c.check({ id: 'd', address: down.url })));
    t.advance(19_999);
    const skipped = await c.check({ id: 'd', address: down.url });
    assert.deepEqual(
      [skipped.ok, skipped.cached, skipped.detail, down.hits - d0],
      [false, true, 'HTTP 503 (draining)', 1],
    );
    t.advance(1);
    await c.check({ id: 'd', address: down.url });
    assert.equal(down.hits - d0, 2);
  });

  it('a changed address, forget() and peek()', async () => {
    const t = clock();
    const c = checker({ cacheMs: 60_000, downMs: 60_000, now: t.now });
    assert.equal(c.peek('m'), undefined);
    assert.equal((await c.check({ id: 'm', address: down.url })).ok, false);
    assert.equal(c.peek('m')?.ok, false);
    // Same id, new address: not the cached verdict.
    assert.equal((await c.check({ id: 'm', address: ok.url })).ok, true);
    const h = ok.hits;
    await c.check({ id: 'm', address: ok.url });
    assert.equal(ok.hits, h);
    c.forget('m');
    await c.check({ id: 'm', address: ok.url });
    assert.equal(ok.hits, h + 1);
    c.close();
    assert.equal((await c.check({ id: 'm', address: ok.url })).detail, 'health checker closed');
  });

  it('keeps connections alive between checks', async () => {
    const server = await serve(countingServer(answer(200)));
    const c = checker();
    for (let i = 0; i < 5; i++) assert.equal((await c.check({ id: 'k', address: server.url })).ok, true);
    assert.equal(server.hits, 5);
    assert.equal(server.connections, 1);
  });

  it('a kept-alive connection the server dropped is retried once on a new one, within the deadline', async () => {
    // A raw server that answers the first request of each connection and drops the connection at the second.
    let connections = 0;
    const open = new Set<net.Socket>();
    const raw = net.createServer((socket) => {
      connections++;
      open.add(socket);
      socket.on('close', () => open.delete(socket));
      let requests = 0;
      socket.on('error', () => {});
      socket.on('data', (d: Buffer) => {
        requests += (d.toString('latin1').match(/GET /g) ?? []).length;
        if (requests === 1)
          socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
        else socket.destroy();
      });
    });
    await new Promise<void>((r) => raw.listen(0, LOOPBACK, () => r()));
    try {
      const address = `http://${LOOPBACK}:${(raw.address() as net.AddressInfo).port}`;
      const c = checker();
      const results: HealthResult[] = [];
      for (let i = 0; i < 3; i++) results.push(await c.check({ id: 'r', address }));
      assert.deepEqual(
        results.map((r) => r.detail),
        ['HTTP 200', 'HTTP 200', 'HTTP 200'],
      );
      assert.equal(connections, 3);
    } finally {
      for (const s of open) s.destroy();
      await new Promise<void>((r) => raw.close(() => r()));
    }
  });

  it('onResult: fresh results only, the first, each change, and otherwise once per onResultEveryMs', async () => {
    const t = clock();
    const calls: Array<[string, boolean]> = [];
    let healthy = true;
    const flip = await serve(countingServer((q, r) => answer(healthy ? 200 : 503)(q, r)));
    const c = checker({
      cacheMs: 1000,
      downMs: 1000,
      now: t.now,
      onResultEveryMs: 10_000,
      onResult: (p, r) => {
        calls.push([p.id, r.ok]);
        if (calls.length === 2) throw new Error('a failing hook does not break checks');
      },
    });
    const step = async (): Promise<boolean> => {
      const r = await c.check({ id: 'f', address: flip.url });
      t.advance(1000);
      return r.ok;
    };
    assert.equal(await step(), true); // first: reported
    assert.equal(await step(), true); // unchanged, 1 s later: not
    healthy = false;
    assert.equal(await step(), false); // change: reported (the hook throws)
    assert.equal(await step(), false); // unchanged: not
    t.advance(10_000);
    assert.equal(await step(), false); // unchanged, 11 s later: reported
    assert.deepEqual(calls, [
      ['f', true],
      ['f', false],
      ['f', false],
    ]);
  });
});
