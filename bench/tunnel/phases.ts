/**
 * The tunnel benchmark's phases. Contenders run one at a time, in rounds whose order alternates, against
 * the same VNC server with the same load generator:
 *
 * - throughput: with the scripted animation running, S sessions of the contender for a slot; CPU of the
 *   tunnel process (and of the separate engine) against what the clients received;
 * - latency: on a static screen, key → first `sync` on the same session, one probe at a time, the sessions
 *   in turn, at 1 session and then at L sessions;
 * - idle: on a static screen, RSS of the tunnel process at 0 (after a warm-up session), then 1, L, ... sessions.
 */
import { pollUntil, sleep } from '../../test/e2e/helpers/processes.js';
import type { VncServer } from '../../test/e2e/helpers/vnc-servers.js';
import { machineCpu, median, type ProcSample, sampleProcess } from '../vnc/proc-stats.js';
import { type ClientStats, PROBE_KEYSYMS, type SessionSpec, sumClientStats } from './client-protocol.js';
import type { Contender, ContenderId } from './contenders.js';
import { type IdlePoint, type SlotResult, type SlotSnapshot, slotResult } from './metrics.js';
import type { ClientProcess } from './processes.js';
import { threadTimes } from './threads.js';

export type Log = (message: string) => void;

/**
 * Sessions opened at once. Each new session makes the tunnel or engine open a VNC connection at once, and
 * TigerVNC listens with a backlog of 5: bursts beyond it lose handshakes to SYN/ACK retransmission back-off
 * (seen as "did not complete the handshake within 15000 ms").
 */
const OPEN_BATCH = 5;
const OPEN_TIMEOUT_MS = 60_000;

/** The contenders in round `round`'s order: as given, reversed every other round. */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  return round % 2 === 0 ? [...items] : [...items].reverse();
}

function sampleOrNull(pid: number | null): ProcSample | null {
  if (pid === null || pid <= 0) return null;
  try {
    return sampleProcess(pid);
  } catch {
    return null;
  }
}

async function specsFor(c: Contender, vnc: VncServer, n: number): Promise<SessionSpec[]> {
  const out: SessionSpec[] = [];
  for (let i = 0; i < n; i++) out.push(await c.spec(vnc));
  return out;
}

/** Opens the specs spread round-robin over the client processes. */
async function openOn(clients: readonly ClientProcess[], specs: readonly SessionSpec[]): Promise<void> {
  await Promise.all(
    clients.map((cl, i) =>
      cl.open(
        specs.filter((_, k) => k % clients.length === i),
        OPEN_BATCH,
        OPEN_TIMEOUT_MS,
      ),
    ),
  );
}

async function clientStats(clients: readonly ClientProcess[]): Promise<ClientStats> {
  return sumClientStats(await Promise.all(clients.map((c) => c.stats())));
}

/** Fails with the clients' new error messages, if any appeared since `before`. */
function checkErrors(before: ClientStats, after: ClientStats, what: string): void {
  const fresh = after.errors.slice(before.errors.length);
  if (fresh.length > 0) throw new Error(`${what}: sessions failed:\n${fresh.slice(0, 5).join('\n')}`);
}

/** Closes every session and waits until the proxy (if any) reports none left. */
async function closeAll(c: Contender, clients: readonly ClientProcess[]): Promise<void> {
  await Promise.all(clients.map((cl) => cl.closeAll()));
  const proxy = c.proxy;
  if (proxy) {
    await pollUntil(
      `${c.id}: no sessions left`,
      async () => ((await proxy.health()).sessions === 0 ? true : undefined),
      15_000,
      100,
    );
  }
  await sleep(300);
}

async function managerSessions(c: Contender): Promise<number[] | undefined> {
  return c.proxy ? (await c.proxy.health()).managers.map((m) => m.sessions) : undefined;
}

export interface ThroughputOptions {
  contenders: readonly Contender[];
  vnc: VncServer;
  clients: readonly ClientProcess[];
  sessions: number;
  rounds: number;
  slotSec: number;
  warmupSec: number;
  serverPid: number;
  log: Log;
}

export async function throughputPhase(o: ThroughputOptions): Promise<SlotResult[]> {
  const slots: SlotResult[] = [];
  const snapshot = async (c: Contender): Promise<SlotSnapshot> => {
    const clients = await clientStats(o.clients);
    return {
      tunnel: sampleProcess(c.tunnelPid ?? -1),
      tunnelThreads: threadTimes(c.tunnelPid ?? -1),
      engine: sampleOrNull(c.enginePid),
      server: sampleOrNull(o.serverPid),
      clients,
      machine: machineCpu(),
    };
  };
  for (let round = 0; round < o.rounds; round++) {
    for (const c of roundOrder(o.contenders, round)) {
      await openOn(o.clients, await specsFor(c, o.vnc, o.sessions));
      await sleep(o.warmupSec * 1000);
      const a = await snapshot(c);
      await sleep(o.slotSec * 1000);
      const b = await snapshot(c);
      checkErrors(a.clients, b.clients, `throughput ${c.id}`);
      const r = slotResult(c.id, round, a, b);
      const counts = await managerSessions(c);
      if (counts) r.managerSessions = counts;
      slots.push(r);
      o.log(
        `throughput round ${round + 1}/${o.rounds} ${c.id}: ${r.mbps.toFixed(2)} MB/s, ` +
          `${r.framesPerSec.toFixed(0)} frames/s, tunnel CPU ${r.tunnelCpuPercent.toFixed(0)} %, ` +
          `${r.tunnelMsPerMB.toFixed(0)} ms/MB` +
          (counts ? `, managers ${counts.join('/')}` : ''),
      );
      await closeAll(c, o.clients);
    }
  }
  return slots;
}

