// Stand-ins for connection proxies in health-check tests: a node:http server that counts requests and
// connections, a TCP server that accepts and never answers, and a port nothing listens on.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { freePort, LOOPBACK } from '../e2e/helpers/free-port.js';

export interface CountingServer {
  url: string;
  port: number;
  /** Requests answered (or taken) so far, connections accepted so far, connections closed so far. */
  hits: number;
  connections: number;
  closedConnections: number;
  close(): Promise<void>;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** A /health stand-in answering `status` with a health-like JSON body. */
export const answer =
  (status: number, state = status === 200 ? 'ok' : 'draining'): Handler =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: state, draining: state === 'draining', sessions: 0, managers: [] }));
  };

function track(
  server: net.Server,
  counters: { connections: number; closedConnections: number },
): Set<net.Socket> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    counters.connections++;
    sockets.add(socket);
    socket.on('close', () => {
      counters.closedConnections++;
      sockets.delete(socket);
    });
  });
  return sockets;
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve());
  });
  return (server.address() as net.AddressInfo).port;
}

function closer(server: net.Server, sockets: Set<net.Socket>): () => Promise<void> {
  return async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}

/** An HTTP (or, with tls, HTTPS) server running `handler` for every request, counting. */
export async function countingServer(
  handler: Handler,
  tls?: { cert: string; key: string },
): Promise<CountingServer> {
  const state = { hits: 0, connections: 0, closedConnections: 0 };
  const onRequest: Handler = (req, res) => {
    state.hits++;
    handler(req, res);
  };
  const server = tls ? https.createServer({ ...tls }, onRequest) : http.createServer(onRequest);
  const sockets = track(server, state);
  const port = await listen(server);
  const close = closer(server, sockets);
  return {
    url: `${tls ? 'https' : 'http'}://${LOOPBACK}:${port}`,
    port,
    get hits() {
      return state.hits;
    },
    get connections() {
      return state.connections;
    },
    get closedConnections() {
      return state.closedConnections;
    },
    close,
  };
}

/** A TCP server that accepts connections and never sends a byte. */
export async function hangingServer(): Promise<CountingServer> {
  const state = { hits: 0, connections: 0, closedConnections: 0 };
  const server = net.createServer((socket) => {
    socket.on('data', () => {});
    socket.on('error', () => {});
  });
  const sockets = track(server, state);
  const port = await listen(server);
  return {
    url: `http://${LOOPBACK}:${port}`,
    port,
    get hits() {
      return state.connections;
    },
    get connections() {
      return state.connections;
    },
    get closedConnections() {
      return state.closedConnections;
    },
    close: closer(server, sockets),
  };
}

/** The URL of a loopback port nothing listens on (connections are refused). */
export async function closedPortUrl(): Promise<string> {
  return `http://${LOOPBACK}:${await freePort()}`;
}
