/**
 * Tunnel benchmark: Gatehouse's Guacamole WebSocket tunnel (`gatehouse proxy`) against guacamole-lite 1.2.0
 * (npm) in front of `gatehouse engine`, on the same VNC server, the same scripted animation and the same
 * browser-like load generator (bench/tunnel/client.ts, in processes of their own so their CPU is not the
 * tunnel's). Contenders (bench/tunnel/contenders.ts): (a) proxy with the built-in engine, (a') proxy in
 * front of the engine process (the tunnel alone: the headline against (b)), (b) guacamole-lite in front of
 * the same engine process, (a×2) as (a) with 2 managers, and `direct` (no tunnel) as the latency baseline.
 *
 * Phases (docs/performance.md):
 * - throughput: the animation on x11vnc; MB/s, instructions/s and CPU ms per MB of the tunnel process;
 * - relay capacity: the engine's recorded output replayed by a guacd stand-in as fast as the clients
 *   answer, through (a'), (b) and (a') with 2 managers: the tunnels loaded well past what the engine can
 *   produce on this machine;
 * - latency: static screen on Xvnc; key → first sync at 1 and at --sessions sessions, against `direct`;
 * - idle memory: static screen; tunnel RSS at 0, 1, --sessions and --idle-max sessions; spread over 2
 *   managers.
 * Writes bench/results/tunnel.json and tunnel.md.
 *
 *   node dist/bench/tunnel.js [--seconds 10] [--rounds 2] [--throughput-sessions 20] [--relay-sessions 8]
 *        [--sessions 50] [--idle-max 200] [--probes 300] [--latency-rounds 3] [--clients 2]
 *        [--width 1024 --height 768] [--server x11vnc|xvnc] [--static-server xvnc|x11vnc] [--warmup 1.5]
 *        [--profile DIR] [--skip-throughput] [--skip-relay] [--skip-latency] [--skip-idle]
 *
 * --profile DIR runs the proxies (a') and (a) and guacamole-lite under `node --cpu-prof` (one profile per
 * thread, written when they stop) and appends each thread's busiest functions to the report.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LOOPBACK } from '../test/e2e/helpers/free-port.js';
import { registerTempDir, removeTempDir, sleep } from '../test/e2e/helpers/processes.js';
import type { VncServer } from '../test/e2e/helpers/vnc-servers.js';
import { BenchRun, loadavg, machineMeta, writeResults } from './helpers/bench-run.js';
import { type BenchVncServer, startVncServer, type VncServerKind } from './helpers/vnc-server.js';
import {
  type ContenderId,
  type ContenderWorld,
  makeContenders,
  makeRelayContenders,
} from './tunnel/contenders.js';
import { medianSlots } from './tunnel/metrics.js';
import { idlePhase, type LatencySamples, latencyPhase, throughputPhase } from './tunnel/phases.js';
import { ClientProcess, LiteProcess, startBenchProxy, startReplayGuacd } from './tunnel/processes.js';
import { profileSection } from './tunnel/profiles.js';
import { recordEngineStream } from './tunnel/recording.js';
import {
  buildReport,
  formatMarkdown,
  latencyEntries,
  type RelayInfo,
  type ReportMeta,
  type TunnelReport,
} from './tunnel/report.js';
import { startScene } from './vnc/animation.js';
import { startEngine } from './vnc/processes.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '1.5' },
    'throughput-sessions': { type: 'string', default: '20' },
    'relay-sessions': { type: 'string', default: '8' },
    sessions: { type: 'string', default: '50' },
    'idle-max': { type: 'string', default: '200' },
    probes: { type: 'string', default: '300' },
    'latency-rounds': { type: 'string', default: '3' },
    clients: { type: 'string', default: '2' },
    width: { type: 'string', default: '1024' },
    height: { type: 'string', default: '768' },
    server: { type: 'string', default: 'x11vnc' },
    'static-server': { type: 'string', default: 'xvnc' },
    profile: { type: 'string', default: '' },
    'skip-throughput': { type: 'boolean', default: false },
    'skip-relay': { type: 'boolean', default: false },
    'skip-latency': { type: 'boolean', default: false },
    'skip-idle': { type: 'boolean', default: false },
  },
});
const int = (name: keyof typeof values, min: number): number => {
  const v = Number(values[name]);
  if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
  return v;
};
const seconds = Number(values.seconds);
const warmupSec = Number(values.warmup);
if (!(seconds > 0) || !(warmupSec >= 0)) throw new Error('--seconds must be > 0 and --warmup ≥ 0');
const rounds = int('rounds', 1);
const throughputSessions = int('throughput-sessions', 1);
const relaySessions = int('relay-sessions', 1);
const sessions = int('sessions', 2);
const idleMax = int('idle-max', sessions);
const probes = int('probes', 2);
const latencyRounds = int('latency-rounds', 1);
const clientCount = int('clients', 1);
const width = int('width', 64);
const height = int('height', 64);
for (const k of ['server', 'static-server'] as const) {
  if (values[k] !== 'x11vnc' && values[k] !== 'xvnc') throw new Error(`--${k} must be x11vnc or xvnc`);
}
const profileDir = values.profile ? resolve(values.profile) : undefined;
const slotSec = seconds / rounds;
const idleSteps = [...new Set([1, sessions, idleMax])].sort((a, b) => a - b);
const RELAY_SLOT_MAX_SEC = 3;
/** The raw latency samples, kept for the JSON result. */
let latencySamples: Partial<Record<ContenderId, LatencySamples>> | null = null;

