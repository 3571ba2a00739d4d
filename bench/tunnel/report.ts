/**
 * The tunnel benchmark's result and its markdown: throughput and CPU per MB (medians over rounds), latency
 * percentiles and what the tunnel adds to the no-tunnel baseline, idle memory per session, the spread of
 * sessions over managers, and the goals.
 */
import type { MachineMeta } from '../helpers/bench-run.js';
import { goalsSection, type Verdict } from '../helpers/goals.js';
import type { ContenderId } from './contenders.js';
import { CONTENDER_LABELS } from './contenders.js';
import {
  bootstrapQuantileDiff,
  type GoalFigures,
  type IdlePoint,
  idleMarginal,
  idlePerSession,
  type LatencyStats,
  latencyStats,
  type SlotResult,
  type Spread,
  spreadOf,
  throughputPerCpuRatio,
  verdicts,
} from './metrics.js';

export interface ReportMeta extends MachineMeta {
  width: number;
  height: number;
  throughputServer: string;
  staticServer: string;
  throughputSessions: number;
  relaySessions: number;
  latencySessions: number;
  idleSteps: number[];
  slotSec: number;
  relaySlotSec: number;
  rounds: number;
  warmupSec: number;
  clientProcesses: number;
  /** /proc/loadavg (1, 5, 15 min) at the start and at the end of the run. */
  loadStart: number[];
  loadEnd: number[];
  durationSec: number;
}

export interface LatencyEntry {
  single: LatencyStats;
  loaded: LatencyStats;
  /** 95 % bootstrap intervals of the added p50 / p99 at the loaded count (tunnels only). */
  addedP50Interval?: [number, number];
  addedP99Interval?: [number, number];
}

/** Latency stats per contender from raw samples, with bootstrap intervals against `direct`. */
export function latencyEntries(
  samples: Partial<
    Record<ContenderId, { single: number[]; singleLost: number; loaded: number[]; loadedLost: number }>
  >,
): Partial<Record<ContenderId, LatencyEntry>> {
  const out: Partial<Record<ContenderId, LatencyEntry>> = {};
  const direct = samples.direct?.loaded;
  for (const [id, s] of Object.entries(samples) as Array<[ContenderId, NonNullable<(typeof samples)['a']>]>) {
    const e: LatencyEntry = {
      single: latencyStats(s.single, s.singleLost),
      loaded: latencyStats(s.loaded, s.loadedLost),
    };
    if (id !== 'direct' && direct && direct.length > 0 && s.loaded.length > 0) {
      e.addedP50Interval = bootstrapQuantileDiff(direct, s.loaded, 0.5);
      e.addedP99Interval = bootstrapQuantileDiff(direct, s.loaded, 0.99);
    }
    out[id] = e;
  }
  return out;
}

export interface SlotSet {
  slots: SlotResult[];
  summary: SlotResult[];
}

export interface RelayInfo {
  /** Frames recorded from the engine and their mean size (bytes, sync excluded). */
  frames: number;
  meanFrameBytes: number;
}

export interface TunnelReport {
  meta: ReportMeta;
  throughput: SlotSet | null;
  relay: (SlotSet & RelayInfo) | null;
  latency: Partial<Record<ContenderId, LatencyEntry>> | null;
  idle: Partial<Record<ContenderId, IdlePoint[]>> | null;
  figures: GoalFigures & { p50AddedMs: number };
  verdicts: Verdict[];
}

const f = (x: number | undefined, d = 1): string =>
  x !== undefined && Number.isFinite(x) ? x.toFixed(d) : '–';
const mb = (bytes: number | undefined, d = 1): string => f(bytes === undefined ? undefined : bytes / 1e6, d);

