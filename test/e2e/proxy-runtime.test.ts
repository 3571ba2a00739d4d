// The proxy role as a process (`gatehouse proxy`, 2 connection managers) in front of Xvfb + x11vnc, driven by
// lean WebSocket clients: tokens (single use, bad, unknown target), bad input, /health and /metrics, a
// manager crash that ends only its own sessions, 100 sessions without leaks, an external guacd backend, and
// the SIGTERM drain.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { STATUS } from '../../src/protocol/guacamole/status.js';
import { skipUnlessInstalled } from './helpers/binaries.js';
import { type EngineProcess, startGatehouseEngine } from './helpers/gatehouse-engine.js';
import {
  type ProxyProcess,
  procFigures,
  startGatehouseProxy,
  TunnelClient,
  tunnelQuery,
} from './helpers/gatehouse-proxy.js';
import { leftoverProcesses, pollUntil, sleep } from './helpers/processes.js';
import { startX11vnc, type VncServer } from './helpers/vnc-servers.js';
import { startXvfb, type XDisplay } from './helpers/x-display.js';

const why = skipUnlessInstalled(['Xvfb', 'x11vnc', 'xsetroot']);
const T = { timeout: 60_000 };

describe('proxy role: runtime, tokens, managers, drain', {
  ...(why ? { skip: why } : {}),
  timeout: 300_000,
}, () => {
  let x: XDisplay;
  let vnc: VncServer;
  let proxy: ProxyProcess;
  const vncTarget = (): { protocol: string; params: Record<string, string> } => ({
    protocol: 'vnc',
    params: { hostname: vnc.host, port: String(vnc.port) },
  });
  const open = async (token: string): Promise<TunnelClient> =>
    TunnelClient.open(proxy, tunnelQuery(token, 320, 240));

  before(async () => {
    x = await startXvfb({ width: 320, height: 240 });
    await x.setRootColor('#224466');
    vnc = await startX11vnc(x);
    proxy = await startGatehouseProxy({ managers: 2, env: { GATEHOUSE_FAULT_INJECTION: '1' } });
  });

  after(async () => {
    await proxy?.stop();
    await vnc?.stop();
    await x?.stop();
    assert.deepEqual(leftoverProcesses(), []);
  });

  it(
    'a signed token opens a session: uuid first, then size, drawing and sync; replay is refused',
    T,
    async () => {
      const token = await proxy.token(vncTarget());
      const c = await open(token);
      await c.waitFor('a frame', () => c.syncs >= 1);
      assert.match(c.received[0]?.opcode === '' ? (c.received[0].args[0] ?? '') : '', /^\$[0-9a-f-]{36}$/);
      assert.ok(c.received.some((i) => i.opcode === 'size' && i.args[0] === '0' && i.args[1] === '320'));
      c.close();
      await c.closed;

      const again = await open(token);
      const closed = await again.closed;
      assert.equal(again.errors()[0]?.args[1], String(STATUS.CLIENT_UNAUTHORIZED));
      assert.equal(closed.reason, String(STATUS.CLIENT_UNAUTHORIZED));
      assert.equal(closed.code, 1008);
    },
  );

  it(
    'bad tokens, unknown targets, bad input: each ends with its status before or without a backend',
    T,
    async () => {
      const expectEnd = async (c: TunnelClient, status: number): Promise<void> => {
        const closed = await c.closed;
        assert.equal(closed.reason, String(status), JSON.stringify(c.received.slice(-3)));
        assert.equal(c.errors().at(-1)?.args[1], String(status));
      };
      await expectEnd(
        await TunnelClient.open(proxy, 'token=not-a-jwt&width=320'),
        STATUS.CLIENT_UNAUTHORIZED,
      );
      await expectEnd(await TunnelClient.open(proxy, 'width=320'), STATUS.CLIENT_UNAUTHORIZED);
      const expired = await proxy.token(vncTarget(), undefined, -60);
      await expectEnd(await open(expired), STATUS.CLIENT_UNAUTHORIZED);
      await expectEnd(
        await open(await proxy.token({ protocol: 'telnet', params: {} })),
        STATUS.UPSTREAM_NOT_FOUND,
      );
      const down = await proxy.token({ protocol: 'vnc', params: { hostname: '127.0.0.1', port: '1' } });
      await expectEnd(await open(down), STATUS.UPSTREAM_NOT_FOUND);

      const garbage = await open(await proxy.token(vncTarget()));
      await garbage.waitFor('the uuid', () => garbage.uuid !== null);
      garbage.send('this is not a guacamole instruction');
      await expectEnd(garbage, STATUS.CLIENT_BAD_REQUEST);

      const big = await open(await proxy.token(vncTarget()));
      await big.waitFor('the uuid', () => big.uuid !== null);
      big.send(`3.key,40000.${'1'.repeat(40_000)};`);
      await expectEnd(big, STATUS.CLIENT_OVERRUN);
    },
  );

  it('/health and /metrics describe both managers and the traffic', T, async () => {
    const h = await proxy.health();
    assert.equal(h.code, 200);
    assert.equal(h.body.status, 'ok');
    assert.equal(h.body.managers.length, 2);
    assert.ok(
      h.body.managers.every((m) => m.alive && m.healthy),
      JSON.stringify(h.body.managers),
    );
    const text = await proxy.metrics();
    assert.match(text, /gatehouse_sessions_started_total\{protocol="vnc"\} [1-9]/);
    assert.match(text, /gatehouse_tunnel_handshake_seconds_count\{protocol="vnc"\} [1-9]/);
    assert.match(text, /gatehouse_tunnel_bytes_total\{direction="out"\} [1-9]/);
    assert.match(text, /gatehouse_tunnel_errors_total\{status="CLIENT_UNAUTHORIZED"\} [1-9]/);
    assert.match(text, /gatehouse_managers 2/);
  });

  it(
    'a crashed manager ends only its own sessions; the others keep receiving frames; it restarts',
    T,
    async () => {
      // The kernel spreads connections by hash: open sessions until both managers carry some (at least 8).
      const clients: TunnelClient[] = [];
      let before = (await proxy.health()).body.managers;
      while (clients.length < 8 || before.some((m) => m.sessions === 0)) {
        assert.ok(clients.length < 40, `40 sessions, one manager still without: ${JSON.stringify(before)}`);
        clients.push(await open(await proxy.token(vncTarget())));
        const n = clients.length;
        await pollUntil(
          `${n} sessions`,
          async () => ((await proxy.health()).body.sessions === n ? true : undefined),
          10_000,
        );
        before = (await proxy.health()).body.managers;
      }
      const onZero = before[0]?.sessions ?? 0;

      proxy.process.child.kill('SIGUSR2');
      await pollUntil(
        'manager 0 sessions to end',
        () => {
          const ended = clients.filter((c) => c.errors().length > 0).length;
          return ended === onZero ? true : undefined;
        },
        10_000,
      );
      const ended = clients.filter((c) => c.errors().length > 0);
      for (const c of ended) assert.equal(c.errors()[0]?.args[1], String(STATUS.SERVER_ERROR));
      const alive = clients.filter((c) => c.errors().length === 0);
      assert.equal(alive.length, clients.length - onZero);

      const syncsBefore = alive.map((c) => c.syncs);
      await x.setRootColor('#aa3311');
      await pollUntil(
        'frames on the surviving sessions',
        () => (alive.every((c, i) => c.syncs > (syncsBefore[i] ?? 0)) ? true : undefined),
        10_000,
      );

      await pollUntil(
        'manager 0 restarted',
        async () => {
          const m = (await proxy.health()).body.managers[0];
          return m?.alive && m.restarts === 1 ? true : undefined;
        },
        10_000,
      );
      for (const c of alive) c.close();
      await Promise.all(alive.map((c) => c.closed));
    },
  );

  it('100 concurrent sessions open and close, 3 times; descriptors return to baseline, RSS levels off', {
    timeout: 200_000,
  }, async () => {
    const pid = proxy.process.pid;
    const warm = await open(await proxy.token(vncTarget()));
    await warm.waitFor('warm-up frame', () => warm.syncs >= 1);
    warm.close();
    await warm.closed;
    await sleep(500);
    const base = await procFigures(pid);
    const rounds: Array<{ peak: number; end: number }> = [];
    for (let round = 0; round < 3; round++) {
      // Opened 20 at a time: x11vnc itself accepts new viewers slowly (one full update each), and 100 at
      // once would make some wait past the engine's 15 s handshake timeout. All 100 are open together after.
      const clients: TunnelClient[] = [];
      for (let batch = 0; batch < 5; batch++) {
        const tokens = await Promise.all(Array.from({ length: 20 }, () => proxy.token(vncTarget())));
        const opened = await Promise.all(tokens.map((t) => open(t)));
        clients.push(...opened);
        await pollUntil(
          'a batch of 20 with a frame',
          () => (opened.every((c) => c.syncs >= 1) ? true : undefined),
          30_000,
        );
      }
      await pollUntil(
        '100 sessions with a frame',
        () => (clients.every((c) => c.syncs >= 1) ? true : undefined),
        60_000,
      ).catch((err: Error) => {
        const framed = clients.filter((c) => c.syncs >= 1).length;
        const uuids = clients.filter((c) => c.uuid !== null).length;
        const errors = clients.flatMap((c) => c.errors().map((e) => e.args.join(' '))).slice(0, 5);
        throw new Error(
          `round ${round + 1}: ${framed}/100 with a frame, ${uuids} started; errors ${JSON.stringify(errors)}; ${err.message}`,
        );
      });
      const peak = await procFigures(pid);
      assert.equal((await proxy.health()).body.sessions, 100);
      assert.ok(peak.fds >= base.fds + 100, 'each session held its sockets');
      for (const c of clients) c.close();
      await Promise.all(clients.map((c) => c.closed));
      await pollUntil(
        'no sessions',
        async () => ((await proxy.health()).body.sessions === 0 ? true : undefined),
        15_000,
      );
      const end = await pollUntil(
        'descriptors back to the baseline',
        async () => {
          const f = await procFigures(pid);
          return f.fds <= base.fds + 2 ? f : undefined;
        },
        15_000,
      );
      rounds.push({ peak: peak.rss, end: end.rss });
    }
    const mb = (n: number): string => (n / 1e6).toFixed(1);
    process.stderr.write(
      `proxy 100 sessions x3: RSS base ${mb(base.rss)} MB; ` +
        rounds.map((r, i) => `round ${i + 1} peak ${mb(r.peak)} end ${mb(r.end)}`).join('; ') +
        '\n',
    );
    // Freed memory stays with the allocator (V8 heap, glibc arenas, the shared tile-buffer pool), so the
    // first rounds raise a plateau; a leak keeps growing by about one round's session memory each time.
    const firstGrowth = rounds[0]!.peak - base.rss;
    const lastStep = rounds[2]!.end - rounds[1]!.end;
    assert.ok(
      lastStep <= Math.max(24e6, firstGrowth * 0.5),
      `RSS levels off: the third round added ${mb(lastStep)} MB (the first round's sessions took ${mb(firstGrowth)} MB)`,
    );
  });

  it('an external guacd backend (gatehouse engine) carries the session', T, async () => {
    let engine: EngineProcess | undefined;
    try {
      engine = await startGatehouseEngine();
      const token = await proxy.token({ ...vncTarget(), guacd: `guacd://127.0.0.1:${engine.port}` });
      const c = await open(token);
      await c.waitFor('a frame through guacd', () => c.syncs >= 1);
      assert.ok(c.received.some((i) => i.opcode === 'size'));
      await engine.waitForLog(/guacd session .* started/);
      c.close();
      await c.closed;
    } finally {
      await engine?.stop();
    }
  });

  it(
    'SIGTERM drains: /health 503, new tunnels refused, live sessions end with 0x020B after the grace',
    T,
    async () => {
      const p = await startGatehouseProxy({ managers: 1, args: ['--set', 'proxy.drainGraceMs=1500'] });
      try {
        const live = await TunnelClient.open(p, tunnelQuery(await p.token(vncTarget()), 320, 240));
        await live.waitFor('a frame', () => live.syncs >= 1);
        const t0 = Date.now();
        p.process.child.kill('SIGTERM');
        await pollUntil('503', async () => ((await p.health()).code === 503 ? true : undefined), 5000);
        const late = await TunnelClient.open(p, tunnelQuery(await p.token(vncTarget()), 320, 240));
        assert.equal((await late.closed).reason, String(STATUS.SESSION_CLOSED));
        const closed = await live.closed;
        assert.equal(closed.reason, String(STATUS.SESSION_CLOSED));
        assert.ok(Date.now() - t0 >= 1200, 'the live session had its grace period');
        const exit = await p.process.exited;
        assert.equal(exit.code, 0, p.process.output().slice(-2000));
      } finally {
        await p.stop();
      }
    },
  );
});
