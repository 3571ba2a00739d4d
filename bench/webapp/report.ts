/**
 * The webapp benchmark's arithmetic and report (pure): API rows from autocannon runs, relay slots from
 * counter snapshots, medians over rounds with relayed/direct ratios, ping latency with what the relay adds,
 * the verdicts against issue 6's goals, and the markdown.
 */
import type { Verdict } from '../helpers/goals.js';
import { bootstrapQuantileDiff, type LatencyStats, latencyStats } from '../tunnel/metrics.js';
import { median } from '../vnc/proc-stats.js';
import { busiestThreadWaitPercent, type ThreadSched } from './sched.js';

export const GOALS = Object.freeze({
  /** connect requests/s on one core with SQLite. */
  connectRps: 2000,
  /** Relayed throughput at least this fraction of direct. */
  relayThroughputRatio: 0.9,
  /** p99 ping round trip added by the relay, ms. */
  relayAddedP99Ms: 1,
});

export type PathId = 'direct' | 'relay-http' | 'relay-tls';
export const PATH_LABELS: Readonly<Record<PathId, string>> = Object.freeze({
  direct: 'direct to the proxy',
  'relay-http': 'webapp relay, HTTP',
  'relay-tls': 'webapp relay, HTTPS',
});

// ---- API (autocannon) ----

export interface AutocannonFigures {
  durationSec: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** autocannon's own histogram (whole milliseconds). */
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  statusCodes: Record<string, number>;
}

/** One autocannon run and what the processes spent meanwhile. */
export interface LoadMeasure {
  autocannon: AutocannonFigures;
  /** Per 2xx response, ms (sub-millisecond). */
  latenciesMs: number[];
  wallSec: number;
  webappCpuSec: number;
  /** How long the webapp's busiest thread was ready to run but waited for its core, % of the wall time. */
  webappWaitPercent: number;
  /** The database server's CPU (PostgreSQL), NaN for SQLite (it runs inside the webapp). */
  dbCpuSec: number;
  machineBusySec: number;
  machineTotalSec: number;
}

export interface ApiRow {
  endpoint: 'connect' | 'callback';
  database: 'sqlite' | 'postgres';
  transport: 'https' | 'http';
  requests: number;
  /** 2xx answers per second. */
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  webappCpuPercent: number;
  /** The webapp's run-queue wait, % of the wall time (another process held its core). */
  webappWaitPercent: number;
  webappCpuMsPerRequest: number;
  /** What one core of the webapp would answer at that cost: 1000 / webappCpuMsPerRequest. */
  perCoreRps: number;
  dbCpuPercent: number;
  machineBusyPercent: number;
  durationSec: number;
  autocannonP50Ms: number;
  autocannonP99Ms: number;
}

export function apiRow(
  endpoint: ApiRow['endpoint'],
  database: ApiRow['database'],
  transport: ApiRow['transport'],
  m: LoadMeasure,
): ApiRow {
  const a = m.autocannon;
  const seconds = a.durationSec > 0 ? a.durationSec : m.wallSec;
  const lat = latencyStats(m.latenciesMs);
  const msPerRequest = a.ok2xx > 0 ? (1000 * m.webappCpuSec) / a.ok2xx : Number.NaN;
  return {
    endpoint,
    database,
    transport,
    requests: a.ok2xx,
    rps: seconds > 0 ? a.ok2xx / seconds : Number.NaN,
    p50Ms: lat.p50,
    p90Ms: lat.p90,
    p99Ms: lat.p99,
    maxMs: lat.max,
    non2xx: a.non2xx,
    errors: a.errors,
    timeouts: a.timeouts,
    statusCodes: { ...a.statusCodes },
    webappCpuPercent: m.wallSec > 0 ? (100 * m.webappCpuSec) / m.wallSec : Number.NaN,
    webappWaitPercent: m.webappWaitPercent,
    webappCpuMsPerRequest: msPerRequest,
    perCoreRps: msPerRequest > 0 ? 1000 / msPerRequest : Number.NaN,
    dbCpuPercent: m.wallSec > 0 ? (100 * m.dbCpuSec) / m.wallSec : Number.NaN,
    machineBusyPercent: m.machineTotalSec > 0 ? (100 * m.machineBusySec) / m.machineTotalSec : Number.NaN,
    durationSec: seconds,
    autocannonP50Ms: a.latencyP50Ms,
    autocannonP99Ms: a.latencyP99Ms,
  };
}

// ---- relay throughput ----

/** Counters at one instant of a relay slot. */
export interface RelaySnapshot {
  /** performance.now(), ms. */
  at: number;
  /** All load-generator processes, summed. */
  clients: { bytes: number; frames: number; cpuSec: number };
  /** CPU seconds of the webapp that relays (null on the direct path), the proxy and the byte source. */
  webappCpuSec: number | null;
  proxyCpuSec: number;
  /** Scheduler statistics per thread of the relaying webapp (null on the direct path) and of the proxy. */
  webappSched: ThreadSched | null;
  proxySched: ThreadSched;
  sourceCpuSec: number;
  machine: { busySec: number; totalSec: number };
}

