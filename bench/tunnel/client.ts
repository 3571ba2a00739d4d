/**
 * A load-generator process of the tunnel benchmark, so that the clients' CPU is not the tunnel's: started by
 * bench/tunnel.ts with an IPC channel (see client-protocol.ts), it opens browser-like sessions, counts what
 * arrives, runs latency probes and closes sessions on request. It exits when the channel closes (the
 * parent went away) or after MAX_LIFE_MS.
 *
 *   node dist/bench/tunnel/client.js      (IPC only)
 */
import { sleep } from '../../test/e2e/helpers/processes.js';
import {
  type ClientReply,
  type ClientRequest,
  emptyClientStats,
  type ProbeOptions,
  type ProbeResult,
  type SessionSpec,
} from './client-protocol.js';
import { type BenchSession, GuacdSession, type SessionHooks, WsSession } from './sessions.js';

const MAX_LIFE_MS = 15 * 60_000;
/** A probe waits at most this long for the screen to be quiet before it goes anyway. */
const MAX_QUIET_WAIT_MS = 2000;

const stats = emptyClientStats();
let lastDrawAt = 0;
const hooks: SessionHooks = {
  stats,
  onDraw: (at) => {
    lastDrawAt = at;
  },
};
let sessions: BenchSession[] = [];

function reply(r: ClientReply): void {
  process.send?.(r);
}

function create(spec: SessionSpec): BenchSession {
  return spec.kind === 'ws' ? new WsSession(spec.url, hooks) : new GuacdSession(spec, hooks);
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

async function open(specs: SessionSpec[], batch: number, timeoutMs: number): Promise<void> {
  const size = Math.max(1, batch);
  for (let i = 0; i < specs.length; i += size) {
    const group = specs.slice(i, i + size).map(create);
    sessions.push(...group);
    const total = sessions.length;
    await withTimeout(
      Promise.all(group.map((s) => s.ready)),
      timeoutMs,
      `a first frame on sessions ${total - group.length + 1}..${total}`,
    );
  }
}

/** Waits until no drawing instruction arrived for quietMs (at most MAX_QUIET_WAIT_MS). */
async function quiet(quietMs: number): Promise<void> {
  const deadline = performance.now() + MAX_QUIET_WAIT_MS;
  for (;;) {
    const now = performance.now();
    const idle = now - lastDrawAt;
    if (idle >= quietMs || now >= deadline) return;
    await sleep(Math.max(1, Math.ceil(quietMs - idle)));
  }
}

/** Key → the same session's next sync, one probe at a time, from the live sessions in turn. */
async function probe(o: ProbeOptions): Promise<ProbeResult> {
  const live = sessions.filter((s) => !s.ended);
  if (live.length === 0) throw new Error('no live session to probe');
  const samplesMs: number[] = [];
  let lost = 0;
  for (let k = 0; k < o.count; k++) {
    const s = live[k % live.length] as BenchSession;
    if (s.ended) throw new Error(`a probed session ended: ${stats.errors.at(-1) ?? 'closed'}`);
    await quiet(o.quietMs);
    if (o.jitterMs > 0) await sleep(Math.floor(Math.random() * (o.jitterMs + 1)));
    let timer: NodeJS.Timeout | undefined;
    const got = new Promise<number | null>((resolve) => {
      s.nextSync = resolve;
      timer = setTimeout(() => resolve(null), o.timeoutMs);
    });
    const t0 = performance.now();
    s.pressKey(o.keysyms[k % o.keysyms.length] ?? 0x61);
    const at = await got;
    clearTimeout(timer);
    if (at === null) {
      s.nextSync = null;
      lost++;
    } else samplesMs.push(at - t0);
  }
  return { samplesMs, lost };
}

async function closeAll(): Promise<void> {
  const all = sessions;
  sessions = [];
  await Promise.all(all.map((s) => s.close()));
}

async function handle(req: ClientRequest): Promise<void> {
  try {
    switch (req.op) {
      case 'open':
        await open(req.specs, req.batch, req.timeoutMs);
        reply({ id: req.id, ok: true });
        return;
      case 'stats': {
        const cpu = process.cpuUsage();
        reply({
          id: req.id,
          ok: true,
          stats: {
            ...stats,
            errors: [...stats.errors],
            cpuSec: (cpu.user + cpu.system) / 1e6,
            rssBytes: process.memoryUsage.rss(),
          },
        });
        return;
      }
      case 'probe':
        reply({ id: req.id, ok: true, probe: await probe(req.options) });
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

process.on('message', (m) => void handle(m as ClientRequest));
process.on('disconnect', () => process.exit(0));
setTimeout(() => process.exit(2), MAX_LIFE_MS).unref();
