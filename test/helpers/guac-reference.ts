/**
 * A deliberately plain transcription of the scanning state machine in docs/guacamole-codec.md: one byte
 * at a time, no fast paths, everything in one object. Tests hold the TypeScript framer and parser (and the
 * native framer) to it.
 */
import type { GuacamoleLimits } from '../../src/protocol/guacamole/limits.js';
import { DEFAULT_LIMITS } from '../../src/protocol/guacamole/limits.js';

export interface ScanOutcome {
  /** Absolute end offsets (just past each `;`) of the instructions completed before any error. */
  ends: number[];
  /** The first error, if any. */
  error: { code: number; offset: number } | null;
}

type Phase = 'LENGTH' | 'VALUE' | 'SEPARATOR';

/** Continuation bytes and range of the first continuation byte for a UTF-8 lead byte; null if invalid. */
function leadInfo(b: number): { need: number; lo: number; hi: number } | null {
  if (b <= 0x7f) return { need: 0, lo: 0x80, hi: 0xbf };
  if (b >= 0xc2 && b <= 0xdf) return { need: 1, lo: 0x80, hi: 0xbf };
  if (b === 0xe0) return { need: 2, lo: 0xa0, hi: 0xbf };
  if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) return { need: 2, lo: 0x80, hi: 0xbf };
  if (b === 0xed) return { need: 2, lo: 0x80, hi: 0x9f };
  if (b === 0xf0) return { need: 3, lo: 0x90, hi: 0xbf };
  if (b >= 0xf1 && b <= 0xf3) return { need: 3, lo: 0x80, hi: 0xbf };
  if (b === 0xf4) return { need: 3, lo: 0x80, hi: 0x8f };
  return null;
}

/** Scans the whole stream at once. */
export function referenceScan(bytes: Uint8Array, limits: Partial<GuacamoleLimits> = {}): ScanOutcome {
  const lim = { ...DEFAULT_LIMITS, ...limits };
  const ends: number[] = [];
  const s = {
    phase: 'LENGTH' as Phase,
    length: 0,
    digits: 0,
    remaining: 0,
    need: 0,
    lo: 0x80,
    hi: 0xbf,
    elements: 0,
    instructionBytes: 0,
  };
  const fail = (code: number, offset: number): ScanOutcome => ({ ends, error: { code, offset } });

  for (let off = 0; off < bytes.length; off++) {
    const b = bytes[off] as number;
    s.instructionBytes += 1;
    if (s.instructionBytes > lim.maxInstructionBytes) return fail(4, off);
    switch (s.phase) {
      case 'LENGTH': {
        if (s.digits === 0) {
          s.elements += 1;
          if (s.elements > lim.maxElements) return fail(3, off);
        }
        if (b >= 0x30 && b <= 0x39) {
          s.length = s.length * 10 + (b - 0x30);
          s.digits += 1;
          if (s.length > lim.maxElementLength) return fail(2, off);
        } else if (b === 0x2e && s.digits > 0) {
          if (s.length === 0) s.phase = 'SEPARATOR';
          else {
            s.remaining = s.length;
            s.phase = 'VALUE';
          }
        } else {
          return fail(1, off);
        }
        break;
      }
      case 'VALUE': {
        if (s.need === 0) {
          const info = leadInfo(b);
          if (info === null) return fail(5, off);
          s.need = info.need;
          s.lo = info.lo;
          s.hi = info.hi;
        } else {
          if (b < s.lo || b > s.hi) return fail(5, off);
          s.need -= 1;
          s.lo = 0x80;
          s.hi = 0xbf;
        }
        if (s.need === 0) {
          s.remaining -= 1;
          if (s.remaining === 0) s.phase = 'SEPARATOR';
        }
        break;
      }
      case 'SEPARATOR': {
        if (b === 0x2c) {
          s.phase = 'LENGTH';
          s.length = 0;
          s.digits = 0;
        } else if (b === 0x3b) {
          ends.push(off + 1);
          s.phase = 'LENGTH';
          s.length = 0;
          s.digits = 0;
          s.elements = 0;
          s.instructionBytes = 0;
        } else {
          return fail(6, off);
        }
        break;
      }
    }
  }
  return { ends, error: null };
}

const textDecoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes the instructions of a stream the reference scanner accepted (up to the last end), the slow
 * way: the bytes to a string, then codepoint by codepoint.
 */
export function referenceDecode(
  bytes: Uint8Array,
  ends: readonly number[],
): Array<{ opcode: string; args: string[] }> {
  const out: Array<{ opcode: string; args: string[] }> = [];
  let start = 0;
  for (const end of ends) {
    const cps = Array.from(textDecoder.decode(bytes.subarray(start, end)));
    const elements: string[] = [];
    let k = 0;
    for (;;) {
      let len = '';
      while (cps[k] !== '.') len += cps[k++];
      k++;
      const n = Number(len);
      elements.push(cps.slice(k, k + n).join(''));
      k += n;
      if (cps[k++] === ';') break;
    }
    out.push({ opcode: elements[0] as string, args: elements.slice(1) });
    start = end;
  }
  return out;
}
