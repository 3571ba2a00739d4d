/**
 * The benchmarks' lean Guacamole client of an engine (no browser, no decoding), for any protocol: over TCP to
 * the engine's listener, the guacd handshake as guacamole-client sends it (select → args → size, audio,
 * video, image [, extra such as timezone] → connect with VERSION_1_5_0 → ready), then it counts what arrives
 * and answers every `sync,<ts>` at once, as a browser that keeps up would (those answers pace the engine),
 * plus a `nop` every 5 s as guacamole-common-js does. It notes when `connect` went out and when `ready` and
 * the first `sync` came. bench/vnc/guac-session.ts and bench/rdp/guac-client.ts are this with their targets.
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
} from './guac-counting.js';

/** What a client adds to as data arrives (mutated in place; several clients may share one). */
export interface GuacBenchCounters extends GuacDrawCounts {
  /** Guacamole bytes received from the engine. */
  bytesIn: number;
  /** Sessions that ended with an error, with the message. */
  errors: string[];
}

export interface GuacBenchSession {
  /** The engine's listener. */
  host: string;
  port: number;
  /** `select` argument: the protocol. */
  protocol: string;
  /** The `size` the client announces. */
  width: number;
  height: number;
  /** Connection parameters by name; the names the engine asks for and that are absent are sent empty. */
  params: Readonly<Record<string, string>>;
  /** Handshake instructions after `image`, e.g. [['timezone', 'UTC']]. */
  extra?: ReadonlyArray<[string, ...string[]]>;
  /** Put before each error message in the counters. */
  errorPrefix?: string;
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

export class GuacBenchClient {
  private readonly socket: Socket;
  private phase: 'args' | 'ready' | 'running' | 'closed' = 'args';
  private firstFrame: (() => void) | null = null;
  private fail: (e: Error) => void = () => {};
  private readonly keepAlive: NodeJS.Timeout;
  readonly times: SessionTimes = { opened: -1, connectSent: -1, ready: -1, firstSync: -1 };
  /** Resolves at the first `sync` after `ready`; rejects if the session ends before. */
  readonly firstSync: Promise<void>;

  constructor(
    private readonly s: GuacBenchSession,
    private readonly counters: GuacBenchCounters,
  ) {
    this.firstSync = new Promise((resolve, reject) => {
      this.firstFrame = resolve;
      this.fail = reject;
    });
    this.firstSync.catch(() => {});
    this.socket = openGuacSocket(s.host, s.port, {
      opened: () => {
        this.times.opened = performance.now();
        this.send('select', s.protocol);
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
      sendHandshake((op, ...a) => this.send(op, ...a), args, this.s.params, this.s, this.s.extra);
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
    this.counters.errors.push(`${this.s.errorPrefix ?? ''}${message}`);
    this.fail(new Error(message));
    this.socket.destroy();
  }
}
