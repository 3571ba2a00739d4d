/**
 * What the benchmarks' lean Guacamole client (guac-bench-client.ts) is built from:
 * the TCP connection and its parsing, the handshake they send after `args` (as guacamole-client's
 * ConfiguredGuacamoleSocket does) and the counting of what a running session receives.
 */
import { connect, type Socket } from 'node:net';
import { GuacamoleParser, type Instruction } from '../../src/protocol/guacamole/parser.js';

export const CLIENT_IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp'];
const CLIENT_VERSION = 'VERSION_1_5_0';
/** guacamole-common-js's Guacamole.Client sends `nop` this often, so an idle session is not dropped. */
export const KEEP_ALIVE_MS = 5000;

/** The counters a running session adds to (mutated in place). */
export interface GuacDrawCounts {
  /** `sync`s received (frames delivered to the client). */
  frames: number;
  /** The server frames behind them: the sum of each sync's frame count (its second argument). */
  serverFrames: number;
  /** Drawing instructions received, by opcode; images by mimetype. */
  instructions: Record<string, number>;
  images: Record<string, number>;
  /** Image payload (base64 characters of `blob`s). */
  blobChars: number;
}

/**
 * Answers `args` (the parameter names the engine asked for) as a browser's client would: size, audio,
 * video, image (then `extra`, e.g. timezone), and `connect` with VERSION_1_5_0 and each parameter's value
 * from `params` (empty when absent).
 */
export function sendHandshake(
  send: (opcode: string, ...args: (string | number)[]) => void,
  argNames: readonly string[],
  params: Readonly<Record<string, string>>,
  size: { width: number; height: number },
  extra: ReadonlyArray<[string, ...string[]]> = [],
): void {
  const values = argNames.map((name, i) =>
    i === 0 && name.startsWith('VERSION_') ? CLIENT_VERSION : (params[name] ?? ''),
  );
  send('size', size.width, size.height, 96);
  send('audio');
  send('video');
  send('image', ...CLIENT_IMAGE_TYPES);
  for (const [opcode, ...args] of extra) send(opcode, ...args);
  send('connect', ...values);
}

/** Counts one instruction of a running session (a `sync` as a frame, an `img` by type, `blob` payload). */
export function countInstruction(c: GuacDrawCounts, opcode: string, args: readonly string[]): void {
  c.instructions[opcode] = (c.instructions[opcode] ?? 0) + 1;
  switch (opcode) {
    case 'sync':
      c.frames++;
      c.serverFrames += Math.max(1, Number(args[1] ?? 1) || 1);
      break;
    case 'img': {
      const type = args[3] ?? '?';
      c.images[type] = (c.images[type] ?? 0) + 1;
      break;
    }
    case 'blob':
      c.blobChars += (args[1] ?? '').length;
      break;
    default:
      break;
  }
}

/** What a lean client does with its engine connection's events. */
export interface GuacSocketHandlers {
  /** The TCP connection is up (send `select`). */
  opened(): void;
  /** Bytes arrived (before parsing). */
  bytes(n: number): void;
  instruction(i: Instruction): void;
  /** The connection failed, closed, or sent what does not parse (the message says which). */
  ended(message: string): void;
}

/** Opens a TCP connection to an engine's listener and parses what arrives into instructions. */
export function openGuacSocket(host: string, port: number, h: GuacSocketHandlers): Socket {
  const parser = new GuacamoleParser();
  const socket = connect({ host, port, noDelay: true });
  socket.on('connect', () => h.opened());
  socket.on('data', (chunk: Buffer) => {
    h.bytes(chunk.length);
    let instructions: Instruction[];
    try {
      instructions = parser.feed(chunk);
    } catch (err) {
      h.ended(`bad Guacamole data from the engine: ${(err as Error).message}`);
      return;
    }
    for (const i of instructions) h.instruction(i);
  });
  socket.on('error', (err) => h.ended(err.message));
  socket.on('close', () => h.ended('the engine closed the connection'));
  return socket;
}
