/** The VNC benchmark's own logic: /proc parsing, the metrics and ratios, idle memory per session, the
 * animation script, the profile summary, and the lean Guacamole client against a fake engine. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { driverScript, moverPath } from '../../bench/vnc/animation.js';
import { emptyStats, parseTargetArgs, targetArgs } from '../../bench/vnc/consumer-protocol.js';
import { GuacSession } from '../../bench/vnc/guac-session.js';
import { type ProcSample, sampleProcess, statCpuSeconds } from '../../bench/vnc/proc-stats.js';
import { summarizeProfile } from '../../bench/vnc/profile-summary.js';
import { idleResult, roundMetrics, type Snapshot } from '../../bench/vnc/report.js';
import { startFakeGuacd } from '../e2e/helpers/fake-guacd.js';
import { pollUntil } from '../e2e/helpers/processes.js';

const proc = (at: number, cpuSec: number, rchar = 0): ProcSample => ({
  at,
  cpuSec,
  rssBytes: 0,
  hwmBytes: 0,
  rchar,
  wchar: 0,
  threads: { main: cpuSec },
});

describe('bench/vnc', { timeout: 10_000 }, () => {
  test('statCpuSeconds reads utime + stime after a command name with spaces and parentheses', () => {
    const stat = '42 (a (b) c) S 1 42 42 0 -1 4194560 10 0 0 0 150 50 0 0 20 0 3 0 100 1000 10';
    assert.equal(statCpuSeconds(stat), 2);
    const self = sampleProcess(process.pid);
    assert.ok(self.rssBytes > 0 && self.cpuSec >= 0 && (self.threads.main ?? -1) >= 0);
  });

  test('round metrics: per-frame CPU of both sides and the ratio', () => {
    const g0 = { ...emptyStats('guac'), frames: 100, serverFrames: 100, bytesIn: 0 };
    const g1 = { ...emptyStats('guac'), frames: 300, serverFrames: 400, bytesIn: 2e6 };
    const r0 = { ...emptyStats('raw'), frames: 0, bytesIn: 0 };
    const r1 = { ...emptyStats('raw'), frames: 400, bytesIn: 1e6 };
    const snap = (t: number, engineCpu: number, rawCpu: number, g: typeof g0, r: typeof r0): Snapshot => ({
      engine: proc(t, engineCpu, t * 1000),
      raw: proc(t, rawCpu),
      server: null,
      xserver: null,
      machine: { busySec: t, totalSec: 2 * t },
      guac: g,
      rawStats: r,
    });
    const m = roundMetrics(snap(0, 0, 0, g0, r0), snap(10_000, 2, 0.4, g1, r1));
    assert.equal(m.wallSec, 10);
    assert.equal(m.engine.fps, 20);
    assert.equal(m.engine.updatesPerSec, 30);
    assert.equal(m.engine.cpuMsPerFrame, 10);
    assert.equal(m.raw.cpuMsPerFrame, 1);
    assert.equal(m.ratios.cpuPerFrame, 10);
    assert.equal(m.raw.rfbMBps, 0.1);
    assert.equal(m.machineBusyPercent, 50);
  });

  test('idle result: per-session RSS from the endpoints and the slope', () => {
    const mb = 1e6;
    const points = [0, 1, 10, 20].map((n) => ({
      sessions: n,
      engineRssBytes: 90 * mb + n * 3.5 * mb,
      rawRssBytes: 60 * mb + n * 3 * mb,
      rawHeapBytes: 0,
      engineCpuPercent: 0,
    }));
    const r = idleResult(points, 1024, 768);
    assert.ok(Math.abs(r.enginePerSession - 3.5 * mb) < 1);
    assert.ok(Math.abs(r.engineSlope - 3.5 * mb) < 1);
    assert.ok(Math.abs(r.rawPerSession - 3 * mb) < 1);
    assert.equal(r.framebufferBytes, 1024 * 768 * 4);
  });

  test('the animation script moves the window along a loop and changes the root colour', () => {
    const path = moverPath(1024, 768, 60);
    assert.equal(path.length, 60);
    for (const [x, y] of path) assert.ok(x >= 0 && y >= 0 && x < 1024 && y < 768, `${x},${y}`);
    const script = driverScript('12345', 1024, 768);
    assert.match(script, /^while :; do\n/);
    assert.equal(script.match(/xsetroot -solid/g)?.length, 6);
    assert.equal(script.match(/windowmove 12345 /g)?.length, 60);
  });

  test('consumer arguments round-trip; bad ones are refused', () => {
    const t = {
      kind: 'guac' as const,
      host: '127.0.0.1',
      port: 4822,
      vncHost: '127.0.0.1',
      vncPort: 5900,
      width: 800,
      height: 600,
    };
    assert.deepEqual(parseTargetArgs(targetArgs(t)), t);
    assert.throws(() => parseTargetArgs(['ssh', 'h', '1', 'h', '1', '1', '1']), /raw or guac/);
    assert.throws(() => parseTargetArgs(['raw', 'h', 'x', 'h', '1', '1', '1']), /bad port/);
  });

  test('profile summary: self time per function, largest first', () => {
    const cf = (functionName: string) => ({ functionName, url: 'file:///x/dist/src/a.js', lineNumber: 0 });
    const s = summarizeProfile({
      nodes: [
        { id: 1, callFrame: cf('(root)') },
        { id: 2, callFrame: cf('hot') },
        { id: 3, callFrame: cf('cold') },
      ],
      samples: [2, 2, 3, 2],
      timeDeltas: [1000, 1000, 1000, 1000],
    });
    assert.equal(s.totalMs, 4);
    assert.equal(s.entries[0]?.name, 'hot dist/src/a.js:1');
    assert.equal(s.entries[0]?.percent, 75);
  });

  test('the Guacamole client completes the handshake and answers every sync', async () => {
    const guacd = await startFakeGuacd({
      argNames: ['hostname', 'port', 'x'],
      onReady: (peer) => {
        peer.send('img', 1, 14, 0, 'image/png', 0, 0);
        peer.send('sync', 7, 3);
      },
    });
    const stats = emptyStats('guac');
    const target = {
      host: guacd.host,
      port: guacd.port,
      vncHost: 'vnc.example',
      vncPort: 5901,
      width: 640,
      height: 480,
    };
    const session = new GuacSession(target, stats);
    try {
      await session.ready;
      const peer = guacd.sessions[0];
      assert.ok(peer);
      const received = (): string[] => peer.received.map((i) => [i.opcode, ...i.args].join(','));
      await pollUntil('the answer to sync 7', () => received().includes('sync,7') || undefined, 2000, 10);
      assert.equal(peer.selected, 'vnc');
      assert.deepEqual(
        peer.handshake.map((i) => [i.opcode, ...i.args].join(',')),
        ['size,640,480,96', 'audio', 'video', 'image,image/png,image/jpeg,image/webp'],
      );
      assert.deepEqual(
        [peer.version, peer.params],
        ['VERSION_1_5_0', { hostname: 'vnc.example', port: '5901', x: '' }],
      );
      assert.equal(stats.frames, 1);
      assert.equal(stats.serverFrames, 3);
      assert.deepEqual(stats.images, { 'image/png': 1 });
      assert.deepEqual(stats.errors, []);
    } finally {
      session.close();
      await guacd.close();
    }
  });
});
