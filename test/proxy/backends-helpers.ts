// Test plumbing for the proxy backends: a GuacSink that records (and can play "full"), and a scripted guacd
// (a TCP server in the test process whose connections the test drives instruction by instruction).
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import type { ClientInfo, GuacSink } from '../../src/engine/types.js';
import { encodeInstruction } from '../../src/protocol/guacamole/encoder.js';
import { GuacamoleParser, type Instruction } from '../../src/protocol/guacamole/parser.js';

export const CLIENT: ClientInfo = {
  width: 800,
  height: 600,
  dpi: 96,
  audio: [],
  video: [],
  image: ['image/png', 'image/jpeg'],
  timezone: 'Europe/Paris',
  name: 'alice',
  protocolVersion: 'VERSION_1_5_0',
};

/** Records what is written. `full` makes bufferedBytes report above the high-water mark until drain(). */
export class TestSink implements GuacSink {
  readonly highWaterMark = 64 * 1024;
  text = '';
  bytes = 0;
  writes = 0;
  /** Keep the text (off for floods: only bytes are counted). */
  keep = true;
  full = false;
  private drainers: (() => void)[] = [];
  private waiters: { test: () => boolean; resolve: () => void }[] = [];

  get bufferedBytes(): number {
    return this.full ? this.highWaterMark * 2 : 0;
  }

  write(instructions: string): void {
    this.writes++;
    this.bytes += Buffer.byteLength(instructions);
    if (this.keep) this.text += instructions;
    this.check();
  }

  onDrain(cb: () => void): void {
    if (this.full) this.drainers.push(cb);
    else setImmediate(cb);
  }

  /** The sink empties: registered drain callbacks run. */
  drain(): void {
    this.full = false;
    const drainers = this.drainers;
    this.drainers = [];
    for (const cb of drainers) cb();
  }

  get pendingDrains(): number {
    return this.drainers.length;
  }

  instructions(): Instruction[] {
    return new GuacamoleParser().feed(Buffer.from(this.text, 'utf8'));
  }

  /** Resolves once `test` holds after a write (or now), rejects after timeoutMs. */
  until(test: () => boolean, timeoutMs = 5000, what = 'the sink condition'): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${what} not met within ${timeoutMs} ms (sink has ${this.bytes} bytes)`));
      }, timeoutMs);
      const waiter = {
        test,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }

  private check(): void {
    const ready = this.waiters.filter((w) => w.test());
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }
}

export interface LogLine {
  level: string;
  obj: unknown;
  msg: string;
}

export function testLog(lines: LogLine[] = []) {
  const at =
    (level: string) =>
    (obj: object | string, msg?: string): void => {
      lines.push({ level, obj, msg: typeof obj === 'string' ? obj : (msg ?? '') });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** One connection accepted by the scripted guacd, seen from the server side. */
export class GuacdPeer {
  readonly received: Instruction[] = [];
  /** Every byte received, as text. */
  raw = '';
  readonly closed: Promise<void>;
  private readonly parser = new GuacamoleParser();
  private waiters: (() => void)[] = [];
  private read = 0;
  private isClosed = false;

  constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    void this.closed.then(() => {
      this.isClosed = true;
      this.wake();
    });
    socket.on('data', (chunk: Buffer) => {
      this.raw += chunk.toString('utf8');
      this.received.push(...this.parser.feed(chunk));
      this.wake();
    });
  }

  send(opcode: string, ...args: (string | number)[]): void {
    this.socket.write(encodeInstruction(opcode, ...args));
  }

  /** The next instruction received (rejects when the connection closed first or after timeoutMs). */
  async next(timeoutMs = 5000): Promise<Instruction> {
    const deadline = Date.now() + timeoutMs;
    while (this.read >= this.received.length) {
      if (this.isClosed) throw new Error('the connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`nothing received within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received[this.read++]!;
  }

  async expect(opcode: string, timeoutMs = 5000): Promise<Instruction> {
    const i = await this.next(timeoutMs);
    if (i.opcode !== opcode) throw new Error(`expected "${opcode}", got ${JSON.stringify(i)}`);
    return i;
  }

  /** Serves the handshake as guacd: `select` → args → everything up to `connect` → ready. */
  async handshake(
    argNames: string[],
    /** The version offered first in `args`; null: none (as guacd 1.0.0). */
    version: string | null = 'VERSION_1_5_0',
    id = '$test-connection',
  ): Promise<{ select: Instruction; info: Instruction[]; connect: Instruction }> {
    const select = await this.expect('select');
    this.send('args', ...(version ? [version] : []), ...argNames);
    const info: Instruction[] = [];
    for (;;) {
      const i = await this.next();
      if (i.opcode === 'connect') {
        this.send('ready', id);
        return { select, info, connect: i };
      }
      info.push(i);
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

export interface ScriptedGuacd {
  port: number;
  address: string;
  /** The next connection accepted. */
  accept(timeoutMs?: number): Promise<GuacdPeer>;
  close(): Promise<void>;
}

export async function startScriptedGuacd(host = '127.0.0.1'): Promise<ScriptedGuacd> {
  const peers: GuacdPeer[] = [];
  const all: GuacdPeer[] = [];
  let waiter: (() => void) | undefined;
  const server: Server = createServer((socket) => {
    const peer = new GuacdPeer(socket);
    peers.push(peer);
    all.push(peer);
    waiter?.();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    address: `guacd://${host.includes(':') ? `[${host}]` : host}:${port}`,
    async accept(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (peers.length === 0) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no connection within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiter = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      return peers.shift()!;
    },
    async close() {
      for (const p of all) p.socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Resolves with the promise's value, or rejects after ms. */
export async function within<T>(p: Promise<T>, ms: number, what = 'the promise'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
