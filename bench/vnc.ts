/**
 * VNC benchmark: Gatehouse's VNC engine (the `gatehouse engine` CLI, watched by a lean Guacamole client
 * that answers every sync) side by side with a raw RFB consumer (the same RFB client and decoders, reading
 * and decoding only: the cost floor), both watching the same VNC server at the same time while a scripted
 * animation runs on its X display (bench/vnc/animation.ts). Each of the three runs in its own process, so
 * CPU (utime + stime of all threads, /proc) and RSS are measured per process. Then, with a fresh engine
 * and a static screen, the memory of N idle sessions. Writes bench/results/vnc.json and vnc.md
 * (vnc-xvnc.* with --server xvnc).
 *
 *   node dist/bench/vnc.js [--seconds 20] [--rounds 4] [--sessions 20] [--width 1024 --height 768]
 *                          [--server x11vnc|xvnc] [--warmup 3] [--profile DIR] [--skip-idle]
 *                          [--engine PATH/TO/dist/src/cli/main.js]
 *
 * --profile DIR starts the engine of the animation phase with `node --cpu-prof` and appends the top
 * functions of its main thread to the report. --engine runs another build of the CLI (before/after a change).
 */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseVncParams } from '../src/engine/vnc/params.js';
import { encodingName } from '../src/protocol/rfb/encodings.js';
import { LOOPBACK } from '../test/e2e/helpers/free-port.js';
import { sleep } from '../test/e2e/helpers/processes.js';
import type { VncServer } from '../test/e2e/helpers/vnc-servers.js';
import { BenchRun, machineMeta, writeResults } from './helpers/bench-run.js';
import { startVncServer, type VncServerKind } from './helpers/vnc-server.js';
import { startScene } from './vnc/animation.js';
import type { ConsumerTarget } from './vnc/consumer-protocol.js';
import { findChild, machineCpu, median, type ProcSample, sampleProcess } from './vnc/proc-stats.js';
import { ConsumerProcess, startEngine } from './vnc/processes.js';
import { formatProfile } from './vnc/profile-summary.js';
import {
  formatMarkdown,
  type IdlePoint,
  type IdleResult,
  idleResult,
  medianMetrics,
  type ReportMeta,
  roundMetrics,
  type Snapshot,
} from './vnc/report.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '4' },
    sessions: { type: 'string', default: '20' },
    width: { type: 'string', default: '1024' },
    height: { type: 'string', default: '768' },
    warmup: { type: 'string', default: '3' },
    server: { type: 'string', default: 'x11vnc' },
    profile: { type: 'string', default: '' },
    engine: { type: 'string', default: '' },
    'skip-idle': { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const rounds = Math.max(1, Math.trunc(Number(values.rounds)));
const maxSessions = Math.max(1, Math.trunc(Number(values.sessions)));
const width = Math.trunc(Number(values.width));
const height = Math.trunc(Number(values.height));
const warmupSec = Number(values.warmup);
const serverKind = values.server;
if (!(seconds > 0) || !(width >= 64) || !(height >= 64) || !(warmupSec >= 0)) {
  throw new Error('--seconds, --width, --height and --warmup must be positive numbers (sizes ≥ 64)');
}
if (serverKind !== 'x11vnc' && serverKind !== 'xvnc') throw new Error('--server must be x11vnc or xvnc');
const profileDir = values.profile ? resolve(values.profile) : undefined;
const engineMain = values.engine ? resolve(values.engine) : undefined;

const IDLE_SETTLE_MS = 3000;
const IDLE_SAMPLES = 5;
const IDLE_SAMPLE_GAP_MS = 300;
const idleSteps = [
  ...new Set([1, 0.25, 0.5, 0.75, 1].map((q, i) => (i === 0 ? 1 : Math.ceil(q * maxSessions)))),
].sort((a, b) => a - b);

// Everything started is stopped: at the end, on error, on Ctrl-C, and after the time budget.
const run = new BenchRun({
  name: 'VNC',
  budgetMs: (warmupSec + seconds) * 1000 + idleSteps.length * 25_000 + 120_000,
});
const { own } = run;

const log = (s: string): void => void process.stderr.write(`[vnc bench] ${s}\n`);

function sampleOrNull(pid: number): ProcSample | null {
  try {
    return pid > 0 ? sampleProcess(pid) : null;
  } catch {
    return null;
  }
}

async function startServer(): Promise<VncServer> {
  return own(await startVncServer(serverKind as VncServerKind, { width, height })).vnc;
}

function targets(vnc: VncServer, enginePort: number): { raw: ConsumerTarget; guac: ConsumerTarget } {
  const common = { vncHost: vnc.host, vncPort: vnc.port, width, height };
  return {
    raw: { kind: 'raw', host: vnc.host, port: vnc.port, ...common },
    guac: { kind: 'guac', host: LOOPBACK, port: enginePort, ...common },
  };
}

/** The animation phase: both consumers watch the same server; one snapshot per round boundary. */
async function animationPhase(vnc: VncServer) {
  const scene = await startScene(vnc.display);
  const serverPid = findChild(process.pid, serverKind === 'xvnc' ? 'Xvnc' : 'x11vnc');
  const xserverPid = serverKind === 'xvnc' ? serverPid : findChild(process.pid, 'Xvfb');
  const engine = own(await startEngine({ cpuProfDir: profileDir, mainJs: engineMain }));
  const t = targets(vnc, engine.port);
  const raw = own(new ConsumerProcess(t.raw));
  const guac = own(new ConsumerProcess(t.guac));
  await Promise.all([raw.open(1), guac.open(1)]);
  log(`engine pid ${engine.pid}, raw consumer pid ${raw.pid}; animating (${warmupSec} s warm-up)`);
  scene.start();
  await sleep(warmupSec * 1000);
  const snapshot = async (): Promise<Snapshot> => {
    const [g, r] = await Promise.all([guac.stats(), raw.stats()]);
    return {
      engine: sampleProcess(engine.pid),
      raw: sampleProcess(raw.pid),
      server: sampleOrNull(serverPid),
      xserver: sampleOrNull(xserverPid),
      machine: machineCpu(),
      guac: g,
      rawStats: r,
    };
  };
  const snaps = [await snapshot()];
  for (let i = 0; i < rounds; i++) {
    await sleep((seconds * 1000) / rounds);
    snaps.push(await snapshot());
    log(`round ${i + 1}/${rounds} done`);
  }
  const last = snaps[snaps.length - 1] as Snapshot;
  const errors = [...last.guac.errors, ...last.rawStats.errors];
  if (errors.length > 0) throw new Error(`sessions failed during the animation:\n${errors.join('\n')}`);
  await scene.stopMotion();
  await Promise.all([guac.closeAll(), raw.closeAll()]);
  await Promise.all([guac.stop(), raw.stop(), engine.stop()]);
  const perRound = snaps.slice(1).map((s, i) => roundMetrics(snaps[i] as Snapshot, s));
  return {
    perRound,
    summary: medianMetrics(perRound),
    activeRss: { engine: last.engine.rssBytes, raw: last.raw.rssBytes },
    peakRss: { engine: last.engine.hwmBytes, raw: last.raw.hwmBytes },
    consumerStats: { guac: last.guac, raw: last.rawStats },
  };
}

/** Idle sessions on a static screen, with a fresh engine warmed up by one session opened and closed. */
async function idlePhase(vnc: VncServer): Promise<IdleResult> {
  const engine = own(await startEngine({ mainJs: engineMain }));
  const t = targets(vnc, engine.port);
  const raw = own(new ConsumerProcess(t.raw));
  const guac = own(new ConsumerProcess(t.guac));
  await Promise.all([guac.open(1), raw.open(1)]);
  await Promise.all([guac.closeAll(), raw.closeAll()]);
  const measure = async (sessions: number): Promise<IdlePoint> => {
    await sleep(IDLE_SETTLE_MS);
    const e: ProcSample[] = [];
    const r: ProcSample[] = [];
    for (let i = 0; i < IDLE_SAMPLES; i++) {
      if (i > 0) await sleep(IDLE_SAMPLE_GAP_MS);
      e.push(sampleProcess(engine.pid));
      r.push(sampleProcess(raw.pid));
    }
    const first = e[0] as ProcSample;
    const lastE = e[e.length - 1] as ProcSample;
    const stats = await raw.stats();
    return {
      sessions,
      engineRssBytes: median(e.map((s) => s.rssBytes)),
      rawRssBytes: median(r.map((s) => s.rssBytes)),
      rawHeapBytes: stats.heapUsedBytes,
      engineCpuPercent: (100 * (lastE.cpuSec - first.cpuSec)) / ((lastE.at - first.at) / 1000),
    };
  };
  const points = [await measure(0)];
  let open = 0;
  for (const n of idleSteps) {
    await guac.open(n - open);
    await raw.open(n - open);
    open = n;
    points.push(await measure(n));
    log(`idle: ${n} session(s) measured`);
  }
  const g = await guac.stats();
  const r = await raw.stats();
  const errors = [...g.errors, ...r.errors];
  if (errors.length > 0) throw new Error(`idle sessions failed:\n${errors.join('\n')}`);
  await Promise.all([guac.stop(), raw.stop(), engine.stop()]);
  return idleResult(points, width, height);
}

function newestProfile(dir: string): string | undefined {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f));
  return files.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
}

async function main(): Promise<void> {
  const vnc = await startServer();
  log(`${serverKind} on ${vnc.host}:${vnc.port}, display ${vnc.display.name} ${width}x${height}`);
  const anim = await animationPhase(vnc);
  const idle = values['skip-idle'] ? null : await idlePhase(vnc);
  await run.cleanup();
  const meta: ReportMeta = {
    ...machineMeta(),
    server: serverKind === 'xvnc' ? 'TigerVNC Xvnc' : 'Xvfb + x11vnc',
    width,
    height,
    seconds,
    rounds,
    warmupSec,
    encodings: parseVncParams({ hostname: LOOPBACK }).encodings.map(encodingName).join(' '),
  };
  let markdown = formatMarkdown(meta, anim.summary, anim.perRound, anim.activeRss, idle);
  const profileFile = profileDir ? newestProfile(profileDir) : undefined;
  if (profileFile) markdown += `\n\n${formatProfile(profileFile)}`;
  const name = serverKind === 'x11vnc' ? 'vnc' : `vnc-${serverKind}`;
  await writeResults(name, { meta, ...anim, idle, profileFile }, markdown);
}

await run.run(main);
