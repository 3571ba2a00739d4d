/**
 * The VNC benchmark's arithmetic and report: per-round metrics of the engine (with its Guacamole client)
 * and of the raw RFB consumer from counter snapshots, the ratios engine / raw, the idle per-session
 * memory, and the markdown table.
 */
import type { MachineMeta } from '../helpers/bench-run.js';
import type { ConsumerStats } from './consumer-protocol.js';
import { median, type ProcDelta, type ProcSample, procDelta } from './proc-stats.js';

export const GOAL_CPU_RATIO = 3;
export const GOAL_IDLE_MB = 5;
const MB = 1e6;

export interface Snapshot {
  engine: ProcSample;
  raw: ProcSample;
  /** The VNC server (x11vnc or Xvnc) and the X server (Xvfb; Xvnc is both), when found. */
  server: ProcSample | null;
  xserver: ProcSample | null;
  machine: { busySec: number; totalSec: number };
  guac: ConsumerStats;
  rawStats: ConsumerStats;
}

export interface SideMetrics {
  /** Frames delivered: `sync`s to the Guacamole client (engine), FramebufferUpdates decoded (raw). */
  fps: number;
  /** VNC FramebufferUpdates consumed per second. */
  updatesPerSec: number;
  /** Bytes the consumer received per second (engine: Guacamole bytes; raw: RFB bytes), MB/s. */
  outMBps: number;
  /** RFB bytes from the VNC server per second, MB/s (engine: /proc rchar, so ≈; -1 if unknown). */
  rfbMBps: number;
  /** CPU time per second of wall time, % of one core. */
  cpuPercent: number;
  cpuMsPerFrame: number;
  cpuMsPerUpdate: number;
  cpuMsPerRfbMB: number;
}

export interface RoundMetrics {
  wallSec: number;
  engine: SideMetrics;
  raw: SideMetrics;
  ratios: { cpuPerFrame: number; cpuPerUpdate: number; cpuPerRfbMB: number; cpuPercent: number };
  serverCpuPercent: number;
  xserverCpuPercent: number;
  machineBusyPercent: number;
  /** The engine's CPU seconds by thread group (main = the event loop). */
  engineThreads: Record<string, number>;
  guacInstructions: Record<string, number>;
  guacImages: Record<string, number>;
}

function side(
  d: ProcDelta,
  frames: number,
  updates: number,
  outBytes: number,
  rfbBytes: number,
): SideMetrics {
  const w = d.wallSec;
  const ms = d.cpuSec * 1000;
  return {
    fps: frames / w,
    updatesPerSec: updates / w,
    outMBps: outBytes / MB / w,
    rfbMBps: rfbBytes < 0 ? -1 : rfbBytes / MB / w,
    cpuPercent: (100 * d.cpuSec) / w,
    cpuMsPerFrame: ms / Math.max(1, frames),
    cpuMsPerUpdate: ms / Math.max(1, updates),
    cpuMsPerRfbMB: rfbBytes > 0 ? ms / (rfbBytes / MB) : Number.NaN,
  };
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

export function roundMetrics(a: Snapshot, b: Snapshot): RoundMetrics {
  const e = procDelta(a.engine, b.engine);
  const r = procDelta(a.raw, b.raw);
  const g0 = a.guac;
  const g1 = b.guac;
  const engine = side(
    e,
    g1.frames - g0.frames,
    g1.serverFrames - g0.serverFrames,
    g1.bytesIn - g0.bytesIn,
    e.rchar,
  );
  const rawBytes = b.rawStats.bytesIn - a.rawStats.bytesIn;
  const rawFrames = b.rawStats.frames - a.rawStats.frames;
  const raw = side(r, rawFrames, rawFrames, rawBytes, rawBytes);
  const m = { busy: b.machine.busySec - a.machine.busySec, total: b.machine.totalSec - a.machine.totalSec };
  return {
    wallSec: e.wallSec,
    engine,
    raw,
    ratios: {
      cpuPerFrame: engine.cpuMsPerFrame / raw.cpuMsPerFrame,
      cpuPerUpdate: engine.cpuMsPerUpdate / raw.cpuMsPerUpdate,
      cpuPerRfbMB: engine.cpuMsPerRfbMB / raw.cpuMsPerRfbMB,
      cpuPercent: engine.cpuPercent / raw.cpuPercent,
    },
    serverCpuPercent: pct(a.server, b.server),
    xserverCpuPercent: pct(a.xserver, b.xserver),
    machineBusyPercent: m.total > 0 ? (100 * m.busy) / m.total : Number.NaN,
    engineThreads: e.threads,
    guacInstructions: countDelta(g0.instructions, g1.instructions),
    guacImages: countDelta(g0.images, g1.images),
  };
}

/** Median of each numeric field over the rounds (nested one level). */
export function medianMetrics(rounds: readonly RoundMetrics[]): RoundMetrics {
  const med = <T extends object>(pick: (r: RoundMetrics) => T): T => {
    const first = pick(rounds[0] as RoundMetrics) as Record<string, number>;
    const out: Record<string, number> = {};
    for (const k of Object.keys(first))
      out[k] = median(rounds.map((r) => (pick(r) as Record<string, number>)[k] ?? 0));
    return out as T;
  };
  const all = (pick: (r: RoundMetrics) => Record<string, number>): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const r of rounds) for (const [k, v] of Object.entries(pick(r))) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  return {
    wallSec: rounds.reduce((n, r) => n + r.wallSec, 0),
    engine: med((r) => r.engine),
    raw: med((r) => r.raw),
    ratios: med((r) => r.ratios),
    serverCpuPercent: median(rounds.map((r) => r.serverCpuPercent)),
    xserverCpuPercent: median(rounds.map((r) => r.xserverCpuPercent)),
    machineBusyPercent: median(rounds.map((r) => r.machineBusyPercent)),
    // Totals over all rounds for the counts.
    engineThreads: all((r) => r.engineThreads),
    guacInstructions: all((r) => r.guacInstructions),
    guacImages: all((r) => r.guacImages),
  };
}

