/** The tunnel benchmark's own logic: the load generator's instruction walk and guacd client, the frame
 * recorder, the arithmetic (slots, medians, percentiles, bootstrap, idle memory, spread, goals), the report
 * and the helpers around threads and profiles. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { emptyClientStats, sumClientStats } from '../../bench/tunnel/client-protocol.js';
import {
  bootstrapQuantileDiff,
  idleMarginal,
  idlePerSession,
  latencyStats,
  medianSlots,
  percentile,
  type SlotSnapshot,
  slotResult,
  spreadOf,
  verdicts,
} from '../../bench/tunnel/metrics.js';
import { roundOrder } from '../../bench/tunnel/phases.js';
import { profileThread } from '../../bench/tunnel/profiles.js';
import { FrameCollector } from '../../bench/tunnel/recording.js';
import { buildReport, formatMarkdown, latencyEntries, type ReportMeta } from '../../bench/tunnel/report.js';
import { ScanError, scanInstructions } from '../../bench/tunnel/scan.js';
import { GuacdSession } from '../../bench/tunnel/sessions.js';
import { busiestThreads } from '../../bench/tunnel/threads.js';
import type { ProcSample } from '../../bench/vnc/proc-stats.js';
import { encodeInstruction } from '../../src/protocol/guacamole/encoder.js';
import { GuacamoleParser } from '../../src/protocol/guacamole/parser.js';
import { startFakeGuacd } from '../e2e/helpers/fake-guacd.js';
import { pollUntil } from '../e2e/helpers/processes.js';

const T = { timeout: 10_000 };

function scanAll(text: string): { ops: string[]; firsts: Array<string | undefined>; consumed: number } {
  const ops: string[] = [];
  const firsts: Array<string | undefined> = [];
  const consumed = scanInstructions(text, (op, first) => {
    ops.push(op);
    firsts.push(first);
  });
  return { ops, firsts, consumed };
}

const proc = (at: number, cpuSec: number, rssBytes = 0): ProcSample => ({
  at,
  cpuSec,
  rssBytes,
  hwmBytes: 0,
  rchar: 0,
  wchar: 0,
  threads: {},
});

function snapshot(at: number, tunnelCpu: number, engineCpu: number | null, bytes: number): SlotSnapshot {
  return {
    tunnel: proc(at, tunnelCpu),
    tunnelThreads: { '1': tunnelCpu * 0.75, '2': tunnelCpu * 0.25 },
    engine: engineCpu === null ? null : proc(at, engineCpu),
    server: null,
    clients: {
      ...emptyClientStats(),
      bytes,
      instructions: bytes / 100,
      frames: bytes / 1000,
      cpuSec: at / 10_000,
    },
    machine: { busySec: at / 1000, totalSec: (2 * at) / 1000 },
  };
}

describe('bench/tunnel', T, () => {
  test('scanInstructions finds the same instructions as the parser, first args of sync/error only', () => {
    const text =
      encodeInstruction('img', 1, 14, 0, 'image/png', 0, 0) +
      encodeInstruction('blob', 1, 'iVBORw0KGgo='.repeat(50)) +
      encodeInstruction('end', 1) +
      encodeInstruction('name', 'é日本 desktop') +
      encodeInstruction('', 'ping', 12) +
      encodeInstruction('sync', 12345, 2);
    const { ops, firsts, consumed } = scanAll(text);
    const parsed = new GuacamoleParser().feed(Buffer.from(text));
    assert.deepEqual(
      ops,
      parsed.map((i) => i.opcode),
    );
    assert.equal(consumed, text.length);
    assert.deepEqual(firsts, [undefined, undefined, undefined, undefined, undefined, '12345']);
  });

  test('scanInstructions stops before an incomplete instruction and throws on bad framing', () => {
    const whole = encodeInstruction('sync', 1);
    const text = whole + encodeInstruction('blob', 3, 'abcdef').slice(0, 9);
    const { ops, consumed } = scanAll(text);
    assert.deepEqual(ops, ['sync']);
    assert.equal(consumed, whole.length);
    for (let cut = 0; cut < whole.length; cut++) assert.equal(scanAll(whole.slice(0, cut)).consumed, 0);
    assert.throws(() => scanAll('4.sync,1.12;'), ScanError);
    assert.throws(() => scanAll('x.sync;'), ScanError);
    assert.throws(() => scanAll('1234567890.a;'), ScanError);
  });

  test('percentile is nearest-rank; latencyStats summarises samples', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1
    assert.equal(percentile(xs, 0.5), 50);
    assert.equal(percentile(xs, 0.99), 99);
    assert.equal(percentile(xs, 1), 100);
    assert.equal(percentile([7], 0.99), 7);
    assert.ok(Number.isNaN(percentile([], 0.5)));
    const s = latencyStats([1, 2, 3, 4], 2);
    assert.deepEqual(
      { n: s.n, lost: s.lost, p50: s.p50, max: s.max, mean: s.mean },
      {
        n: 4,
        lost: 2,
        p50: 2,
        max: 4,
        mean: 2.5,
      },
    );
  });

  test('the bootstrap interval is reproducible and brackets a known shift', () => {
    const base = Array.from({ length: 300 }, (_, i) => 10 + (i % 30) / 10);
    const shifted = base.map((x) => x + 2);
    const a = bootstrapQuantileDiff(base, shifted, 0.5, { seed: 7 });
    assert.deepEqual(a, bootstrapQuantileDiff(base, shifted, 0.5, { seed: 7 }));
    assert.ok(a[0] <= 2 && a[1] >= 2 && a[1] - a[0] < 1, JSON.stringify(a));
    const entries = latencyEntries({
      direct: { single: [1], singleLost: 0, loaded: base, loadedLost: 0 },
      "a'": { single: [1.1], singleLost: 0, loaded: shifted, loadedLost: 1 },
    });
    assert.equal(entries["a'"]?.loaded.lost, 1);
    assert.ok(entries["a'"]?.addedP50Interval && entries.direct?.addedP50Interval === undefined);
  });

  test('slot results: MB/s, CPU per MB, per CPU second, engine share; medians over rounds', () => {
    const a = snapshot(1000, 10, 5, 0);
    const b = snapshot(3000, 10.5, 6, 10e6); // 2 s, 10 MB, 0.5 s tunnel CPU, 1 s engine CPU
    const r = slotResult("a'", 0, a, b);
    assert.equal(r.wallSec, 2);
    assert.equal(r.mbps, 5);
    assert.equal(r.tunnelCpuPercent, 25);
    assert.equal(r.tunnelMsPerMB, 50);
    assert.equal(r.mbPerTunnelCpuSec, 20);
    assert.equal(r.engineMsPerMB, 100);
    assert.equal(r.totalMsPerMB, 150);
    assert.equal(r.machineBusyPercent, 50);
    assert.ok(Math.abs(r.busiestThreadPercent - 18.75) < 1e-9);
    const noEngine = slotResult('a', 1, snapshot(0, 0, null, 0), snapshot(1000, 1, null, 1e6));
    assert.ok(Number.isNaN(noEngine.engineMsPerMB));
    assert.equal(noEngine.totalMsPerMB, 1000);
    const m = medianSlots([
      { ...r, mbps: 1 },
      { ...r, mbps: 3 },
      { ...r, mbps: 8, managerSessions: [2, 3] },
      noEngine,
    ]);
    assert.deepEqual(
      m.map((x) => [x.contender, x.round, x.mbps]),
      [
        ["a'", 3, 3],
        ['a', 1, 1],
      ],
    );
    assert.deepEqual(m[0]?.managerSessions, [2, 3]);
  });

  test('idle memory per session, marginal cost, spread and the goals', () => {
    const points = [
      { sessions: 0, rssBytes: 100e6 },
      { sessions: 1, rssBytes: 103e6 },
      { sessions: 50, rssBytes: 250e6 },
      { sessions: 200, rssBytes: 700e6 },
    ];
    assert.deepEqual(
      idlePerSession(points).map((p) => p.bytes),
      [3e6, 3e6, 3e6],
    );
    assert.equal(idleMarginal(points), 3e6);
    assert.ok(Number.isNaN(idleMarginal(points.slice(0, 1))));
    const s = spreadOf([28, 22]);
    assert.equal(s.mean, 25);
    assert.equal(s.maxOverMean, 1.12);
    const v = verdicts({
      perCpuLive: 1.2,
      perCpuRelay: 3.5,
      p99AddedMs: 1.5,
      scalingBuiltin: Number.NaN,
      scalingRelay: 1.8,
      spreads: [s, spreadOf([7, 13])],
    });
    assert.deepEqual(
      v.map((x) => x.met),
      [false, true, true, null, true, false],
    );
  });

  test('report: headline figures from the phases and a markdown with every section', () => {
    const r = slotResult("a'", 0, snapshot(0, 0, 0, 0), snapshot(1000, 0.1, 0.5, 10e6));
    const lite = { ...r, contender: 'b', mbPerTunnelCpuSec: r.mbPerTunnelCpuSec / 4 };
    const set = { slots: [r, lite], summary: [r, lite] };
    const meta: ReportMeta = {
      date: '2026-11-29T00:00:00Z',
      node: 'v20',
      cpus: 'cpu',
      cores: 2,
      width: 1024,
      height: 768,
      throughputServer: 'x11vnc',
      staticServer: 'Xvnc',
      throughputSessions: 20,
      relaySessions: 8,
      latencySessions: 50,
      idleSteps: [1, 50],
      slotSec: 5,
      relaySlotSec: 3,
      rounds: 2,
      warmupSec: 1.5,
      clientProcesses: 2,
      loadStart: [1, 1, 1],
      loadEnd: [1, 1, 1],
      durationSec: 1,
    };
    const report = buildReport(meta, set, { ...set, frames: 10, meanFrameBytes: 8000 }, null, {
      'a×2': [
        { sessions: 0, rssBytes: 1e8, cpuPercent: 1, managerSessions: [0, 0] },
        { sessions: 50, rssBytes: 2e8, cpuPercent: 1, managerSessions: [30, 20] },
      ],
    });
    assert.equal(report.figures.perCpuLive, 4);
    assert.deepEqual(report.figures.spreads[0]?.counts, [30, 20]);
    const md = formatMarkdown(report);
    for (const heading of ['## Throughput', '## Relay capacity', '## Idle memory', '## Goals']) {
      assert.ok(md.includes(heading), heading);
    }
  });

  test('helpers: round order, busiest threads, profile names, frames, summed stats', () => {
    assert.deepEqual(roundOrder([1, 2, 3], 0), [1, 2, 3]);
    assert.deepEqual(roundOrder([1, 2, 3], 1), [3, 2, 1]);
    assert.deepEqual(busiestThreads({ a: 1, b: 1 }, { a: 1.5, b: 2, c: 0.25 }, 1), [100, 50]);
    assert.deepEqual(busiestThreads({}, { a: 1 }, 2, 3), [50, 0, 0]);
    assert.equal(profileThread('CPU.20261129.102359.27197.1.002.cpuprofile'), 1);
    assert.equal(profileThread('other.json'), -1);
    const fc = new FrameCollector();
    fc.push('3.img;', 'img');
    fc.push('4.sync,1.1;', 'sync');
    fc.start();
    fc.push('4.rect;', 'rect');
    fc.push('0.,4.ping;', '');
    fc.push('5.cfill;', 'cfill');
    fc.push('4.sync,1.2;', 'sync');
    assert.deepEqual(fc.frames, ['4.rect;5.cfill;']);
    const sum = sumClientStats([
      { ...emptyClientStats(), bytes: 5, opcodes: { sync: 1 }, errors: ['x'] },
      { ...emptyClientStats(), bytes: 7, opcodes: { sync: 2, img: 1 } },
    ]);
    assert.deepEqual([sum.bytes, sum.opcodes, sum.errors], [12, { sync: 3, img: 1 }, ['x']]);
  });

  test('GuacdSession: handshake, counts a frame, answers its sync, reports it to a probe', async () => {
    const guacd = await startFakeGuacd({
      argNames: ['hostname', 'port'],
      onReady: (peer) => {
        peer.send('rect', 0, 0, 0, 1, 1);
        peer.send('sync', 7, 1);
      },
    });
    const stats = emptyClientStats();
    let drawn = 0;
    const target = {
      host: guacd.host,
      port: guacd.port,
      vncHost: 'vnc.example',
      vncPort: 5901,
      width: 640,
      height: 480,
    };
    const session = new GuacdSession(target, { stats, onDraw: () => drawn++ });
    try {
      await session.ready;
      const peer = guacd.sessions[0];
      assert.ok(peer);
      const received = (): string[] => peer.received.map((i) => [i.opcode, ...i.args].join(','));
      const probed = new Promise<number>((resolve) => {
        session.nextSync = resolve;
      });
      session.pressKey(0x61);
      await pollUntil('the key press', () => received().includes('key,97,1') || undefined, 2000, 10);
      peer.send('sync', 8, 1);
      assert.ok((await probed) > 0);
      await pollUntil('the answer to sync 8', () => received().includes('sync,8') || undefined, 2000, 10);
      assert.equal(peer.selected, 'vnc');
      assert.deepEqual(
        peer.handshake.map((i) => [i.opcode, ...i.args].join(',')),
        ['size,640,480,96', 'audio', 'video', 'image,image/png,image/jpeg,image/webp'],
      );
      assert.deepEqual(
        [peer.version, peer.params],
        ['VERSION_1_5_0', { hostname: 'vnc.example', port: '5901' }],
      );
      assert.ok(received().includes('sync,7') && received().includes('sync,8'), received().join(' '));
      assert.deepEqual([stats.frames, stats.opcodes.rect, stats.errors], [2, 1, []]);
      assert.ok(drawn >= 2);
    } finally {
      await session.close();
      await guacd.close();
    }
  });
});
