/**
 * A lean Guacamole client of the engine (no browser): the guacd handshake in the order guacamole-client's
 * ConfiguredGuacamoleSocket uses (select → args → size, audio, video, image → connect with VERSION_1_5_0
 * → ready), then it only counts what arrives and answers every `sync,<ts>` with `sync,<ts>` at once, as a
 * browser that keeps up would (those answers are the engine's frame pacing), plus a `nop` every 5 s as
 * guacamole-common-js sends.
 */
import { connect, type Socket } from 'node:net';
import { encodeInstruction } from '../../src/protocol/guacamole/encoder.js';
import { GuacamoleParser, type Instruction } from '../../src/protocol/guacamole/parser.js';
import type { ConsumerStats } from './consumer-protocol.js';

export const CLIENT_IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp'];
const CLIENT_VERSION = 'VERSION_1_5_0';
/** guacamole-common-js's Guacamole.Client sends `nop` this often, so an idle session is not dropped. */
const KEEP_ALIVE_MS = 5000;

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
  private readonly parser = new GuacamoleParser();
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
    this.socket = connect({ host: t.host, port: t.port, noDelay: true });
    this.socket.on('connect', () => this.send('select', 'vnc'));
    this.keepAlive = setInterval(() => {
      if (this.phase === 'running') this.send('nop');
    }, KEEP_ALIVE_MS);
    this.socket.on('data', (chunk: Buffer) => {
      stats.bytesIn += chunk.length;
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

  close(): void {
    this.phase = 'closed';
    clearInterval(this.keepAlive);
    this.socket.destroy();
  }

  private send(opcode: string, ...args: (string | number)[]): void {
    if (this.phase !== 'closed') this.socket.write(encodeInstruction(opcode, ...args));
  }

  private onInstruction({ opcode, args }: Instruction): void {
    const s = this.stats;
    if (this.phase === 'args') {
      if (opcode !== 'args') {
        this.end(`expected args, got ${opcode}`);
        return;
      }
      const params: Record<string, string> = { hostname: this.t.vncHost, port: String(this.t.vncPort) };
      const values = args.map((name, i) =>
        i === 0 && name.startsWith('VERSION_') ? CLIENT_VERSION : (params[name] ?? ''),
      );
      this.send('size', this.t.width, this.t.height, 96);
      this.send('audio');
      this.send('video');
      this.send('image', ...CLIENT_IMAGE_TYPES);
      this.send('connect', ...values);
      this.phase = 'ready';
      return;
    }
    if (this.phase === 'ready') {
      if (opcode === 'error') this.end(`engine refused the connection: ${args.join(' ')}`);
      else if (opcode === 'ready') this.phase = 'running';
      return;
    }
    if (this.phase !== 'running') return;
    s.instructions[opcode] = (s.instructions[opcode] ?? 0) + 1;
    switch (opcode) {
      case 'sync': {
        this.send('sync', args[0] ?? '0');
        s.frames++;
        s.serverFrames += Math.max(1, Number(args[1] ?? 1) || 1);
        this.firstFrame?.();
        this.firstFrame = null;
        break;
      }
      case 'img': {
        const type = args[3] ?? '?';
        s.images[type] = (s.images[type] ?? 0) + 1;
        break;
      }
      case 'blob':
        s.blobChars += (args[1] ?? '').length;
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
    this.stats.errors.push(`guac: ${message}`);
    this.fail(new Error(message));
    this.socket.destroy();
  }
}
