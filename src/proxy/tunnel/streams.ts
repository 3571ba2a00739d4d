/**
 * Bookkeeping of refused Guacamole streams (one direction of one tunnel): which stream indices the policy
 * refused, so that the stream's later `blob` and `end` are dropped too. Bounded: a bitmap of a fixed number
 * of indices (guacd uses at most 512 per side; guacamole-common-js reuses the lowest free index).
 */
import { encodeInstruction } from '../../protocol/guacamole/encoder.js';
import { STATUS } from '../../protocol/guacamole/status.js';
import { streamIndexAt } from './scan.js';

/** Stream indices 0 .. MAX_TRACKED_STREAMS-1 are tracked; a refused stream above that is refused untracked. */
export const MAX_TRACKED_STREAMS = 1024;

/**
 * The stream index a peer means by `value`, read the way the peers read it (C atoi in guacd, parseInt in
 * guacamole-common-js: leading blanks, a sign, leading digits; "007" and "7x" are 7), or -1 when it is not
 * a non-negative index.
 */
export function parseStreamIndex(value: string | undefined): number {
  return value === undefined ? -1 : streamIndexAt(value, 0, value.length);
}

/** A bounded set of stream indices. */
export class StreamSet {
  private readonly bits: Uint8Array;
  private count = 0;

  constructor(capacity = MAX_TRACKED_STREAMS) {
    if (!Number.isSafeInteger(capacity) || capacity < 1 || capacity > 1 << 20) {
      throw new RangeError(`stream set capacity must be an integer 1..${1 << 20}, got ${String(capacity)}`);
    }
    this.bits = new Uint8Array(capacity);
  }

  /** Indices currently in the set. */
  get size(): number {
    return this.count;
  }

  has(index: number): boolean {
    return index >= 0 && index < this.bits.length && this.bits[index] === 1;
  }

  /** Adds `index`; false (and nothing stored) when it is outside 0 .. capacity-1. */
  add(index: number): boolean {
    if (index < 0 || index >= this.bits.length) return false;
    if (this.bits[index] === 0) {
      this.bits[index] = 1;
      this.count++;
    }
    return true;
  }

  delete(index: number): void {
    if (index >= 0 && index < this.bits.length && this.bits[index] === 1) {
      this.bits[index] = 0;
      this.count--;
    }
  }
}

/** `ack,<stream>,<message>,771`: the stream is refused with CLIENT_FORBIDDEN (0x0303). */
export function forbiddenAck(stream: string, message: string): string {
  return encodeInstruction('ack', stream, message, STATUS.CLIENT_FORBIDDEN);
}