export interface IdlePoint {
  sessions: number;
  engineRssBytes: number;
  rawRssBytes: number;
  rawHeapBytes: number;
  /** Engine CPU while the sessions sat idle, % of one core. */
  engineCpuPercent: number;
}

export interface IdleResult {
  points: IdlePoint[];
  /** (RSS(N) − RSS(0)) / N at the largest N, bytes. */
  enginePerSession: number;
  rawPerSession: number;
  /** Least-squares slope of RSS over the session count, bytes per session. */
  engineSlope: number;
  rawSlope: number;
  /** The RGBA framebuffer every session (either kind) must hold: width × height × 4. */
  framebufferBytes: number;
}

function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    den += ((xs[i] as number) - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}

export function idleResult(points: IdlePoint[], width: number, height: number): IdleResult {
  const base = points[0] as IdlePoint;
  const last = points[points.length - 1] as IdlePoint;
  const n = Math.max(1, last.sessions);
  const xs = points.map((p) => p.sessions);
  return {
    points,
    enginePerSession: (last.engineRssBytes - base.engineRssBytes) / n,
    rawPerSession: (last.rawRssBytes - base.rawRssBytes) / n,
    engineSlope: slope(
      xs,
      points.map((p) => p.engineRssBytes),
    ),
    rawSlope: slope(
      xs,
      points.map((p) => p.rawRssBytes),
    ),
    framebufferBytes: width * height * 4,
  };
}

const f = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : '–');
const mb = (bytes: number): string => f(bytes / MB, 1);

export interface ReportMeta extends MachineMeta {
  server: string;
  width: number;
  height: number;
  seconds: number;
  rounds: number;
  warmupSec: number;
  encodings: string;
}

