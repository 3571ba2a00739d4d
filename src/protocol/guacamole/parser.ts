/**
 * Guacamole instruction parser: the framer's state machine (docs/guacamole-codec.md) plus decoding.
 * It accepts and rejects exactly what GuacamoleFramer does, at the same byte, and returns the completed
 * instructions with their values decoded. It keeps only the bytes of the incomplete trailing instruction
 * (at most maxInstructionBytes), so characters and instructions may be split across chunks anywhere.
 */
import { Buffer } from 'node:buffer';
import { asciiRunEnd } from './ascii.js';
import { GuacamoleProtocolError, ScanErrorCode } from './errors.js';
import { type GuacamoleLimits, resolveLimits } from './limits.js';

export interface Instruction {
  opcode: string;
  args: string[];
}

const LENGTH = 0;
const VALUE = 1;
const SEPARATOR = 2;

const DIGIT_0 = 0x30;
const DOT = 0x2e;
const COMMA = 0x2c;
const SEMICOLON = 0x3b;

/** ASCII values up to this many bytes are built with String.fromCharCode; longer ones by Buffer. */
const SHORT_ASCII = 16;

/** Decodes bytes [start, end) of `src`, which hold `codepoints` codepoints of valid UTF-8. */
function decodeValue(src: Buffer, start: number, end: number, codepoints: number): string {
  const n = end - start;
  if (n !== codepoints) return src.toString('utf8', start, end);
  // One byte per codepoint: pure ASCII.
  if (n <= SHORT_ASCII) {
    let s = '';
    for (let k = start; k < end; k++) s += String.fromCharCode(src[k] as number);
    return s;
  }
  return src.toString('latin1', start, end);
}

export class GuacamoleParser {
  readonly limits: Readonly<GuacamoleLimits>;
  private readonly maxElementLength: number;
  private readonly maxElements: number;
  private readonly maxInstructionBytes: number;

  // Scanner state, as in GuacamoleFramer.
  private phase = LENGTH;
  private length = 0;
  private digits = 0;
  private remaining = 0;
  private utf8Need = 0;
  private utf8Lo = 0x80;
  private utf8Hi = 0xbf;
  private elements = 0;
  private instructionBytes = 0;
  private seen = 0;
  private error: GuacamoleProtocolError | null = null;

  // Elements of the current instruction, as byte offsets relative to its first byte (reused).
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private readonly codepoints: number[] = [];

  // Bytes of the incomplete instruction carried over from earlier chunks.
  private pending: Buffer = Buffer.alloc(0);
  private pendingLength = 0;

  constructor(limits?: Partial<GuacamoleLimits>) {
    this.limits = resolveLimits(limits);
    this.maxElementLength = this.limits.maxElementLength;
    this.maxElements = this.limits.maxElements;
    this.maxInstructionBytes = this.limits.maxInstructionBytes;
  }

