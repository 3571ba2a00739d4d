/**
 * fast-check arbitraries for the Guacamole codec: valid instructions and streams, adversarial byte
 * streams (random, mutated, lying lengths, broken UTF-8, huge lengths, missing terminators) and
 * chunkings. Shared by the TypeScript property tests and the native-vs-TypeScript differential tests.
 */
import fc from 'fast-check';
import type { GuacamoleLimits } from '../../src/protocol/guacamole/limits.js';

const utf8 = new TextEncoder();

/** Concatenates byte arrays. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** UTF-8 bytes of a string (lone surrogates become U+FFFD), or the bytes given. */
export function bytesOf(...parts: Array<string | readonly number[]>): Uint8Array {
  return concatBytes(parts.map((p) => (typeof p === 'string' ? utf8.encode(p) : Uint8Array.from(p))));
}

/**
 * Splits `bytes` at the given cut positions (clamped to [0, length], in any order; a repeated cut gives
 * an empty chunk). The chunks are copies, so a consumer may not rely on them sharing a buffer.
 */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const sorted = cuts.map((c) => Math.max(0, Math.min(bytes.length, Math.trunc(c)))).sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let prev = 0;
  for (const cut of sorted) {
    chunks.push(bytes.slice(prev, cut));
    prev = cut;
  }
  chunks.push(bytes.slice(prev));
  return chunks;
}

/** Every chunking of `bytes` into at most maxChunks pieces (empty pieces included). */
export function chunking(bytes: Uint8Array, maxChunks = 12): fc.Arbitrary<Uint8Array[]> {
  return fc
    .array(fc.integer({ min: 0, max: bytes.length }), { maxLength: Math.max(0, maxChunks - 1) })
    .map((cuts) => splitAt(bytes, cuts));
}

/** A stream together with one chunking of it. */
export function withChunking(
  stream: fc.Arbitrary<Uint8Array>,
  maxChunks = 12,
): fc.Arbitrary<{ bytes: Uint8Array; chunks: Uint8Array[] }> {
  return stream.chain((bytes) => chunking(bytes, maxChunks).map((chunks) => ({ bytes, chunks })));
}

/** The string a UTF-8 encoder actually sends: lone surrogates replaced by U+FFFD. */
export function wellFormed(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += s.slice(i, i + 2);
        i++;
      } else out += '\uFFFD';
    } else if (c >= 0xdc00 && c <= 0xdfff) out += '\uFFFD';
    else out += String.fromCharCode(c);
  }
  return out;
}

const SPECIAL_CHARS = [
  '',
  'é',
  '€',
  '😀',
  '\u0000',
  ';',
  ',',
  '.',
  '0',
  '\uFFFD',
  '\uD7FF',
  '\uE000',
  '\u{10FFFF}',
];

/** Element values: any Unicode (astral included), lone surrogates, protocol punctuation, base64. */
export function elementText(maxLength = 24): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: 'grapheme-ascii', maxLength }),
    fc.string({ unit: fc.constantFrom(...SPECIAL_CHARS, 'a', 'Z'), maxLength }),
    fc.string({
      unit: fc.oneof(
        fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
        fc.constant('x'),
      ),
      maxLength,
    }),
    fc.base64String({ maxLength: maxLength * 4 }),
  );
}

export interface InstructionValue {
  opcode: string;
  args: string[];
}

/** An instruction as values (the opcode may be empty). */
export function instructionArb(maxArgs = 6): fc.Arbitrary<InstructionValue> {
  return fc.record({
    opcode: fc.oneof(fc.constantFrom('', 'sync', 'blob', 'img', 'nop', 'error', 'ping'), elementText(8)),
    args: fc.array(elementText(), { maxLength: maxArgs }),
  });
}

/** Codepoints of a well-formed string. */
function codepoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Wire bytes of an instruction, built independently of the encoder under test. */
export function instructionBytes(ins: InstructionValue): Uint8Array {
  const text = [ins.opcode, ...ins.args]
    .map((v) => {
      const w = wellFormed(v);
      return `${codepoints(w)}.${w}`;
    })
    .join(',');
  return utf8.encode(`${text};`);
}

/** A stream of valid instructions. */
export function validStream(maxInstructions = 6): fc.Arbitrary<Uint8Array> {
  return fc
    .array(instructionArb(), { maxLength: maxInstructions })
    .map((list) => concatBytes(list.map(instructionBytes)));
}

/** Bytes that matter to the state machine (punctuation, digits, UTF-8 lead/continuation boundaries). */
export function interestingByte(): fc.Arbitrary<number> {
  return fc.oneof(
    fc.constantFrom(
      0x2e,
      0x2c,
      0x3b,
      0x30,
      0x31,
      0x39,
      0x2f,
      0x3a,
      0x2d,
      0x20,
      0x00,
      0x41,
      0x7f,
      0x80,
      0x8f,
      0x90,
      0x9f,
      0xa0,
      0xbf,
      0xc0,
      0xc1,
      0xc2,
      0xdf,
      0xe0,
      0xe1,
      0xec,
      0xed,
      0xee,
      0xef,
      0xf0,
      0xf1,
      0xf3,
      0xf4,
      0xf5,
      0xf8,
      0xfe,
      0xff,
    ),
    fc.integer({ min: 0, max: 255 }),
  );
}

