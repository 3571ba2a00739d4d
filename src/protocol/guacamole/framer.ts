/**
 * Guacamole instruction framer: finds where instructions end in a byte stream, validating strictly
 * (docs/guacamole-codec.md, "The scanning state machine") without decoding anything. This is the relay
 * hot path; the C++ twin in native/src/guac_framer.cc runs the same state machine.
 */
import { asciiRunEnd } from './ascii.js';
import { GuacamoleProtocolError, ScanErrorCode } from './errors.js';
import { type GuacamoleLimits, resolveLimits } from './limits.js';

/** What the relay needs from a framer (the TypeScript one here, or the native addon's wrapper). */
export interface Framer {
  /**
   * Scans `chunk`. Returns the offset within `chunk` just past the last instruction completed in it, or
   * -1 if none completed. Throws GuacamoleProtocolError on malformed input, and again on every later call.
   */
  push(chunk: Uint8Array): number;
  /** Total bytes passed to push(), the chunk that failed included. */
  readonly bytesSeen: number;
}

// Scanner phases.
const LENGTH = 0;
const VALUE = 1;
const SEPARATOR = 2;

const DIGIT_0 = 0x30;
const DOT = 0x2e;
const COMMA = 0x2c;
const SEMICOLON = 0x3b;

export class GuacamoleFramer implements Framer {
  readonly limits: Readonly<GuacamoleLimits>;
  private readonly maxElementLength: number;
  private readonly maxElements: number;
  private readonly maxInstructionBytes: number;

  private phase = LENGTH;
  private length = 0; // value of the length digits read so far
  private digits = 0; // number of length digits read so far
  private remaining = 0; // codepoints still to read in the current value
  private utf8Need = 0; // continuation bytes still expected for the current character
  private utf8Lo = 0x80; // valid range of the next continuation byte
  private utf8Hi = 0xbf;
  private elements = 0; // elements started in this instruction
  private instructionBytes = 0; // bytes consumed by this instruction so far
  private seen = 0; // absolute offset of the next chunk's first byte
  private error: GuacamoleProtocolError | null = null;

  constructor(limits?: Partial<GuacamoleLimits>) {
    this.limits = resolveLimits(limits);
    this.maxElementLength = this.limits.maxElementLength;
    this.maxElements = this.limits.maxElements;
    this.maxInstructionBytes = this.limits.maxInstructionBytes;
  }

  get bytesSeen(): number {
    return this.seen;
  }

  /** The error that killed this framer, or null while it is healthy. */
  get failure(): GuacamoleProtocolError | null {
    return this.error;
  }

  push(chunk: Uint8Array): number {
    if (this.error !== null) throw this.error;

    const n = chunk.length;
    const maxInstructionBytes = this.maxInstructionBytes;
    const maxElements = this.maxElements;
    const maxElementLength = this.maxElementLength;
    let phase = this.phase;
    let length = this.length;
    let digits = this.digits;
    let remaining = this.remaining;
    let need = this.utf8Need;
    let lo = this.utf8Lo;
    let hi = this.utf8Hi;
    let elements = this.elements;
    let ib = this.instructionBytes;
    let last = -1;
    let code = 0;
    let i = 0;

    while (i < n) {
      // Hot path: a run of ASCII inside a value (base64 blobs, most text). Each ASCII byte is one
      // codepoint and one instruction byte, so the run is bounded by the codepoints left, the instruction
      // byte budget and the chunk; the byte that breaks the budget goes through the slow path below.
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
          // length <= maxElementLength (a safe integer) before this step, so no precision is lost.
          length = length * 10 + d;
          digits++;
          if (length > maxElementLength) {
            code = ScanErrorCode.ELEMENT_TOO_LONG;
            break;
          }
        } else if (b === DOT && digits > 0) {
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
        phase = LENGTH;
        length = 0;
        digits = 0;
      } else if (b === SEMICOLON) {
        last = i + 1;
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
      throw error;
    }
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
    return last;
  }
}
