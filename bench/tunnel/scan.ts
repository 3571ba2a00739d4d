/**
 * A cheap walk over Guacamole instructions for the load generator, which must stay far cheaper than the
 * tunnels it loads: it finds each instruction's end and opcode without building its values (a `blob`'s
 * base64 is skipped by length, not copied). Values are jumped over by their declared length in UTF-16 code
 * units, which equals Guacamole's code-point length for text without astral characters (the benchmark's
 * traffic has none); a jump that does not land on `,` or `;` is an error.
 */

/** Called for each complete instruction: its opcode, its first argument when asked for, and its span. */
export type InstructionVisitor = (
  opcode: string,
  firstArg: string | undefined,
  start: number,
  end: number,
) => void;

const DOT = 0x2e;
const COMMA = 0x2c;
const SEMICOLON = 0x3b;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const MAX_DIGITS = 9;

/** Opcodes whose first argument the visitor gets (sync: the timestamp to answer; error: the message). */
const WANT_FIRST_ARG = new Set(['sync', 'error', 'args', 'ready']);

export class ScanError extends Error {
  override name = 'ScanError';
}

/**
 * Visits every complete instruction at the start of `text` and returns the index just past the last one
 * (0 if none is complete): the caller keeps the rest for the next chunk. Throws ScanError on bad framing.
 */
export function scanInstructions(text: string, visit: InstructionVisitor): number {
  const n = text.length;
  let i = 0;
  let done = 0;
  while (i < n) {
    const start = i;
    let element = 0;
    let opcode = '';
    let first: string | undefined;
    for (;;) {
      let length = 0;
      let digits = 0;
      let c = i < n ? text.charCodeAt(i) : -1;
      while (c >= DIGIT_0 && c <= DIGIT_9) {
        length = length * 10 + (c - DIGIT_0);
        if (++digits > MAX_DIGITS) throw new ScanError(`element length too long at ${i}`);
        c = ++i < n ? text.charCodeAt(i) : -1;
      }
      if (c === -1) return done;
      if (digits === 0 || c !== DOT) throw new ScanError(`expected a length and "." at ${i}`);
      const valueStart = ++i;
      const end = valueStart + length;
      if (end >= n) return done;
      const terminator = text.charCodeAt(end);
      if (terminator !== COMMA && terminator !== SEMICOLON) {
        throw new ScanError(`element of length ${length} at ${valueStart} not followed by "," or ";"`);
      }
      if (element === 0) opcode = text.slice(valueStart, end);
      else if (element === 1 && WANT_FIRST_ARG.has(opcode)) first = text.slice(valueStart, end);
      element++;
      i = end + 1;
      if (terminator === SEMICOLON) break;
    }
    visit(opcode, first, start, i);
    done = i;
  }
  return done;
}
