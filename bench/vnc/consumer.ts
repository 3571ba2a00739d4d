/**
 * A consumer process of the VNC benchmark, so that its CPU time and memory are its own: started by
 * bench/vnc.ts with an IPC channel and a target (see consumer-protocol.ts), it opens, counts and closes
 * sessions on request. It exits when the channel closes (the parent went away) or after MAX_LIFE_MS.
 *
 *   node dist/bench/vnc/consumer.js raw|guac HOST PORT VNCHOST VNCPORT WIDTH HEIGHT
 */

import { serveIpc, withTimeout } from '../helpers/ipc-serve.js';
import {
  type ConsumerReply,
  type ConsumerRequest,
  emptyStats,
  parseTargetArgs,
} from './consumer-protocol.js';
import { GuacSession } from './guac-session.js';
import { RawSession } from './raw-session.js';

const FIRST_FRAME_TIMEOUT_MS = 20_000;
const MAX_LIFE_MS = 15 * 60_000;

const target = parseTargetArgs(process.argv.slice(2));
const stats = emptyStats(target.kind);
const sessions: Array<RawSession | GuacSession> = [];

async function open(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const s =
      target.kind === 'raw'
        ? new RawSession(target.host, target.port, stats)
        : new GuacSession(target, stats);
    sessions.push(s);
    await withTimeout(s.ready, FIRST_FRAME_TIMEOUT_MS, `${target.kind} session ${sessions.length}`);
  }
}

serveIpc<ConsumerRequest, ConsumerReply>(async (req) => {
  switch (req.op) {
    case 'open':
      await open(req.count);
      return {};
    case 'stats': {
      const mem = process.memoryUsage();
      return {
        stats: { ...stats, sessions: sessions.length, heapUsedBytes: mem.heapUsed, rssBytes: mem.rss },
      };
    }
    case 'close':
      for (const s of sessions.splice(0)) s.close();
      return {};
  }
}, MAX_LIFE_MS);
