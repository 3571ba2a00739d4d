// Plumbing for engine-level VNC tests: the guacd-compatible listener serving a real VncEngine (short
// timeouts, capturing logger), a Guacamole test client connected through it to a scripted RFB server,
// and a parser for the bytes the engine sent to that server.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { type GuacdServer, startGuacdServer } from '../../src/engine/guacd/server.js';
import { VncEngine } from '../../src/engine/vnc/index.js';
import type { VncTimeouts } from '../../src/engine/vnc/session.js';
import type { Instruction } from '../../src/protocol/guacamole/parser.js';
import { GuacTestClient, javaHandshake } from './guacd-client.js';
import { captureLog, type LogRecord } from './guacd-echo.js';
import { concat, fbUpdate, rawData, serverInit, u32 } from './rfb-bytes.js';
import {
  handshakeScript,
  type ScriptServer,
  type ScriptStep,
  startRfbScriptServer,
} from './rfb-script-server.js';

export const VNC_TEST_TIMEOUTS: Partial<VncTimeouts> = {
  connectMs: 1000,
  handshakeMs: 300,
  resizeDebounceMs: 20,
};

export interface VncHarness {
  server: GuacdServer;
  logs: LogRecord[];
  port: number;
  /** A Guacamole client through the listener's handshake to `vnc` with these parameters (after `ready`). */
  connect(params: Record<string, string>): Promise<GuacTestClient>;
  /** Starts a scripted RFB server, closed by close(). */
  script(steps: ScriptStep[]): Promise<ScriptServer>;
  /** Starts a hand-driven RFB server (see startRfbPeer), closed by close(). */
  peer(width?: number, height?: number): Promise<RfbPeer>;
  close(): Promise<void>;
}

export async function vncHarness(timeouts: Partial<VncTimeouts> = VNC_TEST_TIMEOUTS): Promise<VncHarness> {
  const logs: LogRecord[] = [];
  const server = await startGuacdServer({
    host: '127.0.0.1',
    port: 0,
    engines: [new VncEngine(timeouts)],
    log: captureLog(logs),
  });
  const clients: GuacTestClient[] = [];
  const scripts: { close(): Promise<void> }[] = [];
  return {
    server,
    logs,
    port: server.address.port,
    async connect(params) {
      const c = await GuacTestClient.open(server.address.port);
      clients.push(c);
      await javaHandshake(c, { protocol: 'vnc', clientVersion: 'VERSION_1_5_0', params });
      return c;
    },
    async script(steps) {
      const s = await startRfbScriptServer(steps);
      scripts.push(s);
      return s;
    },
    async peer(width, height) {
      const p = await startRfbPeer(width, height);
      scripts.push(p);
      return p;
    },
    async close() {
      for (const c of clients) c.destroy();
      await Promise.all(scripts.map((s) => s.close()));
      await server.close();
    },
  };
}

/** Parameters reaching a scripted server. */
export const target = (s: { port: number }, extra: Record<string, string> = {}): Record<string, string> => ({
  hostname: '127.0.0.1',
  port: String(s.port),
  ...extra,
});

/**
 * Reads instructions until `error`; asserts its status and message, then that the connection closes.
 * Returns the instructions received before the error.
 */
export async function expectVncError(
  c: GuacTestClient,
  status: number,
  message: RegExp,
): Promise<Instruction[]> {
  const before: Instruction[] = [];
  for (;;) {
    const i = await c.nextNonNop(5000);
    if (i.opcode === 'error') {
      assert.equal(i.args[1], String(status), `status of ${JSON.stringify(i.args)}`);
      assert.match(i.args[0] ?? '', message);
      break;
    }
    before.push(i);
    assert.ok(before.length < 10_000, 'no error received');
  }
  await c.waitClosed();
  return before;
}

/** The first `vnc:` warning logged from `logs[from]` on with this status (its text without the prefix). */
export function endLogLine(logs: LogRecord[], status: number, from = 0): string | undefined {
  const line = logs
    .slice(from)
    .find(
      (r) =>
        r.level === 'warn' && r.msg.startsWith('vnc: ') && (r.obj as { status?: unknown }).status === status,
    );
  return line?.msg.slice('vnc: '.length);
}

