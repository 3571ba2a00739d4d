// Ends a browser's tunnel request the way a Guacamole client understands: accept the WebSocket upgrade,
// send one `error` instruction (status + words) and close with the status's WebSocket close code. A plain
// HTTP error would reach the page only as "WebSocket failed".
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { encodeInstruction } from '../../protocol/guacamole/encoder.js';
import { wsCloseCodeFor } from '../../protocol/guacamole/status.js';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** A server frame (never masked) with FIN set. */
function frame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head =
    len < 126 ? Buffer.from([0x80 | opcode, len]) : Buffer.from([0x80 | opcode, 126, len >> 8, len & 0xff]);
  return Buffer.concat([head, payload]);
}

/** Plain HTTP answer on a socket that asked to upgrade (no WebSocket key, bad origin). */
export function refuseHttp(socket: Duplex, status: number, reason: string): void {
  const body = `${reason}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export function refuseTunnel(req: IncomingMessage, socket: Duplex, status: number, message: string): void {
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || key.length > 64 || req.headers.upgrade?.toLowerCase() !== 'websocket') {
    refuseHttp(socket, 400, 'Bad Request');
    return;
  }
  const accept = createHash('sha1')
    .update(key + WS_GUID)
    .digest('base64');
  const offered = String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((s) => s.trim());
  const proto = offered.includes('guacamole') ? 'Sec-WebSocket-Protocol: guacamole\r\n' : '';
  const closeCode = wsCloseCodeFor(status);
  const reason = Buffer.from(String(status));
  const close = Buffer.alloc(2 + reason.length);
  close.writeUInt16BE(closeCode, 0);
  reason.copy(close, 2);
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${proto}\r\n`,
  );
  socket.write(frame(0x1, Buffer.from(encodeInstruction('error', message, String(status)), 'utf8')));
  socket.end(frame(0x8, close));
  // The client answers the close; do not wait for it forever.
  setTimeout(() => socket.destroy(), 2000).unref();
}