/** Well-formed and ill-formed UTF-8 fragments. */
const UTF8_FRAGMENTS: readonly (readonly number[])[] = [
  [0x61],
  [0xc3, 0xa9], // é
  [0xe2, 0x82, 0xac], // €
  [0xf0, 0x9f, 0x98, 0x80], // 😀
  [0xed, 0x9f, 0xbf], // U+D7FF
  [0xee, 0x80, 0x80], // U+E000
  [0xf4, 0x8f, 0xbf, 0xbf], // U+10FFFF
  [0xc0, 0x80], // overlong NUL
  [0xc1, 0xbf], // overlong
  [0xe0, 0x80, 0x80], // overlong 3-byte
  [0xe0, 0x9f, 0xbf], // overlong 3-byte
  [0xed, 0xa0, 0x80], // encoded high surrogate
  [0xed, 0xbf, 0xbf], // encoded low surrogate
  [0xf0, 0x80, 0x80, 0x80], // overlong 4-byte
  [0xf0, 0x8f, 0xbf, 0xbf], // overlong 4-byte
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xf5, 0x80, 0x80, 0x80],
  [0xff],
  [0x80], // lone continuation
  [0xbf],
  [0xc3], // truncated 2-byte
  [0xe2, 0x82], // truncated 3-byte
  [0xf0, 0x9f, 0x98], // truncated 4-byte
];

/** Length prefixes: small, boundary, huge, zero-padded, not numeric, missing. */
const LENGTH_TOKENS: readonly string[] = [
  '0',
  '1',
  '2',
  '3',
  '4',
  '9',
  '10',
  '00',
  '007',
  '8192',
  '8193',
  '99999',
  '99999999999999999999999999',
  '00000000000000000000000001',
  '',
  '-1',
  '+1',
  ' 1',
  'x',
  '1e3',
];

/** One element as bytes: a length (true, off by some, or odd), a value of UTF-8 fragments, a separator. */
function adversarialElement(): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(
      fc.array(fc.constantFrom(...UTF8_FRAGMENTS), { maxLength: 6 }),
      fc.oneof(
        { weight: 4, arbitrary: fc.constant<number | string>(0) },
        { weight: 2, arbitrary: fc.integer({ min: -2, max: 2 }) },
        { weight: 2, arbitrary: fc.constantFrom(...LENGTH_TOKENS) },
      ),
      fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(',', ';') },
        { weight: 1, arbitrary: fc.constantFrom('', '.', ',,', ';;', 'a', '0') },
      ),
      fc.boolean(),
    )
    .map(([frags, len, sep, dot]) => {
      const lenText = typeof len === 'string' ? len : String(Math.max(0, frags.length + len));
      return bytesOf(lenText, dot || typeof len === 'number' ? '.' : '', ...frags, sep);
    });
}

/** Random bytes biased towards the ones the state machine cares about. */
export function noiseBytes(maxLength = 48): fc.Arbitrary<Uint8Array> {
  return fc.array(interestingByte(), { maxLength }).map((a) => Uint8Array.from(a));
}

interface Mutation {
  kind: 'set' | 'insert' | 'delete' | 'truncate';
  at: number;
  byte: number;
}

/** Applies a few byte mutations (positions taken modulo the length). */
export function applyMutations(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  const a = Array.from(bytes);
  for (const m of mutations) {
    const at = a.length === 0 ? 0 : m.at % (a.length + (m.kind === 'insert' ? 1 : 0));
    if (m.kind === 'set' && a.length > 0) a[at] = m.byte;
    else if (m.kind === 'insert') a.splice(at, 0, m.byte);
    else if (m.kind === 'delete') a.splice(at, 1);
    else if (m.kind === 'truncate') a.length = at;
  }
  return Uint8Array.from(a);
}

/** A valid stream with a few mutations. */
export function mutatedStream(): fc.Arbitrary<Uint8Array> {
  const mutation = fc.record({
    kind: fc.constantFrom<Mutation['kind']>('set', 'set', 'insert', 'delete', 'truncate'),
    at: fc.nat(),
    byte: interestingByte(),
  });
  return fc
    .tuple(validStream(5), fc.array(mutation, { minLength: 1, maxLength: 3 }))
    .map(([bytes, ms]) => applyMutations(bytes, ms));
}

/**
 * Adversarial streams: random bytes, mutated valid streams, instructions of adversarial elements (lying or
 * huge or non-numeric lengths, broken UTF-8, missing or doubled separators), and valid prefixes followed
 * by any of those.
 */
export function adversarialStream(): fc.Arbitrary<Uint8Array> {
  const elementsSoup = fc.array(adversarialElement(), { minLength: 1, maxLength: 10 }).map(concatBytes);
  const core = fc.oneof(
    { weight: 2, arbitrary: noiseBytes() },
    { weight: 3, arbitrary: mutatedStream() },
    { weight: 4, arbitrary: elementsSoup },
    { weight: 1, arbitrary: validStream(4) },
  );
  return fc
    .tuple(fc.option(validStream(2), { nil: undefined }), core)
    .map(([prefix, rest]) => (prefix === undefined ? rest : concatBytes([prefix, rest])));
}

/** Small limits, so limit errors show up in short streams. */
export function smallLimits(): fc.Arbitrary<GuacamoleLimits> {
  return fc.record({
    maxElementLength: fc.integer({ min: 0, max: 12 }),
    maxElements: fc.integer({ min: 0, max: 6 }),
    maxInstructionBytes: fc.integer({ min: 0, max: 48 }),
  });
}

/** Either the defaults (undefined) or small limits. */
export function maybeSmallLimits(): fc.Arbitrary<GuacamoleLimits | undefined> {
  return fc.option(smallLimits(), { nil: undefined, freq: 2 });
}