// Everything started is stopped: at the end, on error, on Ctrl-C, and after the time budget.
const run = new BenchRun({ name: 'tunnel', budgetMs: 15 * 60_000 });
const { log, own } = run;

function startServer(kind: string): Promise<BenchVncServer> {
  // Many viewers come and go: no blacklisting of the loopback address after "failed" handshakes (Xvnc).
  const xvncArgs = ['-BlacklistThreshold', '1000000'];
  return startVncServer(kind as VncServerKind, { width, height, xvncArgs });
}

/** The engine, guacamole-lite and the three proxies; profiled (--profile) when `profile`. */
async function world(profile: boolean): Promise<ContenderWorld> {
  const engine = own(await startEngine());
  const dir = (name: string): string | undefined =>
    profile && profileDir ? join(profileDir, name) : undefined;
  const lite = own(await LiteProcess.start(engine.port, dir('lite')));
  const proxyBuiltin = own(await startBenchProxy({ managers: 1, cpuProfDir: dir('proxy-builtin') }));
  const proxyTunnel = own(await startBenchProxy({ managers: 1, cpuProfDir: dir('proxy-tunnel') }));
  const proxyTwo = own(await startBenchProxy({ managers: 2 }));
  log(
    `engine pid ${engine.pid}, guacamole-lite pid ${lite.pid}, proxies pid ${proxyBuiltin.pid} (a), ` +
      `${proxyTunnel.pid} (a'), ${proxyTwo.pid} (a×2)`,
  );
  return { width, height, engine, lite, proxyBuiltin, proxyTunnel, proxyTwo };
}

async function stopWorld(w: ContenderWorld): Promise<void> {
  await Promise.all([w.proxyBuiltin.stop(), w.proxyTunnel.stop(), w.proxyTwo.stop(), w.lite.stop()]);
  await w.engine.stop();
}

/** Runs a phase; a failure carries the VNC server's last output (it explains most failed handshakes). */
async function explained<T>(server: { vnc: VncServer }, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const tail = server.vnc.output().trim().split('\n').slice(-15).join('\n');
    if (err instanceof Error) err.message += `\n${server.vnc.kind} output (last lines):\n${tail}`;
    throw err;
  }
}

/** Records the engine's output for the animation (the relay phase's frames) into a temp file. */
async function record(w: ContenderWorld, vnc: VncServer): Promise<{ file: string; info: RelayInfo }> {
  const frames = await recordEngineStream({
    target: { host: LOOPBACK, port: w.engine.port, vncHost: vnc.host, vncPort: vnc.port, width, height },
    seconds: 4,
    skipMs: 1000,
  });
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-bench-tunnel-'));
  registerTempDir(dir);
  own({ stop: () => removeTempDir(dir) });
  const file = join(dir, 'frames.json');
  await writeFile(file, JSON.stringify(frames));
  const bytes = frames.reduce((n, f) => n + Buffer.byteLength(f), 0);
  log(`recorded ${frames.length} engine frames, ${(bytes / frames.length / 1000).toFixed(1)} kB each`);
  return { file, info: { frames: frames.length, meanFrameBytes: bytes / frames.length } };
}