export interface RelaySlot {
  path: PathId;
  sessions: number;
  round: number;
  wallSec: number;
  /** Payload MB/s received by all clients, and per tunnel. */
  mbps: number;
  mbpsPerTunnel: number;
  framesPerSec: number;
  webappCpuPercent: number;
  /** How long the webapp's / the proxy's busiest thread waited for a core while ready to run, % of wall time. */
  webappWaitPercent: number;
  proxyWaitPercent: number;
  /** Webapp CPU ms per MB relayed; and what one core of it would carry at that cost (MB/s). */
  webappMsPerMB: number;
  webappMBPerCpuSec: number;
  proxyCpuPercent: number;
  sourceCpuPercent: number;
  clientCpuPercent: number;
  machineBusyPercent: number;
  /** Tunnel pings sent every few ms on one loaded session per client process, round trip ms. */
  loadedRttMs: number[];
  loadedLost: number;
}

const MB = 1e6;

export function relaySlot(
  path: PathId,
  sessions: number,
  round: number,
  a: RelaySnapshot,
  b: RelaySnapshot,
  loadedRttMs: number[],
  loadedLost: number,
): RelaySlot {
  const wallSec = (b.at - a.at) / 1000;
  const mb = (b.clients.bytes - a.clients.bytes) / MB;
  const pct = (cpu: number): number => (wallSec > 0 ? (100 * cpu) / wallSec : Number.NaN);
  const webappCpu =
    a.webappCpuSec !== null && b.webappCpuSec !== null ? b.webappCpuSec - a.webappCpuSec : Number.NaN;
  const machineTotal = b.machine.totalSec - a.machine.totalSec;
  return {
    path,
    sessions,
    round,
    wallSec,
    mbps: wallSec > 0 ? mb / wallSec : Number.NaN,
    mbpsPerTunnel: wallSec > 0 && sessions > 0 ? mb / wallSec / sessions : Number.NaN,
    framesPerSec: wallSec > 0 ? (b.clients.frames - a.clients.frames) / wallSec : Number.NaN,
    webappCpuPercent: pct(webappCpu),
    webappWaitPercent:
      a.webappSched && b.webappSched
        ? busiestThreadWaitPercent(a.webappSched, b.webappSched, wallSec)
        : Number.NaN,
    proxyWaitPercent: busiestThreadWaitPercent(a.proxySched, b.proxySched, wallSec),
    webappMsPerMB: mb > 0 ? (1000 * webappCpu) / mb : Number.NaN,
    webappMBPerCpuSec: webappCpu > 0 ? mb / webappCpu : Number.NaN,
    proxyCpuPercent: pct(b.proxyCpuSec - a.proxyCpuSec),
    sourceCpuPercent: pct(b.sourceCpuSec - a.sourceCpuSec),
    clientCpuPercent: pct(b.clients.cpuSec - a.clients.cpuSec),
    machineBusyPercent:
      machineTotal > 0 ? (100 * (b.machine.busySec - a.machine.busySec)) / machineTotal : Number.NaN,
    loadedRttMs,
    loadedLost,
  };
}

const SLOT_KEYS = [
  'wallSec',
  'mbps',
  'mbpsPerTunnel',
  'framesPerSec',
  'webappCpuPercent',
  'webappWaitPercent',
  'proxyWaitPercent',
  'webappMsPerMB',
  'webappMBPerCpuSec',
  'proxyCpuPercent',
  'sourceCpuPercent',
  'clientCpuPercent',
  'machineBusyPercent',
] as const;

export type RelayCell = Pick<RelaySlot, 'path' | 'sessions' | (typeof SLOT_KEYS)[number]> & {
  rounds: number;
  /** MB/s over the direct path's at the same session count (1 for direct). */
  ratioToDirect: number;
  /** Loaded ping round trips pooled over the rounds. */
  loadedRtt: LatencyStats;
};

const medianOf = (xs: number[]): number => {
  const ok = xs.filter((x) => !Number.isNaN(x));
  return ok.length > 0 ? median(ok) : Number.NaN;
};

/** Per session count (ascending) and path (first-seen order): medians over rounds, ratios to direct. */
export function summarizeRelay(slots: readonly RelaySlot[]): RelayCell[] {
  const counts = [...new Set(slots.map((s) => s.sessions))].sort((a, b) => a - b);
  const paths = [...new Set(slots.map((s) => s.path))];
  const out: RelayCell[] = [];
  for (const sessions of counts) {
    const cells: RelayCell[] = [];
    for (const path of paths) {
      const mine = slots.filter((s) => s.sessions === sessions && s.path === path);
      if (mine.length === 0) continue;
      const cell = {
        path,
        sessions,
        rounds: mine.length,
        ratioToDirect: Number.NaN,
        loadedRtt: latencyStats(
          mine.flatMap((s) => s.loadedRttMs),
          mine.reduce((n, s) => n + s.loadedLost, 0),
        ),
      } as RelayCell;
      for (const k of SLOT_KEYS) cell[k] = medianOf(mine.map((s) => s[k]));
      cells.push(cell);
    }
    const direct = cells.find((c) => c.path === 'direct');
    for (const c of cells) c.ratioToDirect = direct && direct.mbps > 0 ? c.mbps / direct.mbps : Number.NaN;
    out.push(...cells);
  }
  return out;
}