/** Polls until cond() holds. */
export async function waitUntil(what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

/** Runs a healthy session (3.8, None, 64x48) through the listener: proof that it still serves. */
export async function assertServesHealthySession(h: VncHarness): Promise<void> {
  const s = await h.script([
    ...handshakeScript({ version: '3.8', security: 'none', width: 64, height: 48 }),
    { send: fbUpdate([{ x: 0, y: 0, w: 2, h: 2, encoding: 0, data: rawData(2, 2, () => 0xff0000) }]) },
  ]);
  const c = await h.connect(target(s));
  let i = await c.nextNonNop();
  if (i.opcode === 'name') i = await c.nextNonNop();
  assert.equal(i.opcode, 'size');
  assert.deepEqual(i.args, ['0', '64', '48']);
  c.send('disconnect');
  await c.waitClosed();
  await s.close();
}

// ---- what the engine sent to the RFB server ----

export interface ClientMessage {
  type: number;
  bytes: Uint8Array;
}

/** Splits the client-to-server bytes after the handshake (starting at `offset`) into messages. */
export function clientMessages(data: Uint8Array, offset: number): ClientMessage[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: ClientMessage[] = [];
  let o = offset;
  while (o < data.length) {
    const type = data[o] as number;
    let len: number;
    if (type === 0) len = 20;
    else if (type === 2) len = o + 4 <= data.length ? 4 + 4 * view.getUint16(o + 2) : 4;
    else if (type === 3) len = 10;
    else if (type === 4) len = 8;
    else if (type === 5) len = 6;
    else if (type === 6) len = o + 8 <= data.length ? 8 + Math.abs(view.getInt32(o + 4)) : 8;
    else if (type === 251) len = o + 8 <= data.length ? 8 + 16 * (data[o + 6] as number) : 8;
    else throw new Error(`unknown client message type ${type} at ${o}`);
    if (o + len > data.length) break; // incomplete: more may come
    out.push({ type, bytes: data.subarray(o, o + len) });
    o += len;
  }
  return out;
}

/** Client bytes before the first message for a 3.7/3.8 server: version (12), type (1), auth (16), init (1). */
export const handshakeBytes = (vncAuth: boolean): number => 12 + 1 + (vncAuth ? 16 : 0) + 1;

// ---- a hand-driven RFB server ----

/** One connection's server side, driven by the test: send bytes when it wants, inspect what arrived. */
export interface RfbPeer {
  port: number;
  /** Bytes received from the engine so far. */
  readonly received: Uint8Array;
  /** Messages received after the handshake. */
  messages(): ClientMessage[];
  send(bytes: Uint8Array): void;
  /** Stops reading from the socket (the engine's writes pile up). */
  pauseReading(): void;
  /** Aborts the connection with a TCP reset. */
  reset(): void;
  /** Resolves when the engine closed the connection. */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/**
 * A server that performs an RFB 3.8 handshake with security None and a width×height ServerInit on its
 * first connection, then leaves the rest to the test.
 */
export async function startRfbPeer(width = 64, height = 48, name = 'peer'): Promise<RfbPeer> {
  let socket: Socket | undefined;
  let received: Uint8Array = new Uint8Array(0);
  let closedResolve!: () => void;
  const closed = new Promise<void>((resolve) => {
    closedResolve = resolve;
  });
  const server = createServer((s) => {
    if (socket) {
      s.destroy();
      return;
    }
    socket = s;
    s.on('error', () => {});
    s.on('close', () => closedResolve());
    s.write('RFB 003.008\n');
    let step = 0;
    s.on('data', (d: Buffer) => {
      received = concat(received, d);
      if (step === 0 && received.length >= 12) {
        s.write(Uint8Array.of(1, 1));
        step++;
      }
      if (step === 1 && received.length >= 13) {
        s.write(Uint8Array.from(u32(0)));
        step++;
      }
      if (step === 2 && received.length >= 14) {
        s.write(serverInit(width, height, name));
        step++;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get received() {
      return received;
    },
    messages: () => clientMessages(received, handshakeBytes(false)),
    send: (bytes) => socket?.write(bytes),
    pauseReading: () => socket?.pause(),
    reset: () => socket?.resetAndDestroy(),
    closed,
    close: () =>
      new Promise<void>((resolve) => {
        socket?.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A TCP port on 127.0.0.1 whose SYNs go unanswered: a python3 listener with backlog 0 that never accepts,
 * its accept queue filled by our own connections. Null when python3 is not available.
 */
export async function startBlackhole(): Promise<{ port: number; close(): void } | null> {
  const code =
    'import socket,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\n' +
    'print(s.getsockname()[1],flush=True)\ntime.sleep(60)';
  const py = spawn('python3', ['-c', code], { stdio: ['ignore', 'pipe', 'ignore'] });
  const fillers: Socket[] = [];
  const close = (): void => {
    for (const s of fillers) s.destroy();
    py.kill();
  };
  const port = await new Promise<number | null>((resolve) => {
    py.once('error', () => resolve(null));
    py.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
  });
  if (port === null) return null;
  for (let i = 0; i < 8; i++) {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => {});
    fillers.push(s);
    const connected = await Promise.race([
      new Promise<boolean>((resolve) => s.once('connect', () => resolve(true))),
      delay(200).then(() => false),
    ]);
    if (!connected) return { port, close };
  }
  close();
  return null;
}
