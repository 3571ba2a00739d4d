/**
 * A lean Guacamole client of the RDP engine (no browser, no decoding): over TCP to `gatehouse engine`, the
 * guacd handshake as guacamole-client sends it (select rdp → args → size, audio, video, image, timezone →
 * connect with VERSION_1_5_0 → ready), then it counts what arrives and answers every `sync,<ts>` at once,
 * as a browser that keeps up would (those answers pace the engine), plus a `nop` every 5 s as
 * guacamole-common-js does. It notes when `connect` went out, when `ready` and the first `sync` came.
 */
import type { Socket } from 'node:net';
import { encodeInstruction } from '../../src/protocol/guacamole/encoder.js';
import type { Instruction } from '../../src/protocol/guacamole/parser.js';
import {
  countInstruction,
  type GuacDrawCounts,
  KEEP_ALIVE_MS,
  openGuacSocket,
  sendHandshake,
} from '../helpers/guac-counting.js';

/** What one client (or a set of them) received: the counters the benchmark's rounds are built from. */
export interface GuacCounters extends GuacDrawCounts {
  /** Guacamole bytes received from the engine. */
  bytesIn: number;
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
    this.socket = openGuacSocket(t.host, t.port, {
      opened: () => {
        this.times.opened = performance.now();
        this.send('select', 'rdp');
      },
      bytes: (n) => {
        counters.bytesIn += n;
      },
      instruction: (i) => this.onInstruction(i),
      ended: (message) => this.end(message),
    });
    this.keepAlive = setInterval(() => {
      if (this.phase === 'running') this.send('nop');
    }, KEEP_ALIVE_MS);
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
      sendHandshake((op, ...a) => this.send(op, ...a), args, this.t.params, this.t, [['timezone', 'UTC']]);
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
    countInstruction(this.counters, opcode, args);
    if (opcode === 'sync') {
      this.send('sync', args[0] ?? '0');
      if (this.firstFrame) {
        this.times.firstSync = performance.now();
        this.firstFrame();
        this.firstFrame = null;
      }
    } else if (opcode === 'error') this.end(`engine error: ${args.join(' ')}`);
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