// ---- ping latency on an idle tunnel ----

export interface PingEntry {
  path: PathId;
  stats: LatencyStats;
  /** Relay minus direct (NaN for direct), and 95 % bootstrap intervals. */
  addedP50Ms: number;
  addedP99Ms: number;
  addedP50Interval: [number, number] | null;
  addedP99Interval: [number, number] | null;
}

export function pingEntries(
  samples: Partial<Record<PathId, { samplesMs: number[]; lost: number }>>,
): PingEntry[] {
  const direct = samples.direct;
  const directStats = direct ? latencyStats(direct.samplesMs, direct.lost) : null;
  const out: PingEntry[] = [];
  for (const [path, s] of Object.entries(samples) as Array<[PathId, { samplesMs: number[]; lost: number }]>) {
    const stats = latencyStats(s.samplesMs, s.lost);
    const against = path !== 'direct' && direct && directStats && direct.samplesMs.length > 0;
    out.push({
      path,
      stats,
      addedP50Ms: against ? stats.p50 - directStats.p50 : Number.NaN,
      addedP99Ms: against ? stats.p99 - directStats.p99 : Number.NaN,
      addedP50Interval: against ? bootstrapQuantileDiff(direct.samplesMs, s.samplesMs, 0.5) : null,
      addedP99Interval: against ? bootstrapQuantileDiff(direct.samplesMs, s.samplesMs, 0.99) : null,
    });
  }
  return out;
}

// ---- goals ----

const fmt = (x: number | undefined, d = 1): string =>
  x !== undefined && Number.isFinite(x) ? x.toFixed(d) : '–';

export type Placement = 'pinned' | 'shared';
export const PLACEMENT_LABELS: Readonly<Record<Placement, string>> = Object.freeze({
  pinned: 'webapp alone on one core, everything else on the other',
  shared: 'nothing pinned: the scheduler places every process',
});

/** The relay phases' results with one placement of the processes on the cores. */
export interface PlacementResult {
  placement: Placement;
  relay: { slots: RelaySlot[]; summary: RelayCell[] } | null;
  ping: PingEntry[] | null;
}

export function verdicts(api: readonly ApiRow[], placements: readonly PlacementResult[]): Verdict[] {
  const judge = (x: number, ok: (x: number) => boolean): boolean | null =>
    Number.isFinite(x) ? ok(x) : null;
  const connect = api.find(
    (r) => r.endpoint === 'connect' && r.database === 'sqlite' && r.transport === 'https',
  );
  const out: Verdict[] = [
    {
      goal: `≥ ${GOALS.connectRps} connect requests/s on one core with SQLite (HTTPS)`,
      measured: connect
        ? `${fmt(connect.rps, 0)} req/s at ${fmt(connect.webappCpuPercent, 0)} % of the webapp's core ` +
          `(${fmt(connect.perCoreRps, 0)} req/s per core by its CPU cost)`
        : '–',
      met: judge(connect?.rps ?? Number.NaN, (x) => x >= GOALS.connectRps),
    },
  ];
  for (const { placement, relay, ping } of placements) {
    const where = placements.length > 1 ? ` [${placement}]` : '';
    for (const path of ['relay-tls', 'relay-http'] as const) {
      const cells = (relay?.summary ?? []).filter((c) => c.path === path && Number.isFinite(c.ratioToDirect));
      const worst = cells.reduce<RelayCell | undefined>(
        (w, c) => (!w || c.ratioToDirect < w.ratioToDirect ? c : w),
        undefined,
      );
      out.push({
        goal: `${PATH_LABELS[path]} keeps ≥ ${GOALS.relayThroughputRatio * 100} % of the direct throughput${where}`,
        measured: cells.length
          ? `${cells.map((c) => `${fmt(c.ratioToDirect * 100, 0)} %`).join(' / ')} at ${cells.map((c) => c.sessions).join(' / ')} tunnels`
          : '–',
        met: judge(worst?.ratioToDirect ?? Number.NaN, (x) => x >= GOALS.relayThroughputRatio),
      });
      const p = ping?.find((e) => e.path === path);
      out.push({
        goal: `${PATH_LABELS[path]} adds ≤ ${GOALS.relayAddedP99Ms} ms p99 (ping round trip, idle tunnel)${where}`,
        measured: p
          ? `+${fmt(p.addedP99Ms, 3)} ms (95 % interval ${fmt(p.addedP99Interval?.[0], 3)} … ${fmt(p.addedP99Interval?.[1], 3)})`
          : '–',
        met: judge(p?.addedP99Ms ?? Number.NaN, (x) => x <= GOALS.relayAddedP99Ms),
      });
    }
  }
  return out;
}
