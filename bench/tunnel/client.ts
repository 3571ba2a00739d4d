/**
 * A load-generator process of the tunnel benchmark, so that the clients' CPU is not the tunnel's: started by
 * bench/tunnel.ts with an IPC channel (see client-protocol.ts), it opens browser-like sessions, counts what
 * arrives, runs latency probes and closes sessions on request. It exits when the channel closes (the
 * parent went away) or after MAX_LIFE_MS.
 *
 *   node dist/bench/tunnel/client.js      (IPC only)
 */
import { sleep } from '../../test/e2e/helpers/processes.js';
import { ownUsage, serveIpc } from '../helpers/ipc-serve.js';
import { SessionPool } from '../helpers/session-pool.js';
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
const pool = new SessionPool<SessionSpec, BenchSession>(
  (spec) => (spec.kind === 'ws' ? new WsSession(spec.url, hooks) : new GuacdSession(spec, hooks)),
  'a first frame',
);

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
  const live = pool.sessions.filter((s) => !s.ended);
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

serveIpc<ClientRequest, ClientReply>(async (req) => {
  switch (req.op) {
    case 'open':
      await pool.open(req.specs, req.batch, req.timeoutMs);
      return {};
    case 'stats':
      return { stats: { ...stats, errors: [...stats.errors], ...ownUsage() } };
    case 'probe':
      return { probe: await probe(req.options) };
    case 'close':
      await pool.closeAll();
      return {};
  }
}, MAX_LIFE_MS);
