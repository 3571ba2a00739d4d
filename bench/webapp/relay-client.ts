/**
 * A load-generator process of the webapp benchmark's relay phase, so that the clients' CPU is neither the
 * relay's nor the proxy's: started with an IPC channel (relay-protocol.ts), it opens tunnel sessions
 * (direct to the proxy or through the webapp relay), counts what arrives, times tunnel pings and closes the
 * sessions on request. It exits when the channel closes or after MAX_LIFE_MS.
 *
 *   node dist/bench/webapp/relay-client.js      (IPC only)
 */
import { sleep } from '../../test/e2e/helpers/processes.js';
import { emptyClientStats } from '../tunnel/client-protocol.js';
import type { SessionHooks } from '../tunnel/sessions.js';
import {
  MAX_LOADED_SAMPLES,
  type PingProbeOptions,
  type ProbeAnswer,
  type RelayReply,
  type RelayRequest,
  type RelaySessionSpec,
} from './relay-protocol.js';
import { RelayWsSession } from './relay-session.js';

const MAX_LIFE_MS = 20 * 60_000;

const stats = emptyClientStats();
const hooks: SessionHooks = { stats, onDraw: () => {} };
let sessions: RelayWsSession[] = [];
let loadedRttMs: number[] = [];
let loadedLost = 0;
let sampler: NodeJS.Timeout | undefined;
let pingSeq = 0;

function reply(r: RelayReply): void {
  process.send?.(r);
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function open(specs: RelaySessionSpec[], batch: number, timeoutMs: number): Promise<void> {
  const size = Math.max(1, batch);
  for (let i = 0; i < specs.length; i += size) {
    const group = specs.slice(i, i + size).map((s) => new RelayWsSession(s, hooks));
    sessions.push(...group);
    await withTimeout(
      Promise.all(group.map((s) => s.ready)),
      timeoutMs,
      `a first sync on sessions ${sessions.length - group.length + 1}..${sessions.length}`,
    );
  }
}

function firstLive(): RelayWsSession {
  const s = sessions.find((x) => !x.ended);
  if (!s) throw new Error(`no live session: ${stats.errors.at(-1) ?? 'none open'}`);
  return s;
}

/** Pings one at a time on the first live session. */
async function probe(o: PingProbeOptions): Promise<ProbeAnswer> {
  const s = firstLive();
  const samplesMs: number[] = [];
  let lost = 0;
  for (let k = 0; k < o.count; k++) {
    const rtt = await s.ping(`p${++pingSeq}`, o.timeoutMs);
    if (rtt === null) {
      if (s.ended) throw new Error(`the probed session ended: ${stats.errors.at(-1) ?? 'closed'}`);
      lost++;
    } else samplesMs.push(rtt);
    if (o.gapMs > 0) await sleep(Math.floor(Math.random() * (o.gapMs + 1)));
  }
  return { samplesMs, lost };
}

/** Every everyMs a ping on the first live session (one in flight at a time); 0 stops. */
function setSampler(everyMs: number): void {
  clearInterval(sampler);
  sampler = undefined;
  if (everyMs <= 0) return;
  let inFlight = false;
  sampler = setInterval(() => {
    const s = sessions.find((x) => !x.ended);
    if (!s) return;
    if (inFlight) {
      loadedLost++;
      return;
    }
    inFlight = true;
    void s.ping(`s${++pingSeq}`, 10_000).then((rtt) => {
      inFlight = false;
      if (rtt === null) loadedLost++;
      else if (loadedRttMs.length < MAX_LOADED_SAMPLES) loadedRttMs.push(rtt);
    });
  }, everyMs);
}

async function closeAll(): Promise<void> {
  setSampler(0);
  const all = sessions;
  sessions = [];
  await Promise.all(all.map((s) => s.close()));
}

async function handle(req: RelayRequest): Promise<void> {
  try {
    switch (req.op) {
      case 'open':
        await open(req.specs, req.batch, req.timeoutMs);
        reply({ id: req.id, ok: true });
        return;
      case 'stats': {
        const cpu = process.cpuUsage();
        const rtts = loadedRttMs;
        const lost = loadedLost;
        loadedRttMs = [];
        loadedLost = 0;
        reply({
          id: req.id,
          ok: true,
          stats: {
            ...stats,
            opcodes: { ...stats.opcodes },
            errors: [...stats.errors],
            cpuSec: (cpu.user + cpu.system) / 1e6,
            rssBytes: process.memoryUsage.rss(),
            loadedRttMs: rtts,
            loadedLost: lost,
          },
        });
        return;
      }
      case 'probe':
        reply({ id: req.id, ok: true, probe: await probe(req.options) });
        return;
      case 'sampler':
        setSampler(req.everyMs);
        reply({ id: req.id, ok: true });
        return;
      case 'close':
        await closeAll();
        reply({ id: req.id, ok: true });
        return;
    }
  } catch (err) {
    reply({ id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) });
  }
}

process.on('message', (m) => void handle(m as RelayRequest));
process.on('disconnect', () => process.exit(0));
setTimeout(() => process.exit(2), MAX_LIFE_MS).unref();
