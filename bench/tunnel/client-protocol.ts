/**
 * The messages between the tunnel benchmark (parent) and a load-generator process (bench/tunnel/client.ts):
 * the parent asks, the client answers the request with the same id. One client process holds any number of
 * sessions, each either a browser-like WebSocket tunnel client (Gatehouse's /tunnel or guacamole-lite) or a
 * Guacamole client speaking the guacd protocol straight to `gatehouse engine` (the no-tunnel baseline).
 */
import type { GuacTarget } from '../vnc/guac-session.js';

/** One session to open. */
export type SessionSpec =
  /** A WebSocket tunnel (subprotocol `guacamole`): the full URL with its connect data. */
  | { kind: 'ws'; url: string }
  /** The guacd protocol over TCP to a guacd-compatible listener, for a VNC server. */
  | ({ kind: 'guacd' } & GuacTarget);

/** How a latency probe run goes (see client.ts `probe`). */
export interface ProbeOptions {
  /** Probes to send, one at a time, from the sessions in turn. */
  count: number;
  /** Keysyms pressed and released in turn (one per probe). */
  keysyms: number[];
  /** After a probe's sync, wait until no drawing instruction arrived on any session for this long. */
  quietMs: number;
  /**
   * Then a further random wait of 0..jitterMs (uniform), so probes do not lock onto a VNC server's polling
   * period (x11vnc polls the screen on a fixed cycle).
   */
  jitterMs: number;
  /** A probe without a sync within this long counts as lost. */
  timeoutMs: number;
}

export type ClientRequest =
  /** Opens the sessions, `batch` at a time; each batch waits until every session in it had a frame. */
  | { id: number; op: 'open'; specs: SessionSpec[]; batch: number; timeoutMs: number }
  | { id: number; op: 'stats' }
  | { id: number; op: 'probe'; options: ProbeOptions }
  /** Closes every session (and waits until their sockets are closed). */
  | { id: number; op: 'close' };

export interface ProbeResult {
  /** Key → first `sync` on the same session, ms, in probe order. */
  samplesMs: number[];
  /** Probes that got no sync within timeoutMs. */
  lost: number;
}

export interface ClientStats {
  /** Sessions held (open or ended with an error). */
  sessions: number;
  /** `sync`s received (frames). */
  frames: number;
  /** Payload bytes received (WebSocket message payloads, or TCP bytes for guacd sessions). */
  bytes: number;
  /** WebSocket messages (or TCP reads) received. */
  messages: number;
  /** Instructions received, internal ones (the tunnel's `0.` opcode) and `nop` included. */
  instructions: number;
  /** Instructions by opcode. */
  opcodes: Record<string, number>;
  /** Sessions that ended with an error, with the message (the first 50). */
  errors: string[];
  /** This process's own CPU (user + system) seconds and RSS, for "the load generator kept up". */
  cpuSec: number;
  rssBytes: number;
}

export type ClientReply =
  | { id: number; ok: true; stats?: ClientStats; probe?: ProbeResult }
  | { id: number; ok: false; error: string };

export function emptyClientStats(): ClientStats {
  return {
    sessions: 0,
    frames: 0,
    bytes: 0,
    messages: 0,
    instructions: 0,
    opcodes: {},
    errors: [],
    cpuSec: 0,
    rssBytes: 0,
  };
}

/** The sum of several client processes' stats (errors concatenated, CPU and RSS added). */
export function sumClientStats(all: readonly ClientStats[]): ClientStats {
  const out = emptyClientStats();
  for (const s of all) {
    out.sessions += s.sessions;
    out.frames += s.frames;
    out.bytes += s.bytes;
    out.messages += s.messages;
    out.instructions += s.instructions;
    for (const [k, v] of Object.entries(s.opcodes)) out.opcodes[k] = (out.opcodes[k] ?? 0) + v;
    out.errors.push(...s.errors);
    out.cpuSec += s.cpuSec;
    out.rssBytes += s.rssBytes;
  }
  return out;
}

/**
 * The tunnel's internal ping (`0.,4.ping,<value>;`), echoed by Gatehouse's proxy: guacamole-common-js sends
 * one with the time every 500 ms; bench/webapp's probes send one with their id.
 */
export function pingInstruction(value: string): string {
  return `0.,4.ping,${value.length}.${value};`;
}

/** Keysyms the latency probes type into the `cat` xterm: `a`, then BackSpace (each changes one cell). */
export const PROBE_KEYSYMS: readonly number[] = Object.freeze([0x61, 0xff08]);
