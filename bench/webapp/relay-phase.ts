/**
 * The relay phases: the same `gatehouse proxy` and the same byte source, reached directly (ws:// to the
 * proxy's /tunnel) or through a webapp's relay (ws:// or wss:// to /api/tunnel with the sign-in cookie).
 * Every session's token comes from that webapp's connect API and is redeemed by the proxy through the
 * redeem shim, which points the session at the byte source (redeem-shim.ts). Paths run one at a time, in
 * rounds whose order alternates.
 *
 * - throughput: N tunnels of the replaying guacd (frames looped, 3 in flight per tunnel, every `sync`
 *   answered at once by the clients): MB/s received, CPU of the webapp, the proxy, the source and the
 *   clients; a tunnel ping every few ms on one session per client process (loaded round trip);
 * - ping: one tunnel to an idle guacd; pings one at a time (the proxy echoes them), round trip per ping.
 */
import { sleep } from '../../test/e2e/helpers/processes.js';
import { roundOrder } from '../tunnel/phases.js';
import { machineCpu, sampleProcess } from '../vnc/proc-stats.js';
import type { BenchWebapp, RedeemingProxy, RelayClientProcess } from './processes.js';
import type { RedeemShim } from './redeem-shim.js';
import type { RelaySessionSpec, RelayStats } from './relay-protocol.js';
import { type PathId, type RelaySlot, type RelaySnapshot, relaySlot } from './report.js';
import { threadSched } from './sched.js';

export type Log = (message: string) => void;

export interface RelayPath {
  id: PathId;
  /** The webapp whose connect API issues the tokens (and, unless direct, relays the tunnel). */
  webapp: BenchWebapp;
}

export interface RelayWorld {
  proxy: RedeemingProxy;
  shim: RedeemShim;
  clients: RelayClientProcess[];
  /** The replaying guacd (pid for its CPU) and the idle guacd, as guacd://host:port. */
  replay: { guacd: string; pid: number };
  idleGuacd: string;
  paths: RelayPath[];
  width: number;
  height: number;
}

const OPEN_BATCH = 10;
const OPEN_TIMEOUT_MS = 60_000;
const CLOSE_PAUSE_MS = 300;

/** The session spec of one tunnel on `path` with `token`. */
export function sessionSpec(w: RelayWorld, path: RelayPath, token: string): RelaySessionSpec {
  const query = new URLSearchParams({ token, width: String(w.width), height: String(w.height) }).toString();
  if (path.id === 'direct')
    return { url: `ws://127.0.0.1:${w.proxy.port}/tunnel?${query}`, headers: {}, ca: null };
  const app = path.webapp;
  return {
    url: `${app.secure ? 'wss' : 'ws'}://127.0.0.1:${app.port}/api/tunnel?${query}`,
    headers: { cookie: app.user.cookie },
    ca: app.ca,
  };
}

/** n fresh tokens from the path's webapp, routed by the shim to `guacd`; their session specs. */
async function mint(w: RelayWorld, path: RelayPath, n: number, guacd: string): Promise<RelaySessionSpec[]> {
  const app = path.webapp;
  const tokens = await Promise.all(Array.from({ length: n }, () => app.connect()));
  for (const token of tokens) {
    w.shim.route(token, { base: app.url, secret: app.proxySecret, ca: app.ca, guacd });
  }
  return tokens.map((t) => sessionSpec(w, path, t));
}

function cpuOf(pid: number): number {
  try {
    return sampleProcess(pid).cpuSec;
  } catch {
    return Number.NaN;
  }
}

async function snapshot(
  w: RelayWorld,
  path: RelayPath,
): Promise<{ snap: RelaySnapshot; stats: RelayStats[] }> {
  const stats = await Promise.all(w.clients.map((c) => c.stats()));
  const snap: RelaySnapshot = {
    at: performance.now(),
    clients: {
      bytes: stats.reduce((n, s) => n + s.bytes, 0),
      frames: stats.reduce((n, s) => n + s.frames, 0),
      cpuSec: stats.reduce((n, s) => n + s.cpuSec, 0),
    },
    webappCpuSec: path.id === 'direct' ? null : cpuOf(path.webapp.pid),
    proxyCpuSec: cpuOf(w.proxy.pid),
    webappSched: path.id === 'direct' ? null : threadSched(path.webapp.pid),
    proxySched: threadSched(w.proxy.pid),
    sourceCpuSec: cpuOf(w.replay.pid),
    machine: machineCpu(),
  };
  return { snap, stats };
}

