// Free TCP ports on the loopback interface, and waiting for a server to accept on one.
import { connect, createServer } from 'node:net';
import { sleep } from './processes.js';

export const LOOPBACK = '127.0.0.1';

/**
 * A TCP port on 127.0.0.1 that nothing listens on right now (the kernel picks it). Another process may take
 * it before the caller binds it, so servers started on it should retry on "address in use".
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** Whether a TCP connection to host:port is accepted within timeoutMs (the connection is closed at once). */
export function canConnect(port: number, host = LOOPBACK, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Waits until host:port accepts a TCP connection. `gaveUp` is checked between tries: when it returns a
 * message (the server process exited, say) the wait fails with it at once instead of running out the clock.
 */
export async function waitForPort(
  port: number,
  timeoutMs: number,
  gaveUp: () => string | undefined = () => undefined,
  host = LOOPBACK,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reason = gaveUp();
    if (reason !== undefined) throw new Error(reason);
    if (await canConnect(port, host, 500)) return;
    if (Date.now() >= deadline) throw new Error(`nothing accepted on ${host}:${port} within ${timeoutMs} ms`);
    await sleep(50);
  }
}
