// Is an RDP server really serving? Sends the first packet of an RDP connection (an X.224 Connection Request
// carrying an RDP Negotiation Request, MS-RDPBCGR 2.2.1.1) and reads the X.224 Connection Confirm that a
// server answers with once its accept loop runs (2.2.1.2): the protocol it selected, or its negotiation
// failure code. A listening socket alone is not enough: servers bind before they can handshake.
import { connect } from 'node:net';
import { LOOPBACK } from './free-port.js';
import { sleep } from './processes.js';

/** requestedProtocols / selectedProtocol bits. */
export const PROTOCOL_RDP = 0;
export const PROTOCOL_SSL = 1;
export const PROTOCOL_HYBRID = 2;

export type X224Answer =
  /** RDP_NEG_RSP: the security protocol the server chose. */
  | { kind: 'response'; selectedProtocol: number; flags: number }
  /** RDP_NEG_FAILURE, e.g. 1 SSL_REQUIRED_BY_SERVER, 2 SSL_NOT_ALLOWED_BY_SERVER, 5 HYBRID_REQUIRED_BY_SERVER. */
  | { kind: 'failure'; failureCode: number }
  /** A Connection Confirm without negotiation data (a server that only speaks Standard RDP Security). */
  | { kind: 'legacy' };

/** The 19-byte TPKT + X.224 Connection Request + RDP_NEG_REQ asking for `requestedProtocols`. */
export function connectionRequest(requestedProtocols: number): Buffer {
  const b = Buffer.alloc(19);
  b.writeUInt8(3, 0); // TPKT version
  b.writeUInt16BE(19, 2); // TPKT length
  b.writeUInt8(14, 4); // X.224 length indicator (the bytes after it)
  b.writeUInt8(0xe0, 5); // CR CDT
  // dst-ref, src-ref, class 0: zero
  b.writeUInt8(1, 11); // RDP_NEG_REQ
  b.writeUInt16LE(8, 13);
  b.writeUInt32LE(requestedProtocols >>> 0, 15);
  return b;
}

/** Parses a whole TPKT holding an X.224 Connection Confirm; throws on anything else. */
export function parseConnectionConfirm(pkt: Buffer): X224Answer {
  if (pkt.length < 11 || pkt[0] !== 3) throw new Error(`not a TPKT: ${pkt.subarray(0, 8).toString('hex')}`);
  const li = pkt[4]!;
  if ((pkt[5]! & 0xf0) !== 0xd0)
    throw new Error(`not an X.224 Connection Confirm (code 0x${pkt[5]!.toString(16)})`);
  if (li < 14 || pkt.length < 19) return { kind: 'legacy' };
  const type = pkt[11]!;
  const value = pkt.readUInt32LE(15);
  if (type === 2) return { kind: 'response', selectedProtocol: value, flags: pkt[12]! };
  if (type === 3) return { kind: 'failure', failureCode: value };
  throw new Error(`unknown negotiation type ${type}`);
}

/** One X.224 round trip to host:port, bounded by timeoutMs; the connection is closed afterwards. */
export function probeRdp(
  port: number,
  host = LOOPBACK,
  requestedProtocols = PROTOCOL_SSL | PROTOCOL_HYBRID,
  timeoutMs = 3000,
): Promise<X224Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host });
    let buf = Buffer.alloc(0);
    const finish = (err: Error | null, answer?: X224Answer): void => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(answer!);
    };
    const timer = setTimeout(
      () => finish(new Error(`no X.224 Connection Confirm from ${host}:${port} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.once('connect', () => socket.write(connectionRequest(requestedProtocols)));
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish(new Error(`${host}:${port} closed after ${buf.length} bytes`)));
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 4) return;
      const len = buf.readUInt16BE(2);
      if (len < 11 || len > 1024) return finish(new Error(`bad TPKT length ${len}`));
      if (buf.length < len) return;
      try {
        finish(null, parseConnectionConfirm(buf.subarray(0, len)));
      } catch (err) {
        finish(err as Error);
      }
    });
  });
}

/**
 * Probes until the server answers the X.224 request (any answer: a negotiation failure still proves the
 * server handshakes). `gaveUp` is checked between tries, as in waitForPort.
 */
export async function waitForRdp(
  port: number,
  timeoutMs: number,
  gaveUp: () => string | undefined = () => undefined,
  host = LOOPBACK,
  requestedProtocols = PROTOCOL_SSL | PROTOCOL_HYBRID,
): Promise<X224Answer> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const reason = gaveUp();
    if (reason !== undefined) throw new Error(reason);
    try {
      return await probeRdp(
        port,
        host,
        requestedProtocols,
        Math.max(200, Math.min(2000, deadline - Date.now())),
      );
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() >= deadline)
      throw new Error(`no RDP handshake on ${host}:${port} within ${timeoutMs} ms (last: ${last})`);
    await sleep(50);
  }
}
