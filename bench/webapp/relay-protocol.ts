/**
 * The messages between the webapp benchmark (parent) and its relay load-generator processes
 * (bench/webapp/relay-client.ts). A process holds any number of browser-like tunnel sessions, each a
 * WebSocket to the proxy's /tunnel (direct) or to the webapp's /api/tunnel (relayed, with the sign-in cookie
 * and, over HTTPS, the webapp's certificate as CA). Besides bench/tunnel's counters it measures the tunnel's
 * internal ping (`0.,4.ping,<id>;`, echoed by the proxy): one at a time on an idle session (probe), or every
 * few ms on a loaded one (sampler).
 */
import { type ClientStats, pingInstruction } from '../tunnel/client-protocol.js';

export interface RelaySessionSpec {
  /** ws:// or wss:// URL with the token and display size in the query. */
  url: string;
  /** Request headers (the sign-in cookie for the relay). */
  headers: Record<string, string>;
  /** PEM CA for wss:// (the webapp's self-signed certificate), or null. */
  ca: string | null;
}

export interface PingProbeOptions {
  /** Pings to send, one at a time, on the process's first live session. */
  count: number;
  /** After each echo, a random pause of 0..gapMs (uniform) before the next ping. */
  gapMs: number;
  /** A ping without an echo within this long counts as lost. */
  timeoutMs: number;
}

export interface RelayStats extends ClientStats {
  /** Round trips of the sampler's pings since the previous stats request, ms (then cleared). */
  loadedRttMs: number[];
  /** The sampler's pings that got no echo before the next one was due (since the previous stats request). */
  loadedLost: number;
}

export type RelayRequest =
  /** Opens the sessions, `batch` at a time; each batch waits until every session in it had a `sync`. */
  | { id: number; op: 'open'; specs: RelaySessionSpec[]; batch: number; timeoutMs: number }
  | { id: number; op: 'stats' }
  | { id: number; op: 'probe'; options: PingProbeOptions }
  /** Pings the first live session every everyMs (0 stops), keeping the round trips for `stats`. */
  | { id: number; op: 'sampler'; everyMs: number }
  | { id: number; op: 'close' };

export interface ProbeAnswer {
  samplesMs: number[];
  lost: number;
}

export type RelayReply =
  | { id: number; ok: true; stats?: RelayStats; probe?: ProbeAnswer }
  | { id: number; ok: false; error: string };

/** Most sampler round trips kept between two stats requests. */
export const MAX_LOADED_SAMPLES = 100_000;

/** The ping a probe sends: an internal instruction whose second value is the probe's id. */
export { pingInstruction };

/**
 * The id of an echoed ping from the text of one internal instruction, or null when it is not a ping echo
 * (e.g. the tunnel's `0.,36.<uuid>;` at the start). Ids are ASCII, so lengths are code-unit counts.
 */
export function pingEcho(instruction: string): string | null {
  const m = /^0\.,4\.ping,(\d{1,4})\.([\x21-\x7e]*);$/.exec(instruction);
  if (!m) return null;
  const value = m[2] as string;
  return Number(m[1]) === value.length ? value : null;
}