export function formatMarkdown(
  meta: ReportMeta,
  m: RoundMetrics,
  rounds: readonly RoundMetrics[],
  activeRss: { engine: number; raw: number },
  idle: IdleResult | null,
): string {
  const e = m.engine;
  const r = m.raw;
  const ratioRange = rounds.map((x) => x.ratios.cpuPerFrame);
  const lines: string[] = [];
  lines.push(
    `### VNC engine vs raw RFB consumer — ${meta.date.slice(0, 10)}, ${meta.server}, ${meta.width}×${meta.height}, ` +
      `${meta.cores} cores (${meta.cpus}), Node ${meta.node}`,
    '',
    `Animation for ${f(meta.seconds, 0)} s (${meta.rounds} rounds, medians; ${meta.warmupSec} s warm-up), both ` +
      `consumers watching the same server at the same time; encodings \`${meta.encodings}\`.`,
    '',
    '| metric | engine (+ Guacamole client) | raw RFB consumer | engine / raw |',
    '| --- | ---: | ---: | ---: |',
    `| frames/s delivered | ${f(e.fps)} | ${f(r.fps)} | ${f(e.fps / r.fps, 2)} |`,
    `| VNC updates/s consumed | ${f(e.updatesPerSec)} | ${f(r.updatesPerSec)} | ${f(e.updatesPerSec / r.updatesPerSec, 2)} |`,
    `| MB/s to the client (engine: Guacamole; raw: RFB) | ${f(e.outMBps, 2)} | ${f(r.outMBps, 2)} | ${f(e.outMBps / r.outMBps, 2)} |`,
    `| MB/s RFB from the VNC server | ≈ ${f(e.rfbMBps, 2)} | ${f(r.rfbMBps, 2)} | ${f(e.rfbMBps / r.rfbMBps, 2)} |`,
    `| CPU, % of one core | ${f(e.cpuPercent)} | ${f(r.cpuPercent)} | ${f(m.ratios.cpuPercent, 2)} |`,
    `| **CPU ms per frame** | ${f(e.cpuMsPerFrame, 2)} | ${f(r.cpuMsPerFrame, 2)} | **${f(m.ratios.cpuPerFrame, 2)}** |`,
    `| CPU ms per VNC update | ${f(e.cpuMsPerUpdate, 2)} | ${f(r.cpuMsPerUpdate, 2)} | ${f(m.ratios.cpuPerUpdate, 2)} |`,
    `| CPU ms per MB of RFB | ${f(e.cpuMsPerRfbMB)} | ${f(r.cpuMsPerRfbMB)} | ${f(m.ratios.cpuPerRfbMB, 2)} |`,
    `| RSS with 1 active session, MB | ${mb(activeRss.engine)} | ${mb(activeRss.raw)} | ${f(activeRss.engine / activeRss.raw, 2)} |`,
    '',
  );
  const threads = Object.entries(m.engineThreads).sort((a, b) => b[1] - a[1]);
  const tTotal = threads.reduce((n, [, v]) => n + v, 0);
  const images = Object.entries(m.guacImages).map(([k, v]) => `${k} ${v}`);
  const instr = m.guacInstructions;
  lines.push(
    `CPU per frame, engine / raw, by round: ${ratioRange.map((x) => f(x, 2)).join(', ')}. ` +
      `Engine CPU by thread: ${threads.map(([k, v]) => `${k} ${f((100 * v) / Math.max(tTotal, 1e-9), 0)} %`).join(', ')}. ` +
      `Sent to the client: ${images.join(', ') || 'no images'}; copy ${instr.copy ?? 0}, rect ${instr.rect ?? 0}, ` +
      `sync ${instr.sync ?? 0}. Alongside: VNC server ${f(m.serverCpuPercent)} %, X server ${f(m.xserverCpuPercent)} % ` +
      `of a core; machine ${f(m.machineBusyPercent)} % busy.`,
    '',
  );
  if (idle) {
    lines.push(
      '| idle sessions | engine RSS, MB | raw consumer RSS, MB | engine CPU while idle, % |',
      '| ---: | ---: | ---: | ---: |',
      ...idle.points.map(
        (p) =>
          `| ${p.sessions} | ${mb(p.engineRssBytes)} | ${mb(p.rawRssBytes)} | ${f(p.engineCpuPercent, 2)} |`,
      ),
      '',
      `Per idle session: engine ${mb(idle.enginePerSession)} MB (slope ${mb(idle.engineSlope)} MB), raw consumer ` +
        `${mb(idle.rawPerSession)} MB (slope ${mb(idle.rawSlope)} MB); the RGBA framebuffer alone is ` +
        `${mb(idle.framebufferBytes)} MB.`,
      '',
    );
  }
  const cpuOk = m.ratios.cpuPerFrame <= GOAL_CPU_RATIO;
  lines.push(
    `Goals: CPU per frame ≤ ${GOAL_CPU_RATIO}× the raw floor: ${f(m.ratios.cpuPerFrame, 2)}× → ${cpuOk ? 'met' : 'MISSED'}` +
      (idle
        ? `; idle session ≤ ${GOAL_IDLE_MB} MB: ${mb(idle.enginePerSession)} MB → ${idle.enginePerSession <= GOAL_IDLE_MB * MB ? 'met' : 'MISSED'}.`
        : '.'),
  );
  return lines.join('\n');
}
