import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  codepointLength,
  encodeInstruction,
  encodeInstructionBytes,
} from '../../src/protocol/guacamole/encoder.js';
import { GuacamoleFramer } from '../../src/protocol/guacamole/framer.js';
import type { GuacamoleLimits } from '../../src/protocol/guacamole/limits.js';
import { GuacamoleParser } from '../../src/protocol/guacamole/parser.js';
import {
  adversarialStream,
  chunking,
  concatBytes,
  elementText,
  instructionArb,
  instructionBytes,
  maybeSmallLimits,
  splitAt,
  validStream,
  wellFormed,
  withChunking,
} from '../helpers/guac-arbitraries.js';
import { driveFramer, driveParser, expectedBatchSizes, expectedFramerRun } from '../helpers/guac-drive.js';
import { referenceDecode, referenceScan } from '../helpers/guac-reference.js';

const RUNS = 400;

/** Checks framer and parser against the reference scanner for one stream, limits and chunking. */
function checkAgainstReference(bytes: Uint8Array, chunks: Uint8Array[], limits?: GuacamoleLimits): void {
  const outcome = referenceScan(bytes, limits);
  const framerRun = driveFramer(new GuacamoleFramer(limits), chunks);
  assert.deepEqual(framerRun, expectedFramerRun(chunks, outcome));

  const parserRun = driveParser(new GuacamoleParser(limits), chunks);
  assert.deepEqual(parserRun.error, outcome.error);
  assert.deepEqual(
    parserRun.batches.map((b) => b.length),
    expectedBatchSizes(chunks, outcome),
  );
  const got = parserRun.batches.flat();
  assert.deepEqual(got, referenceDecode(bytes, outcome.ends.slice(0, got.length)));
}

describe('Guacamole codec properties', () => {
  test('encode → parse round trip, any values, any chunking', () => {
    fc.assert(
      fc.property(
        fc.array(instructionArb(), { maxLength: 6 }).chain((list) => {
          const bytes = concatBytes(list.map((ins) => encodeInstructionBytes(ins.opcode, ...ins.args)));
          return chunking(bytes).map((chunks) => ({ list, bytes, chunks }));
        }),
        ({ list, bytes, chunks }) => {
          const p = new GuacamoleParser();
          const got = chunks.flatMap((c) => p.feed(c));
          assert.deepEqual(
            got,
            list.map((ins) => ({ opcode: wellFormed(ins.opcode), args: ins.args.map(wellFormed) })),
          );
          assert.equal(p.bufferedBytes, 0);
          assert.equal(new GuacamoleFramer().push(bytes), list.length === 0 ? -1 : bytes.length);
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('round trip of numbers and bigints', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.bigInt()), {
          maxLength: 8,
        }),
        (values) => {
          const [ins] = new GuacamoleParser().feed(encodeInstructionBytes('n', ...values));
          assert.ok(ins);
          assert.equal(ins.args.length, values.length);
          values.forEach((v, i) => {
            const text = ins.args[i] as string;
            if (typeof v === 'bigint') assert.equal(BigInt(text), v);
            else {
              assert.equal(Number(text), v === 0 ? 0 : v);
              if (Number.isInteger(v)) assert.match(text, /^-?\d+$/);
            }
          });
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('the encoder matches an independent builder, and codepointLength counts wire codepoints', () => {
    fc.assert(
      fc.property(instructionArb(), elementText(), (ins, s) => {
        assert.deepEqual(encodeInstructionBytes(ins.opcode, ...ins.args), instructionBytes(ins));
        assert.equal(codepointLength(s), Array.from(wellFormed(s)).length);
        assert.equal(encodeInstruction(ins.opcode, ...ins.args).endsWith(';'), true);
      }),
      { numRuns: RUNS },
    );
  });

  test('valid streams: framer and parser accept them whole, split anywhere', () => {
    fc.assert(
      fc.property(withChunking(validStream(8), 16), ({ bytes, chunks }) => {
        const outcome = referenceScan(bytes);
        assert.equal(outcome.error, null);
        assert.equal(outcome.ends.at(-1) ?? 0, bytes.length);
        checkAgainstReference(bytes, chunks);
      }),
      { numRuns: RUNS },
    );
  });

  test('adversarial streams: framer and parser match the reference scanner (codes, offsets, ends)', () => {
    fc.assert(
      fc.property(withChunking(adversarialStream(), 10), maybeSmallLimits(), ({ bytes, chunks }, limits) => {
        checkAgainstReference(bytes, chunks, limits);
      }),
      { numRuns: RUNS * 3 },
    );
  });

  test('parser and framer agree with each other, byte by byte and whole', () => {
    fc.assert(
      fc.property(adversarialStream(), maybeSmallLimits(), (bytes, limits) => {
        for (const chunks of [[bytes], Array.from(bytes, (b) => Uint8Array.of(b))]) {
          const framerRun = driveFramer(new GuacamoleFramer(limits), chunks);
          const parserRun = driveParser(new GuacamoleParser(limits), chunks);
          assert.deepEqual(parserRun.error, framerRun.error);
          assert.deepEqual(
            parserRun.batches.map((b) => b.length > 0),
            framerRun.results.map((r) => r >= 0),
          );
        }
      }),
      { numRuns: RUNS },
    );
  });

  test('chunking invariance: any two chunkings give the same absolute ends and error', () => {
    fc.assert(
      fc.property(
        adversarialStream().chain((bytes) =>
          fc.tuple(fc.constant(bytes), chunking(bytes, 8), chunking(bytes, 8), maybeSmallLimits()),
        ),
        ([, a, b, limits]) => {
          const absolute = (chunks: Uint8Array[]) => {
            const run = driveFramer(new GuacamoleFramer(limits), chunks);
            const ends: number[] = [];
            let start = 0;
            run.results.forEach((r, i) => {
              if (r >= 0) ends.push(start + r);
              start += (chunks[i] as Uint8Array).length;
            });
            return { ends, error: run.error };
          };
          const ra = absolute(a);
          const rb = absolute(b);
          assert.deepEqual(ra.error, rb.error);
          // Ends are reported per chunk (the last one), so compare the ones both chunkings can see.
          const all = referenceScan(concatBytes(a), limits).ends;
          for (const e of [...ra.ends, ...rb.ends]) assert.ok(all.includes(e));
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('values with split multibyte and astral characters, at every split point', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }), (s) => {
        const bytes = encodeInstructionBytes('v', s, s);
        const expected = [{ opcode: 'v', args: [wellFormed(s), wellFormed(s)] }];
        for (let cut = 0; cut <= bytes.length; cut++) {
          const p = new GuacamoleParser();
          assert.deepEqual(
            splitAt(bytes, [cut]).flatMap((c) => p.feed(c)),
            expected,
          );
        }
      }),
      { numRuns: 200 },
    );
  });
});
