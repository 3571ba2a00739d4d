/** The webapp benchmark's own logic: API rows, relay slots and their summary, ping latency, the goals, the
 * report, the synthetic frames, the ping instruction and the redeem shim's rewrite. No timing. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { syntheticFrames } from '../../bench/webapp/frames.js';
import { buildReport, formatMarkdown, type WebappMeta } from '../../bench/webapp/markdown.js';
import { withGuacd } from '../../bench/webapp/redeem-shim.js';
import { pingEcho, pingInstruction } from '../../bench/webapp/relay-protocol.js';
import {
  type ApiRow,
  apiRow,
  GOALS,
  type LoadMeasure,
  type PlacementResult,
  pingEntries,
  type RelaySlot,
  type RelaySnapshot,
  relaySlot,
  summarizeRelay,
  verdicts,
} from '../../bench/webapp/report.js';
import { busiestThreadWaitPercent, type ThreadSched } from '../../bench/webapp/sched.js';
import { GuacamoleParser } from '../../src/protocol/guacamole/parser.js';

const T = { timeout: 10_000 };

function measure(ok2xx: number, seconds: number, webappCpuSec: number, latenciesMs: number[]): LoadMeasure {
  return {
    autocannon: {
      durationSec: seconds,
      ok2xx,
      non2xx: 2,
      errors: 1,
      timeouts: 0,
      latencyP50Ms: 1,
      latencyP99Ms: 3,
      latencyMaxMs: 9,
      statusCodes: { '200': ok2xx, '401': 2 },
    },
    latenciesMs,
    wallSec: seconds,
    webappCpuSec,
    webappWaitPercent: 20,
    dbCpuSec: Number.NaN,
    machineBusySec: 3,
    machineTotalSec: 4,
  };
}

/** A main thread with these totals and a helper thread that ran less but waited more. */
function sched(cpuSec: number, waitSec: number): ThreadSched {
  return { '100': { cpuSec, waitSec }, '101': { cpuSec: cpuSec / 10, waitSec: waitSec * 3 } };
}

function snap(at: number, bytes: number, webapp: number | null, proxy: number): RelaySnapshot {
  return {
    at,
    clients: { bytes, frames: bytes / 10_000, cpuSec: at / 4000 },
    webappCpuSec: webapp,
    proxyCpuSec: proxy,
    webappSched: webapp === null ? null : sched(webapp, webapp / 2),
    proxySched: sched(proxy, proxy / 5),
    sourceCpuSec: at / 8000,
    machine: { busySec: at / 1000, totalSec: (2 * at) / 1000 },
  };
}

/** A slot of `mbps` MB/s over 2 s with the webapp busy `webappSec` of them (null: direct). */
function slot(
  path: RelaySlot['path'],
  sessions: number,
  round: number,
  mbps: number,
  webappSec: number | null,
): RelaySlot {
  return relaySlot(
    path,
    sessions,
    round,
    snap(1000, 0, webappSec === null ? null : 0, 0),
    snap(3000, 2 * mbps * 1e6, webappSec, 0.5),
    [0.2, 0.3, 0.4],
    round,
  );
}

function meta(): WebappMeta {
  return {
    date: '2026-11-29T12:00:00.000Z',
    node: 'v20.20.2',
    cpus: 'Test CPU',
    cores: 2,
    quick: false,
    pinning: { webappCore: 1, otherCore: 0 },
    webappLogLevel: 'warn',
    healthSource: 'a real proxy',
    api: { connections: 16, connectSec: 10, warmupSec: 2 },
    relay: {
      sessions: [1, 10],
      rounds: 2,
      slotSec: 4,
      warmupSec: 1,
      clientProcesses: 2,
      frames: 64,
      meanFrameBytes: 16_000,
      framesInFlight: 3,
      samplerEveryMs: 20,
    },
    ping: { probes: 6, rounds: 3, gapMs: 1 },
    loadStart: [0.5, 0.4, 0.3],
    loadEnd: [1, 0.5, 0.3],
    durationSec: 200,
  };
}

