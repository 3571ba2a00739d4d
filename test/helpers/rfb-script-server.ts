/**
 * A scripted RFB "server" for bad-input tests: a real TCP server on 127.0.0.1 that plays a byte script
 * to each connection (send bytes, wait for the client to send n bytes, pause, close or reset).
 * After the script the connection stays open until the client closes it or the server is closed.
 */
import { createServer, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { ascii, concat, serverInit, str32, u32 } from './rfb-bytes.js';

export type ScriptStep =
  | { send: Uint8Array | string }
  /** Wait until the client has sent this many more bytes (fails the connection after stepTimeoutMs). */
  | { expect: number }
  | { wait: number }
  /** Half-close (FIN) the connection. */
  | { close: true }
  /** Reset the connection. */
  | { destroy: true };

export interface ScriptServer {
  host: string;
  port: number;
  /** Bytes each connection received from the client, in connection order. */
  received: Uint8Array[];
  /** Per connection: 'done' when the script ran to its end, else why it stopped. */
  outcomes: Promise<string>[];
  close(): Promise<void>;
}

export async function startRfbScriptServer(
  script: ScriptStep[],
  opts: { stepTimeoutMs?: number } = {},
): Promise<ScriptServer> {
  const sockets = new Set<Socket>();
  const received: Uint8Array[] = [];
  const outcomes: Promise<string>[] = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const index = received.push(new Uint8Array(0)) - 1;
    let waiter: (() => void) | null = null;
    socket.on('data', (d: Buffer) => {
      received[index] = concat(received[index] as Uint8Array, d);
      waiter?.();
    });
    socket.on('close', () => waiter?.());
    outcomes.push(
      play(
        socket,
        script,
        () => (received[index] as Uint8Array).length,
        (w) => {
          waiter = w;
        },
        opts.stepTimeoutMs ?? 5000,
      ),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    host: '127.0.0.1',
    port: address.port,
    received,
    outcomes,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function play(
  socket: Socket,
  script: ScriptStep[],
  receivedLength: () => number,
  setWaiter: (w: (() => void) | null) => void,
  stepTimeoutMs: number,
): Promise<string> {
  let expected = 0;
  for (const step of script) {
    if (socket.destroyed) return 'client closed';
    if ('send' in step) {
      socket.write(typeof step.send === 'string' ? ascii(step.send) : step.send);
    } else if ('expect' in step) {
      expected += step.expect;
      const deadline = Date.now() + stepTimeoutMs;
      while (receivedLength() < expected) {
        if (socket.destroyed) return 'client closed';
        const left = deadline - Date.now();
        if (left <= 0) {
          socket.destroy();
          return `timed out waiting for ${expected} bytes (got ${receivedLength()})`;
        }
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          setWaiter(() => {
            clearTimeout(t);
            resolve();
          });
        });
        setWaiter(null);
      }
    } else if ('wait' in step) {
      await delay(step.wait);
    } else if ('close' in step) {
      socket.end();
    } else {
      socket.destroy();
    }
  }
  return 'done';
}

export interface HandshakeScriptOptions {
  version?: '3.3' | '3.7' | '3.8';
  /** 'none', or VNC Authentication whose SecurityResult is `accept`. */
  security?: 'none' | { accept: boolean };
  width?: number;
  height?: number;
  name?: string;
}

/** The server side of a complete handshake, up to and including ServerInit (or the auth failure). */
export function handshakeScript(o: HandshakeScriptOptions = {}): ScriptStep[] {
  const version = o.version ?? '3.8';
  const vnc = o.security !== undefined && o.security !== 'none';
  const accept = o.security === undefined || o.security === 'none' || o.security.accept;
  const steps: ScriptStep[] = [{ send: `RFB 003.00${version.slice(2)}\n` }, { expect: 12 }];
  const type = vnc ? 2 : 1;
  if (version === '3.3') steps.push({ send: Uint8Array.from(u32(type)) });
  else steps.push({ send: Uint8Array.of(1, type) }, { expect: 1 });
  if (vnc) steps.push({ send: new Uint8Array(16).fill(0x5a) }, { expect: 16 });
  if (vnc || version === '3.8') {
    steps.push({ send: Uint8Array.from(u32(accept ? 0 : 1)) });
    if (!accept) {
      if (version === '3.8') steps.push({ send: str32('Authentication failed') });
      return [...steps, { close: true }];
    }
  }
  steps.push({ expect: 1 }, { send: serverInit(o.width ?? 64, o.height ?? 48, o.name ?? 'scripted') });
  return steps;
}
