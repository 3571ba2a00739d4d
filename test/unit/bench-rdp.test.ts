/** The RDP benchmark's own logic: the metrics and their medians, first-frame and memory summaries, the goals,
 * the markdown and JSON shape, /proc and `ss` parsing, and the lean Guacamole client against a fake guacd.
 * No timing assertions: every figure here is computed from made-up samples. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { emptyCounters, RdpGuacClient } from '../../bench/rdp/guac-client.js';
import { formatMarkdown } from '../../bench/rdp/markdown.js';
import { kbField, type MemorySample, parseSmaps, parseSmapsRollup } from '../../bench/rdp/memory.js';
import { statComm } from '../../bench/rdp/processes.js';
import { parseSsReceived } from '../../bench/rdp/rdp-bytes.js';
import {
  ENDED_THREADS,
  firstFrameSummary,
  fleetMemory,
  GOALS,
  medianMetrics,
  type RdpBenchJson,
  type ReportMeta,
  type ResolutionResult,
  roundMetrics,
  type Snapshot,
  sameStream,
  threadShares,
  verdicts,
} from '../../bench/rdp/report.js';
import type { ProcSample } from '../../bench/vnc/proc-stats.js';
import { startFakeGuacd } from '../e2e/helpers/fake-guacd.js';
import { pollUntil } from '../e2e/helpers/processes.js';

const MB = 1e6;
const near = (actual: number | undefined, expected: number): void =>
  assert.ok(Math.abs((actual ?? Number.NaN) - expected) < 1e-9, `${actual} is not ${expected}`);

const proc = (
  atMs: number,
  cpuSec: number,
  threads: Record<string, number> = { main: cpuSec },
): ProcSample => ({
  at: atMs,
  cpuSec,
  rssBytes: 0,
  hwmBytes: 0,
  rchar: 0,
  wchar: 0,
  threads,
});

/** A snapshot at `t` s: the engine's and xfreerdp's CPU seconds, frames and RDP bytes so far. */
function snap(
  t: number,
  o: { g: number; x: number; frames: number; syncs: number; guacBytes: number; rdp: number },
) {
  const guac = { ...emptyCounters(), frames: o.syncs, serverFrames: o.frames, bytesIn: o.guacBytes };
  guac.instructions = { sync: o.syncs, img: 2 * o.syncs };
  guac.images = { 'image/png': 2 * o.syncs };
  const s: Snapshot = {
    gatehouse: proc(t * 1000, o.g),
    relay: proc(t * 1000, o.g / 10),
    xfreerdp: proc(t * 1000, o.x),
    server: proc(t * 1000, t / 4),
    xserver: null,
    clientX: null,
    machine: { busySec: t, totalSec: 2 * t },
    guac,
    rdpBytes: { gatehouse: o.rdp, xfreerdp: o.rdp },
  };
  return s;
}

const mem = (rss: number, pss: number, uss: number): MemorySample => ({
  rssBytes: rss * MB,
  hwmBytes: rss * MB + MB,
  pssBytes: pss * MB,
  ussBytes: uss * MB,
  anonBytes: uss * MB,
});

function result(
  width: number,
  height: number,
  ratioScale: number,
  rssMb: number,
  firstMs: number,
): ResolutionResult {
  const a = snap(0, { g: 0, x: 0, frames: 0, syncs: 0, guacBytes: 0, rdp: 0 });
  const b = snap(10, {
    g: 0.4 * ratioScale,
    x: 0.4,
    frames: 160,
    syncs: 150,
    guacBytes: 1.5 * MB,
    rdp: 2.56 * MB,
  });
  const perRound = [roundMetrics(a, b)];
  return {
    width,
    height,
    firstFrame: firstFrameSummary([
      { readyMs: 1, firstFrameMs: firstMs, selectToFirstFrameMs: firstMs + 5 },
      { readyMs: 2, firstFrameMs: firstMs + 100, selectToFirstFrameMs: firstMs + 105 },
      { readyMs: 3, firstFrameMs: firstMs - 50, selectToFirstFrameMs: firstMs - 45 },
    ]),
    perRound,
    summary: medianMetrics(perRound),
    memory: { gatehouse: mem(rssMb, rssMb / 2, rssMb / 2), xfreerdp: mem(50, 25, 20), breakdown: null },
    idle: { seconds: 4, gatehouseCpuPercent: 0.25, xfreerdpCpuPercent: 0.5, relayCpuPercent: 0 },
    idleMemory: { gatehouse: mem(rssMb - 3, rssMb / 2, rssMb / 2), xfreerdp: mem(50, 25, 20) },
    fleet: fleetMemory([mem(rssMb, 30, 28), mem(rssMb, 32, 28)]),
  };
}