/** The headline figures and verdicts from the phases' results. */
export function buildReport(
  meta: ReportMeta,
  throughput: TunnelReport['throughput'],
  relay: TunnelReport['relay'],
  latency: TunnelReport['latency'],
  idle: TunnelReport['idle'],
): TunnelReport {
  const by = (set: SlotSet | null, id: ContenderId): SlotResult | undefined =>
    set?.summary.find((s) => s.contender === id);
  const scaling = (set: SlotSet | null, one: ContenderId, two: ContenderId): number => {
    const a = by(set, one);
    const b = by(set, two);
    return a && b ? b.mbps / a.mbps : Number.NaN;
  };
  const direct = latency?.direct?.loaded;
  const tunnel = latency?.["a'"]?.loaded;
  const spreads: Spread[] = [];
  for (const p of idle?.['a×2'] ?? []) {
    if (p.managerSessions && p.sessions > 1) spreads.push(spreadOf(p.managerSessions));
  }
  for (const set of [throughput, relay]) {
    for (const s of set?.slots ?? []) {
      if (s.contender.endsWith('×2') && s.managerSessions) spreads.push(spreadOf(s.managerSessions));
    }
  }
  const figures = {
    perCpuLive: throughputPerCpuRatio(by(throughput, "a'"), by(throughput, 'b')),
    perCpuRelay: throughputPerCpuRatio(by(relay, "a'"), by(relay, 'b')),
    p99AddedMs: direct && tunnel ? tunnel.p99 - direct.p99 : Number.NaN,
    p50AddedMs: direct && tunnel ? tunnel.p50 - direct.p50 : Number.NaN,
    scalingBuiltin: scaling(throughput, 'a', 'a×2'),
    scalingRelay: scaling(relay, "a'", "a'×2"),
    spreads,
  };
  return { meta, throughput, relay, latency, idle, figures, verdicts: verdicts(figures) };
}

function throughputTable(summary: readonly SlotResult[]): string[] {
  const cols = summary.map((s) => s.contender);
  const row = (name: string, get: (s: SlotResult) => string): string =>
    `| ${name} | ${summary.map(get).join(' | ')} |`;
  return [
    `| metric (median of rounds) | ${cols.join(' | ')} |`,
    `| --- | ${cols.map(() => '---:').join(' | ')} |`,
    row('MB/s to the clients', (s) => f(s.mbps, 2)),
    row('instructions/s to the clients', (s) => f(s.instructionsPerSec, 0)),
    row('frames (sync)/s', (s) => f(s.framesPerSec, 0)),
    row('WebSocket messages/s', (s) => f(s.messagesPerSec, 0)),
    row('tunnel process CPU, % of a core', (s) => f(s.tunnelCpuPercent)),
    row(
      'its busiest threads, % of a core',
      (s) => `${f(s.busiestThreadPercent, 0)}, ${f(s.secondThreadPercent, 0)}`,
    ),
    row('**tunnel CPU ms per MB**', (s) => `**${f(s.tunnelMsPerMB, 0)}**`),
    row('MB per tunnel CPU second', (s) => f(s.mbPerTunnelCpuSec, 2)),
    row('engine process CPU, % of a core', (s) => f(s.engineCpuPercent)),
    row('tunnel + engine CPU ms per MB', (s) => f(s.totalMsPerMB, 0)),
    row('load generator CPU, % of a core', (s) => f(s.clientCpuPercent)),
    row('VNC server CPU, % of a core', (s) => f(s.serverCpuPercent)),
    row('machine busy, % of all cores', (s) => f(s.machineBusyPercent)),
  ];
}

function perRound(set: SlotSet): string {
  const cells = set.summary.map(
    (s) =>
      `${s.contender} ${set.slots
        .filter((x) => x.contender === s.contender)
        .map((x) => f(x.tunnelMsPerMB, 0))
        .join(', ')}`,
  );
  return `Per round, tunnel CPU ms per MB: ${cells.join('; ')}.`;
}

function latencyTable(latency: NonNullable<TunnelReport['latency']>, sessions: number): string[] {
  const direct = latency.direct;
  const lines = [
    `| contender | 1 session p50 / p99 ms | ${sessions} sessions p50 / p90 / p99 / max ms | added p50 at ${sessions}, ms (95 % interval) | added p99 at ${sessions}, ms (95 % interval) | probes (lost) |`,
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const [id, e] of Object.entries(latency) as Array<[ContenderId, LatencyEntry]>) {
    const added = (q: 'p50' | 'p99', interval: [number, number] | undefined): string =>
      id === 'direct' || !direct
        ? '–'
        : `${f(e.loaded[q] - direct.loaded[q], 2)} (${f(interval?.[0], 1)} … ${f(interval?.[1], 1)})`;
    lines.push(
      `| ${CONTENDER_LABELS[id]} | ${f(e.single.p50, 2)} / ${f(e.single.p99, 2)} | ` +
        `${f(e.loaded.p50, 2)} / ${f(e.loaded.p90, 2)} / ${f(e.loaded.p99, 2)} / ${f(e.loaded.max, 1)} | ` +
        `${added('p50', e.addedP50Interval)} | ${added('p99', e.addedP99Interval)} | ` +
        `${e.single.n + e.loaded.n} (${e.single.lost + e.loaded.lost}) |`,
    );
  }
  return lines;
}

