/**
 * The C++ framer (via the addon) against the TypeScript framer and the reference scanner: unit cases,
 * the golden seeds, and differential property tests over random and adversarial streams and chunkings.
 * Skipped, with the reason, when the addon was not built. The selection tests (select-framer) always run.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { loadNativeAddon } from '../../src/native/addon.js';
import { NativeGuacamoleFramer } from '../../src/native/native-framer.js';
import { createFramer, framerImplementation } from '../../src/native/select-framer.js';
import { GuacamoleProtocolError, ScanErrorCode } from '../../src/protocol/guacamole/errors.js';
import { GuacamoleFramer } from '../../src/protocol/guacamole/framer.js';
import { GuacamoleParser } from '../../src/protocol/guacamole/parser.js';
import {
  adversarialStream,
  bytesOf,
  maybeSmallLimits,
  smallLimits,
  splitAt,
  validStream,
  withChunking,
} from '../helpers/guac-arbitraries.js';
import { driveFramer, driveParser, expectedFramerRun } from '../helpers/guac-drive.js';
import { SEEDS } from '../helpers/guac-seeds.js';
import { assertSameOnChunks, blobStream } from './differential.js';

const loaded = loadNativeAddon();
const skip = loaded.addon ? false : `native addon not built or not loadable: ${loaded.reason}`;
const RUNS = Number(process.env.GATEHOUSE_PROPERTY_RUNS ?? 1500);

function oneByteChunks(bytes: Uint8Array): Uint8Array[] {
  return Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
}

function thrown(fn: () => unknown): GuacamoleProtocolError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof GuacamoleProtocolError);
    return err;
  }
  assert.fail('expected a GuacamoleProtocolError');
}

describe('NativeGuacamoleFramer: unit', { skip }, () => {
  test('frames instructions and reports the last end in each chunk', () => {
    const f = new NativeGuacamoleFramer();
    assert.equal(f.push(bytesOf('4.sync,3.123;4.sy')), 13);
    assert.equal(f.push(bytesOf('nc,2.10')), -1);
    assert.equal(f.push(bytesOf(';0.;')), 4);
    assert.equal(f.push(new Uint8Array(0)), -1);
    assert.equal(f.bytesSeen, 28);
  });

  test('every golden seed, whole and one byte at a time', () => {
    for (const seed of SEEDS) {
      for (const chunks of [
        [seed.bytes],
        oneByteChunks(seed.bytes),
        splitAt(seed.bytes, [seed.bytes.length >> 1]),
      ]) {
        assert.deepEqual(
          driveFramer(new NativeGuacamoleFramer(), chunks),
          expectedFramerRun(chunks, seed),
          seed.name,
        );
        assertSameOnChunks(seed.bytes, chunks);
      }
    }
  });

  test('each error code, with the same error object as the TypeScript framer', () => {
    const blobs = `8192.${'A'.repeat(8192)},`.repeat(4);
    const cases: Array<[string, ScanErrorCode, number]> = [
      ['4.sync,x', ScanErrorCode.BAD_LENGTH, 7],
      ['4.sync,8193.', ScanErrorCode.ELEMENT_TOO_LONG, 10],
      [`0.${',0.'.repeat(128)};`, ScanErrorCode.TOO_MANY_ELEMENTS, 384],
      [`4.blob,${blobs}`, ScanErrorCode.INSTRUCTION_TOO_LONG, 32768],
      ['3.nop;1.ab;', ScanErrorCode.BAD_SEPARATOR, 9],
    ];
    for (const [text, code, offset] of cases) {
      const bytes = bytesOf(text);
      const native = thrown(() => new NativeGuacamoleFramer().push(bytes));
      const ts = thrown(() => new GuacamoleFramer().push(bytes));
      assert.equal(native.code, code, text.slice(0, 40));
      assert.equal(native.offset, offset, text.slice(0, 40));
      assert.deepEqual(
        { ...native, message: native.message, name: native.name },
        { ...ts, message: ts.message, name: ts.name },
      );
    }
    const utf8 = bytesOf('4.sync,2.a', [0xc3, 0x28], ';');
    const err = thrown(() => new NativeGuacamoleFramer().push(utf8));
    assert.equal(err.code, ScanErrorCode.INVALID_UTF8);
    assert.equal(err.codeName, 'INVALID_UTF8');
    assert.equal(err.offset, 11);
  });

  test('limit errors name the limit and its value', () => {
    const limits = { maxElementLength: 5, maxElements: 3, maxInstructionBytes: 20 };
    const e1 = thrown(() => new NativeGuacamoleFramer(limits).push(bytesOf('6.')));
    assert.equal(e1.limit, 'maxElementLength');
    assert.equal(e1.limitValue, 5);
    const e2 = thrown(() => new NativeGuacamoleFramer(limits).push(bytesOf('0.,0.,0.,0.;')));
    assert.deepEqual([e2.code, e2.offset, e2.limit, e2.limitValue], [3, 9, 'maxElements', 3]);
    const e3 = thrown(() => new NativeGuacamoleFramer(limits).push(bytesOf('5.AAAAA,5.AAAAA,5.AAAAA;')));
    assert.deepEqual([e3.code, e3.offset, e3.limit, e3.limitValue], [4, 20, 'maxInstructionBytes', 20]);
  });

  test('dead after an error: same error again, bytesSeen frozen at the failing chunk', () => {
    const f = new NativeGuacamoleFramer();
    assert.equal(f.push(bytesOf('3.nop;')), 6);
    const first = thrown(() => f.push(bytesOf('3.nop;Z 0.;')));
    assert.equal(first.offset, 12);
    assert.equal(f.bytesSeen, 17);
    const again = thrown(() => f.push(bytesOf('3.nop;')));
    assert.deepEqual({ ...again, message: again.message }, { ...first, message: first.message });
    assert.equal(f.bytesSeen, 17);
    const ts = new GuacamoleFramer();
    ts.push(bytesOf('3.nop;'));
    thrown(() => ts.push(bytesOf('3.nop;Z 0.;')));
    assert.equal(ts.bytesSeen, f.bytesSeen);
  });

  test('reads views at their byteOffset (Buffer pool slices, subarrays)', () => {
    const big = bytesOf('garbage!', '4.sync,3.123;', 'more garbage');
    const view = big.subarray(8, 8 + 13);
    assert.equal(new NativeGuacamoleFramer().push(view), 13);
    const pooled = Buffer.from('4.sync,1.1;');
    assert.equal(new NativeGuacamoleFramer().push(pooled), 11);
    const f = new NativeGuacamoleFramer();
    assert.equal(f.push(view.subarray(0, 5)), -1);
    assert.equal(f.push(view.subarray(5)), 8);
  });

  test('rejects what is not a Uint8Array, like a thin addon should', () => {
    const f = new NativeGuacamoleFramer();
    for (const bad of [
      '4.sync;',
      new Uint16Array(4),
      new DataView(new ArrayBuffer(4)),
      null,
      undefined,
      42,
    ]) {
      assert.throws(() => f.push(bad as unknown as Uint8Array), TypeError);
    }
    assert.equal(f.push(bytesOf('0.;')), 3, 'still usable after a TypeError');
  });

  test('limits: defaults, validation as in the TypeScript framer, zero limits', () => {
    assert.deepEqual(new NativeGuacamoleFramer().limits, new GuacamoleFramer().limits);
    assert.deepEqual(
      new NativeGuacamoleFramer({ maxElements: 3 }).limits,
      new GuacamoleFramer({ maxElements: 3 }).limits,
    );
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) {
      assert.throws(() => new NativeGuacamoleFramer({ maxElementLength: bad }), RangeError);
    }
    const zero = { maxElementLength: 0, maxElements: 0, maxInstructionBytes: 0 };
    assertSameOnChunks(bytesOf('0.;'), [bytesOf('0.;')], zero);
    assertSameOnChunks(bytesOf('0.;'), [bytesOf('0.;')], { ...zero, maxInstructionBytes: 3, maxElements: 1 });
    const max = Number.MAX_SAFE_INTEGER;
    const huge = { maxElementLength: max, maxElements: max, maxInstructionBytes: max };
    const digits = bytesOf('9007199254740991', '9');
    assertSameOnChunks(digits, [digits], huge);
  });

  test('long ASCII values: every split around the fast path, every budget boundary', () => {
    const value = 'QUJD'.repeat(10) + 'x'; // 41 ASCII codepoints
    const bytes = bytesOf(`4.blob,1.0,41.${value};3.end;`);
    for (let cut = 0; cut <= bytes.length; cut++) {
      assertSameOnChunks(bytes, splitAt(bytes, [cut]));
      assertSameOnChunks(bytes, splitAt(bytes, [cut, cut + 3, cut + 8]));
    }
    for (let budget = 0; budget <= 60; budget++) {
      const limits = { maxInstructionBytes: budget };
      assertSameOnChunks(bytes, [bytes], limits);
      assertSameOnChunks(bytes, splitAt(bytes, [budget >> 1, budget]), limits);
    }
    for (let n = 0; n <= 45; n++) {
      const lying = bytesOf(`4.blob,${n}.${value};`);
      assertSameOnChunks(lying, [lying]);
      assertSameOnChunks(lying, splitAt(lying, [9, 17]));
    }
    const withMultibyte = bytesOf(`12.${'ABCDEFG'}é€😀${'abcdefghij'.slice(0, 2)};`);
    for (let cut = 0; cut <= withMultibyte.length; cut++)
      assertSameOnChunks(withMultibyte, splitAt(withMultibyte, [cut]));
  });
});

describe('NativeGuacamoleFramer: differential properties (native = TypeScript = reference)', { skip }, () => {
  test('valid streams, any chunking, default or small limits', () => {
    fc.assert(
      fc.property(withChunking(validStream(8), 16), maybeSmallLimits(), ({ bytes, chunks }, limits) => {
        assertSameOnChunks(bytes, chunks, limits);
      }),
      { numRuns: RUNS },
    );
  });

  test('adversarial streams (split/invalid UTF-8, surrogates, huge or non-numeric lengths, missing terminators)', () => {
    fc.assert(
      fc.property(withChunking(adversarialStream(), 16), maybeSmallLimits(), ({ bytes, chunks }, limits) => {
        assertSameOnChunks(bytes, chunks, limits);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  test('adversarial streams one byte at a time under small limits', () => {
    fc.assert(
      fc.property(adversarialStream(), smallLimits(), (bytes, limits) => {
        assertSameOnChunks(bytes, oneByteChunks(bytes), limits);
      }),
      { numRuns: RUNS },
    );
  });

  test('long base64 blob streams (the hot path), honest or lying lengths, with a stray byte', () => {
    fc.assert(
      fc.property(withChunking(blobStream(), 10), maybeSmallLimits(), ({ bytes, chunks }, limits) => {
        assertSameOnChunks(bytes, chunks, limits);
      }),
      { numRuns: Math.max(50, RUNS >> 2) },
    );
  });
});

describe('GuacamoleParser over the native framer', { skip }, () => {
  test('same instructions per feed, same errors, same counters as the default parser', () => {
    const stream = fc.oneof(adversarialStream(), validStream(8), blobStream());
    fc.assert(
      fc.property(withChunking(stream, 16), maybeSmallLimits(), ({ chunks }, limits) => {
        const native = new GuacamoleParser(limits, createFramer({ impl: 'native', limits }));
        const ts = new GuacamoleParser(limits);
        assert.deepEqual(driveParser(native, chunks), driveParser(ts, chunks));
        assert.equal(native.bytesSeen, ts.bytesSeen);
        assert.equal(native.bufferedBytes, ts.bufferedBytes);
        assert.deepEqual(
          native.failure && { ...native.failure, message: native.failure.message },
          ts.failure && { ...ts.failure, message: ts.failure.message },
        );
      }),
      { numRuns: RUNS },
    );
  });
});

describe('createFramer / framerImplementation', () => {
  const env = (value?: string): NodeJS.ProcessEnv =>
    value === undefined ? {} : { GATEHOUSE_CODEC_IMPL: value };

  test("'ts' always gives the TypeScript framer, with limits", () => {
    const f = createFramer({ impl: 'ts', limits: { maxElements: 4 } });
    assert.ok(f instanceof GuacamoleFramer);
    assert.equal(f.limits.maxElements, 4);
    assert.equal(framerImplementation({ impl: 'ts' }).impl, 'ts');
    assert.ok(createFramer({}, env('ts')) instanceof GuacamoleFramer);
  });

  test("'auto' picks native exactly when the addon loaded", () => {
    const choice = framerImplementation({}, env());
    assert.equal(choice.impl, loaded.addon ? 'native' : 'ts');
    assert.match(choice.reason, /auto/);
    const f = createFramer({}, env());
    assert.ok(loaded.addon ? f instanceof NativeGuacamoleFramer : f instanceof GuacamoleFramer);
  });

  test('opts.impl wins over GATEHOUSE_CODEC_IMPL; bad values are errors', () => {
    assert.equal(framerImplementation({ impl: 'ts' }, env('native')).impl, 'ts');
    assert.throws(() => framerImplementation({}, env('fast')), /GATEHOUSE_CODEC_IMPL='fast'/);
    assert.throws(() => createFramer({ impl: 'rust' as 'ts' }), /unknown framer implementation 'rust'/);
  });

  test("'native' gives the C++ framer", { skip }, () => {
    const f = createFramer({ impl: 'native', limits: { maxElements: 2 } });
    assert.ok(f instanceof NativeGuacamoleFramer);
    assert.equal(framerImplementation({}, env('native')).impl, 'native');
    assert.throws(() => f.push(bytesOf('0.,0.,0.;')), GuacamoleProtocolError);
  });

  test("'native' when the addon is missing throws and says why; 'auto' falls back", () => {
    const saved = process.env.GATEHOUSE_NATIVE_PATH;
    process.env.GATEHOUSE_NATIVE_PATH = '/nonexistent/gatehouse_native.node';
    try {
      assert.throws(
        () => createFramer({ impl: 'native' }),
        /unavailable: native addon not built \(\/nonexistent/,
      );
      assert.throws(() => framerImplementation({}, env('native')), /GATEHOUSE_CODEC_IMPL: native/);
      assert.throws(() => new NativeGuacamoleFramer(), /native Guacamole framer unavailable/);
      const auto = framerImplementation({}, env('auto'));
      assert.equal(auto.impl, 'ts');
      assert.match(auto.reason, /not built/);
      assert.ok(createFramer({}, env()) instanceof GuacamoleFramer);
    } finally {
      if (saved === undefined) delete process.env.GATEHOUSE_NATIVE_PATH;
      else process.env.GATEHOUSE_NATIVE_PATH = saved;
    }
    assert.equal(loadNativeAddon().addon === null, loaded.addon === null, 'the real addon is found again');
  });
});