describe('bench/webapp', T, () => {
  test('apiRow: 2xx per second, own percentiles, CPU per request and per core', () => {
    const lat = Array.from({ length: 100 }, (_, i) => (i + 1) / 10); // 0.1 .. 10 ms
    const r = apiRow('connect', 'sqlite', 'https', measure(25_000, 10, 8, lat));
    assert.equal(r.rps, 2500);
    assert.equal(r.p50Ms, 5);
    assert.equal(r.p99Ms, 9.9);
    assert.equal(r.maxMs, 10);
    assert.equal(r.webappCpuPercent, 80);
    assert.equal(r.webappWaitPercent, 20);
    assert.ok(Math.abs(r.webappCpuMsPerRequest - 0.32) < 1e-9);
    assert.ok(Math.abs(r.perCoreRps - 3125) < 1e-6);
    assert.equal(r.machineBusyPercent, 75);
    assert.deepEqual([r.non2xx, r.errors, r.autocannonP99Ms], [2, 1, 3]);
    assert.ok(Number.isNaN(r.dbCpuPercent));
    const none = apiRow('callback', 'postgres', 'http', measure(0, 10, 1, []));
    assert.equal(none.rps, 0);
    assert.ok(Number.isNaN(none.p50Ms) && Number.isNaN(none.webappCpuMsPerRequest));
  });

  test('relaySlot: MB/s total and per tunnel, webapp cost per MB, no webapp on the direct path', () => {
    const relayed = slot('relay-tls', 10, 0, 100, 0.5);
    assert.equal(relayed.wallSec, 2);
    assert.equal(relayed.mbps, 100);
    assert.equal(relayed.mbpsPerTunnel, 10);
    assert.equal(relayed.webappCpuPercent, 25);
    assert.equal(relayed.webappWaitPercent, 12.5);
    assert.equal(relayed.proxyWaitPercent, 5);
    assert.equal(relayed.webappMsPerMB, 2.5);
    assert.equal(relayed.webappMBPerCpuSec, 400);
    assert.equal(relayed.proxyCpuPercent, 25);
    assert.equal(relayed.machineBusyPercent, 50);
    const direct = slot('direct', 10, 0, 120, null);
    assert.ok(Number.isNaN(direct.webappCpuPercent) && Number.isNaN(direct.webappMsPerMB));
    assert.ok(Number.isNaN(direct.webappWaitPercent));
    assert.ok(Number.isNaN(busiestThreadWaitPercent({}, sched(1, 1), 2)), 'no thread seen twice');
  });

  test('summarizeRelay: medians over rounds per tunnel count, ratios to direct, pooled loaded pings', () => {
    const slots = [
      slot('direct', 1, 0, 100, null),
      slot('relay-http', 1, 0, 90, 0.2),
      slot('direct', 1, 1, 200, null),
      slot('relay-http', 1, 1, 110, 0.4),
      slot('direct', 1, 2, 150, null),
      slot('relay-http', 1, 2, 100, 0.3),
      slot('relay-http', 10, 0, 50, 0.3),
    ];
    const cells = summarizeRelay(slots);
    assert.deepEqual(
      cells.map((c) => [c.sessions, c.path, c.rounds]),
      [
        [1, 'direct', 3],
        [1, 'relay-http', 3],
        [10, 'relay-http', 1],
      ],
    );
    const [direct, relay, alone] = cells;
    assert.equal(direct?.mbps, 150);
    assert.equal(relay?.mbps, 100);
    assert.ok(Math.abs((relay?.ratioToDirect ?? 0) - 2 / 3) < 1e-9);
    assert.equal(direct?.ratioToDirect, 1);
    assert.ok(Number.isNaN(alone?.ratioToDirect ?? 0), 'no direct slot at 10 tunnels');
    assert.equal(relay?.loadedRtt.n, 9);
    assert.equal(relay?.loadedRtt.lost, 0 + 1 + 2);
  });

  test('pingEntries: what the relay adds to direct, with bootstrap intervals', () => {
    const base = Array.from({ length: 200 }, (_, i) => 0.1 + (i % 20) / 1000);
    const entries = pingEntries({
      direct: { samplesMs: base, lost: 0 },
      'relay-http': { samplesMs: base.map((x) => x + 0.2), lost: 1 },
    });
    const [direct, relay] = entries;
    assert.equal(direct?.path, 'direct');
    assert.ok(Number.isNaN(direct?.addedP99Ms ?? 0) && direct?.addedP99Interval === null);
    assert.ok(Math.abs((relay?.addedP50Ms ?? 0) - 0.2) < 1e-9);
    assert.ok(Math.abs((relay?.addedP99Ms ?? 0) - 0.2) < 1e-9);
    const iv = relay?.addedP99Interval;
    assert.ok(iv && iv[0] <= 0.2 + 1e-9 && iv[1] >= 0.2 - 1e-9, JSON.stringify(iv));
    assert.equal(relay?.stats.lost, 1);
    const alone = pingEntries({ 'relay-tls': { samplesMs: [1, 2], lost: 0 } });
    assert.ok(Number.isNaN(alone[0]?.addedP50Ms ?? 0), 'nothing to compare with');
  });

  test('verdicts: connect on SQLite/HTTPS, the worst throughput ratio, the added p99, per placement; unmeasured is null', () => {
    const api: ApiRow[] = [
      apiRow('connect', 'postgres', 'https', measure(30_000, 10, 9, [1])),
      apiRow('connect', 'sqlite', 'https', measure(19_000, 10, 9, [1])),
    ];
    const slots = [
      slot('direct', 1, 0, 100, null),
      slot('relay-tls', 1, 0, 95, 0.2),
      slot('direct', 10, 0, 100, null),
      slot('relay-tls', 10, 0, 85, 0.2),
    ];
    const ping = pingEntries({
      direct: { samplesMs: [0.1, 0.2, 0.3], lost: 0 },
      'relay-tls': { samplesMs: [0.2, 0.3, 0.5], lost: 0 },
    });
    const pinned: PlacementResult = {
      placement: 'pinned',
      relay: { slots, summary: summarizeRelay(slots) },
      ping,
    };
    const v = verdicts(api, [pinned]);
    assert.equal(v.length, 5);
    assert.match(v[0]?.goal ?? '', new RegExp(String(GOALS.connectRps)));
    assert.equal(v[0]?.met, false, '1900 req/s on SQLite; PostgreSQL does not count');
    assert.equal(v[1]?.met, false, 'worst ratio 0.85 < 0.9');
    assert.match(v[1]?.measured ?? '', /95 % \/ 85 % at 1 \/ 10 tunnels/);
    assert.ok(!(v[1]?.goal ?? '').includes('[pinned]'), 'one placement: not named');
    assert.equal(v[2]?.met, true, '+0.2 ms p99');
    assert.equal(v[3]?.met, null, 'no HTTP relay measured');
    assert.equal(v[4]?.met, null);
    const two = verdicts(api, [pinned, { placement: 'shared', relay: null, ping: null }]);
    assert.equal(two.length, 9);
    assert.match(two[1]?.goal ?? '', /\[pinned\]$/);
    assert.match(two[5]?.goal ?? '', /\[shared\]$/);
    assert.equal(two[5]?.met, null);
    const ok = verdicts([apiRow('connect', 'sqlite', 'https', measure(21_000, 10, 9, [1]))], []);
    assert.deepEqual(
      ok.map((x) => x.met),
      [true],
    );
  });

  test('the report: JSON-safe, markdown with every section and the goals', () => {
    const r = buildReport(
      meta(),
      [
        apiRow('connect', 'sqlite', 'https', measure(25_000, 10, 8, [0.5, 1, 2])),
        apiRow('callback', 'sqlite', 'https', measure(20_000, 8, 8, [0.4])),
      ],
      [
        {
          placement: 'pinned',
          relaySlots: [
            slot('direct', 1, 0, 100, null),
            slot('relay-http', 1, 0, 95, 0.2),
            slot('relay-tls', 1, 0, 92, 0.3),
          ],
          pingSamples: {
            direct: { samplesMs: [0.1, 0.1, 0.2], lost: 0 },
            'relay-http': { samplesMs: [0.2, 0.2, 0.3], lost: 0 },
            'relay-tls': { samplesMs: [0.2, 0.3, 0.4], lost: 0 },
          },
        },
        { placement: 'shared', relaySlots: [slot('direct', 1, 0, 100, null)], pingSamples: null },
      ],
    );
    assert.equal(r.placements[0]?.relay?.summary.length, 3);
    assert.equal(r.placements[0]?.ping?.length, 3);
    assert.equal(r.placements[1]?.ping, null);
    assert.equal(r.verdicts.length, 9);
    assert.deepEqual(JSON.parse(JSON.stringify(r)).meta, meta());
    const md = formatMarkdown(r);
    for (const heading of [
      '# Webapp benchmark, 2026-11-29',
      '## API',
      '## Relay throughput [pinned: ',
      '## Ping round trip on an idle tunnel [pinned: ',
      '## Relay throughput [shared: ',
      '## Goals',
    ]) {
      assert.ok(md.includes(heading), heading);
    }
    assert.match(md, /\| connect \| sqlite \| https \| \*\*2500\*\* \|/);
    assert.match(md, /webapp pinned to core 1/);
    assert.ok(!md.includes('## Ping round trip on an idle tunnel [shared'));
    assert.ok(!md.includes('NaN') && !md.includes('undefined'), md);
    const empty = formatMarkdown(buildReport({ ...meta(), relay: null, ping: null, pinning: null }, [], []));
    assert.ok(!empty.includes('## API') && empty.includes('nothing pinned') && empty.includes('## Goals'));
  });

  test('syntheticFrames: deterministic, near the mean size, whole instructions without sync', () => {
    const a = syntheticFrames(40, 8000, 3);
    assert.deepEqual(a, syntheticFrames(40, 8000, 3));
    assert.notDeepEqual(a.frames, syntheticFrames(40, 8000, 4).frames);
    assert.equal(a.frames.length, 40);
    assert.ok(a.meanBytes > 6000 && a.meanBytes < 10_000, String(a.meanBytes));
    for (const frame of a.frames) {
      const ins = new GuacamoleParser().feed(Buffer.from(frame));
      assert.equal(ins.map((i) => i.opcode).join(',').length > 0, true);
      assert.ok(ins.every((i) => i.opcode !== 'sync'));
      assert.equal(ins[0]?.opcode, 'img');
      assert.equal(Buffer.byteLength(frame), frame.length, 'ASCII only');
    }
    assert.throws(() => syntheticFrames(0, 8000), RangeError);
    assert.throws(() => syntheticFrames(10, 10), RangeError);
  });

  test('the tunnel ping: encoded as the proxy echoes it, echoes recognised, anything else not', () => {
    assert.equal(pingInstruction('p12'), '0.,4.ping,3.p12;');
    assert.equal(pingEcho(pingInstruction('p12')), 'p12');
    assert.equal(pingEcho(pingInstruction('1764417600000')), '1764417600000');
    assert.equal(pingEcho('0.,36.$0b8d2f9e-5e0f-4c7e-9a43-2b1e3c5d6f70;'), null);
    assert.equal(pingEcho('0.,4.ping,4.p12;'), null, 'length mismatch');
    assert.equal(pingEcho('4.sync,3.p12;'), null);
  });

  test('withGuacd: a 200 grant gets target.guacd; errors pass unchanged; no target is an error', () => {
    const grant = JSON.stringify({
      id: 's1',
      user: 'bench',
      target: { protocol: 'vnc', params: { hostname: 'h' } },
      policy: {},
    });
    const out = JSON.parse(withGuacd(200, grant, 'guacd://127.0.0.1:4822'));
    assert.equal(out.target.guacd, 'guacd://127.0.0.1:4822');
    assert.equal(out.target.params.hostname, 'h');
    const refusal = '{"error":"token-invalid","message":"x"}';
    assert.equal(withGuacd(401, refusal, 'guacd://x:1'), refusal);
    assert.throws(() => withGuacd(200, '{"id":"s"}', 'guacd://x:1'), /without a target/);
  });
});
