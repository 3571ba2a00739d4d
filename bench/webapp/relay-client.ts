/**
 * A load-generator process of the webapp benchmark's relay phase, so that the clients' CPU is neither the
 * relay's nor the proxy's: started with an IPC channel (relay-protocol.ts), it opens tunnel sessions
 * (direct to the proxy or through the webapp relay), counts what arrives, times tunnel pings and closes the
 * sessions on request. It exits when the channel closes or after MAX_LIFE_MS.
 *
 *   node dist/bench/webapp/relay-client.js      (IPC only)
 */
import { sleep } from '../../test/e2e/helpers/processes.js';
import { ownUsage, serveIpc } from '../helpers/ipc-serve.js';
import { SessionPool } from '../helpers/session-pool.js';
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
const pool = new SessionPool<RelaySessionSpec, RelayWsSession>(
  (spec) => new RelayWsSession(spec, hooks),
  'a first sync',
);
let loadedRttMs: number[] = [];
let loadedLost = 0;
let sampler: NodeJS.Timeout | undefined;
let pingSeq = 0;

function firstLive(): RelayWsSession {
  const s = pool.sessions.find((x) => !x.ended);
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
    const s = pool.sessions.find((x) => !x.ended);
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

serveIpc<RelayRequest, RelayReply>(async (req) => {
  switch (req.op) {
    case 'open':
      await pool.open(req.specs, req.batch, req.timeoutMs);
      return {};
    case 'stats': {
      const rtts = loadedRttMs;
      const lost = loadedLost;
      loadedRttMs = [];
      loadedLost = 0;
      return {
        stats: {
          ...stats,
          opcodes: { ...stats.opcodes },
          errors: [...stats.errors],
          ...ownUsage(),
          loadedRttMs: rtts,
          loadedLost: lost,
        },
      };
    }
    case 'probe':
      return { probe: await probe(req.options) };
    case 'sampler':
      setSampler(req.everyMs);
      return {};
    case 'close':
      setSampler(0);
      await pool.closeAll();
      return {};
  }
}, MAX_LIFE_MS);
