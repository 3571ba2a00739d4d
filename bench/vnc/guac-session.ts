/**
 * A lean Guacamole client of the engine (no browser): the guacd handshake in the order guacamole-client's
 * ConfiguredGuacamoleSocket uses (select → args → size, audio, video, image → connect with VERSION_1_5_0
 * → ready), then it only counts what arrives and answers every `sync,<ts>` with `sync,<ts>` at once, as a
 * browser that keeps up would (those answers are the engine's frame pacing), plus a `nop` every 5 s as
 * guacamole-common-js sends.
 */
import type { Socket } from 'node:net';
import { encodeInstruction } from '../../src/protocol/guacamole/encoder.js';
import type { Instruction } from '../../src/protocol/guacamole/parser.js';
import { countInstruction, KEEP_ALIVE_MS, openGuacSocket, sendHandshake } from '../helpers/guac-counting.js';
import type { ConsumerStats } from './consumer-protocol.js';

export { CLIENT_IMAGE_TYPES } from '../helpers/guac-counting.js';

export interface GuacTarget {
  host: string;
  port: number;
  vncHost: string;
  vncPort: number;
  width: number;
  height: number;
}

export class GuacSession {
  private readonly socket: Socket;
  private phase: 'args' | 'ready' | 'running' | 'closed' = 'args';
  private firstFrame: (() => void) | null = null;
  private fail: (e: Error) => void = () => {};
  private readonly keepAlive: NodeJS.Timeout;
  /** Resolves at the first `sync` after `ready`; rejects if the session ends before. */
  readonly ready: Promise<void>;

  constructor(
    private readonly t: GuacTarget,
    private readonly stats: ConsumerStats,
  ) {
    this.ready = new Promise((resolve, reject) => {
      this.firstFrame = resolve;
      this.fail = reject;
    });
    this.ready.catch(() => {});
    this.socket = openGuacSocket(t.host, t.port, {
      opened: () => {
        this.send('select', 'vnc');
      },
      bytes: (n) => {
        stats.bytesIn += n;
      },
      instruction: (i) => this.onInstruction(i),
      ended: (message) => this.end(message),
    });
    this.keepAlive = setInterval(() => {
      if (this.phase === 'running') this.send('nop');
    }, KEEP_ALIVE_MS);
  }

  close(): void {
    this.phase = 'closed';
    clearInterval(this.keepAlive);
    this.socket.destroy();
  }

  private send(opcode: string, ...args: (string | number)[]): void {
    if (this.phase !== 'closed') this.socket.write(encodeInstruction(opcode, ...args));
  }

  private onInstruction({ opcode, args }: Instruction): void {
    if (this.phase === 'args') {
      if (opcode !== 'args') {
        this.end(`expected args, got ${opcode}`);
        return;
      }
      const params: Record<string, string> = { hostname: this.t.vncHost, port: String(this.t.vncPort) };
      sendHandshake((op, ...a) => this.send(op, ...a), args, params, this.t);
      this.phase = 'ready';
      return;
    }
    if (this.phase === 'ready') {
      if (opcode === 'error') this.end(`engine refused the connection: ${args.join(' ')}`);
      else if (opcode === 'ready') this.phase = 'running';
      return;
    }
    if (this.phase !== 'running') return;
    countInstruction(this.stats, opcode, args);
    if (opcode === 'sync') {
      this.send('sync', args[0] ?? '0');
      this.firstFrame?.();
      this.firstFrame = null;
    } else if (opcode === 'error') this.end(`engine error: ${args.join(' ')}`);
  }

  private end(message: string): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    clearInterval(this.keepAlive);
    this.stats.errors.push(`guac: ${message}`);
    this.fail(new Error(message));
    this.socket.destroy();
  }
}