async function animated(w: ContenderWorld, clients: ClientProcess[]) {
  const c = makeContenders(w);
  const slotOptions = { clients, rounds, slotSec, warmupSec, log };
  let throughput: TunnelReport['throughput'] = null;
  let relay: TunnelReport['relay'] = null;
  const server = own(await startServer(values.server as string));
  const scene = await startScene(server.vnc.display);
  scene.start();
  log(`animation on ${server.vnc.kind} (pid ${server.pid})`);
  await sleep(1000);
  const recording = values['skip-relay'] ? null : await record(w, server.vnc);
  if (!values['skip-throughput']) {
    const slots = await explained(server, () =>
      throughputPhase({
        ...slotOptions,
        contenders: [c["a'"], c.b, c.a, c['a×2']],
        vnc: server.vnc,
        sessions: throughputSessions,
        serverPid: server.pid,
      }),
    );
    throughput = { slots, summary: medianSlots(slots) };
  }
  await scene.stopMotion();
  if (recording) {
    const replay = own(await startReplayGuacd(recording.file));
    log(`relay capacity: replaying guacd pid ${replay.pid}, ${relaySessions} sessions per slot`);
    const slots = await throughputPhase({
      ...slotOptions,
      // Saturated relays give steady figures quickly: shorter slots.
      slotSec: Math.min(slotSec, RELAY_SLOT_MAX_SEC),
      contenders: makeRelayContenders(w, replay),
      vnc: server.vnc,
      sessions: relaySessions,
      serverPid: -1,
    });
    relay = { slots, summary: medianSlots(slots), ...recording.info };
    await replay.stop();
  }
  await server.stop();
  return { throughput, relay };
}

/** A static screen: an xterm running `cat` under the pointer, so a typed key draws one character. */
async function staticServer() {
  const server = own(await startServer(values['static-server'] as string));
  const display = server.vnc.display;
  await display.setRootColor('#336699');
  const term = await display.startXterm({
    geometry: '40x4+40+40',
    args: ['-bg', '#ffffff', '-fg', '#000000', '-e', 'cat'],
  });
  await display.xdotool('mousemove', '--window', term.windowId, '20', '20');
  await display.xdotool('windowfocus', term.windowId).catch(() => '');
  log(`static screen on ${server.vnc.kind} (pid ${server.pid})`);
  return server;
}

async function latencyOn(
  w: ContenderWorld,
  server: { vnc: VncServer },
  client: ClientProcess,
): Promise<NonNullable<TunnelReport['latency']>> {
  const c = makeContenders(w);
  const perRound = Math.max(1, Math.round(probes / latencyRounds));
  const samples = await explained(server, () =>
    latencyPhase({
      contenders: [c.direct, c["a'"], c.b, c.a],
      vnc: server.vnc,
      client,
      sessions,
      rounds: latencyRounds,
      probesSingle: Math.max(1, Math.round(perRound / 4)),
      probesLoaded: perRound,
      log,
    }),
  );
  latencySamples = samples;
  return latencyEntries(samples);
}

async function main(): Promise<void> {
  const loadStart = loadavg();
  let w = await world(true);
  const clients = Array.from({ length: clientCount }, (_, i) => own(new ClientProcess(`client ${i + 1}`)));
  const client = clients[0] as ClientProcess;

  let throughput: TunnelReport['throughput'] = null;
  let relay: TunnelReport['relay'] = null;
  if (!values['skip-throughput'] || !values['skip-relay'])
    ({ throughput, relay } = await animated(w, clients));

  let latency: TunnelReport['latency'] = null;
  let idle: TunnelReport['idle'] = null;
  if (!values['skip-latency'] || !values['skip-idle']) {
    const server = await staticServer();
    if (!values['skip-latency']) latency = await latencyOn(w, server, client);
    if (!values['skip-idle']) {
      // Fresh processes: memory that earlier phases freed stays with the allocator and would hide sessions.
      await stopWorld(w);
      w = await world(false);
      const c = makeContenders(w);
      idle = await explained(server, () =>
        idlePhase({
          contenders: [c["a'"], c.b, c.a, c['a×2']],
          vnc: server.vnc,
          client,
          steps: idleSteps,
          settleMs: 1000,
          log,
        }),
      );
    }
    await server.stop();
  }

  log('stopping everything');
  await run.cleanup();
  const meta: ReportMeta = {
    ...machineMeta(),
    width,
    height,
    throughputServer: values.server === 'xvnc' ? 'TigerVNC Xvnc' : 'Xvfb + x11vnc',
    staticServer: values['static-server'] === 'xvnc' ? 'TigerVNC Xvnc' : 'Xvfb + x11vnc',
    throughputSessions,
    relaySessions,
    latencySessions: sessions,
    idleSteps,
    slotSec,
    relaySlotSec: Math.min(slotSec, RELAY_SLOT_MAX_SEC),
    rounds,
    warmupSec,
    clientProcesses: clientCount,
    loadStart,
    loadEnd: loadavg(),
    durationSec: run.elapsedSec(),
  };
  const report = buildReport(meta, throughput, relay, latency, idle);
  let markdown = formatMarkdown(report);
  if (profileDir) markdown += `\n\n${profileSection(profileDir)}`;
  await writeResults('tunnel', { ...report, latencySamplesMs: latencySamples }, markdown);
}

await run.run(main);
