// The RDP engine through the proxy (and `gatehouse engine`): `gatehouse proxy` (its connection manager starts one gatehouse-rdp process
// per session) in front of freerdp-shadow-cli sharing an Xvfb display, with signed tokens targeting `rdp` and a
// lean WebSocket tunnel client. Frames arrive; killing one session's engine process ends only that session
// (SERVER_ERROR) while another carries on; fifty sessions opened and closed leave no engine process, no
// zombie, and no growth in the proxy's RSS beyond noise. GATEHOUSE_RDP_ENGINE runs another build (ASan).
import assert from 'node:assert/strict';
import { execSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { resolveRunAs, whyNotRunnable } from '../../src/engine/rdp/engine-process.js';
import { STATUS } from '../../src/protocol/guacamole/status.js';
import type { Target } from '../../src/proxy/types.js';
import { GuacTestClient, javaHandshake } from '../helpers/guacd-client.js';
import { skipUnlessInstalled } from './helpers/binaries.js';
import { startGatehouseEngine } from './helpers/gatehouse-engine.js';
import {
  type ProxyProcess,
  procFigures,
  startGatehouseProxy,
  TunnelClient,
  tunnelQuery,
} from './helpers/gatehouse-proxy.js';
import { leftoverProcesses, pollUntil, sleep } from './helpers/processes.js';
import { engineBinary, engineSkipReason } from './helpers/rdp-engine-process.js';
import { rdpParams, type ShadowServer, startShadowServer } from './helpers/rdp-servers.js';
import { startXvfb, type XDisplay } from './helpers/x-display.js';

const why = engineSkipReason() ?? skipUnlessInstalled(['Xvfb', 'freerdp-shadow-cli', 'xsetroot']);
const SKIP = why === undefined ? {} : { skip: why };
const T = { timeout: 60_000 };
const isRoot = process.getuid?.() === 0;
const W = 1024;
const H = 768;

let display: XDisplay;
let shadow: ShadowServer;
let proxy: ProxyProcess;
const clients: TunnelClient[] = [];
let unreachable: string | undefined;

function rdpTarget(): Target {
  return { protocol: 'rdp', params: rdpParams(shadow, { security: 'tls' }) };
}

async function open(): Promise<TunnelClient> {
  const c = await TunnelClient.open(proxy, tunnelQuery(await proxy.token(rdpTarget()), W, H));
  clients.push(c);
  return c;
}

/** The proxy's children running the engine executable (live ones), and its zombie children. */
function engineChildren(parent = proxy.process.pid): { live: number[]; zombies: number[] } {
  const binary = engineBinary();
  const live: number[] = [];
  const zombies: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== parent) continue;
      if (fields[0] === 'Z') zombies.push(Number(name));
      else if (readFileSync(`/proc/${name}/cmdline`, 'latin1').startsWith(binary)) live.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return { live, zombies };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const mb = (n: number): string => (n / 1e6).toFixed(1);

describe('RDP engine through the proxy (freerdp-shadow-cli on Xvfb)', SKIP, () => {
  before(async () => {
    display = await startXvfb({ width: W, height: H });
    await display.setRootColor('#336699');
    shadow = await startShadowServer({ display, security: 'tls' });
    // Run as root, the proxy starts each engine as nobody, who must be able to reach the executable; a clone
    // under a private directory (/root/...) keeps our own user instead, and says so.
    unreachable = isRoot ? whyNotRunnable(engineBinary(), resolveRunAs('nobody')) : undefined;
    if (unreachable) process.stderr.write(`rdp e2e: ${unreachable}; engines run without a privilege drop\n`);
    proxy = await startGatehouseProxy({
      managers: 1,
      env: {
        GATEHOUSE_ENGINE__RDP__BINARY: engineBinary(),
        GATEHOUSE_LOG__LEVEL: 'info',
        ...(unreachable ? { GATEHOUSE_ENGINE__RDP__USER: '' } : {}),
      },
    });
  });

  after(async () => {
    for (const c of clients) c.close();
    await proxy?.stop();
    await shadow?.stop();
    await display?.stop();
    assert.deepEqual(leftoverProcesses(), []);
  });

  it('the proxy says the RDP engine is available; frames arrive', T, async () => {
    await proxy.waitForLog(/^engine rdp: available/);
    const t0 = Date.now();
    const c = await open();
    await c.waitFor('a first frame', () => c.syncs >= 1, 20_000);
    const firstFrameMs = Date.now() - t0;
    const ops = new Set(c.received.map((i) => i.opcode));
    assert.ok(ops.has('size'), `opcodes: ${[...ops].join(' ')}`);
    assert.ok(ops.has('img') || ops.has('png') || ops.has('cfill'), `opcodes: ${[...ops].join(' ')}`);
    assert.deepEqual(c.errors(), []);
    process.stderr.write(`rdp via proxy: tunnel open -> first frame ${firstFrameMs} ms\n`);
    c.close();
    await c.closed;
  });

  it("killing one session's engine process ends only that session (SERVER_ERROR)", T, async () => {
    const a = await open();
    await a.waitFor('a frame on A', () => a.syncs >= 1, 20_000);
    const beforeB = new Set(engineChildren().live);
    const b = await open();
    await b.waitFor('a frame on B', () => b.syncs >= 1, 20_000);
    const started = engineChildren().live.filter((pid) => !beforeB.has(pid));
    assert.equal(started.length, 1, `B's engine process among ${JSON.stringify(engineChildren())}`);
    const pidB = started[0]!;
    // Kill A's process, not B's: A is the other live engine.
    const pidA = engineChildren().live.find((pid) => pid !== pidB);
    assert.ok(pidA !== undefined);
    process.kill(pidA, 'SIGKILL');
    const closeA = await a.closed;
    const [errorA] = a.errors();
    assert.equal(errorA?.args[1], String(STATUS.SERVER_ERROR), JSON.stringify(errorA?.args));
    assert.equal(errorA?.args[0], 'The RDP engine crashed (SIGKILL)');
    assert.equal(closeA.reason, String(STATUS.SERVER_ERROR));
    // B carries on: a change on the display reaches it.
    const syncs = b.syncs;
    await display.setRootColor('#994422');
    await b.waitFor('a new frame on B', () => b.syncs > syncs, 15_000);
    assert.deepEqual(b.errors(), []);
    assert.ok(engineChildren().live.includes(pidB));
    b.close();
    await b.closed;
    await proxy.waitForLog(/rdp engine: process \d+ was killed by SIGKILL/);
  });

  it('fifty sessions opened and closed: no engine process, no zombie, RSS levels off', {
    timeout: 300_000,
  }, async () => {
    const pid = proxy.process.pid;
    const firstFrames: number[] = [];
    const round = async (count: number): Promise<void> => {
      for (let done = 0; done < count; done += 5) {
        const batch = await Promise.all(
          Array.from({ length: 5 }, async () => {
            const t0 = Date.now();
            const c = await open();
            await c.waitFor('a frame', () => c.syncs >= 1, 30_000);
            firstFrames.push(Date.now() - t0);
            return c;
          }),
        );
        for (const c of batch) c.close();
        await Promise.all(batch.map((c) => c.closed));
        for (const c of batch) assert.deepEqual(c.errors(), []);
      }
    };
    const settle = async (): Promise<{ rss: number; fds: number }> => {
      await pollUntil(
        'no engine process left',
        () => (engineChildren().live.length === 0 ? true : undefined),
        15_000,
      );
      await sleep(500);
      return procFigures(pid);
    };
    await round(5); // warm-up: the first sessions raise the allocator's plateau
    const base = await settle();
    await round(25);
    const mid = await settle();
    await round(25);
    const end = await settle();
    assert.deepEqual(engineChildren(), { live: [], zombies: [] });
    // A sanitizer build (GATEHOUSE_RDP_ENGINE) reports on stderr, which lands in the proxy's log.
    const reports = proxy.logs().filter((l) => /Sanitizer|runtime error:/.test(String(l.msg ?? '')));
    assert.deepEqual(
      reports.map((l) => l.msg),
      [],
    );
    process.stderr.write(
      `rdp via proxy, 55 sessions: first frame median ${median(firstFrames)} ms, max ${Math.max(...firstFrames)} ms; ` +
        `proxy RSS ${mb(base.rss)} -> ${mb(mid.rss)} -> ${mb(end.rss)} MB, fds ${base.fds} -> ${mid.fds} -> ${end.fds}\n`,
    );
    assert.ok(end.fds <= base.fds + 2, `fds ${base.fds} -> ${end.fds}`);
    assert.ok(
      end.rss - mid.rss <= 16e6,
      `the second 25 sessions grew the proxy's RSS by ${mb(end.rss - mid.rss)} MB`,
    );
  });
  it('`gatehouse engine` (the guacd-compatible listener) serves RDP sessions too', T, async () => {
    const engine = await startGatehouseEngine([
      '--set',
      `engine.rdp.binary=${engineBinary()}`,
      ...(unreachable ? ['--set', 'engine.rdp.user='] : []),
    ]);
    const c = await GuacTestClient.open(engine.port, engine.host);
    try {
      await engine.waitForLog(/^engine rdp: available/);
      await javaHandshake(c, {
        protocol: 'rdp',
        clientVersion: 'VERSION_1_5_0',
        params: rdpTarget().params,
        width: W,
        height: H,
      });
      for (;;) {
        const i = await c.nextNonNop(20_000);
        assert.notEqual(i.opcode, 'error', JSON.stringify(i.args));
        if (i.opcode === 'sync') break;
      }
      assert.equal(
        engineChildren(engine.process.pid).live.length,
        1,
        execSync(`ps -o pid,ppid,pgid,user,stat,args --ppid ${engine.process.pid}`).toString(),
      );
      c.send('disconnect');
      await c.waitClosed(10_000);
      // Gone and reaped: a zombie is an exited child its parent has not waited for yet.
      await pollUntil(
        'the engine process gone and reaped',
        () => {
          const { live, zombies } = engineChildren(engine.process.pid);
          return live.length === 0 && zombies.length === 0 ? true : undefined;
        },
        10_000,
      );
    } finally {
      c.destroy();
      await engine.stop();
    }
  });
});
