/**
 * Native-vs-TypeScript framer comparison, shared by native-framer.test.ts and asan-corpus-runner.ts:
 * both framers and the reference scanner must agree on every per-chunk result and on the error (code and
 * absolute offset), and on bytesSeen.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NativeGuacamoleFramer } from '../../src/native/native-framer.js';
import { GuacamoleProtocolError } from '../../src/protocol/guacamole/errors.js';
import { type Framer, GuacamoleFramer } from '../../src/protocol/guacamole/framer.js';
import type { GuacamoleLimits } from '../../src/protocol/guacamole/limits.js';
import { bytesOf, concatBytes, interestingByte } from '../helpers/guac-arbitraries.js';
import { driveFramer, expectedFramerRun } from '../helpers/guac-drive.js';
import { referenceScan } from '../helpers/guac-reference.js';

/** Error details that must match exactly between the two framers. */
function errorShape(err: unknown): Record<string, unknown> {
  assert.ok(err instanceof GuacamoleProtocolError, `expected GuacamoleProtocolError, got ${String(err)}`);
  return {
    code: err.code,
    codeName: err.codeName,
    offset: err.offset,
    limit: err.limit,
    limitValue: err.limitValue,
    message: err.message,
  };
}

/** Pushes every chunk, recording each result or the thrown error (then stops); the full story of a run. */
function trace(framer: Framer, chunks: readonly Uint8Array[]): { steps: unknown[]; bytesSeen: number } {
  const steps: unknown[] = [];
  for (const chunk of chunks) {
    try {
      steps.push(framer.push(chunk));
    } catch (err) {
      steps.push(errorShape(err));
      break;
    }
  }
  return { steps, bytesSeen: framer.bytesSeen };
}

/**
 * Asserts the native framer, the TypeScript framer and the reference scanner agree on `chunks` (the
 * chunking of `bytes`) under `limits` (undefined: defaults). Also checks the native framer stays dead.
 */
export function assertSameOnChunks(
  bytes: Uint8Array,
  chunks: readonly Uint8Array[],
  limits?: Partial<GuacamoleLimits>,
): void {
  const expected = expectedFramerRun(chunks, referenceScan(bytes, limits));
  const nativeRun = driveFramer(new NativeGuacamoleFramer(limits), chunks);
  assert.deepEqual(nativeRun, expected, 'native framer vs reference scanner');
  const tsTrace = trace(new GuacamoleFramer(limits), chunks);
  const nativeTrace = trace(new NativeGuacamoleFramer(limits), chunks);
  assert.deepEqual(nativeTrace, tsTrace, 'native framer vs TypeScript framer (results, errors, bytesSeen)');
}

export { rng as prng } from '../helpers/rng.js';

/** A random chunking: cut points drawn from `rand`, sizes biased small or large. */
export function randomChunks(bytes: Uint8Array, rand: () => number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  const mode = Math.floor(rand() * 4);
  let i = 0;
  while (i < bytes.length) {
    const max = mode === 0 ? 2 : mode === 1 ? 9 : mode === 2 ? 100 : Math.max(1, bytes.length);
    const n = Math.floor(rand() * (max + 1)); // 0 gives an empty chunk
    chunks.push(bytes.subarray(i, i + n));
    i += n;
  }
  if (chunks.length === 0) chunks.push(bytes.subarray(0, 0));
  return chunks;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * Streams of `blob` instructions with long base64 values (the native hot path), honest or with a
 * lying length, optionally with one byte replaced by a state-machine-relevant byte.
 */
export function blobStream(maxValue = 9000): fc.Arbitrary<Uint8Array> {
  const blob = fc
    .tuple(
      fc.integer({ min: 0, max: maxValue }),
      fc.constantFrom(0, 0, 0, -1, 1, -8, 8),
      fc.integer({ min: 0, max: 63 }),
    )
    .map(([n, lie, c]) => {
      let value = '';
      for (let k = 0; k < n; k++) value += BASE64[(k * 7 + c) % 64];
      return bytesOf(`4.blob,1.${c % 10},${Math.max(0, n + lie)}.${value};`);
    });
  return fc
    .tuple(
      fc.array(blob, { minLength: 1, maxLength: 4 }),
      fc.option(fc.tuple(fc.nat(), interestingByte()), { nil: undefined, freq: 2 }),
    )
    .map(([parts, mutation]) => {
      const bytes = concatBytes(parts);
      if (mutation !== undefined && bytes.length > 0) bytes[mutation[0] % bytes.length] = mutation[1];
      return bytes;
    });
}
