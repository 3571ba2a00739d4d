/**
 * The guacd-compatible listener (`gatehouse engine --listen HOST:PORT`): a TCP server speaking guacd's wire
 * protocol, so stock Guacamole software (guacamole-client, guacamole-lite) can use Gatehouse as its guacd.
 * Each accepted socket is one GuacdConnection: handshake, then one engine session. See docs/engine.md.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { STATUS } from '../../protocol/guacamole/status.js';
import type { ProtocolEngine, SessionEnd } from '../types.js';
import { DEFAULT_TIMEOUTS, GuacdConnection, type GuacdLogger, type GuacdTimeouts } from './connection.js';

export { DEFAULT_TIMEOUTS, type GuacdLogger, type GuacdTimeouts } from './connection.js';

export interface GuacdServerOptions {
  /** Address to bind; default 127.0.0.1. */
  host?: string;
  /** Port to bind; default 4822 (0 picks a free port). */
  port?: number;
  /** The protocol engines served; their `protocol` names must be distinct. */
  engines: readonly ProtocolEngine[];
  log: GuacdLogger;
  timeouts?: Partial<GuacdTimeouts>;
  /** GuacSink high-water mark per session, in bytes (default 1 MiB). */
  highWaterMark?: number;
  /** Output queued for one client above which its session ends and it is dropped (default 64 MiB). */
  maxQueuedBytes?: number;
  /** Makes the connection ids sent in `ready` (tests); default `$` + random UUID. */
  newConnectionId?: () => string;
}

export interface GuacdServerAddress {
  host: string;
  port: number;
  family: string;
}

export interface GuacdServer {
  readonly address: GuacdServerAddress;
  /** Connections currently open (in handshake or in session). */
  readonly connections: number;
  /**
   * Stops listening and ends every connection: each client gets `error` with `reason` (default
   * SESSION_CLOSED "The server is shutting down"). Resolves when every socket has closed.
   */
  close(reason?: SessionEnd): Promise<void>;
}

export const DEFAULT_GUACD_HOST = '127.0.0.1';
export const DEFAULT_GUACD_PORT = 4822;

const SHUTDOWN: SessionEnd = { status: STATUS.SESSION_CLOSED, message: 'The server is shutting down' };

function checkTimeouts(timeouts: GuacdTimeouts): void {
  for (const [name, value] of Object.entries(timeouts)) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new RangeError(`guacd timeout ${name} must be a positive number of ms, got ${String(value)}`);
    }
  }
}

function checkEngines(engines: readonly ProtocolEngine[]): void {
  const seen = new Set<string>();
  for (const engine of engines) {
    if (typeof engine.protocol !== 'string' || engine.protocol === '' || engine.protocol.startsWith('$')) {
      throw new TypeError(
        `engine protocol name ${JSON.stringify(engine.protocol)} is not usable in "select"`,
      );
    }
    if (seen.has(engine.protocol)) throw new TypeError(`two engines serve protocol "${engine.protocol}"`);
    seen.add(engine.protocol);
  }
}

/** Binds the listener; rejects if the address cannot be bound (EADDRINUSE, EACCES, ...). */
export async function startGuacdServer(options: GuacdServerOptions): Promise<GuacdServer> {
  const timeouts: GuacdTimeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  checkTimeouts(timeouts);
  checkEngines(options.engines);
  const engines = [...options.engines];
  const log = options.log;
  const open = new Set<GuacdConnection>();
  let counter = 0;
  let closing: Promise<void> | undefined;

  const server: Server = createServer({ noDelay: true }, (socket: Socket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    const n = ++counter;
    const bindings = { conn: n, remote: `${socket.remoteAddress}:${socket.remotePort}` };
    try {
      const connection = new GuacdConnection(socket, {
        engines,
        timeouts,
        log: typeof log.child === 'function' ? log.child(bindings) : log,
        ...(options.highWaterMark !== undefined ? { highWaterMark: options.highWaterMark } : {}),
        ...(options.maxQueuedBytes !== undefined ? { maxQueuedBytes: options.maxQueuedBytes } : {}),
        ...(options.newConnectionId ? { newConnectionId: options.newConnectionId } : {}),
      });
      open.add(connection);
      void connection.closed.then(() => open.delete(connection));
    } catch (err) {
      log.error({ err, ...bindings }, `guacd listener: cannot set up connection ${n}`);
      socket.destroy();
    }
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(options.port ?? DEFAULT_GUACD_PORT, options.host ?? DEFAULT_GUACD_HOST, () => {
      server.off('error', onError);
      resolve();
    });
  });
  // After listening, an accept error (EMFILE, ...) is logged; the listener keeps going.
  server.on('error', (err) => log.error({ err }, `guacd listener error: ${err.message}`));

  const bound = server.address();
  if (bound === null || typeof bound === 'string') throw new Error('guacd listener has no TCP address');
  const address: GuacdServerAddress = { host: bound.address, port: bound.port, family: bound.family };

  return {
    address,
    get connections() {
      return open.size;
    },
    close(reason: SessionEnd = SHUTDOWN) {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        const connections = [...open];
        for (const connection of connections) connection.shutdown(reason);
        await Promise.all([stopped, ...connections.map((c) => c.closed)]);
      })();
      return closing;
    },
  };
}