const meta: ReportMeta = {
  date: '2026-11-29T12:00:00.000Z',
  node: 'v20.20.2',
  cpus: 'test cpu',
  cores: 2,
  quick: false,
  seconds: 20,
  rounds: 4,
  warmupSec: 3,
  connects: 10,
  sessions: 6,
  server: 'freerdp-shadow-cli',
  xfreerdpArgs: ['/gfx'],
  engineParams: {},
  engineBinary: '/x/gatehouse-rdp',
  engineBuilt: '2026-11-29T12:54:30.740Z',
};

describe('bench/rdp', { timeout: 10_000 }, () => {
  test('round metrics: both sides divided by the same server frames; RDP bytes per frame', () => {
    const a = snap(0, { g: 1, x: 1, frames: 100, syncs: 90, guacBytes: 0, rdp: 1000 });
    const b = snap(10, { g: 1.6, x: 1.2, frames: 300, syncs: 290, guacBytes: 2 * MB, rdp: 1000 + 4 * MB });
    const m = roundMetrics(a, b);
    assert.equal(m.wallSec, 10);
    assert.equal(m.serverFrames, 200);
    assert.equal(m.serverFps, 20);
    assert.equal(m.deliveredFps, 20);
    near(m.gatehouse.cpuMsPerFrame, 3);
    near(m.xfreerdp.cpuMsPerFrame, 1);
    near(m.cpuRatio, 3);
    near(m.gatehouse.cpuPercent, 6);
    assert.equal(m.gatehouse.rdpBytesPerFrame, 20_000);
    near(m.gatehouse.rdpInMBps, 0.4);
    assert.equal(m.guacBytesPerFrame, 10_000);
    assert.equal(m.machineBusyPercent, 50);
    assert.ok(Number.isNaN(m.xserverCpuPercent));
    assert.deepEqual(m.images, { 'image/png': 400 });
    assert.equal(sameStream(m), true);
  });

  test('thread shares: live threads by name, and the CPU of threads that ended in between', () => {
    const a = proc(0, 1, { main: 0.8, 'gatehouse-rdp': 0.2 });
    const b = proc(1000, 1.5, { main: 1.1, 'gatehouse-rdp': 0.25 });
    const t = threadShares(a, b);
    near(t.main, 0.3);
    near(t['gatehouse-rdp'], 0.05);
    near(t[ENDED_THREADS], 0.15);
    assert.equal(
      threadShares(a, proc(1000, 1.1, { main: 0.9, 'gatehouse-rdp': 0.2 }))[ENDED_THREADS],
      undefined,
    );
  });

  test('unknown RDP bytes stay unknown (-1), and the same-stream check says so', () => {
    const a = snap(0, { g: 0, x: 0, frames: 0, syncs: 0, guacBytes: 0, rdp: -1 });
    const b = snap(1, { g: 0.1, x: 0.1, frames: 10, syncs: 10, guacBytes: 10, rdp: 500 });
    const m = roundMetrics(a, b);
    assert.equal(m.gatehouse.rdpInMBps, -1);
    assert.equal(sameStream(m), null);
    const c = snap(1, { g: 0.1, x: 0.1, frames: 10, syncs: 10, guacBytes: 10, rdp: 500 });
    c.rdpBytes.xfreerdp = 1000;
    assert.equal(
      sameStream(roundMetrics(snap(0, { g: 0, x: 0, frames: 0, syncs: 0, guacBytes: 0, rdp: 0 }), c)),
      false,
    );
  });

  test('medians over rounds; frames, wall time and counts are totals', () => {
    const s = (t: number, g: number) =>
      snap(t, { g, x: t / 10, frames: t * 10, syncs: t * 10, guacBytes: 0, rdp: 0 });
    const rounds = [
      roundMetrics(s(0, 0), s(1, 0.1)),
      roundMetrics(s(1, 0.1), s(2, 0.4)),
      roundMetrics(s(2, 0.4), s(3, 0.6)),
    ];
    const m = medianMetrics(rounds);
    assert.equal(m.wallSec, 3);
    assert.equal(m.serverFrames, 30);
    near(m.gatehouse.cpuMsPerFrame, 20);
    assert.equal(m.instructions.sync, 30);
    assert.throws(() => medianMetrics([]), /no rounds/);
  });

  test('first frame: median, range and the other medians', () => {
    const f = firstFrameSummary([
      { readyMs: 1, firstFrameMs: 300, selectToFirstFrameMs: 310 },
      { readyMs: 3, firstFrameMs: 100, selectToFirstFrameMs: 120 },
      { readyMs: 2, firstFrameMs: 200, selectToFirstFrameMs: 205 },
    ]);
    assert.deepEqual(
      [f.medianMs, f.minMs, f.maxMs, f.medianReadyMs, f.medianSelectMs],
      [200, 100, 300, 2, 205],
    );
    assert.ok(Number.isNaN(firstFrameSummary([]).medianMs));
  });

  test('fleet memory: sums and per-session shares; an unknown value makes the sum unknown', () => {
    const f = fleetMemory([mem(60, 30, 28), mem(58, 34, 26)]);
    assert.equal(f.sessions, 2);
    assert.equal(f.total.pssBytes, 64 * MB);
    assert.equal(f.perSession.pssBytes, 32 * MB);
    assert.equal(f.perSession.rssBytes, 59 * MB);
    const unknown = fleetMemory([mem(60, 30, 28), { ...mem(60, 30, 28), pssBytes: -1 }]);
    assert.equal(unknown.perSession.pssBytes, -1);
  });

  test('goals: RSS judged at 1080p, CPU ratio and first frame at every resolution', () => {
    const ok = [result(1024, 768, 1.5, 30, 200), result(1920, 1080, 1.8, 39, 300)];
    assert.deepEqual(
      verdicts(ok).map((v) => v.met),
      [true, true, true],
    );
    assert.match(verdicts(ok)[0]?.goal ?? '', /1920×1080 session ≤ 40 MB/);
    assert.match(
      verdicts(ok)[0]?.measured ?? '',
      /^39\.0 MB at the end of the animation \(peak 40\.0 MB; 36\.0 MB on a static screen; PSS 31\.0 MB per session with 2 open\)$/,
    );
    assert.match(verdicts(ok)[1]?.measured ?? '', /1024×768: 1\.50×; 1920×1080: 1\.80×/);
    const bad = [result(1024, 768, 2.5, 30, 200), result(1920, 1080, 1.2, 59, GOALS.firstFrameMs + 200)];
    assert.deepEqual(
      verdicts(bad).map((v) => v.met),
      [false, false, false],
    );
    const differed = [result(1024, 768, 1.5, 30, 200), result(1920, 1080, 1.2, 39, 300)];
    (differed[1] as ResolutionResult).summary.xfreerdp.rdpBytesPerFrame *= 3;
    assert.equal(verdicts(differed)[1]?.met, null);
    assert.match(verdicts(differed)[1]?.measured ?? '', /not comparable at 1920×1080: the streams differed/);
    assert.match(
      formatMarkdown(meta, differed, verdicts(differed)),
      /\*\*Warning: the two clients were not sent/,
    );
    assert.deepEqual(
      verdicts([]).map((v) => v.met),
      [null, null, null],
    );
  });

  test('markdown: one column group per resolution, guacd compared, goals table; JSON round-trips', () => {
    const results = [result(1024, 768, 1.5, 30, 200), result(1920, 1080, 1.8, 59, 300)];
    const goals = verdicts(results);
    const md = formatMarkdown(meta, results, goals);
    assert.match(md, /^### RDP engine vs xfreerdp — 2026-11-29, freerdp-shadow-cli, 2 cores/);
    assert.match(
      md,
      /\| metric \| 1024×768 gatehouse-rdp \| xfreerdp \| ratio \| 1920×1080 gatehouse-rdp \| xfreerdp \| ratio \|/,
    );
    assert.match(
      md,
      /\| \*\*CPU ms per server frame\*\* \| 3\.75 \| 2\.50 \| \*\*1\.50\*\* \| 4\.50 \| 2\.50 \| \*\*1\.80\*\* \|/,
    );
    assert.match(md, /~85 MB and ~0\.045 core per typical session/);
    assert.match(md, /Engine: `\/x\/gatehouse-rdp` built 2026-11-29 12:54:30 UTC\./);
    assert.match(md, /1920×1080: RSS 59\.0 MB \(1\.44× less than guacd's\)/);
    assert.match(md, /## Goals\n\n\| goal \| measured \| met \|/);
    assert.match(md, /\| RSS per 1920×1080 session ≤ 40 MB \| 59\.0 MB .* \| no \|/);
    assert.doesNotMatch(md, /Warning/);
    const json: RdpBenchJson = { meta, results, goals };
    const back = JSON.parse(JSON.stringify(json)) as RdpBenchJson;
    near(back.results[1]?.summary.cpuRatio, 1.8);
    assert.equal(back.results[0]?.firstFrame.samples.length, 3);
    assert.deepEqual(Object.keys(back), ['meta', 'results', 'goals']);
  });

  test('the table rows of one resolution have as many cells as the header', () => {
    const md = formatMarkdown(meta, [result(1920, 1080, 1, 40, 100)], []);
    const lines = md.split('\n');
    const start = lines.findIndex((l) => l.startsWith('| metric'));
    const end = lines.indexOf('', start);
    const rows = lines.slice(start, end);
    assert.ok(rows.length > 10);
    const cells = (l: string): number => l.split('|').length;
    for (const r of rows) assert.equal(cells(r), cells(rows[0] as string), r);
  });

  test('/proc parsing: status fields, smaps_rollup, smaps by mapping, comm', () => {
    assert.equal(kbField('VmRSS:\t   1234 kB\nVmHWM:\t 2000 kB\n', 'VmRSS'), 1234 * 1024);
    assert.equal(kbField('', 'VmRSS'), -1);
    const rollup = 'Rss: 100 kB\nPss: 60 kB\nPrivate_Clean: 4 kB\nPrivate_Dirty: 36 kB\nAnonymous: 30 kB\n';
    assert.deepEqual(parseSmapsRollup(rollup), {
      pssBytes: 60 * 1024,
      ussBytes: 40 * 1024,
      anonBytes: 30 * 1024,
    });
    assert.deepEqual(parseSmapsRollup(''), { pssBytes: -1, ussBytes: -1, anonBytes: -1 });
    const smaps = [
      '7f00-7f10 r-xp 00000000 08:01 42                         /usr/lib/libfoo.so',
      'Rss:                 400 kB',
      'Anonymous:             0 kB',
      '7f10-7f20 rw-p 00010000 08:01 42                         /usr/lib/libfoo.so',
      'Rss:                  40 kB',
      'Anonymous:            40 kB',
      '8000-9000 rw-p 00000000 00:00 0 ',
      'Rss:                8000 kB',
      'Anonymous:          8000 kB',
      'a000-b000 rw-p 00000000 00:00 0                          [heap]',
      'Rss:                 100 kB',
      'Anonymous:           100 kB',
    ].join('\n');
    const b = parseSmaps(smaps);
    assert.equal(b.anonBytes, 8140 * 1024);
    assert.equal(b.fileBytes, 400 * 1024);
    assert.deepEqual(
      b.top.map((m) => [m.name, m.rssBytes / 1024]),
      [
        ['[anon]', 8000],
        ['/usr/lib/libfoo.so', 440],
        ['[heap]', 100],
      ],
    );
    assert.equal(statComm('42 (gatehouse-rdp) S 1 42'), 'gatehouse-rdp');
    assert.equal(statComm('7 (a (b) c) R 1'), 'a (b) c');
  });

  test('ss output: bytes received per process, summed over its sockets', () => {
    const text = [
      '0      0      127.0.0.1:50304 127.0.0.1:34529 users:(("gatehouse-rdp",pid=14496,fd=31))',
      '\t bbr wscale:10,10 rto:204 bytes_sent:2586 bytes_acked:2587 bytes_received:156178 segs_out:238',
      '0      0      127.0.0.1:50310 127.0.0.1:34529 users:(("xfreerdp",pid=200,fd=9))',
      '\t cubic bytes_received:1000',
      '0      0      127.0.0.1:50311 127.0.0.1:34529 users:(("xfreerdp",pid=200,fd=10))',
      '\t cubic bytes_received:24',
      '0      0      127.0.0.1:50312 127.0.0.1:34529 users:(("nobody-knows",pid=300,fd=3))',
      '\t cubic bytes_sent:5',
      '',
    ].join('\n');
    assert.deepEqual(
      [...parseSsReceived(text)],
      [
        [14496, 156178],
        [200, 1024],
      ],
    );
    assert.equal(parseSsReceived('').size, 0);
  });

  test('the Guacamole client selects rdp, sends the handshake and parameters, answers every sync', async () => {
    const guacd = await startFakeGuacd({
      argNames: ['hostname', 'port', 'username', 'password', 'security', 'width'],
      onReady: (peer) => {
        peer.send('img', 1, 14, 0, 'image/webp', 0, 0);
        peer.send('blob', 1, 'AAAA');
        peer.send('sync', 7, 3);
        peer.send('sync', 8);
      },
    });
    const counters = emptyCounters();
    const client = new RdpGuacClient(
      {
        host: guacd.host,
        port: guacd.port,
        width: 1920,
        height: 1080,
        params: { hostname: 'rdp.example', port: '3390', username: 'u', password: 'p', security: 'tls' },
      },
      counters,
    );
    try {
      await client.firstSync;
      const peer = guacd.sessions[0];
      assert.ok(peer);
      const received = (): string[] => peer.received.map((i) => [i.opcode, ...i.args].join(','));
      await pollUntil(
        'the answers to both syncs',
        () => (received().includes('sync,8') ? true : undefined),
        2000,
        10,
      );
      assert.deepEqual(received().slice(0, 2), ['sync,7', 'sync,8']);
      assert.equal(peer.selected, 'rdp');
      assert.deepEqual(
        peer.handshake.map((i) => [i.opcode, ...i.args].join(',')),
        ['size,1920,1080,96', 'audio', 'video', 'image,image/png,image/jpeg,image/webp', 'timezone,UTC'],
      );
      assert.deepEqual(
        [peer.version, peer.params],
        [
          'VERSION_1_5_0',
          { hostname: 'rdp.example', port: '3390', username: 'u', password: 'p', security: 'tls', width: '' },
        ],
      );
      assert.equal(counters.frames, 2);
      assert.equal(counters.serverFrames, 4);
      assert.equal(counters.blobChars, 4);
      assert.deepEqual(counters.images, { 'image/webp': 1 });
      assert.deepEqual(counters.errors, []);
      const t = client.times;
      assert.ok(
        t.opened >= 0 && t.connectSent >= t.opened && t.ready >= t.connectSent && t.firstSync >= t.ready,
      );
      client.close();
      await pollUntil(
        'disconnect to arrive',
        () => (received().includes('disconnect') ? true : undefined),
        2000,
        10,
      );
      await client.closed();
      assert.deepEqual(counters.errors, []);
    } finally {
      client.close();
      await guacd.close();
    }
  });

  test('an engine error before the first frame rejects firstSync with the message', async () => {
    const guacd = await startFakeGuacd({
      argNames: ['hostname'],
      onReady: (peer) => peer.send('error', 'Authentication failure', 769),
    });
    const counters = emptyCounters();
    const client = new RdpGuacClient(
      { host: guacd.host, port: guacd.port, width: 800, height: 600, params: {} },
      counters,
    );
    try {
      await assert.rejects(client.firstSync, /engine error: Authentication failure 769/);
      assert.equal(counters.errors.length, 1);
    } finally {
      client.close();
      await guacd.close();
    }
  });
});