export interface LatencyOptions {
  contenders: readonly Contender[];
  vnc: VncServer;
  client: ClientProcess;
  /** Sessions for the loaded measurement (the first probes run with 1 session). */
  sessions: number;
  rounds: number;
  /** Probes per contender and round, with 1 session and with `sessions` sessions. */
  probesSingle: number;
  probesLoaded: number;
  log: Log;
}

export interface LatencySamples {
  single: number[];
  singleLost: number;
  loaded: number[];
  loadedLost: number;
}

const PROBE = { keysyms: [...PROBE_KEYSYMS], quietMs: 25, jitterMs: 10, timeoutMs: 2000 };

export async function latencyPhase(o: LatencyOptions): Promise<Partial<Record<ContenderId, LatencySamples>>> {
  const out: Partial<Record<ContenderId, LatencySamples>> = {};
  for (let round = 0; round < o.rounds; round++) {
    for (const c of roundOrder(o.contenders, round)) {
      const acc = out[c.id] ?? { single: [], singleLost: 0, loaded: [], loadedLost: 0 };
      out[c.id] = acc;
      const before = await o.client.stats();
      await o.client.open(await specsFor(c, o.vnc, 1), 1, OPEN_TIMEOUT_MS);
      await sleep(500);
      const one = await o.client.probe({ ...PROBE, count: o.probesSingle });
      await o.client.open(await specsFor(c, o.vnc, o.sessions - 1), OPEN_BATCH, OPEN_TIMEOUT_MS);
      await sleep(1000);
      const many = await o.client.probe({ ...PROBE, count: o.probesLoaded });
      checkErrors(before, await o.client.stats(), `latency ${c.id}`);
      acc.single.push(...one.samplesMs);
      acc.singleLost += one.lost;
      acc.loaded.push(...many.samplesMs);
      acc.loadedLost += many.lost;
      o.log(
        `latency round ${round + 1}/${o.rounds} ${c.id}: median ${median(one.samplesMs).toFixed(1)} ms ` +
          `(1 session), ${median(many.samplesMs).toFixed(1)} ms (${o.sessions} sessions)`,
      );
      await closeAll(c, [o.client]);
    }
  }
  return out;
}

export interface IdleOptions {
  contenders: readonly Contender[];
  vnc: VncServer;
  client: ClientProcess;
  /** Session counts to measure at, ascending (0, the baseline, is always measured first). */
  steps: readonly number[];
  settleMs: number;
  log: Log;
}

const IDLE_SAMPLES = 9;
const IDLE_SAMPLE_GAP_MS = 250;

export async function idlePhase(o: IdleOptions): Promise<Partial<Record<ContenderId, IdlePoint[]>>> {
  const out: Partial<Record<ContenderId, IdlePoint[]>> = {};
  const usedEngines = new Set<number>();
  for (const c of o.contenders) {
    // An engine's memory is reported only while it is fresh (its first contender in this phase).
    const enginePid = c.enginePid !== null && !usedEngines.has(c.enginePid) ? c.enginePid : null;
    if (c.enginePid !== null) usedEngines.add(c.enginePid);
    const measure = async (sessions: number): Promise<IdlePoint> => {
      await sleep(o.settleMs);
      const samples: ProcSample[] = [];
      const engineRss: number[] = [];
      for (let i = 0; i < IDLE_SAMPLES; i++) {
        if (i > 0) await sleep(IDLE_SAMPLE_GAP_MS);
        samples.push(sampleProcess(c.tunnelPid ?? -1));
        const e = sampleOrNull(enginePid);
        if (e) engineRss.push(e.rssBytes);
      }
      const first = samples[0] as ProcSample;
      const last = samples[samples.length - 1] as ProcSample;
      const p: IdlePoint = {
        sessions,
        rssBytes: median(samples.map((s) => s.rssBytes)),
        cpuPercent: (100 * (last.cpuSec - first.cpuSec)) / ((last.at - first.at) / 1000),
      };
      if (engineRss.length > 0) p.engineRssBytes = median(engineRss);
      const counts = await managerSessions(c);
      if (counts) p.managerSessions = counts;
      return p;
    };
    const before = await o.client.stats();
    // Warm-up: one session opened and closed, so one-time costs are in the baseline.
    await o.client.open(await specsFor(c, o.vnc, 1), 1, OPEN_TIMEOUT_MS);
    await closeAll(c, [o.client]);
    const points = [await measure(0)];
    let open = 0;
    for (const n of o.steps) {
      await o.client.open(await specsFor(c, o.vnc, n - open), OPEN_BATCH, OPEN_TIMEOUT_MS);
      open = n;
      const p = await measure(n);
      points.push(p);
      o.log(
        `idle ${c.id}: ${n} session(s), RSS ${(p.rssBytes / 1e6).toFixed(1)} MB, CPU ${p.cpuPercent.toFixed(1)} %` +
          (p.managerSessions ? `, managers ${p.managerSessions.join('/')}` : ''),
      );
    }
    checkErrors(before, await o.client.stats(), `idle ${c.id}`);
    await closeAll(c, [o.client]);
    out[c.id] = points;
  }
  return out;
}
