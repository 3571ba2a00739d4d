// A guacd client for tests: a TCP socket with an instruction queue, and the handshake performed the way
// guacamole-client's Java ConfiguredGuacamoleSocket performs it (reference section 2):
//   select → expect args → size, audio, video, image, timezone (>= 1.1.0), name (>= 1.5.0) → connect with
//   version = min(server's, client's) → expect ready.
// A 1.0.0 client predates version negotiation: it takes the server's VERSION_x_y_z for a parameter name
// and answers "" for it (and never sends timezone or name).
import { connect, type Socket } from 'node:net';
import { encodeInstruction } from '../../src/protocol/guacamole/encoder.js';
import { GuacamoleParser, type Instruction } from '../../src/protocol/guacamole/parser.js';

export const CLIENT_VERSIONS = ['VERSION_1_0_0', 'VERSION_1_1_0', 'VERSION_1_3_0', 'VERSION_1_5_0'] as const;
export type ClientVersion = (typeof CLIENT_VERSIONS)[number];

export class ClosedError extends Error {
  override readonly name = 'ClosedError';
}

export class GuacTestClient {
  readonly socket: Socket;
  private readonly parser = new GuacamoleParser();
  private readonly queue: Instruction[] = [];
  private waiters: { resolve: (i: Instruction) => void; reject: (e: Error) => void }[] = [];
  private ended = false;
  private failure: Error | undefined;
  /** Resolves when the socket has closed. */
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const instruction of this.parser.feed(chunk)) this.push(instruction);
      } catch (err) {
        this.stop(err as Error);
        socket.destroy();
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => this.stop(new ClosedError('connection closed')));
  }

  static open(port: number, host = '127.0.0.1'): Promise<GuacTestClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host, noDelay: true });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new GuacTestClient(socket));
      });
    });
  }

  send(opcode: string, ...args: (string | number)[]): void {
    this.socket.write(encodeInstruction(opcode, ...args));
  }

  sendRaw(text: string | Uint8Array): void {
    this.socket.write(text);
  }

  /** The next instruction from the server; rejects with ClosedError once the socket closed, or on timeout. */
  next(timeoutMs = 5000): Promise<Instruction> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.ended) return Promise.reject(this.failure ?? new ClosedError('connection closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no instruction within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = {
        resolve: (i: Instruction) => {
          clearTimeout(timer);
          resolve(i);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** The next instruction that is not `nop`. */
  async nextNonNop(timeoutMs = 5000): Promise<Instruction> {
    for (;;) {
      const i = await this.next(timeoutMs);
      if (i.opcode !== 'nop') return i;
    }
  }

  /** The next instruction, which must have `opcode` (nops skipped). */
  async expect(opcode: string, timeoutMs = 5000): Promise<Instruction> {
    const i = await this.nextNonNop(timeoutMs);
    if (i.opcode !== opcode) {
      throw new Error(`expected "${opcode}" but received "${i.opcode}" (${JSON.stringify(i.args)})`);
    }
    return i;
  }

  /** Resolves when the server closed the connection, rejects after timeoutMs. */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  private push(instruction: Instruction): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(instruction);
    else this.queue.push(instruction);
  }

  private stop(error: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(error);
  }
}

export interface JavaHandshakeOptions {
  protocol: string;
  /** The newest version the client speaks. */
  clientVersion: ClientVersion;
  /** Parameter values by name (unset ones are sent as ""). */
  params?: Record<string, string>;
  width?: number;
  height?: number;
  dpi?: number;
  audio?: string[];
  video?: string[];
  image?: string[];
  timezone?: string;
  name?: string;
}

export interface JavaHandshakeResult {
  /** Parameter names from `args` (the version element removed when the client understood it). */
  argNames: string[];
  /** What the server offered first in `args`. */
  serverVersion: string;
  /** What the client put in the first element of `connect`. */
  versionAnswer: string;
  /** The connection id from `ready`. */
  connectionId: string;
}

const versionNumber = (v: string): number[] => v.slice('VERSION_'.length).split('_').map(Number);
const atLeast = (a: string, b: string): boolean => {
  const [x, y] = [versionNumber(a), versionNumber(b)];
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0);
  return true;
};
const isVersion = (s: string): boolean => /^VERSION_\d+_\d+_\d+$/.test(s);

/** Performs the handshake as guacamole-client's ConfiguredGuacamoleSocket at `clientVersion` does. */
export async function javaHandshake(
  client: GuacTestClient,
  o: JavaHandshakeOptions,
): Promise<JavaHandshakeResult> {
  client.send('select', o.protocol);
  const args = await client.expect('args');
  const names = args.args;
  const values: string[] = [];
  let negotiated: string = 'VERSION_1_0_0';
  names.forEach((name, i) => {
    if (i === 0 && o.clientVersion !== 'VERSION_1_0_0' && isVersion(name)) {
      negotiated = atLeast(name, o.clientVersion) ? o.clientVersion : name;
      values.push(negotiated);
      return;
    }
    values.push(o.params?.[name] ?? '');
  });
  client.send('size', o.width ?? 1024, o.height ?? 768, o.dpi ?? 96);
  client.send('audio', ...(o.audio ?? []));
  client.send('video', ...(o.video ?? []));
  client.send('image', ...(o.image ?? ['image/png', 'image/jpeg']));
  if (
    o.timezone !== undefined &&
    o.clientVersion !== 'VERSION_1_0_0' &&
    atLeast(negotiated, 'VERSION_1_1_0')
  ) {
    client.send('timezone', o.timezone);
  }
  if (o.name !== undefined && o.clientVersion !== 'VERSION_1_0_0' && atLeast(negotiated, 'VERSION_1_5_0')) {
    client.send('name', o.name);
  }
  client.send('connect', ...values);
  const ready = await client.expect('ready');
  if (ready.args.length === 0) throw new Error('No connection ID received');
  const understood = o.clientVersion !== 'VERSION_1_0_0' && isVersion(names[0] ?? '');
  return {
    argNames: understood ? names.slice(1) : names,
    serverVersion: names[0] ?? '',
    versionAnswer: values[0] ?? '',
    connectionId: ready.args[0]!,
  };
}
