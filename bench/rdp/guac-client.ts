/**
 * The RDP benchmark's Guacamole client: the shared bench client (../helpers/guac-bench-client.ts) with the RDP
 * engine's handshake (timezone UTC), and the counters the benchmark's rounds are built from.
 */
import { GuacBenchClient, type GuacBenchCounters } from '../helpers/guac-bench-client.js';

export type { SessionTimes } from '../helpers/guac-bench-client.js';

/** What one client (or a set of them) received: the counters the benchmark's rounds are built from. */
export type GuacCounters = GuacBenchCounters;

export function emptyCounters(): GuacCounters {
  return { frames: 0, serverFrames: 0, bytesIn: 0, instructions: {}, images: {}, blobChars: 0, errors: [] };
}

/** A copy of the counters (they are mutated in place as data arrives). */
export function snapshotCounters(c: GuacCounters): GuacCounters {
  return { ...c, instructions: { ...c.instructions }, images: { ...c.images }, errors: [...c.errors] };
}

export interface RdpGuacTarget {
  /** The engine's listener. */
  host: string;
  port: number;
  /** The `size` the client announces (the shadow server resizes the session to its screen anyway). */
  width: number;
  height: number;
  /** Connection parameters by name (hostname, port, username, ...); the rest are sent empty. */
  params: Record<string, string>;
}

/** The shared bench client with the RDP engine's handshake (timezone UTC). */
export class RdpGuacClient extends GuacBenchClient {
  constructor(t: RdpGuacTarget, counters: GuacCounters = emptyCounters()) {
    super({ ...t, protocol: 'rdp', extra: [['timezone', 'UTC']] }, counters);
  }
}
