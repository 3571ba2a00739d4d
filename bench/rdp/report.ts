/**
 * The RDP benchmark's arithmetic and report (pure: no I/O): per-round metrics of gatehouse-rdp (with its
 * Guacamole client) and of xfreerdp (the native baseline) from counter snapshots, their medians, the
 * connect-to-first-frame times, the goals and guacd's published figures, the markdown and the JSON.
 *
 * Frames: both clients watch the same freerdp-shadow-cli at the same time, so they are sent the same
 * frames; they are counted once, as the frame markers the engine received (the second argument of each
 * `sync`, which counts the server frames merged into it), and both sides' CPU is divided by that count.
 */
import type { MachineMeta } from '../helpers/bench-run.js';
import type { Verdict } from '../helpers/goals.js';
import { median, type ProcSample, procDelta } from '../vnc/proc-stats.js';
import type { GuacCounters } from './guac-client.js';
import type { MemoryBreakdown, MemorySample } from './memory.js';

/** The goals. */
export const GOALS = { rssMb1080p: 40, cpuRatio: 2, firstFrameMs: 1000 } as const;
/** guacd's published per-session figures (reference guacamole-protocol.md §10: 300 sessions on 16 cores). */
export const GUACD = { rssMb: 85, cores: 0.045 } as const;

export const MB = 1e6;

export interface Snapshot {
  /** The session's gatehouse-rdp process. */
  gatehouse: ProcSample;
  /** `gatehouse engine` (Node): the listener relaying the session's bytes. */
  relay: ProcSample;
  xfreerdp: ProcSample;
  /** freerdp-shadow-cli, the shared Xvfb and xfreerdp's Xvfb, when found. */
  server: ProcSample | null;
  xserver: ProcSample | null;
  clientX: ProcSample | null;
  machine: { busySec: number; totalSec: number };
  guac: GuacCounters;
  /** Bytes each client has received from the RDP server so far (tcp_info); -1 if unknown. */
  rdpBytes: { gatehouse: number; xfreerdp: number };
}

export interface SideMetrics {
  /** CPU time per second of wall time, % of one core. */
  cpuPercent: number;
  /** CPU ms per server frame. */
  cpuMsPerFrame: number;
  /** RDP bytes received from the server, MB/s; -1 if unknown. */
  rdpInMBps: number;
  /** RDP bytes received per server frame; -1 if unknown. */
  rdpBytesPerFrame: number;
}

export interface RoundMetrics {
  wallSec: number;
  serverFrames: number;
  serverFps: number;
  /** `sync`s delivered to the Guacamole client per second. */
  deliveredFps: number;
  guacMBps: number;
  /** Guacamole bytes per delivered frame. */
  guacBytesPerFrame: number;
  gatehouse: SideMetrics & { cpuMsPerDelivered: number };
  relay: { cpuPercent: number; cpuMsPerFrame: number };
  xfreerdp: SideMetrics;
  /** gatehouse-rdp CPU per frame / xfreerdp CPU per frame. */
  cpuRatio: number;
  serverCpuPercent: number;
  xserverCpuPercent: number;
  clientXCpuPercent: number;
  machineBusyPercent: number;
  /**
   * gatehouse-rdp CPU seconds by thread name (main = the thread whose id is the pid; FreeRDP's and the
   * encoders are all named gatehouse-rdp) and ENDED_THREADS.
   */
  gatehouseThreads: Record<string, number>;
  instructions: Record<string, number>;
  images: Record<string, number>;
}

function countDelta(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(b)) out[k] = v - (a[k] ?? 0);
  return out;
}

function pct(a: ProcSample | null, b: ProcSample | null): number {
  if (!a || !b) return Number.NaN;
  const d = procDelta(a, b);
  return (100 * d.cpuSec) / d.wallSec;
}

function side(a: ProcSample, b: ProcSample, frames: number, rdpA: number, rdpB: number): SideMetrics {
  const d = procDelta(a, b);
  const rdp = rdpA < 0 || rdpB < 0 ? -1 : rdpB - rdpA;
  return {
    cpuPercent: (100 * d.cpuSec) / d.wallSec,
    cpuMsPerFrame: (1000 * d.cpuSec) / Math.max(1, frames),
    rdpInMBps: rdp < 0 ? -1 : rdp / MB / d.wallSec,
    rdpBytesPerFrame: rdp < 0 ? -1 : rdp / Math.max(1, frames),
  };
}

