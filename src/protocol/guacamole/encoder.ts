/** Guacamole instruction encoder: values in, wire text (or UTF-8 bytes) out. */
import { Buffer } from 'node:buffer';

export type ElementValue = string | number | bigint;

/** guacd's blob size: 6048 raw bytes, 8064 base64 characters. */
export const MAX_BLOB_BYTES = 6048;

/**
 * Number of Unicode codepoints `s` becomes on the wire: a surrogate pair counts 1, and so does a lone
 * surrogate (UTF-8 encoders turn it into U+FFFD).
 */
export function codepointLength(s: string): number {
  const n = s.length;
  let count = n;
  for (let i = 0; i < n - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count;
}

/** The text of one element value: strings as is, integers in plain decimal, other finite numbers by String(). */
function valueText(value: ElementValue): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'bigint':
      return value.toString();
    case 'number':
      if (!Number.isFinite(value))
        throw new TypeError(`Guacamole element must be a finite number, got ${value}`);
      if (Number.isInteger(value)) {
        // -0 is "0"; integers at or above 1e21 would otherwise come out in exponent form.
        return Number.isSafeInteger(value) ? String(value + 0) : BigInt(value).toString();
      }
      return String(value);
    default:
      throw new TypeError(`Guacamole element must be a string, number or bigint, got ${typeof value}`);
  }
}

/** Encodes one instruction, e.g. encodeInstruction('size', 0, 1024, 768) → '4.size,1.0,4.1024,3.768;'. */
export function encodeInstruction(opcode: string, ...args: ElementValue[]): string {
  if (typeof opcode !== 'string') throw new TypeError('Guacamole opcode must be a string');
  let out = `${codepointLength(opcode)}.${opcode}`;
  for (const arg of args) {
    const text = valueText(arg);
    out += `,${codepointLength(text)}.${text}`;
  }
  return `${out};`;
}

const utf8 = new TextEncoder();

/** encodeInstruction, as UTF-8 bytes (lone surrogates become U+FFFD). */
export function encodeInstructionBytes(opcode: string, ...args: ElementValue[]): Uint8Array {
  return utf8.encode(encodeInstruction(opcode, ...args));
}

/**
 * `blob` instructions carrying `data` in base64, at most `maxChunk` raw bytes each (guacd's 6048 by
 * default). Empty data gives no blobs.
 */
export function encodeBlobs(stream: number | string, data: Uint8Array, maxChunk = MAX_BLOB_BYTES): string[] {
  if (!Number.isSafeInteger(maxChunk) || maxChunk < 1) {
    throw new RangeError(`maxChunk must be a positive integer, got ${String(maxChunk)}`);
  }
  const index = valueText(stream);
  const head = `4.blob,${codepointLength(index)}.${index},`;
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const out: string[] = [];
  for (let off = 0; off < buf.length; off += maxChunk) {
    const b64 = buf.toString('base64', off, Math.min(buf.length, off + maxChunk));
    out.push(`${head}${b64.length}.${b64};`);
  }
  return out;
}