const errorCount = (stats: readonly RelayStats[]): number => stats.reduce((n, s) => n + s.errors.length, 0);

export interface ThroughputOptions {
  sessions: readonly number[];
  rounds: number;
  slotSec: number;
  warmupSec: number;
  samplerEveryMs: number;
  log: Log;
}

export async function throughputPhase(w: RelayWorld, o: ThroughputOptions): Promise<RelaySlot[]> {
  const slots: RelaySlot[] = [];
  for (const n of o.sessions) {
    for (let round = 0; round < o.rounds; round++) {
      for (const path of roundOrder(w.paths, round)) {
        const specs = await mint(w, path, n, w.replay.guacd);
        const before = errorCount(await Promise.all(w.clients.map((c) => c.stats())));
        await Promise.all(
          w.clients.map((c, i) =>
            c.open(
              specs.filter((_, k) => k % w.clients.length === i),
              OPEN_BATCH,
              OPEN_TIMEOUT_MS,
            ),
          ),
        );
        await Promise.all(w.clients.map((c) => c.sampler(o.samplerEveryMs)));
        await sleep(o.warmupSec * 1000);
        const a = await snapshot(w, path);
        await sleep(o.slotSec * 1000);
        const b = await snapshot(w, path);
        await Promise.all(w.clients.map((c) => c.sampler(0)));
        await Promise.all(w.clients.map((c) => c.closeAll()));
        w.shim.forgetAll();
        const errors = b.stats.flatMap((s) => s.errors);
        if (errorCount(b.stats) > before) {
          throw new Error(
            `${path.id}, ${n} tunnels: sessions failed: ${errors.slice(before).slice(0, 3).join('; ')}`,
          );
        }
        const slot = relaySlot(
          path.id,
          n,
          round,
          a.snap,
          b.snap,
          b.stats.flatMap((s) => s.loadedRttMs),
          b.stats.reduce((k, s) => k + s.loadedLost, 0),
        );
        slots.push(slot);
        o.log(
          `relay ${n} tunnels, round ${round + 1}, ${path.id}: ${slot.mbps.toFixed(1)} MB/s, ` +
            `webapp ${Number.isFinite(slot.webappCpuPercent) ? slot.webappCpuPercent.toFixed(0) : '–'} %, ` +
            `proxy ${slot.proxyCpuPercent.toFixed(0)} %`,
        );
        await sleep(CLOSE_PAUSE_MS);
      }
    }
  }
  return slots;
}

export interface PingOptions {
  probes: number;
  rounds: number;
  gapMs: number;
  log: Log;
}

const WARMUP_PINGS = 50;

/** Per path: pings on one idle tunnel, one at a time, pooled over the rounds. */
export async function pingPhase(
  w: RelayWorld,
  o: PingOptions,
): Promise<Partial<Record<PathId, { samplesMs: number[]; lost: number }>>> {
  const out: Partial<Record<PathId, { samplesMs: number[]; lost: number }>> = {};
  const client = w.clients[0];
  if (!client) throw new Error('no load-generator process');
  const perRound = Math.max(1, Math.round(o.probes / o.rounds));
  for (let round = 0; round < o.rounds; round++) {
    for (const path of roundOrder(w.paths, round)) {
      const [spec] = await mint(w, path, 1, w.idleGuacd);
      await client.open([spec as RelaySessionSpec], 1, OPEN_TIMEOUT_MS);
      await client.probe({ count: WARMUP_PINGS, gapMs: o.gapMs, timeoutMs: 2000 });
      const r = await client.probe({ count: perRound, gapMs: o.gapMs, timeoutMs: 2000 });
      await client.closeAll();
      w.shim.forgetAll();
      const acc = out[path.id] ?? { samplesMs: [], lost: 0 };
      acc.samplesMs.push(...r.samplesMs);
      acc.lost += r.lost;
      out[path.id] = acc;
      const sorted = [...r.samplesMs].sort((x, y) => x - y);
      o.log(
        `ping round ${round + 1}, ${path.id}: p50 ${(sorted[Math.floor(sorted.length / 2)] ?? Number.NaN).toFixed(3)} ms, ` +
          `${r.samplesMs.length} pings, ${r.lost} lost`,
      );
      await sleep(CLOSE_PAUSE_MS);
    }
  }
  return out;
}
