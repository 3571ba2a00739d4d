/**
 * The browser → backend direction of one Guacamole WebSocket tunnel, sans I/O: WebSocket messages in,
 * decoded instructions for the backend and replies for the browser out.
 *
 * - Messages are a byte stream: an instruction (or a UTF-8 character) may span messages. Only the
 *   incomplete trailing instruction is kept, bounded by the codec's limits.
 * - `0.,4.ping,<ts>;` is echoed to the browser (re-encoded, so byte-identical for canonical input) and never
 *   forwarded; other empty-opcode (tunnel-internal) instructions are dropped.
 * - Malformed input ends the tunnel with CLIENT_BAD_REQUEST (0x0300); an element or instruction over the
 *   codec's limits with CLIENT_OVERRUN (0x030D). After an error, input is ignored.
 * - Policy: readOnly drops key/mouse/touch; disablePaste refuses `clipboard` streams and disableUpload
 *   `file` and `put` streams with `ack,<stream>,<message>,771` (0x0303) to the browser, dropping the refused
 *   stream's later `blob` and `end` (an `end`, or any new stream opened on the index, frees it again).
 * - `disconnect` is forwarded to the backend as the last instruction; everything after it is ignored
 *   (the I/O edge ends the session when it sees it).
 */
import { Buffer } from 'node:buffer';
import { encodeInstruction } from '../../protocol/guacamole/encoder.js';
import { GuacamoleProtocolError } from '../../protocol/guacamole/errors.js';
import type { Framer } from '../../protocol/guacamole/framer.js';
import type { GuacamoleLimits } from '../../protocol/guacamole/limits.js';
import { GuacamoleParser, type Instruction } from '../../protocol/guacamole/parser.js';
import { STATUS } from '../../protocol/guacamole/status.js';
import { DEFAULT_POLICY, type Policy } from '../types.js';
import { forbiddenAck, MAX_TRACKED_STREAMS, parseStreamIndex, StreamSet } from './streams.js';

export interface ClientInputOptions {
  /** What the browser may do; DEFAULT_POLICY (everything allowed) when absent. */
  policy?: Readonly<Policy>;
  /** Codec limits (guacd's by default); an instruction over them is CLIENT_OVERRUN. */
  limits?: Partial<GuacamoleLimits>;
  /** A fresh framer enforcing `limits` (e.g. createFramer() from src/native/select-framer.ts). */
  framer?: Framer;
  /** Stream indices tracked for refused streams (default MAX_TRACKED_STREAMS). */
  maxStreams?: number;
}

/** Why the tunnel must end: a Guacamole status and a message safe to show. */
export interface ClientInputError {
  status: number;
  message: string;
}

export interface ClientInputResult {
  /** Whole instructions to send to the browser now (ping echoes, refusal acks); '' when none. */
  toClient: string;
  /** Instructions for the backend, in order. */
  toBackend: Instruction[];
  /** Set once, on the push that hit malformed or oversized input; the tunnel must end with it. */
  error?: ClientInputError;
}

export const PASTE_REFUSED = 'Clipboard paste is disabled.';
export const UPLOAD_REFUSED = 'File upload is disabled.';

export class ClientInput {
  private readonly parser: GuacamoleParser;
  private readonly readOnly: boolean;
  private readonly disablePaste: boolean;
  private readonly disableUpload: boolean;
  private readonly refused: StreamSet;
  private error: ClientInputError | null = null;
  private disconnected = false;

  /** Instructions decoded from the browser (forwarded, answered or dropped). */
  instructionsIn = 0;
  /** Bytes received from the browser (UTF-8 bytes of string messages). */
  bytesIn = 0;
  /** Instructions not forwarded to the backend (pings, internal, policy). */
  instructionsDropped = 0;

  constructor(options: ClientInputOptions = {}) {
    const policy = options.policy ?? DEFAULT_POLICY;
    this.readOnly = policy.readOnly;
    this.disablePaste = policy.disablePaste;
    this.disableUpload = policy.disableUpload;
    this.refused = new StreamSet(options.maxStreams ?? MAX_TRACKED_STREAMS);
    this.parser = new GuacamoleParser(options.limits, options.framer);
  }

  /** The error that ended input, or null. */
  get failure(): ClientInputError | null {
    return this.error;
  }

  /** True once input is ignored: after an error or a `disconnect`. */
  get closed(): boolean {
    return this.error !== null || this.disconnected;
  }

  /** Bytes of an incomplete instruction held until the next message. */
  get bufferedBytes(): number {
    return this.parser.bufferedBytes;
  }

  /** Stream indices currently refused. */
  get refusedStreams(): number {
    return this.refused.size;
  }

  /** One WebSocket message from the browser (text or binary). */
  push(message: Uint8Array | string): ClientInputResult {
    const result: ClientInputResult = { toClient: '', toBackend: [] };
    if (this.closed) return result;
    const bytes = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
    this.bytesIn += bytes.byteLength;
    let instructions: Instruction[];
    try {
      instructions = this.parser.feed(bytes);
    } catch (err) {
      this.error = toError(err);
      result.error = this.error;
      return result;
    }
    for (const ins of instructions) {
      this.instructionsIn++;
      if (this.keep(ins, result)) {
        result.toBackend.push(ins);
        if (ins.opcode === 'disconnect') {
          this.disconnected = true;
          break;
        }
      } else {
        this.instructionsDropped++;
      }
    }
    return result;
  }

  /** Applies the tunnel rules and the policy to one instruction: true to forward it. */
  private keep(ins: Instruction, result: ClientInputResult): boolean {
    const args = ins.args;
    switch (ins.opcode) {
      case '':
        if (args[0] === 'ping') result.toClient += encodeInstruction('', ...args);
        return false;
      case 'key':
      case 'mouse':
      case 'touch':
        return !this.readOnly;
      case 'clipboard':
        return this.open(args[0], this.disablePaste, PASTE_REFUSED, result);
      case 'file':
        return this.open(args[0], this.disableUpload, UPLOAD_REFUSED, result);
      case 'put': // put,<object>,<stream>,<mimetype>,<name>
        return this.open(args[1], this.disableUpload, UPLOAD_REFUSED, result);
      case 'pipe':
      case 'audio':
      case 'argv':
        return this.open(args[0], false, '', result);
      case 'blob':
        return !this.refused.has(parseStreamIndex(args[0]));
      case 'end': {
        const index = parseStreamIndex(args[0]);
        if (!this.refused.has(index)) return true;
        this.refused.delete(index);
        return false;
      }
      default:
        return true;
    }
  }

  /** A stream opened by the browser on `stream`: refused (acked 0x0303, tracked) or forwarded. */
  private open(
    stream: string | undefined,
    refuse: boolean,
    message: string,
    result: ClientInputResult,
  ): boolean {
    const index = parseStreamIndex(stream);
    this.refused.delete(index); // a new stream on the index replaces whatever was there
    if (!refuse) return true;
    if (stream !== undefined) {
      this.refused.add(index); // false past the tracked range: refused, its blobs not recognised
      result.toClient += forbiddenAck(stream, message);
    }
    return false;
  }
}

function toError(err: unknown): ClientInputError {
  if (err instanceof GuacamoleProtocolError) {
    return err.limit !== undefined
      ? { status: STATUS.CLIENT_OVERRUN, message: `Instruction too large: ${err.message}` }
      : { status: STATUS.CLIENT_BAD_REQUEST, message: `Malformed instruction: ${err.message}` };
  }
  return { status: STATUS.CLIENT_BAD_REQUEST, message: `Malformed instruction: ${String(err)}` };
}
