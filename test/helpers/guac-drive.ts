/** Drives framers and parsers over chunked streams and reports what they did, for comparisons. */
import { GuacamoleProtocolError } from '../../src/protocol/guacamole/errors.js';
import type { Framer } from '../../src/protocol/guacamole/framer.js';
import type { GuacamoleParser, Instruction } from '../../src/protocol/guacamole/parser.js';
import type { ScanOutcome } from './guac-reference.js';

export interface ScanError {
  code: number;
  offset: number;
}

export interface FramerRun {
  /** push() results, one per chunk that did not fail. */
  results: number[];
  error: ScanError | null;
}

function asScanError(err: unknown): ScanError {
  if (err instanceof GuacamoleProtocolError) return { code: err.code, offset: err.offset };
  throw err;
}

/** Pushes every chunk; stops at the first error, and checks the next push reports the same error. */
export function driveFramer(framer: Framer, chunks: readonly Uint8Array[]): FramerRun {
  const results: number[] = [];
  for (const chunk of chunks) {
    try {
      results.push(framer.push(chunk));
    } catch (err) {
      const error = asScanError(err);
      let again: ScanError | null = null;
      try {
        framer.push(new Uint8Array([0x30, 0x2e, 0x3b]));
      } catch (err2) {
        again = asScanError(err2);
      }
      if (again === null || again.code !== error.code || again.offset !== error.offset) {
        throw new Error(`framer not dead after ${JSON.stringify(error)}: ${JSON.stringify(again)}`);
      }
      return { results, error };
    }
  }
  return { results, error: null };
}

/** What a framer must return for these chunks, given the reference outcome over their concatenation. */
export function expectedFramerRun(chunks: readonly Uint8Array[], outcome: ScanOutcome): FramerRun {
  const results: number[] = [];
  let start = 0;
  let e = 0;
  for (const chunk of chunks) {
    const end = start + chunk.length;
    if (outcome.error !== null && outcome.error.offset < end) return { results, error: outcome.error };
    let last = -1;
    while (e < outcome.ends.length && (outcome.ends[e] as number) <= end) {
      last = (outcome.ends[e] as number) - start;
      e++;
    }
    results.push(last);
    start = end;
  }
  return { results, error: outcome.error };
}

export interface ParserRun {
  /** feed() results, one per chunk that did not fail. */
  batches: Instruction[][];
  error: ScanError | null;
}

/** Feeds every chunk; stops at the first error, and checks the next feed reports the same error. */
export function driveParser(parser: GuacamoleParser, chunks: readonly Uint8Array[]): ParserRun {
  const batches: Instruction[][] = [];
  for (const chunk of chunks) {
    try {
      batches.push(parser.feed(chunk));
    } catch (err) {
      const error = asScanError(err);
      let again: ScanError | null = null;
      try {
        parser.feed(new Uint8Array([0x30, 0x2e, 0x3b]));
      } catch (err2) {
        again = asScanError(err2);
      }
      if (again === null || again.code !== error.code || again.offset !== error.offset) {
        throw new Error(`parser not dead after ${JSON.stringify(error)}: ${JSON.stringify(again)}`);
      }
      return { batches, error };
    }
  }
  return { batches, error: null };
}

/** How many instructions each feed() must return, given the reference outcome (chunks before any error). */
export function expectedBatchSizes(chunks: readonly Uint8Array[], outcome: ScanOutcome): number[] {
  const sizes: number[] = [];
  let start = 0;
  let e = 0;
  for (const chunk of chunks) {
    const end = start + chunk.length;
    if (outcome.error !== null && outcome.error.offset < end) break;
    let count = 0;
    while (e < outcome.ends.length && (outcome.ends[e] as number) <= end) {
      count++;
      e++;
    }
    sizes.push(count);
    start = end;
  }
  return sizes;
}
