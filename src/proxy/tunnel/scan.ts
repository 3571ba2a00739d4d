/**
 * A light scanner over a string of whole Guacamole instructions: it records where each instruction's first
 * few elements lie and skips every other value by its length, never looking at its characters and never
 * allocating. This is what lets the outbound policy filter run over image traffic (long base64 `blob`
 * values) at the cost of a few character reads per instruction.
 *
 * Lengths count Unicode codepoints. In a JS string a codepoint is one UTF-16 code unit, except astral ones
 * (a surrogate pair, two units). So skipping `length` units is exact when the text holds no surrogate; the
 * caller checks that once per text (`hasSurrogates`, or knowing the text is ASCII), and on texts that do
 * hold one, values are walked codepoint by codepoint. A lone surrogate counts as one codepoint, like the
 * U+FFFD it becomes on the wire.
 */

const DIGIT_0 = 0x30;
const DOT = 0x2e;
const COMMA = 0x2c;
const SEMICOLON = 0x3b;
const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const PLUS = 0x2b;
const MINUS = 0x2d;

/** Longest element length accepted (digits); more is malformed. */
const MAX_LENGTH_DIGITS = 9;

/** Elements whose position scanInstruction records: the opcode and the first three arguments. */
export const HEAD_ELEMENTS = 4;

const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * True when `text` holds a UTF-16 surrogate, i.e. when its lengths cannot be skipped by code units. On V8's
 * one-byte strings the test fails without scanning; on two-byte strings it scans.
 */
export function hasSurrogates(text: string): boolean {
  return SURROGATE.test(text);
}

/** Where the first HEAD_ELEMENTS elements of the last scanned instruction lie: text[start[k], end[k]). */
export class InstructionHead {
  readonly start = new Int32Array(HEAD_ELEMENTS);
  readonly end = new Int32Array(HEAD_ELEMENTS);
  /** Elements recorded (at most HEAD_ELEMENTS; element 0 is the opcode). */
  recorded = 0;
}

/**
 * Index just past the value of `length` codepoints starting at `pos`, or -1 when the text ends first.
 * `astral`: the text may hold surrogates (see the module comment).
 */
function skipValue(text: string, pos: number, length: number, astral: boolean): number {
  const n = text.length;
  if (!astral) {
    const end = pos + length;
    return end < n ? end : -1;
  }
  let k = pos;
  for (let left = length; left > 0; left--) {
    if (k >= n) return -1;
    const c = text.charCodeAt(k++);
    if (c >= 0xd800 && c <= 0xdbff && k < n) {
      const d = text.charCodeAt(k);
      if (d >= 0xdc00 && d <= 0xdfff) k++;
    }
  }
  return k < n ? k : -1;
}

/**
 * Scans the instruction starting at text[pos], records its first elements in `head`, and returns the
 * index just past its ';', or -1 when the text does not hold one well-formed instruction there (bad
 * length, missing separator, text ends early). Values are not validated (the codec's framer does that on
 * bytes); only the structure is checked.
 */
export function scanInstruction(text: string, pos: number, astral: boolean, head: InstructionHead): number {
  const n = text.length;
  let element = 0;
  for (;;) {
    // Length: 1..MAX_LENGTH_DIGITS decimal digits, then '.'.
    let length = 0;
    let digits = 0;
    let c = text.charCodeAt(pos);
    while (c !== DOT) {
      const d = c - DIGIT_0;
      if (!(d >= 0 && d <= 9) || ++digits > MAX_LENGTH_DIGITS) return -1; // NaN (end of text) fails too
      length = length * 10 + d;
      c = text.charCodeAt(++pos);
    }
    if (digits === 0) return -1;
    const start = pos + 1;
    const end = skipValue(text, start, length, astral);
    if (end < 0) return -1;
    if (element < HEAD_ELEMENTS) {
      head.start[element] = start;
      head.end[element] = end;
      head.recorded = element + 1;
    }
    element++;
    const sep = text.charCodeAt(end);
    pos = end + 1;
    if (sep === SEMICOLON) return pos;
    if (sep !== COMMA || pos >= n) return -1;
  }
}

/** True when recorded element `k` of the last scanned instruction is exactly `value`. */
export function elementIs(text: string, head: InstructionHead, k: number, value: string): boolean {
  if (k >= head.recorded) return false;
  const start = head.start[k] as number;
  return (head.end[k] as number) - start === value.length && text.startsWith(value, start);
}

/** Recorded element `k` of the last scanned instruction, or undefined when it has no such element. */
export function elementText(text: string, head: InstructionHead, k: number): string | undefined {
  return k < head.recorded ? text.slice(head.start[k], head.end[k]) : undefined;
}

/**
 * The stream index text[start, end) means, read the way the peers read it (C atoi in guacd, parseInt in
 * guacamole-common-js: leading blanks, a sign, leading digits; "007" and "7x" are 7), or -1 when it is not
 * a non-negative index.
 */
export function streamIndexAt(text: string, start: number, end: number): number {
  let i = start;
  for (
    let c = text.charCodeAt(i);
    i < end && (c === SPACE || (c >= TAB && c <= CR));
    c = text.charCodeAt(++i)
  );
  let negative = false;
  const sign = text.charCodeAt(i);
  if (i < end && (sign === PLUS || sign === MINUS)) {
    negative = sign === MINUS;
    i++;
  }
  let n = 0;
  let digits = 0;
  for (; i < end && digits < MAX_LENGTH_DIGITS; i++, digits++) {
    const d = text.charCodeAt(i) - DIGIT_0;
    if (!(d >= 0 && d <= 9)) break;
    n = n * 10 + d;
  }
  if (digits === 0 || (negative && n !== 0)) return -1;
  return n;
}

/** streamIndexAt over recorded element `k`; -1 when there is no such element. */
export function elementIndex(text: string, head: InstructionHead, k: number): number {
  return k < head.recorded ? streamIndexAt(text, head.start[k] as number, head.end[k] as number) : -1;
}

/**
 * Number of whole instructions in `text` by scanInstruction, or -1 if it is not a sequence of whole
 * well-formed instructions.
 */
export function countInstructions(text: string, astral = hasSurrogates(text)): number {
  const head = new InstructionHead();
  let count = 0;
  let pos = 0;
  while (pos < text.length) {
    pos = scanInstruction(text, pos, astral, head);
    if (pos < 0) return -1;
    count++;
  }
  return count;
}
