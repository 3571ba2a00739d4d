/**
 * The tunnel benchmark's arithmetic (pure): per-slot throughput and CPU cost from counter snapshots, medians
 * over rounds, latency percentiles, idle memory per session, the spread of sessions over managers, and the
 * verdicts against the goals.
 */
import { rng as seededRandom } from '../../test/helpers/rng.js';
import type { Verdict } from '../helpers/goals.js';
import { median, type ProcSample } from '../vnc/proc-stats.js';
import type { ClientStats } from './client-protocol.js';
import { busiestThreads } from './threads.js';

export const GOALS = Object.freeze({
  /** Gatehouse's MB per tunnel CPU second at least this many times guacamole-lite's. */
  throughputPerCpu: 3,
  /** p99 key → sync added by the tunnel at `--sessions` sessions, ms. */
  p99AddedMs: 2,
  /** Two managers' throughput at least this many times one manager's. */
  managerScaling: 1.7,
  /** No manager above this many times the mean session count. */
  spreadMaxOverMean: 1.25,
});

const MB = 1e6;

/** Counters at one instant of a slot (one contender running alone). */
export interface SlotSnapshot {
  /** The tunnel process: the proxy (with its managers and, for built-in, the engines) or guacamole-lite. */
  tunnel: ProcSample;
  /** The separate `gatehouse engine` process, when the contender uses one. */
  engine: ProcSample | null;
  /** The tunnel process's CPU seconds per thread id. */
  tunnelThreads: Record<string, number>;
  /** The VNC server process (x11vnc or Xvnc), when found. */
  server: ProcSample | null;
  /** All load-generator processes, summed. */
  clients: ClientStats;
  machine: { busySec: number; totalSec: number };
}

export interface SlotResult {
  contender: string;
  round: number;
  wallSec: number;
  /** Payload MB/s, instructions/s, frames (`sync`s)/s and WebSocket messages/s received by the clients. */
  mbps: number;
  instructionsPerSec: number;
  framesPerSec: number;
  messagesPerSec: number;
  /** Tunnel process CPU, % of one core; CPU ms per MB delivered; MB delivered per CPU second. */
  tunnelCpuPercent: number;
  /** The tunnel's two busiest threads, % of a core (an event loop near 100 % is saturated). */
  busiestThreadPercent: number;
  secondThreadPercent: number;
  tunnelMsPerMB: number;
  mbPerTunnelCpuSec: number;
  /** The separate engine's CPU (% of one core, ms per MB); NaN when the engine runs in the tunnel. */
  engineCpuPercent: number;
  engineMsPerMB: number;
  /** Tunnel + separate engine, ms per MB: what the whole server side costs. */
  totalMsPerMB: number;
  clientCpuPercent: number;
  serverCpuPercent: number;
  machineBusyPercent: number;
  /** Sessions per manager at the end of the slot (proxies only, from /health). */
  managerSessions?: number[];
}

function cpuPercent(a: ProcSample | null, b: ProcSample | null, wallSec: number): number {
  return a && b ? (100 * (b.cpuSec - a.cpuSec)) / wallSec : Number.NaN;
}

export function slotResult(contender: string, round: number, a: SlotSnapshot, b: SlotSnapshot): SlotResult {
  const wallSec = (b.tunnel.at - a.tunnel.at) / 1000;
  const bytes = b.clients.bytes - a.clients.bytes;
  const mb = bytes / MB;
  const tunnelCpu = b.tunnel.cpuSec - a.tunnel.cpuSec;
  const engineCpu = a.engine && b.engine ? b.engine.cpuSec - a.engine.cpuSec : Number.NaN;
  const perMB = (cpuSec: number): number => (mb > 0 ? (1000 * cpuSec) / mb : Number.NaN);
  const machineTotal = b.machine.totalSec - a.machine.totalSec;
  const [busiest = 0, second = 0] = busiestThreads(a.tunnelThreads, b.tunnelThreads, wallSec);
  return {
    contender,
    round,
    wallSec,
    mbps: mb / wallSec,
    instructionsPerSec: (b.clients.instructions - a.clients.instructions) / wallSec,
    framesPerSec: (b.clients.frames - a.clients.frames) / wallSec,
    messagesPerSec: (b.clients.messages - a.clients.messages) / wallSec,
    tunnelCpuPercent: (100 * tunnelCpu) / wallSec,
    busiestThreadPercent: busiest,
    secondThreadPercent: second,
    tunnelMsPerMB: perMB(tunnelCpu),
    mbPerTunnelCpuSec: tunnelCpu > 0 ? mb / tunnelCpu : Number.NaN,
    engineCpuPercent: (100 * engineCpu) / wallSec,
    engineMsPerMB: perMB(engineCpu),
    totalMsPerMB: perMB(tunnelCpu + (Number.isNaN(engineCpu) ? 0 : engineCpu)),
    clientCpuPercent: (100 * (b.clients.cpuSec - a.clients.cpuSec)) / wallSec,
    serverCpuPercent: cpuPercent(a.server, b.server, wallSec),
    machineBusyPercent:
      machineTotal > 0 ? (100 * (b.machine.busySec - a.machine.busySec)) / machineTotal : Number.NaN,
  };
}

