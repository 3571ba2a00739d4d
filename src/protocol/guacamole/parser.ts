/**
 * Guacamole instruction parser: a Framer (docs/guacamole-codec.md) finds and validates the instructions,
 * then decodeInstruction decodes the complete ones. So the parser accepts and rejects exactly what its framer
 * does, at the same byte, with the same error. It keeps only the bytes of the incomplete trailing instruction
 * (at most maxInstructionBytes), so characters and instructions may be split across chunks anywhere.
 */
import { Buffer } from 'node:buffer';
import { decodeInstruction } from './decode-validated.js';
import { GuacamoleProtocolError } from './errors.js';
import { type Framer, GuacamoleFramer } from './framer.js';
import { type GuacamoleLimits, resolveLimits } from './limits.js';

export interface Instruction {
  opcode: string;
  args: string[];
}

const EMPTY = Buffer.alloc(0);

export class GuacamoleParser {
  readonly limits: Readonly<GuacamoleLimits>;
  private readonly framer: Framer;
  private readonly maxInstructionBytes: number;
  private error: GuacamoleProtocolError | null = null;

  // Bytes of the incomplete instruction carried over from earlier chunks.
  private pending: Buffer = EMPTY;
  private pendingLength = 0;

  /**
   * Unset limits default to guacd's (DEFAULT_LIMITS); invalid ones throw RangeError. `framer` defaults to
   * a new GuacamoleFramer(limits); another one (the native framer, say) must be fresh and enforce these same
   * limits, since the parser bounds its buffer by maxInstructionBytes. A framer whose `limits` property
   * differs is refused with a RangeError.
   */
  constructor(limits?: Partial<GuacamoleLimits>, framer?: Framer) {
    this.limits = resolveLimits(limits);
    this.maxInstructionBytes = this.limits.maxInstructionBytes;
    if (framer === undefined) {
      this.framer = new GuacamoleFramer(this.limits);
      return;
    }
    const theirs = (framer as { limits?: Readonly<GuacamoleLimits> }).limits;
    if (
      theirs !== undefined &&
      (theirs.maxElementLength !== this.limits.maxElementLength ||
        theirs.maxElements !== this.limits.maxElements ||
        theirs.maxInstructionBytes !== this.limits.maxInstructionBytes)
    ) {
      throw new RangeError(
        `framer limits ${JSON.stringify(theirs)} differ from the parser's ${JSON.stringify(this.limits)}`,
      );
    }
    this.framer = framer;
  }

  /** Total bytes passed to feed(), the chunk that failed included. */
  get bytesSeen(): number {
    return this.framer.bytesSeen;
  }

  /** Bytes of the incomplete trailing instruction currently held. */
  get bufferedBytes(): number {
    return this.pendingLength;
  }

  /** The error that killed this parser, or null while it is healthy. */
  get failure(): GuacamoleProtocolError | null {
    return this.error;
  }

  /**
   * Scans `chunk` and returns the instructions it completed (possibly none). Throws
   * GuacamoleProtocolError on malformed input, and again on every later call.
   */
  feed(chunk: Uint8Array): Instruction[] {
    if (this.error !== null) throw this.error;
    let end: number;
    try {
      end = this.framer.push(chunk);
    } catch (err) {
      if (err instanceof GuacamoleProtocolError) {
        this.error = err;
        this.pending = EMPTY;
        this.pendingLength = 0;
      }
      throw err;
    }

    const n = chunk.length;
    if (end < 0) {
      if (n > 0) this.append(chunk, 0, n);
      return [];
    }
    const out: Instruction[] = [];
    let pos = 0;
    const held = this.pendingLength;
    if (held > 0) {
      // The first instruction began in an earlier chunk. It ends at or before `end`, and within
      // maxInstructionBytes of its start: complete it in `pending`, then decode the rest in place.
      this.append(chunk, 0, Math.min(end, this.maxInstructionBytes - held));
      pos = decodeInstruction(this.pending, 0, this.pendingLength, out) - held;
      this.pendingLength = 0;
    }
    if (pos < end) {
      const src = Buffer.from(chunk.buffer, chunk.byteOffset, n);
      while (pos < end) pos = decodeInstruction(src, pos, end, out);
    }
    if (end < n) this.append(chunk, end, n);
    return out;
  }

  /** Appends chunk[from, to) to the pending bytes (never more than maxInstructionBytes in all). */
  private append(chunk: Uint8Array, from: number, to: number): void {
    const needed = this.pendingLength + (to - from);
    if (needed > this.pending.length) {
      let capacity = Math.max(256, this.pending.length * 2);
      while (capacity < needed) capacity *= 2;
      if (capacity > this.maxInstructionBytes) capacity = Math.max(needed, this.maxInstructionBytes);
      const grown = Buffer.allocUnsafe(capacity);
      this.pending.copy(grown, 0, 0, this.pendingLength);
      this.pending = grown;
    }
    this.pending.set(chunk.subarray(from, to), this.pendingLength);
    this.pendingLength = needed;
  }
}