/** Name under which the CPU of threads that ended between two samples is counted. */
export const ENDED_THREADS = 'threads that ended';

/**
 * CPU seconds by thread name between two samples, plus the CPU of threads that ended meanwhile (the
 * process's total minus the live threads'): the engine starts short-lived image encoder threads.
 */
export function threadShares(a: ProcSample, b: ProcSample): Record<string, number> {
  const d = procDelta(a, b);
  const out = { ...d.threads };
  const ended = d.cpuSec - Object.values(d.threads).reduce((n, v) => n + v, 0);
  if (ended > 0.005) out[ENDED_THREADS] = ended;
  return out;
}

export function roundMetrics(a: Snapshot, b: Snapshot): RoundMetrics {
  const wallSec = (b.gatehouse.at - a.gatehouse.at) / 1000;
  const serverFrames = b.guac.serverFrames - a.guac.serverFrames;
  const delivered = b.guac.frames - a.guac.frames;
  const guacBytes = b.guac.bytesIn - a.guac.bytesIn;
  const g = side(a.gatehouse, b.gatehouse, serverFrames, a.rdpBytes.gatehouse, b.rdpBytes.gatehouse);
  const x = side(a.xfreerdp, b.xfreerdp, serverFrames, a.rdpBytes.xfreerdp, b.rdpBytes.xfreerdp);
  const r = side(a.relay, b.relay, serverFrames, -1, -1);
  const m = { busy: b.machine.busySec - a.machine.busySec, total: b.machine.totalSec - a.machine.totalSec };
  return {
    wallSec,
    serverFrames,
    serverFps: serverFrames / wallSec,
    deliveredFps: delivered / wallSec,
    guacMBps: guacBytes / MB / wallSec,
    guacBytesPerFrame: guacBytes / Math.max(1, delivered),
    gatehouse: {
      ...g,
      cpuMsPerDelivered: (1000 * procDelta(a.gatehouse, b.gatehouse).cpuSec) / Math.max(1, delivered),
    },
    relay: { cpuPercent: r.cpuPercent, cpuMsPerFrame: r.cpuMsPerFrame },
    xfreerdp: x,
    cpuRatio: g.cpuMsPerFrame / x.cpuMsPerFrame,
    serverCpuPercent: pct(a.server, b.server),
    xserverCpuPercent: pct(a.xserver, b.xserver),
    clientXCpuPercent: pct(a.clientX, b.clientX),
    machineBusyPercent: m.total > 0 ? (100 * m.busy) / m.total : Number.NaN,
    gatehouseThreads: threadShares(a.gatehouse, b.gatehouse),
    instructions: countDelta(a.guac.instructions, b.guac.instructions),
    images: countDelta(a.guac.images, b.guac.images),
  };
}

type Numbers = Record<string, number>;

function medianOf<T extends object>(rounds: readonly RoundMetrics[], pick: (r: RoundMetrics) => T): T {
  const out: Numbers = {};
  for (const k of Object.keys(pick(rounds[0] as RoundMetrics)))
    out[k] = median(rounds.map((r) => (pick(r) as Numbers)[k] ?? Number.NaN));
  return out as T;
}

