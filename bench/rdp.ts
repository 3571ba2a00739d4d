/**
 * RDP benchmark: Gatehouse's RDP engine (gatehouse-rdp, one process per session, served by `gatehouse
 * engine` and watched by a lean Guacamole client that answers every sync) side by side with xfreerdp (the
 * native client, drawing on its own Xvfb), both watching the same freerdp-shadow-cli at the same time while
 * a scripted animation runs on the shared Xvfb (bench/vnc/animation.ts), at 1024×768 and 1920×1080. Per
 * resolution: the time from `connect` to the first frame (median of N connects on a static screen), then
 * the animation (CPU from /proc/PID/stat of each process, divided by the same server frames; RDP bytes
 * from tcp_info), memory at its end, CPU once the screen is static again, and the memory of N sessions
 * open at once. Writes bench/results/rdp.json + rdp.md (rdp-quick.* with --quick).
 *
 *   node dist/bench/rdp.js [--quick] [--seconds 20] [--rounds 4] [--warmup 3] [--connects 10]
 *                          [--sessions 6] [--sizes 1024x768,1920x1080] [--xfreerdp-args "/gfx +gfx-progressive ..."]
 *                          [--engine-binary PATH/TO/gatehouse-rdp] [--engine-params enable-h264=true,...]
 *                          [--tag h264]
 *
 * H.264 side by side: --engine-params enable-h264=true --xfreerdp-args "/gfx:AVC444 /bpp:32 -clipboard
 * /audio-mode:2" --tag h264 (the shadow server then encodes AVC444 with x264 for both clients).
 */
import { statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { defaultRdpBinary } from '../src/engine/rdp/engine-process.js';
import { LOOPBACK } from '../test/e2e/helpers/free-port.js';
import { sleep } from '../test/e2e/helpers/processes.js';
import { engineSkipReason } from '../test/e2e/helpers/rdp-engine-process.js';
import { BenchRun, machineMeta, writeResults } from './helpers/bench-run.js';
import { withTimeout } from './helpers/ipc-serve.js';
import { sampleSessions } from './rdp/fleet.js';
import { emptyCounters, RdpGuacClient, type RdpGuacTarget, snapshotCounters } from './rdp/guac-client.js';
import { formatMarkdown } from './rdp/markdown.js';
import { memoryBreakdown, sampleMemory } from './rdp/memory.js';
import {
  noSessionProcess,
  type RemoteDesktop,
  sessionProcess,
  startNativeViewer,
  startRemoteDesktop,
  XFREERDP_ARGS,
} from './rdp/processes.js';
import { bytesFromServer } from './rdp/rdp-bytes.js';
import {
  type ConnectSample,
  firstFrameSummary,
  fleetMemory,
  type IdleCpu,
  medianMetrics,
  type RdpBenchJson,
  type ReportMeta,
  type ResolutionResult,
  roundMetrics,
  type Snapshot,
  sameStream,
  verdicts,
} from './rdp/report.js';
import { startScene } from './vnc/animation.js';
import { machineCpu, type ProcSample, procDelta, sampleProcess } from './vnc/proc-stats.js';
import { startEngine } from './vnc/processes.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    rounds: { type: 'string' },
    warmup: { type: 'string' },
    connects: { type: 'string' },
    sessions: { type: 'string' },
    sizes: { type: 'string', default: '1024x768,1920x1080' },
    'xfreerdp-args': { type: 'string' },
    'engine-binary': { type: 'string' },
    'engine-params': { type: 'string' },
    tag: { type: 'string' },
  },
});
const quick = values.quick;
const num = (v: string | undefined, dflt: number, what: string, min: number): number => {
  const n = v === undefined ? dflt : Number(v);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${what} must be a number ≥ ${min}, got ${v}`);
  return n;
};
const seconds = num(values.seconds, quick ? 6 : 20, 'seconds', 1);
const rounds = Math.trunc(num(values.rounds, quick ? 2 : 4, 'rounds', 1));
const warmupSec = num(values.warmup, quick ? 2 : 3, 'warmup', 0);
const connects = Math.trunc(num(values.connects, quick ? 3 : 10, 'connects', 1));
const fleetSize = Math.trunc(num(values.sessions, quick ? 3 : 6, 'sessions', 1));
const idleSec = quick ? 2 : 4;
const sizes = values.sizes.split(',').map((s) => {
  const m = /^(\d+)x(\d+)$/.exec(s.trim());
  if (!m) throw new Error(`--sizes: WIDTHxHEIGHT[,...], got ${s}`);
  return { width: Number(m[1]), height: Number(m[2]) };
});
const engineParams = Object.fromEntries(
  (values['engine-params'] ?? '')
    .split(',')
    .filter(Boolean)
    .map((kv) => {
      const m = /^([a-z0-9-]+)=(.*)$/.exec(kv.trim());
      if (!m) throw new Error(`--engine-params: name=value[,...], got ${kv}`);
      return [m[1] as string, m[2] as string];
    }),
);
const tag = values.tag ?? '';
if (!/^[a-z0-9-]*$/.test(tag)) throw new Error(`--tag: lower-case letters, digits and dashes, got ${tag}`);
const xfreerdpArgs = values['xfreerdp-args']?.split(/\s+/).filter(Boolean) ?? XFREERDP_ARGS;
const engineBinary =
  values['engine-binary'] ?? process.env.GATEHOUSE_ENGINE__RDP__BINARY ?? defaultRdpBinary();
// `gatehouse engine` reads engine.rdp.binary from the environment.
process.env.GATEHOUSE_ENGINE__RDP__BINARY = engineBinary;

const FIRST_FRAME_TIMEOUT_MS = 20_000;
const perSizeMs = (warmupSec + seconds + idleSec) * 1000 + (connects + fleetSize) * 3000 + 40_000;
const run = new BenchRun({ name: 'RDP', budgetMs: sizes.length * perSizeMs + 30_000 });
const { own, log } = run;

function sampleOrNull(pid: number): ProcSample | null {
  try {
    return pid > 0 ? sampleProcess(pid) : null;
  } catch {
    return null;
  }
}

function target(desk: RemoteDesktop, enginePort: number, width: number, height: number): RdpGuacTarget {
  const s = desk.shadow;
  return {
    host: LOOPBACK,
    port: enginePort,
    width,
    height,
    params: {
      hostname: s.host,
      port: String(s.port),
      username: s.user,
      password: s.password,
      security: 'tls',
      'ignore-cert': 'true',
      ...engineParams,
    },
  };
}

/** N connects one after the other, each closed (and its process gone) before the next. */
async function firstFrames(t: RdpGuacTarget, enginePid: number): Promise<ConnectSample[]> {
  const samples: ConnectSample[] = [];
  for (let i = 0; i < connects; i++) {
    const client = new RdpGuacClient(t);
    try {
      await withTimeout(client.firstSync, FIRST_FRAME_TIMEOUT_MS, `connect ${i + 1}: the first frame`);
    } finally {
      client.close();
      await client.closed();
    }
    const { opened, connectSent, ready, firstSync } = client.times;
    samples.push({
      readyMs: ready - connectSent,
      firstFrameMs: firstSync - connectSent,
      selectToFirstFrameMs: firstSync - opened,
    });
    await noSessionProcess(enginePid);
  }
  return samples;
}

async function measureSize(width: number, height: number): Promise<ResolutionResult> {
  const desk = own(await startRemoteDesktop(width, height));
  const scene = await startScene(desk.display);
  const engine = own(await startEngine());
  const t = target(desk, engine.port, width, height);
  log(`${width}×${height}: shadow on ${desk.shadow.host}:${desk.shadow.port}, engine pid ${engine.pid}`);

  const connectSamples = await firstFrames(t, engine.pid);
  const ff = firstFrameSummary(connectSamples);
  log(`${width}×${height}: first frame median ${ff.medianMs.toFixed(0)} ms over ${connects} connects`);

  const viewer = own(await startNativeViewer(desk.shadow, width, height, xfreerdpArgs));
  const counters = emptyCounters();
  const session = new RdpGuacClient(t, counters);
  own({ stop: async () => session.close() });
  await withTimeout(session.firstSync, FIRST_FRAME_TIMEOUT_MS, 'the measured session: the first frame');
  const rdpPid = await sessionProcess(engine.pid);
  const xfreerdpPid = viewer.viewer.pid;
  log(`${width}×${height}: gatehouse-rdp pid ${rdpPid}, xfreerdp pid ${xfreerdpPid}; animating`);

  const snapshot = async (): Promise<Snapshot> => {
    if (viewer.viewer.group.hasExited) throw new Error(`xfreerdp exited:\n${viewer.viewer.output()}`);
    if (counters.errors.length > 0) throw new Error(`the session failed: ${counters.errors.join('; ')}`);
    const rdp = await bytesFromServer(desk.shadow.host, desk.shadow.port);
    return {
      gatehouse: sampleProcess(rdpPid),
      relay: sampleProcess(engine.pid),
      xfreerdp: sampleProcess(xfreerdpPid),
      server: sampleOrNull(desk.shadow.group.pid),
      xserver: sampleOrNull(desk.xvfbPid),
      clientX: sampleOrNull(viewer.xvfbPid),
      machine: machineCpu(),
      guac: snapshotCounters(counters),
      rdpBytes: { gatehouse: rdp.get(rdpPid) ?? -1, xfreerdp: rdp.get(xfreerdpPid) ?? -1 },
    };
  };
  scene.start();
  await sleep(warmupSec * 1000);
  const snaps = [await snapshot()];
  for (let i = 0; i < rounds; i++) {
    await sleep((seconds * 1000) / rounds);
    snaps.push(await snapshot());
    log(`${width}×${height}: round ${i + 1}/${rounds}`);
  }
  const memory = {
    gatehouse: sampleMemory(rdpPid),
    xfreerdp: sampleMemory(xfreerdpPid),
    breakdown: memoryBreakdown(rdpPid),
  };
  await scene.stopMotion();

  // A static screen: let the last frames drain, then CPU over idleSec.
  await sleep(1500);
  const a = await snapshot();
  await sleep(idleSec * 1000);
  const b = await snapshot();
  const pct = (x: ProcSample, y: ProcSample): number => {
    const d = procDelta(x, y);
    return (100 * d.cpuSec) / d.wallSec;
  };
  const idleMemory = { gatehouse: sampleMemory(rdpPid), xfreerdp: sampleMemory(xfreerdpPid) };
  const idle: IdleCpu = {
    seconds: idleSec,
    gatehouseCpuPercent: pct(a.gatehouse, b.gatehouse),
    xfreerdpCpuPercent: pct(a.xfreerdp, b.xfreerdp),
    relayCpuPercent: pct(a.relay, b.relay),
  };

  const fleet = fleetMemory(await sampleSessions(t, engine.pid, fleetSize - 1));
  log(
    `${width}×${height}: ${fleet.sessions} sessions at once, PSS ${(fleet.perSession.pssBytes / 1e6).toFixed(1)} MB each`,
  );

  session.close();
  await session.closed();
  await Promise.all([viewer.stop(), engine.stop()]);
  await desk.stop();
  const perRound = snaps.slice(1).map((s, i) => roundMetrics(snaps[i] as Snapshot, s));
  const summary = medianMetrics(perRound);
  const result: ResolutionResult = {
    width,
    height,
    firstFrame: ff,
    perRound,
    summary,
    memory,
    idle,
    idleMemory,
    fleet,
  };
  if (sameStream(summary) === false) {
    log(`${width}×${height}: the two clients were not sent the same stream; keeping the server's log`);
    result.serverLog = desk.shadow.output().slice(-4000);
  }
  return result;
}

async function main(): Promise<void> {
  const why = engineSkipReason(engineBinary);
  if (why) throw new Error(why);
  const results: ResolutionResult[] = [];
  for (const { width, height } of sizes) results.push(await measureSize(width, height));
  await run.cleanup();
  const meta: ReportMeta = {
    ...machineMeta(),
    quick,
    seconds,
    rounds,
    warmupSec,
    connects,
    sessions: fleetSize,
    server: 'freerdp-shadow-cli 2.11 (TLS) on Xvfb, loopback',
    xfreerdpArgs,
    engineParams,
    engineBinary,
    engineBuilt: statSync(engineBinary).mtime.toISOString(),
  };
  const goals = verdicts(results);
  const json: RdpBenchJson = { meta, results, goals };
  const name = `rdp${tag ? `-${tag}` : ''}${quick ? '-quick' : ''}`;
  await writeResults(name, json, formatMarkdown(meta, results, goals));
}

await run.run(main);
