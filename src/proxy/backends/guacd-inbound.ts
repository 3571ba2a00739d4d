/**
 * guacd's byte stream, sans-I/O: one framer (the C++ one when built) cuts it at whole-instruction boundaries
 * for the whole life of the connection, keeping only the incomplete tail (at most the codec's 32 KiB per
 * instruction, which the framer enforces).
 *
 * - Handshake mode: complete instructions are decoded one by one and returned for GuacdClientHandshake. The
 *   mode ends after `ready`: whatever follows it, in the same chunk or later, is relayed.
 * - Relay mode: the complete instructions are returned as one string, decoded from UTF-8 only in whole
 *   instructions (which end on character boundaries, the framer checked the encoding), so a character split
 *   across TCP chunks is never mangled. guacd's `error` and `disconnect` are not relayed: they end the stream
 *   (`end`), and what follows them is dropped. Finding them costs a byte search per chunk; only a chunk where
 *   ".error" or ".disconnect" occurs is decoded instruction by instruction.
 */
import { Buffer } from 'node:buffer';
import type { SessionEnd } from '../../engine/types.js';
import { decodeInstruction } from '../../protocol/guacamole/decode-validated.js';
import type { Framer } from '../../protocol/guacamole/framer.js';
import type { Instruction } from '../../protocol/guacamole/parser.js';
import { STATUS } from '../../protocol/guacamole/status.js';
import { guacdErrorStatus } from './guacd-handshake.js';

export interface InboundResult {
  /** Handshake mode: the instructions completed, up to and including `ready`. */
  handshake: Instruction[];
  /** Relay mode: whole instructions to pass on ('' when none). */
  relay: string;
  /** guacd sent `error` or `disconnect`: the stream is over, with this status. */
  end?: SessionEnd;
}

const ERROR_MARK = Buffer.from('.error');
const DISCONNECT_MARK = Buffer.from('.disconnect');
const EMPTY = Buffer.alloc(0);

export class GuacdInbound {
  private readonly framer: Framer;
  private mode: 'handshake' | 'relay' | 'ended' = 'handshake';
  // The incomplete trailing instruction: pending[0, pendingLength), grown by doubling.
  private pending: Buffer = EMPTY;
  private pendingLength = 0;

  constructor(framer: Framer) {
    this.framer = framer;
  }

  /** Bytes of the incomplete trailing instruction held. */
  get bufferedBytes(): number {
    return this.pendingLength;
  }

  get relaying(): boolean {
    return this.mode === 'relay';
  }

  /**
   * Takes one chunk from guacd. Throws GuacamoleProtocolError on malformed input (and on every later call).
   * After `end` was returned, later chunks give nothing.
   */
  push(chunk: Buffer): InboundResult {
    const out: InboundResult = { handshake: [], relay: '' };
    if (this.mode === 'ended' || chunk.length === 0) return out;
    const last = this.framer.push(chunk);
    if (last < 0) {
      this.append(chunk, 0, chunk.length);
      return out;
    }
    let whole: Buffer;
    if (this.pendingLength === 0) {
      whole = chunk.subarray(0, last);
    } else {
      this.append(chunk, 0, last);
      whole = this.pending.subarray(0, this.pendingLength);
    }

    let pos = 0;
    while (this.mode === 'handshake' && pos < whole.length) {
      const one: Instruction[] = [];
      pos = decodeInstruction(whole, pos, whole.length, one);
      const instruction = one[0]!;
      out.handshake.push(instruction);
      if (instruction.opcode === 'ready') this.mode = 'relay';
      else if (instruction.opcode === 'error') this.mode = 'ended';
    }
    if (this.mode === 'relay' && pos < whole.length) this.relay(whole, pos, out);

    // `whole` has been consumed (decoded into strings): the pending buffer may be reused for the new tail.
    this.pendingLength = 0;
    if (this.mode === 'ended') this.pending = EMPTY;
    else if (last < chunk.length) this.append(chunk, last, chunk.length);
    return out;
  }

  /** Appends chunk[from, to) to the pending bytes (the framer bounds them by its instruction limit). */
  private append(chunk: Buffer, from: number, to: number): void {
    const needed = this.pendingLength + (to - from);
    if (needed > this.pending.length) {
      let capacity = Math.max(256, this.pending.length * 2);
      while (capacity < needed) capacity *= 2;
      const grown = Buffer.allocUnsafe(capacity);
      this.pending.copy(grown, 0, 0, this.pendingLength);
      this.pending = grown;
    }
    chunk.copy(this.pending, this.pendingLength, from, to);
    this.pendingLength = needed;
  }

  private relay(whole: Buffer, from: number, out: InboundResult): void {
    const region = from === 0 ? whole : whole.subarray(from);
    if (region.indexOf(ERROR_MARK) < 0 && region.indexOf(DISCONNECT_MARK) < 0) {
      out.relay = region.toString('utf8');
      return;
    }
    // Rare: find the first instruction that is `error` or `disconnect` (the marks may be inside a value).
    let pos = 0;
    const one: Instruction[] = [];
    while (pos < region.length) {
      one.length = 0;
      const next = decodeInstruction(region, pos, region.length, one);
      const { opcode, args } = one[0]!;
      if (opcode === 'error' || opcode === 'disconnect') {
        out.relay = region.toString('utf8', 0, pos);
        out.end =
          opcode === 'error'
            ? { status: guacdErrorStatus(args[1]), message: args[0] || 'guacd reported an error' }
            : { status: STATUS.SUCCESS, message: 'guacd ended the connection' };
        this.mode = 'ended';
        return;
      }
      pos = next;
    }
    out.relay = region.toString('utf8');
  }
}