type NumericKey = {
  [K in keyof SlotResult]-?: SlotResult[K] extends number ? K : never;
}[keyof SlotResult];

const NUMERIC_KEYS: NumericKey[] = [
  'wallSec',
  'mbps',
  'instructionsPerSec',
  'framesPerSec',
  'messagesPerSec',
  'tunnelCpuPercent',
  'busiestThreadPercent',
  'secondThreadPercent',
  'tunnelMsPerMB',
  'mbPerTunnelCpuSec',
  'engineCpuPercent',
  'engineMsPerMB',
  'totalMsPerMB',
  'clientCpuPercent',
  'serverCpuPercent',
  'machineBusyPercent',
];

/** Per contender (in first-seen order), the median of every figure over its rounds; round = count. */
export function medianSlots(slots: readonly SlotResult[]): SlotResult[] {
  const names = [...new Set(slots.map((s) => s.contender))];
  return names.map((contender) => {
    const mine = slots.filter((s) => s.contender === contender);
    const out = { contender, round: mine.length } as SlotResult;
    for (const k of NUMERIC_KEYS) {
      const xs = mine.map((s) => s[k]).filter((x) => !Number.isNaN(x));
      out[k] = xs.length > 0 ? median(xs) : Number.NaN;
    }
    const last = mine[mine.length - 1];
    if (last?.managerSessions) out.managerSessions = last.managerSessions;
    return out;
  });
}

/** The q-quantile (0..1) by nearest rank: the smallest sample with at least q of all samples ≤ it. */
export function percentile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const s = [...samples].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil(q * s.length)));
  return s[rank - 1] as number;
}

