// A minimal WebSocket server (RFC 6455) on 127.0.0.1 for the end-to-end tests: it lets a test play the
// server side of a Guacamole WebSocket tunnel by hand. Text and binary messages (fragmented or not), ping →
// pong, close handshake; messages over 1 MiB close the connection with 1009. Not for production use.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { LOOPBACK } from './free-port.js';

const ACCEPT_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MAX_MESSAGE = 1024 * 1024;

export interface WsClose {
  code: number | null;
  reason: string;
}

export interface WsConnection {
  /** The request path and query, e.g. '/?token=abc'. */
  readonly url: string;
  /** The subprotocol chosen (the client's first), or null. */
  readonly protocol: string | null;
  /** Called for each complete text message (binary ones are decoded as UTF-8 too). */
  onMessage: (text: string) => void;
  send(text: string): void;
  /** Sends a close frame and ends the connection. */
  close(code?: number, reason?: string): void;
  /** Resolves when the connection is gone, with the close code the client sent (null if none). */
  readonly closed: Promise<WsClose>;
}

export interface MiniWsServer {
  /** ws://127.0.0.1:PORT/ */
  url: string;
  port: number;
  connections: WsConnection[];
  close(): Promise<void>;
}

function frame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  let head: Buffer;
  if (len < 126) head = Buffer.from([0x80 | opcode, len]);
  else if (len < 65536) {
    head = Buffer.alloc(4);
    head.writeUInt16BE(len, 2);
    head[1] = 126;
  } else {
    head = Buffer.alloc(10);
    head.writeBigUInt64BE(BigInt(len), 2);
    head[1] = 127;
  }
  head[0] = 0x80 | opcode;
  return Buffer.concat([head, payload]);
}

function accept(req: IncomingMessage, socket: Socket): WsConnection | null {
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || req.headers.upgrade?.toLowerCase() !== 'websocket') {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    return null;
  }
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  const protocol = offered[0] ? offered[0] : null;
  const acceptKey = createHash('sha1')
    .update(key + ACCEPT_GUID)
    .digest('base64');
  const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade'];
  lines.push(`Sec-WebSocket-Accept: ${acceptKey}`);
  if (protocol) lines.push(`Sec-WebSocket-Protocol: ${protocol}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  socket.setNoDelay(true);

  let buffered = Buffer.alloc(0);
  let fragments: Buffer[] = [];
  let fragmentBytes = 0;
  let closeInfo: WsClose = { code: null, reason: '' };
  let closing = false;
  let resolveClosed!: (c: WsClose) => void;
  const closed = new Promise<WsClose>((resolve) => {
    resolveClosed = resolve;
  });
  socket.once('close', () => resolveClosed(closeInfo));
  socket.on('error', () => {});

  const conn: WsConnection = {
    url: req.url ?? '/',
    protocol,
    onMessage: () => {},
    send(text) {
      if (!closing && socket.writable) socket.write(frame(1, Buffer.from(text, 'utf8')));
    },
    close(code = 1000, reason = '') {
      if (closing) return;
      closing = true;
      const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
      payload.writeUInt16BE(code, 0);
      payload.write(reason, 2);
      if (socket.writable) socket.end(frame(8, payload));
      setTimeout(() => socket.destroy(), 1000).unref();
    },
    closed,
  };

  const handle = (opcode: number, fin: boolean, payload: Buffer): void => {
    if (opcode === 8) {
      if (payload.length >= 2)
        closeInfo = { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString() };
      conn.close(closeInfo.code ?? 1000);
      return;
    }
    if (opcode === 9) {
      if (socket.writable) socket.write(frame(10, payload));
      return;
    }
    if (opcode === 10) return;
    if (opcode !== 0 && opcode !== 1 && opcode !== 2) {
      conn.close(1002, 'bad opcode');
      return;
    }
    fragments.push(payload);
    fragmentBytes += payload.length;
    if (fragmentBytes > MAX_MESSAGE) {
      conn.close(1009, 'message too big');
      return;
    }
    if (!fin) return;
    const text = Buffer.concat(fragments).toString('utf8');
    fragments = [];
    fragmentBytes = 0;
    conn.onMessage(text);
  };

  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      if (buffered.length < 2) return;
      const b0 = buffered[0]!;
      const b1 = buffered[1]!;
      let len = b1 & 0x7f;
      let pos = 2;
      if (len === 126) {
        if (buffered.length < 4) return;
        len = buffered.readUInt16BE(2);
        pos = 4;
      } else if (len === 127) {
        if (buffered.length < 10) return;
        const big = buffered.readBigUInt64BE(2);
        if (big > BigInt(MAX_MESSAGE)) return conn.close(1009, 'message too big');
        len = Number(big);
        pos = 10;
      }
      if (len > MAX_MESSAGE) return conn.close(1009, 'message too big');
      const masked = (b1 & 0x80) !== 0;
      const end = pos + (masked ? 4 : 0) + len;
      if (buffered.length < end) return;
      const payload = Buffer.from(buffered.subarray(end - len, end));
      if (masked) for (let i = 0; i < len; i++) payload[i]! ^= buffered[pos + (i % 4)]!;
      buffered = buffered.subarray(end);
      handle(b0 & 0x0f, (b0 & 0x80) !== 0, payload);
    }
  });
  return conn;
}

/** Starts the server; onConnection is called for each accepted WebSocket. */
export async function startMiniWsServer(onConnection: (conn: WsConnection) => void): Promise<MiniWsServer> {
  const sockets = new Set<Socket>();
  const connections: WsConnection[] = [];
  const http = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' });
    res.end('WebSocket only\n');
  });
  http.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  http.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    const conn = accept(req, socket);
    if (!conn) return;
    connections.push(conn);
    onConnection(conn);
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(0, LOOPBACK, () => resolve());
  });
  const address = http.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  let closing: Promise<void> | undefined;
  return {
    url: `ws://${LOOPBACK}:${port}/`,
    port,
    connections,
    close() {
      closing ??= new Promise<void>((resolve) => {
        http.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}