function idleTable(idle: NonNullable<TunnelReport['idle']>): string[] {
  const steps = [...new Set(Object.values(idle).flatMap((ps) => (ps ?? []).map((p) => p.sessions)))];
  const open = steps.filter((n) => n > 0);
  const lines = [
    `| process | RSS at ${steps.join(' / ')} sessions, MB | per session at ${open.join(' / ')}, MB | ` +
      `per added session ${steps.slice(-2).join(' → ')}, kB | idle CPU at ${open.join(' / ')}, % of a core |`,
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  const row = (label: string, points: ReadonlyArray<{ sessions: number; rssBytes: number }>, cpu: string) => {
    const at = (n: number) => points.find((p) => p.sessions === n);
    const per = idlePerSession(points);
    const rss = steps.map((n) => mb(at(n)?.rssBytes)).join(' / ');
    const perCells = open.map((n) => mb(per.find((p) => p.sessions === n)?.bytes, 2)).join(' / ');
    return `| ${label} | ${rss} | ${perCells} | ${f(idleMarginal(points) / 1000, 0)} | ${cpu} |`;
  };
  for (const [id, points] of Object.entries(idle) as Array<[ContenderId, IdlePoint[]]>) {
    const cpu = open.map((n) => f(points.find((p) => p.sessions === n)?.cpuPercent, 1)).join(' / ');
    lines.push(row(CONTENDER_LABELS[id], points, cpu));
    // Only a fresh engine: after an earlier contender's sessions its allocator holds freed memory.
    if (points.every((p) => p.engineRssBytes !== undefined)) {
      const engine = points.map((p) => ({ sessions: p.sessions, rssBytes: p.engineRssBytes as number }));
      lines.push(row('↳ its gatehouse engine process', engine, '–'));
    }
  }
  return lines;
}

export function formatMarkdown(r: TunnelReport): string {
  const m = r.meta;
  const out: string[] = [
    `# Tunnel benchmark, ${m.date.slice(0, 10)}`,
    '',
    `${m.cpus} × ${m.cores}, Node ${m.node}; ${m.width}×${m.height}; throughput on ${m.throughputServer} ` +
      `(relay capacity): ${m.rounds} rounds × ${f(m.slotSec)} s (${f(m.relaySlotSec)} s) per contender after ` +
      `${m.warmupSec} s warm-up, ` +
      `${m.clientProcesses} load-generator processes; latency and idle memory on ${m.staticServer}. ` +
      `Load average at start ${m.loadStart.join(' ')}, at end ${m.loadEnd.join(' ')}; run ${f(m.durationSec, 0)} s.`,
    '',
  ];
  if (r.throughput) {
    out.push(
      `## Throughput, live engine output (animation, ${m.throughputSessions} sessions)`,
      '',
      ...throughputTable(r.throughput.summary),
      '',
      perRound(r.throughput),
      '',
    );
  }
  if (r.relay) {
    out.push(
      `## Relay capacity (${r.relay.frames} recorded frames of ${f(r.relay.meanFrameBytes / 1000, 1)} kB ` +
        `replayed, ${m.relaySessions} sessions)`,
      '',
      ...throughputTable(r.relay.summary).map((l) => l.replace('engine process CPU', 'replaying guacd CPU')),
      '',
      perRound(r.relay),
      '',
    );
  }
  if (r.latency) {
    out.push(
      `## Key → sync latency (static screen, one probe at a time)`,
      '',
      ...latencyTable(r.latency, m.latencySessions),
      '',
    );
  }
  if (r.idle) out.push('## Idle memory (static screen)', '', ...idleTable(r.idle), '');
  const spreads = r.figures.spreads;
  if (spreads.length > 0) {
    out.push(
      `Sessions per manager (2 managers): ${spreads.map((s) => `${s.counts.join('/')} (${f(s.maxOverMean, 2)}× mean)`).join(', ')}.`,
      '',
    );
  }
  out.push(...goalsSection(r.verdicts));
  return out.join('\n');
}
