/**
 * Decoding of instructions a framer has already accepted (docs/guacamole-codec.md). No validation happens
 * here: the bytes are known to be well-formed (decimal lengths, strict UTF-8, `,`/`;` separators), so
 * decoding is a pure function of them: read digits up to '.', skip `length` codepoints, decode the value.
 */
import { type Buffer, isAscii } from 'node:buffer';
import { asciiRunEnd } from './ascii.js';
import type { Instruction } from './parser.js';

const DIGIT_0 = 0x30;
const DOT = 0x2e;
const SEMICOLON = 0x3b;

/** ASCII values up to this many bytes are built with String.fromCharCode while scanned; longer by Buffer. */
const SHORT_ASCII = 16;

/** Values of at least this many codepoints are checked for ASCII by buffer.isAscii (native) first. */
const LONG_VALUE = 64;

function truncated(end: number): Error {
  return new Error(`decodeInstruction: no complete instruction before offset ${end} (bytes not framed)`);
}

/**
 * Decodes the instruction that starts at src[pos], appends it to `out` and returns the offset just past
 * its ';'. Precondition: a framer accepted src[pos, end) and an instruction ends within it. Breaking the
 * precondition gives garbage or an Error (never a hang, never a read past `end` that goes unnoticed).
 */
export function decodeInstruction(src: Buffer, pos: number, end: number, out: Instruction[]): number {
  let opcode: string | null = null;
  const args: string[] = [];
  for (;;) {
    let length = 0;
    let b = src[pos++] as number;
    while (b !== DOT) {
      if (pos >= end) throw truncated(end);
      length = length * 10 + (b - DIGIT_0);
      b = src[pos++] as number;
    }
    const start = pos;
    const stop = start + length; // where the value ends if it is pure ASCII (one byte per codepoint)
    const limit = Math.min(stop, end);
    let value = '';
    let k = start;
    if (length <= SHORT_ASCII) {
      // Opcodes, numbers, keysyms: build the string while checking for ASCII.
      while (k < limit) {
        b = src[k] as number;
        if (b >= 0x80) break;
        value += String.fromCharCode(b);
        k++;
      }
    } else {
      k =
        length >= LONG_VALUE && stop < end && isAscii(src.subarray(start, stop))
          ? stop
          : asciiRunEnd(src, start, limit);
      if (k === stop) value = src.toString('latin1', start, stop);
    }
    if (k !== stop) {
      // Not pure ASCII: step over the codepoints left by their UTF-8 lead bytes, then decode.
      for (let left = length - (k - start); left > 0 && k < end; left--) {
        b = src[k] as number;
        k += b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
      }
      if (k < end) value = src.toString('utf8', start, k);
    }
    if (k >= end) throw truncated(end);
    if (opcode === null) opcode = value;
    else args.push(value);
    pos = k + 1;
    if (src[k] === SEMICOLON) {
      out.push({ opcode, args });
      return pos;
    }
  }
}