function sumOf(rounds: readonly RoundMetrics[], pick: (r: RoundMetrics) => Numbers): Numbers {
  const out: Numbers = {};
  for (const r of rounds) for (const [k, v] of Object.entries(pick(r))) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** The median of each figure over the rounds; wall time, frames and counts are totals. */
export function medianMetrics(rounds: readonly RoundMetrics[]): RoundMetrics {
  if (rounds.length === 0) throw new Error('no rounds to summarise');
  const med = (pick: (r: RoundMetrics) => number): number => median(rounds.map(pick));
  return {
    wallSec: rounds.reduce((n, r) => n + r.wallSec, 0),
    serverFrames: rounds.reduce((n, r) => n + r.serverFrames, 0),
    serverFps: med((r) => r.serverFps),
    deliveredFps: med((r) => r.deliveredFps),
    guacMBps: med((r) => r.guacMBps),
    guacBytesPerFrame: med((r) => r.guacBytesPerFrame),
    gatehouse: medianOf(rounds, (r) => r.gatehouse),
    relay: medianOf(rounds, (r) => r.relay),
    xfreerdp: medianOf(rounds, (r) => r.xfreerdp),
    cpuRatio: med((r) => r.cpuRatio),
    serverCpuPercent: med((r) => r.serverCpuPercent),
    xserverCpuPercent: med((r) => r.xserverCpuPercent),
    clientXCpuPercent: med((r) => r.clientXCpuPercent),
    machineBusyPercent: med((r) => r.machineBusyPercent),
    gatehouseThreads: sumOf(rounds, (r) => r.gatehouseThreads),
    instructions: sumOf(rounds, (r) => r.instructions),
    images: sumOf(rounds, (r) => r.images),
  };
}

/** One connect of the first-frame phase, in ms. */
export interface ConnectSample {
  /** From `connect` sent to `ready` received (the listener answers as guacd does: before the RDP connection). */
  readyMs: number;
  /**
   * From `connect` sent to the first `sync` received: the goal's "connect to first frame" (the process start,
   * the TLS connection, RDP activation and the server's first paint).
   */
  firstFrameMs: number;
  /** From the TCP connection to the listener (`select`, which starts the process) to the first `sync`. */
  selectToFirstFrameMs: number;
}

export interface FirstFrameSummary {
  samples: ConnectSample[];
  medianMs: number;
  minMs: number;
  maxMs: number;
  medianReadyMs: number;
  medianSelectMs: number;
}

export function firstFrameSummary(samples: readonly ConnectSample[]): FirstFrameSummary {
  const ff = samples.map((s) => s.firstFrameMs);
  return {
    samples: [...samples],
    medianMs: median(ff),
    minMs: ff.length ? Math.min(...ff) : Number.NaN,
    maxMs: ff.length ? Math.max(...ff) : Number.NaN,
    medianReadyMs: median(samples.map((s) => s.readyMs)),
    medianSelectMs: median(samples.map((s) => s.selectToFirstFrameMs)),
  };
}

export interface IdleCpu {
  seconds: number;
  gatehouseCpuPercent: number;
  xfreerdpCpuPercent: number;
  relayCpuPercent: number;
}

/** The memory of several sessions open at once (static screen), summed over their processes. */
export interface FleetMemory {
  sessions: number;
  total: { rssBytes: number; pssBytes: number; ussBytes: number };
  perSession: { rssBytes: number; pssBytes: number; ussBytes: number };
}

export function fleetMemory(samples: readonly MemorySample[]): FleetMemory {
  const sum = (pick: (m: MemorySample) => number): number =>
    samples.some((m) => pick(m) < 0) ? -1 : samples.reduce((n, m) => n + pick(m), 0);
  const total = {
    rssBytes: sum((m) => m.rssBytes),
    pssBytes: sum((m) => m.pssBytes),
    ussBytes: sum((m) => m.ussBytes),
  };
  const n = Math.max(1, samples.length);
  const per = (v: number): number => (v < 0 ? -1 : v / n);
  return {
    sessions: samples.length,
    total,
    perSession: {
      rssBytes: per(total.rssBytes),
      pssBytes: per(total.pssBytes),
      ussBytes: per(total.ussBytes),
    },
  };
}

export interface ResolutionResult {
  width: number;
  height: number;
  firstFrame: FirstFrameSummary;
  perRound: RoundMetrics[];
  summary: RoundMetrics;
  /** At the end of the animation; `breakdown`: gatehouse-rdp's RSS by mapping (null if unreadable). */
  memory: { gatehouse: MemorySample; xfreerdp: MemorySample; breakdown: MemoryBreakdown | null };
  /** With the animation stopped (a static screen). */
  idle: IdleCpu;
  /** Memory at the end of the static-screen window (the engine gives freed heap back after 1 s idle). */
  idleMemory: { gatehouse: MemorySample; xfreerdp: MemorySample };
  /** Several sessions open at once on the static screen. */
  fleet: FleetMemory;
  /** The end of freerdp-shadow-cli's output, kept when the two clients were not sent the same stream. */
  serverLog?: string;
}

export interface ReportMeta extends MachineMeta {
  quick: boolean;
  seconds: number;
  rounds: number;
  warmupSec: number;
  connects: number;
  /** Sessions open at once for the memory-per-session figure. */
  sessions: number;
  server: string;
  xfreerdpArgs: string[];
  /** Extra connection parameters given to the engine (e.g. enable-h264). */
  engineParams: Record<string, string>;
  engineBinary: string;
  /** The engine binary's modification time (ISO): which build was measured. */
  engineBuilt: string;
}

export interface RdpBenchJson {
  meta: ReportMeta;
  results: ResolutionResult[];
  goals: Verdict[];
}

/** A figure with `digits` decimals; '–' when unknown (NaN, infinite or negative). */
export const f = (n: number, digits = 1): string => (Number.isFinite(n) && n >= 0 ? n.toFixed(digits) : '–');
/** Bytes as MB with one decimal. */
export const mb = (bytes: number): string => f(bytes / MB, 1);
/** 1920×1080. */
export const label = (r: { width: number; height: number }): string => `${r.width}×${r.height}`;

/** Streams whose RDP bytes per frame differ more than this were not the same: the baseline is off. */
export const SAME_STREAM_TOLERANCE = 0.25;

/** Whether both clients were sent (about) the same RDP stream, judged by bytes per server frame. */
export function sameStream(s: RoundMetrics): boolean | null {
  const a = s.gatehouse.rdpBytesPerFrame;
  const b = s.xfreerdp.rdpBytesPerFrame;
  if (!(a > 0 && b > 0)) return null;
  return Math.abs(a / b - 1) <= SAME_STREAM_TOLERANCE;
}

/** The 1080p result (or the tallest one measured). */
function largest(results: readonly ResolutionResult[]): ResolutionResult | undefined {
  const full = results.find((r) => r.width === 1920 && r.height === 1080);
  return full ?? [...results].sort((a, b) => b.width * b.height - a.width * a.height)[0];
}

/** The goals, met or not, with the numbers. */
export function verdicts(results: readonly ResolutionResult[]): Verdict[] {
  const big = largest(results);
  const rss = big ? big.memory.gatehouse.rssBytes : Number.NaN;
  const ratios = results.map((r) => r.summary.cpuRatio);
  const differed = results.filter((r) => sameStream(r.summary) === false).map(label);
  const firsts = results.map((r) => r.firstFrame.medianMs);
  const each = (vals: number[], unit: string, digits: number): string =>
    results.map((r, i) => `${label(r)}: ${f(vals[i] as number, digits)}${unit}`).join('; ');
  return [
    {
      goal: `RSS per ${big ? label(big) : '1920×1080'} session ≤ ${GOALS.rssMb1080p} MB`,
      measured: big
        ? `${mb(rss)} MB at the end of the animation (peak ${mb(big.memory.gatehouse.hwmBytes)} MB; ` +
          `${mb(big.idleMemory.gatehouse.rssBytes)} MB on a static screen; PSS ${mb(big.fleet.perSession.pssBytes)} MB ` +
          `per session with ${big.fleet.sessions} open)`
        : 'not measured',
      met: big ? rss <= GOALS.rssMb1080p * MB : null,
    },
    {
      goal: `translation CPU per frame ≤ ${GOALS.cpuRatio}× xfreerdp's`,
      measured: results.length
        ? each(ratios, '×', 2) +
          (differed.length ? ` (not comparable at ${differed.join(', ')}: the streams differed)` : '')
        : 'not measured',
      met: results.length && differed.length === 0 ? ratios.every((x) => x <= GOALS.cpuRatio) : null,
    },
    {
      goal: `first frame ≤ ${GOALS.firstFrameMs} ms after connect (median)`,
      measured: results.length ? each(firsts, ' ms', 0) : 'not measured',
      met: results.length ? firsts.every((x) => x <= GOALS.firstFrameMs) : null,
    },
  ];
}
