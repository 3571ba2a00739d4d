/**
 * A lean Guacamole client of the RDP engine (no browser, no decoding): over TCP to `gatehouse engine`, the
 * guacd handshake as guacamole-client sends it (select rdp → args → size, audio, video, image, timezone →
 * connect with VERSION_1_5_0 → ready), then it counts what arrives and answers every `sync,<ts>` at once,
 * as a browser that keeps up would (those answers pace the engine), plus a `nop` every 5 s as
 * guacamole-common-js does. It notes when `connect` went out, when `ready` and the first `sync` came.
 */
import { connect, type Socket } from 'node:net';
import { encodeInstruction } from '../../src/protocol/guacamole/encoder.js';
import { GuacamoleParser, type Instruction } from '../../src/protocol/guacamole/parser.js';

export const CLIENT_IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp'];
const CLIENT_VERSION = 'VERSION_1_5_0';
const KEEP_ALIVE_MS = 5000;

/** What one client (or a set of them) received: the counters the benchmark's rounds are built from. */
export interface GuacCounters {
  /** `sync`s received (frames delivered to the client). */
  frames: number;
  /** The server frames behind them: the sum of each sync's frame count (its second argument). */
  serverFrames: number;
  /** Guacamole bytes received from the engine. */
  bytesIn: number;
  /** Drawing instructions received, by opcode; images by mimetype. */
  instructions: Record<string, number>;
  images: Record<string, number>;
  /** Image payload (base64 characters of `blob`s). */
  blobChars: number;
  /** Sessions that ended with an error, with the message. */
  errors: string[];
}

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

/** Milliseconds (performance.now()) at each step of a session's start; -1 until it happens. */
export interface SessionTimes {
  /** The TCP connection to the engine's listener was up (`select` sent). */
  opened: number;
  /** `connect` sent. */
  connectSent: number;
  ready: number;
  firstSync: number;
}

export class RdpGuacClient {
  private readonly socket: Socket;
  private readonly parser = new GuacamoleParser();
  private phase: 'args' | 'ready' | 'running' | 'closed' = 'args';
  private firstFrame: (() => void) | null = null;
  private fail: (e: Error) => void = () => {};
  private readonly keepAlive: NodeJS.Timeout;
  readonly times: SessionTimes = { opened: -1, connectSent: -1, ready: -1, firstSync: -1 };
  /** Resolves at the first `sync` after `ready`; rejects if the session ends before. */
  readonly firstSync: Promise<void>;

  constructor(
    private readonly t: RdpGuacTarget,
    private readonly counters: GuacCounters = emptyCounters(),
  ) {
    this.firstSync = new Promise((resolve, reject) => {
      this.firstFrame = resolve;
      this.fail = reject;
    });
    this.firstSync.catch(() => {});
    this.socket = connect({ host: t.host, port: t.port, noDelay: true });
    this.socket.on('connect', () => {
      this.times.opened = performance.now();
      this.send('select', 'rdp');
    });
    this.keepAlive = setInterval(() => {
      if (this.phase === 'running') this.send('nop');
    }, KEEP_ALIVE_MS);
    this.socket.on('data', (chunk: Buffer) => {
      counters.bytesIn += chunk.length;
      let instructions: Instruction[];
      try {
        instructions = this.parser.feed(chunk);
      } catch (err) {
        this.end(`bad Guacamole data from the engine: ${(err as Error).message}`);
        return;
      }
      for (const i of instructions) this.onInstruction(i);
    });
    this.socket.on('error', (err) => this.end(err.message));
    this.socket.on('close', () => this.end('the engine closed the connection'));
  }

  /** Ends the session as a browser tab would: `disconnect`, then the socket closes. */
  close(): void {
    if (this.phase === 'closed') return;
    if (this.phase === 'running') this.send('disconnect');
    this.phase = 'closed';
    clearInterval(this.keepAlive);
    this.socket.end();
    this.socket.destroySoon();
  }

  /** Resolves once the socket is fully closed. */
  closed(): Promise<void> {
    return this.socket.closed ? Promise.resolve() : new Promise((r) => this.socket.once('close', () => r()));
  }

  private send(opcode: string, ...args: (string | number)[]): void {
    if (this.phase !== 'closed' && !this.socket.destroyed)
      this.socket.write(encodeInstruction(opcode, ...args));
  }

  private onInstruction({ opcode, args }: Instruction): void {
    if (this.phase === 'args') {
      if (opcode !== 'args') {
        this.end(`expected args, got ${opcode} ${args.join(',')}`);
        return;
      }
      const values = args.map((name, i) =>
        i === 0 && name.startsWith('VERSION_') ? CLIENT_VERSION : (this.t.params[name] ?? ''),
      );
      this.send('size', this.t.width, this.t.height, 96);
      this.send('audio');
      this.send('video');
      this.send('image', ...CLIENT_IMAGE_TYPES);
      this.send('timezone', 'UTC');
      this.send('connect', ...values);
      this.times.connectSent = performance.now();
      this.phase = 'ready';
      return;
    }
    if (this.phase === 'ready') {
      if (opcode === 'error') this.end(`engine refused the connection: ${args.join(' ')}`);
      else if (opcode === 'ready') {
        this.times.ready = performance.now();
        this.phase = 'running';
      }
      return;
    }
    if (this.phase !== 'running') return;
    const c = this.counters;
    c.instructions[opcode] = (c.instructions[opcode] ?? 0) + 1;
    switch (opcode) {
      case 'sync':
        this.send('sync', args[0] ?? '0');
        c.frames++;
        c.serverFrames += Math.max(1, Number(args[1] ?? 1) || 1);
        if (this.firstFrame) {
          this.times.firstSync = performance.now();
          this.firstFrame();
          this.firstFrame = null;
        }
        break;
      case 'img': {
        const type = args[3] ?? '?';
        c.images[type] = (c.images[type] ?? 0) + 1;
        break;
      }
      case 'blob':
        c.blobChars += (args[1] ?? '').length;
        break;
      case 'error':
        this.end(`engine error: ${args.join(' ')}`);
        break;
      default:
        break;
    }
  }

  private end(message: string): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    clearInterval(this.keepAlive);
    this.counters.errors.push(message);
    this.fail(new Error(message));
    this.socket.destroy();
  }
}