export interface LatencyStats {
  n: number;
  lost: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function latencyStats(samples: readonly number[], lost = 0): LatencyStats {
  const n = samples.length;
  return {
    n,
    lost,
    p50: percentile(samples, 0.5),
    p90: percentile(samples, 0.9),
    p99: percentile(samples, 0.99),
    max: n > 0 ? Math.max(...samples) : Number.NaN,
    mean: n > 0 ? samples.reduce((a, b) => a + b, 0) / n : Number.NaN,
  };
}

/** A small seeded PRNG (the tests' mulberry32): the bootstrap is reproducible for the same samples. */
export { seededRandom };

/**
 * A bootstrap interval for quantile(b) − quantile(a): both sample sets resampled with replacement
 * `iterations` times; returns the [(1−level)/2, (1+level)/2] quantiles of the differences.
 */
export function bootstrapQuantileDiff(
  a: readonly number[],
  b: readonly number[],
  q: number,
  o: { iterations?: number; level?: number; seed?: number } = {},
): [number, number] {
  if (a.length === 0 || b.length === 0) return [Number.NaN, Number.NaN];
  const iterations = o.iterations ?? 2000;
  const level = o.level ?? 0.95;
  const random = seededRandom(o.seed ?? 1);
  const resample = (xs: readonly number[]): number[] =>
    Array.from({ length: xs.length }, () => xs[Math.floor(random() * xs.length)] as number);
  const diffs: number[] = [];
  for (let i = 0; i < iterations; i++) diffs.push(percentile(resample(b), q) - percentile(resample(a), q));
  return [percentile(diffs, (1 - level) / 2), percentile(diffs, (1 + level) / 2)];
}

export interface IdlePoint {
  sessions: number;
  /** Median RSS of the tunnel process. */
  rssBytes: number;
  /** The tunnel process's CPU while the sessions idle, % of a core. */
  cpuPercent: number;
  /** Median RSS of the separate engine process, when there is one. */
  engineRssBytes?: number;
  /** Sessions per manager (proxies, from /health). */
  managerSessions?: number[];
}

/** (RSS(N) − RSS(0)) / N for every point after the 0-session baseline (the first point). */
export function idlePerSession(
  points: ReadonlyArray<{ sessions: number; rssBytes: number }>,
): Array<{ sessions: number; bytes: number }> {
  const base = points[0];
  if (!base) return [];
  return points
    .filter((p) => p.sessions > 0)
    .map((p) => ({ sessions: p.sessions, bytes: (p.rssBytes - base.rssBytes) / p.sessions }));
}

/** (RSS(last) − RSS(previous)) / (sessions(last) − sessions(previous)): the marginal cost of a session. */
export function idleMarginal(points: ReadonlyArray<{ sessions: number; rssBytes: number }>): number {
  const last = points[points.length - 1];
  const prev = points[points.length - 2];
  if (!last || !prev || last.sessions <= prev.sessions) return Number.NaN;
  return (last.rssBytes - prev.rssBytes) / (last.sessions - prev.sessions);
}

export interface Spread {
  counts: number[];
  mean: number;
  max: number;
  /** The busiest manager's count over the mean (1 = perfectly even). */
  maxOverMean: number;
}

export function spreadOf(counts: readonly number[]): Spread {
  const total = counts.reduce((a, b) => a + b, 0);
  const mean = counts.length > 0 ? total / counts.length : Number.NaN;
  const max = counts.length > 0 ? Math.max(...counts) : Number.NaN;
  return { counts: [...counts], mean, max, maxOverMean: mean > 0 ? max / mean : Number.NaN };
}

const fmt = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

/** MB per tunnel-CPU-second of `ours` over `peer`'s. */
export function throughputPerCpuRatio(ours: SlotResult | undefined, peer: SlotResult | undefined): number {
  return ours && peer ? ours.mbPerTunnelCpuSec / peer.mbPerTunnelCpuSec : Number.NaN;
}

/** What the verdicts are made of (NaN: not measured in this run). */
export interface GoalFigures {
  /** (a') / (b) MB per tunnel CPU second: with the engine's live output, and at relay capacity. */
  perCpuLive: number;
  perCpuRelay: number;
  p99AddedMs: number;
  /** 2 managers' MB/s over 1 manager's: built-in engines (a×2 / a), and the tunnel alone (a'×2 / a'). */
  scalingBuiltin: number;
  scalingRelay: number;
  spreads: readonly Spread[];
}

/** The goals: each measured figure and whether it is met (null: not measured in this run). */
export function verdicts(v: GoalFigures): Verdict[] {
  const judge = (x: number, ok: (x: number) => boolean): boolean | null =>
    Number.isFinite(x) ? ok(x) : null;
  const worst = v.spreads.length > 0 ? Math.max(...v.spreads.map((s) => s.maxOverMean)) : Number.NaN;
  const perCpu = `throughput per tunnel CPU second ≥ ${GOALS.throughputPerCpu}× guacamole-lite's`;
  const scaling = `2 managers ≥ ${GOALS.managerScaling}× one manager's throughput`;
  return [
    {
      goal: `${perCpu}, live engine output ((a') vs (b))`,
      measured: `${fmt(v.perCpuLive)}×`,
      met: judge(v.perCpuLive, (x) => x >= GOALS.throughputPerCpu),
    },
    {
      goal: `${perCpu}, at relay capacity (replayed frames)`,
      measured: `${fmt(v.perCpuRelay)}×`,
      met: judge(v.perCpuRelay, (x) => x >= GOALS.throughputPerCpu),
    },
    {
      goal: `p99 added latency ≤ ${GOALS.p99AddedMs} ms ((a') vs direct)`,
      measured: `${fmt(v.p99AddedMs)} ms`,
      met: judge(v.p99AddedMs, (x) => x <= GOALS.p99AddedMs),
    },
    {
      goal: `${scaling}, built-in engines (a×2 vs a)`,
      measured: `${fmt(v.scalingBuiltin)}×`,
      met: judge(v.scalingBuiltin, (x) => x >= GOALS.managerScaling),
    },
    {
      goal: `${scaling}, tunnel alone at relay capacity (a'×2 vs a')`,
      measured: `${fmt(v.scalingRelay)}×`,
      met: judge(v.scalingRelay, (x) => x >= GOALS.managerScaling),
    },
    {
      goal: `no manager above ${GOALS.spreadMaxOverMean}× the mean session count`,
      measured: `worst ${fmt(worst)}× (${v.spreads.map((s) => s.counts.join('/')).join(', ')})`,
      met: judge(worst, (x) => x <= GOALS.spreadMaxOverMean),
    },
  ];
}