  /** Total bytes passed to feed(), the chunk that failed included. */
  get bytesSeen(): number {
    return this.seen;
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

    const out: Instruction[] = [];
    const n = chunk.length;
    const src = Buffer.from(chunk.buffer, chunk.byteOffset, n);
    const maxInstructionBytes = this.maxInstructionBytes;
    const maxElements = this.maxElements;
    const maxElementLength = this.maxElementLength;
    const starts = this.starts;
    const ends = this.ends;
    const codepoints = this.codepoints;
    let phase = this.phase;
    let length = this.length;
    let digits = this.digits;
    let remaining = this.remaining;
    let need = this.utf8Need;
    let lo = this.utf8Lo;
    let hi = this.utf8Hi;
    let elements = this.elements;
    let ib = this.instructionBytes;
    let instructionStart = 0; // index in chunk of the current instruction's first byte (or 0 if pending)
    let code = 0;
    let i = 0;

    while (i < n) {
      if (phase === VALUE && need === 0) {
        let end = i + remaining;
        if (end > n) end = n;
        const budgetEnd = i + (maxInstructionBytes - ib);
        if (end > budgetEnd) end = budgetEnd;
        const j = asciiRunEnd(chunk, i, end);
        if (j > i) {
          remaining -= j - i;
          ib += j - i;
          i = j;
          if (remaining === 0) phase = SEPARATOR;
          continue;
        }
      }

      const b = chunk[i] as number;
      if (++ib > maxInstructionBytes) {
        code = ScanErrorCode.INSTRUCTION_TOO_LONG;
        break;
      }

      if (phase === LENGTH) {
        if (digits === 0 && ++elements > maxElements) {
          code = ScanErrorCode.TOO_MANY_ELEMENTS;
          break;
        }
        const d = b - DIGIT_0;
        if (d >= 0 && d <= 9) {
          length = length * 10 + d;
          digits++;
          if (length > maxElementLength) {
            code = ScanErrorCode.ELEMENT_TOO_LONG;
            break;
          }
        } else if (b === DOT && digits > 0) {
          starts[elements - 1] = ib;
          codepoints[elements - 1] = length;
          if (length === 0) {
            phase = SEPARATOR;
          } else {
            remaining = length;
            phase = VALUE;
          }
        } else {
          code = ScanErrorCode.BAD_LENGTH;
          break;
        }
      } else if (phase === VALUE) {
        if (need === 0) {
          if (b < 0x80) {
            if (--remaining === 0) phase = SEPARATOR;
          } else if (b >= 0xc2 && b <= 0xdf) {
            need = 1;
          } else if (b >= 0xe0 && b <= 0xef) {
            need = 2;
            if (b === 0xe0) lo = 0xa0;
            else if (b === 0xed) hi = 0x9f;
          } else if (b >= 0xf0 && b <= 0xf4) {
            need = 3;
            if (b === 0xf0) lo = 0x90;
            else if (b === 0xf4) hi = 0x8f;
          } else {
            code = ScanErrorCode.INVALID_UTF8;
            break;
          }
        } else {
          if (b < lo || b > hi) {
            code = ScanErrorCode.INVALID_UTF8;
            break;
          }
          lo = 0x80;
          hi = 0xbf;
          if (--need === 0 && --remaining === 0) phase = SEPARATOR;
        }
      } else if (b === COMMA) {
        ends[elements - 1] = ib - 1;
        phase = LENGTH;
        length = 0;
        digits = 0;
      } else if (b === SEMICOLON) {
        ends[elements - 1] = ib - 1;
        if (this.pendingLength > 0) {
          this.append(chunk, 0, i + 1);
          out.push(this.build(this.pending, 0, elements));
          this.pendingLength = 0;
        } else {
          out.push(this.build(src, instructionStart, elements));
        }
        instructionStart = i + 1;
        phase = LENGTH;
        length = 0;
        digits = 0;
        elements = 0;
        ib = 0;
      } else {
        code = ScanErrorCode.BAD_SEPARATOR;
        break;
      }
      i++;
    }

    if (code !== 0) {
      const error = new GuacamoleProtocolError(code, this.seen + i, this.limits);
      this.error = error;
      this.seen += n;
      this.pending = Buffer.alloc(0);
      this.pendingLength = 0;
      throw error;
    }
    if (instructionStart < n) this.append(chunk, instructionStart, n);
    this.phase = phase;
    this.length = length;
    this.digits = digits;
    this.remaining = remaining;
    this.utf8Need = need;
    this.utf8Lo = lo;
    this.utf8Hi = hi;
    this.elements = elements;
    this.instructionBytes = ib;
    this.seen += n;
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

  /** Decodes the instruction whose first byte is src[base], with `count` elements. */
  private build(src: Buffer, base: number, count: number): Instruction {
    const starts = this.starts;
    const ends = this.ends;
    const codepoints = this.codepoints;
    const opcode = decodeValue(
      src,
      base + (starts[0] as number),
      base + (ends[0] as number),
      codepoints[0] as number,
    );
    const args = new Array<string>(count - 1);
    for (let k = 1; k < count; k++) {
      args[k - 1] = decodeValue(
        src,
        base + (starts[k] as number),
        base + (ends[k] as number),
        codepoints[k] as number,
      );
    }
    return { opcode, args };
  }
}
