import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  GuacamoleProtocolError,
  protocolErrorFromCode,
  ScanErrorCode,
} from '../../src/protocol/guacamole/errors.js';
import { GuacamoleFramer } from '../../src/protocol/guacamole/framer.js';
import { DEFAULT_LIMITS, type GuacamoleLimits, resolveLimits } from '../../src/protocol/guacamole/limits.js';
import { bytesOf, splitAt } from '../helpers/guac-arbitraries.js';
import { driveFramer, expectedFramerRun } from '../helpers/guac-drive.js';
import { referenceScan } from '../helpers/guac-reference.js';
import { SEED_CORPUS_DIR, SEEDS } from '../helpers/guac-seeds.js';

/** Runs a fresh framer over the chunks and returns its push results and error. */
function frame(chunks: Uint8Array[], limits?: Partial<GuacamoleLimits>) {
  return driveFramer(new GuacamoleFramer(limits), chunks);
}

/** The error a single push of `bytes` throws (asserts it throws a GuacamoleProtocolError). */
function errorOf(bytes: Uint8Array, limits?: Partial<GuacamoleLimits>): GuacamoleProtocolError {
  const framer = new GuacamoleFramer(limits);
  try {
    framer.push(bytes);
  } catch (err) {
    assert.ok(err instanceof GuacamoleProtocolError, String(err));
    return err;
  }
  assert.fail('expected a GuacamoleProtocolError');
}

function everyByte(bytes: Uint8Array): Uint8Array[] {
  return Array.from(bytes, (b) => Uint8Array.of(b));
}

describe('GuacamoleFramer: valid streams', () => {
  test('one instruction: offset just past its ;', () => {
    assert.equal(new GuacamoleFramer().push(bytesOf('4.sync,3.123;')), 13);
  });

  test('empty opcode 0.; and zero-length args', () => {
    const f = new GuacamoleFramer();
    assert.equal(f.push(bytesOf('0.;')), 3);
    assert.equal(f.push(bytesOf('4.args,0.,0.;')), 13);
    assert.equal(f.push(bytesOf('0.,4.ping,3.123;')), 16);
  });

  test('returns the end of the last instruction completed in the chunk', () => {
    const f = new GuacamoleFramer();
    assert.equal(f.push(bytesOf('3.nop;3.nop;4.sy')), 12);
    assert.equal(f.push(bytesOf('nc,1.1')), -1);
    assert.equal(f.push(bytesOf(';')), 1);
    assert.equal(f.bytesSeen, 23);
  });

  test('an empty chunk completes nothing', () => {
    const f = new GuacamoleFramer();
    assert.equal(f.push(new Uint8Array(0)), -1);
    f.push(bytesOf('3.no'));
    assert.equal(f.push(new Uint8Array(0)), -1);
    assert.equal(f.push(bytesOf('p;')), 2);
  });

  test('multibyte values: lengths count codepoints (é, €, 😀 are one each)', () => {
    const bytes = bytesOf('4.name,1.é,1.€,1.😀,2.😀😀,3.a€😀;');
    assert.equal(new GuacamoleFramer().push(bytes), bytes.length);
  });

  test('punctuation inside values is data', () => {
    assert.equal(new GuacamoleFramer().push(bytesOf('5.;,.;,,3.1.2;')), 14);
  });

  test('leading zeros in lengths are accepted', () => {
    assert.equal(new GuacamoleFramer().push(bytesOf('004.sync,01.1;')), 14);
  });

  test('accepts subarray views with a byte offset', () => {
    const backing = bytesOf('xxxx4.sync,1.1;yyyy');
    assert.equal(new GuacamoleFramer().push(backing.subarray(4, 15)), 11);
    assert.equal(new GuacamoleFramer().push(Buffer.from('3.nop;')), 6);
  });

  test('splits at every byte position of a multi-instruction stream give the same ends', () => {
    const bytes = bytesOf(
      '3.img,1.1,2.14,1.0,9.image/png;4.blob,1.1,4.AAAA;0.,4.ping,1.é;5.€😀abc,0.;3.end,1.1;',
    );
    const outcome = referenceScan(bytes);
    assert.equal(outcome.error, null);
    assert.equal(outcome.ends.length, 5);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const chunks = splitAt(bytes, [cut]);
      assert.deepEqual(frame(chunks), expectedFramerRun(chunks, outcome), `cut at ${cut}`);
      for (let cut2 = cut; cut2 <= bytes.length; cut2 += 7) {
        const three = splitAt(bytes, [cut, cut2]);
        assert.deepEqual(frame(three), expectedFramerRun(three, outcome), `cuts at ${cut}, ${cut2}`);
      }
    }
    const single = everyByte(bytes);
    const run = frame(single);
    assert.deepEqual(run, expectedFramerRun(single, outcome));
    assert.equal(run.results.filter((r) => r === 1).length, 5);
  });

  test('exactly maxElements elements, maxElementLength codepoints and maxInstructionBytes bytes pass', () => {
    assert.equal(new GuacamoleFramer().push(bytesOf('4.test', ',0.'.repeat(127), ';')), 388);
    assert.equal(
      new GuacamoleFramer().push(bytesOf('4.blob,1.1,8192.', 'é'.repeat(8192), ';')),
      8192 * 2 + 17,
    );
    const full = bytesOf('4.blob,', `8192.${'A'.repeat(8192)},`.repeat(3), `8161.${'A'.repeat(8161)};`);
    assert.equal(full.length, DEFAULT_LIMITS.maxInstructionBytes);
    assert.equal(new GuacamoleFramer().push(full), full.length);
  });
});

describe('GuacamoleFramer: errors and their offsets', () => {
  const cases: Array<[string, Uint8Array, ScanErrorCode, number]> = [
    ['bad length x.abc;', bytesOf('x.abc;'), ScanErrorCode.BAD_LENGTH, 0],
    ['missing .', bytesOf('4sync;'), ScanErrorCode.BAD_LENGTH, 1],
    ['no digits before .', bytesOf('.;'), ScanErrorCode.BAD_LENGTH, 0],
    ['empty element after ,', bytesOf('4.sync,;'), ScanErrorCode.BAD_LENGTH, 7],
    ['sign in length', bytesOf('+1.a;'), ScanErrorCode.BAD_LENGTH, 0],
    ['length 8193', bytesOf('4.blob,8193.'), ScanErrorCode.ELEMENT_TOO_LONG, 10],
    ['129 elements', bytesOf('0.', ',0.'.repeat(128), ';'), ScanErrorCode.TOO_MANY_ELEMENTS, 384],
    [
      '32769-byte instruction',
      bytesOf('4.blob,', `8192.${'A'.repeat(8192)},`.repeat(4)),
      ScanErrorCode.INSTRUCTION_TOO_LONG,
      32768,
    ],
    ['overlong C0 80', bytesOf('1.', [0xc0, 0x80], ';'), ScanErrorCode.INVALID_UTF8, 2],
    ['overlong C1 BF', bytesOf('1.', [0xc1, 0xbf], ';'), ScanErrorCode.INVALID_UTF8, 2],
    ['overlong E0 80 80', bytesOf('1.', [0xe0, 0x80, 0x80], ';'), ScanErrorCode.INVALID_UTF8, 3],
    ['overlong F0 8F BF BF', bytesOf('1.', [0xf0, 0x8f, 0xbf, 0xbf], ';'), ScanErrorCode.INVALID_UTF8, 3],
    ['encoded surrogate ED A0 80', bytesOf('1.', [0xed, 0xa0, 0x80], ';'), ScanErrorCode.INVALID_UTF8, 3],
    ['F4 90 (above U+10FFFF)', bytesOf('1.', [0xf4, 0x90, 0x80, 0x80], ';'), ScanErrorCode.INVALID_UTF8, 3],
    ['F5 lead', bytesOf('1.', [0xf5], ';'), ScanErrorCode.INVALID_UTF8, 2],
    ['FF', bytesOf('2.a', [0xff], ';'), ScanErrorCode.INVALID_UTF8, 3],
    ['lone continuation', bytesOf('1.', [0x80], ';'), ScanErrorCode.INVALID_UTF8, 2],
    ['truncated char followed by ,', bytesOf('2.a', [0xc3], ',1.b;'), ScanErrorCode.INVALID_UTF8, 4],
    [
      'truncated 4-byte char followed by ;',
      bytesOf('1.', [0xf0, 0x9f, 0x98], ';'),
      ScanErrorCode.INVALID_UTF8,
      5,
    ],
    ['missing terminator 4.sync3.abc', bytesOf('4.sync3.abc'), ScanErrorCode.BAD_SEPARATOR, 6],
    ['value longer than its length', bytesOf('3.abcd;'), ScanErrorCode.BAD_SEPARATOR, 5],
    ['junk after zero-length value', bytesOf('0.x;'), ScanErrorCode.BAD_SEPARATOR, 2],
    ['UTF-16 length for an emoji', bytesOf('4.name,2.😀;4.sync;'), ScanErrorCode.BAD_SEPARATOR, 14],
  ];

  for (const [name, bytes, code, offset] of cases) {
    test(`${name} → ${ScanErrorCode[code]} at ${offset}`, () => {
      const err = errorOf(bytes);
      assert.equal(err.code, code);
      assert.equal(err.codeName, ScanErrorCode[code]);
      assert.equal(err.offset, offset);
      assert.deepEqual(referenceScan(bytes).error, { code, offset });
      // Same error, same offset, byte by byte.
      assert.deepEqual(frame(everyByte(bytes)).error, { code, offset });
    });
  }

  test('offsets are absolute over the whole stream', () => {
    const f = new GuacamoleFramer();
    assert.equal(f.push(bytesOf('3.nop;')), 6);
    assert.equal(f.push(bytesOf('4.sy')), -1);
    assert.throws(
      () => f.push(bytesOf('nc,1.1;x')),
      (err: unknown) =>
        err instanceof GuacamoleProtocolError && err.code === ScanErrorCode.BAD_LENGTH && err.offset === 17,
    );
    assert.equal(f.bytesSeen, 18);
  });

  test('dead after an error: every later push throws the same error', () => {
    const f = new GuacamoleFramer();
    const first = (() => {
      try {
        f.push(bytesOf('3.nop;3.nop;Z'));
      } catch (err) {
        return err;
      }
      return null;
    })();
    assert.ok(first instanceof GuacamoleProtocolError);
    assert.equal(first.offset, 12);
    assert.equal(f.failure, first);
    for (const next of [bytesOf('3.nop;'), new Uint8Array(0), bytesOf('x')]) {
      assert.throws(
        () => f.push(next),
        (err: unknown) => err === first,
      );
    }
    assert.equal(f.bytesSeen, 13);
  });

  test('huge digit strings fail fast with ELEMENT_TOO_LONG, never overflow', () => {
    const nines = new Uint8Array(1 << 20).fill(0x39);
    const err = errorOf(nines);
    assert.equal(err.code, ScanErrorCode.ELEMENT_TOO_LONG);
    assert.equal(err.offset, 3); // 9, 99, 999, 9999 > 8192: the fourth digit
    const err2 = errorOf(bytesOf('8192', '0'.repeat(400)));
    assert.equal(err2.code, ScanErrorCode.ELEMENT_TOO_LONG);
    assert.equal(err2.offset, 4);
    // Only zeros never exceed the length limit: the instruction byte limit stops them.
    const err3 = errorOf(new Uint8Array(40_000).fill(0x30));
    assert.equal(err3.code, ScanErrorCode.INSTRUCTION_TOO_LONG);
    assert.equal(err3.offset, 32768);
  });

  test('instruction byte limit inside a long ASCII run, split anywhere', () => {
    const bytes = bytesOf(
      '3.nop;4.blob,8192.',
      'A'.repeat(8192),
      ',8192.',
      'B'.repeat(8192),
      ',8192.',
      'C'.repeat(8192),
      ',8192.',
      'D'.repeat(8192),
      ';',
    );
    const expected = { code: ScanErrorCode.INSTRUCTION_TOO_LONG, offset: 6 + 32768 };
    assert.deepEqual(referenceScan(bytes).error, expected);
    for (const cut of [0, 1, 7, 100, 16000, 6 + 32767, 6 + 32768, 6 + 32769, bytes.length]) {
      assert.deepEqual(frame(splitAt(bytes, [cut])).error, expected, `cut ${cut}`);
      assert.deepEqual(frame(splitAt(bytes, [cut, cut + 3, cut + 8193])).error, expected, `cuts ${cut}+`);
    }
  });

  test('error message names the limit and its value', () => {
    const err = protocolErrorFromCode(ScanErrorCode.INSTRUCTION_TOO_LONG, 40000, DEFAULT_LIMITS);
    assert.equal(err.message, 'Guacamole instruction exceeds maxInstructionBytes (32768) at byte 40000');
    assert.equal(err.name, 'GuacamoleProtocolError');
    assert.equal(err.limit, 'maxInstructionBytes');
    assert.equal(err.limitValue, 32768);
    const e2 = protocolErrorFromCode(2, 7, resolveLimits({ maxElementLength: 100 }));
    assert.equal(e2.message, 'Guacamole element exceeds maxElementLength (100) at byte 7');
    assert.equal(e2.codeName, 'ELEMENT_TOO_LONG');
    const e3 = protocolErrorFromCode(3, 9);
    assert.equal(e3.message, 'Guacamole instruction exceeds maxElements (128) at byte 9');
    const e4 = protocolErrorFromCode(5, 3);
    assert.equal(e4.limit, undefined);
    assert.equal(e4.limitValue, undefined);
    assert.match(e4.message, /UTF-8 at byte 3$/);
    for (const code of [1, 6]) assert.match(protocolErrorFromCode(code, 1).message, / at byte 1$/);
    assert.ok(e4 instanceof Error);
    assert.throws(() => protocolErrorFromCode(0, 0), RangeError);
    assert.throws(() => protocolErrorFromCode(7, 0), RangeError);
  });
});

describe('GuacamoleFramer: limits', () => {
  test('overrides apply, and errors report them', () => {
    const e1 = errorOf(bytesOf('4.sync;'), { maxElementLength: 3 });
    assert.equal(e1.code, ScanErrorCode.ELEMENT_TOO_LONG);
    assert.equal(e1.offset, 0);
    assert.equal(e1.limitValue, 3);
    assert.equal(new GuacamoleFramer({ maxElementLength: 4 }).push(bytesOf('4.sync;')), 7);

    const e2 = errorOf(bytesOf('4.sync,1.1,1.2;'), { maxElements: 2 });
    assert.equal(e2.code, ScanErrorCode.TOO_MANY_ELEMENTS);
    assert.equal(e2.offset, 11);
    assert.equal(e2.limit, 'maxElements');

    const e3 = errorOf(bytesOf('4.sync,1.1;'), { maxInstructionBytes: 10 });
    assert.equal(e3.code, ScanErrorCode.INSTRUCTION_TOO_LONG);
    assert.equal(e3.offset, 10);
    assert.equal(e3.message, 'Guacamole instruction exceeds maxInstructionBytes (10) at byte 10');
    assert.equal(
      new GuacamoleFramer({ maxInstructionBytes: 11 }).push(bytesOf('4.sync,1.1;4.sync,1.1;')),
      22,
    );

    // Raised limits let guacd-oversized instructions through.
    const big = bytesOf('4.blob,9000.', 'A'.repeat(9000), ';');
    assert.equal(errorOf(big).code, ScanErrorCode.ELEMENT_TOO_LONG);
    assert.equal(new GuacamoleFramer({ maxElementLength: 9000 }).push(big), big.length);
  });

  test('zero limits reject at the first byte, in limit order', () => {
    assert.equal(
      errorOf(bytesOf('0.;'), { maxInstructionBytes: 0 }).code,
      ScanErrorCode.INSTRUCTION_TOO_LONG,
    );
    assert.equal(errorOf(bytesOf('0.;'), { maxElements: 0 }).code, ScanErrorCode.TOO_MANY_ELEMENTS);
    // The element count is checked before the length byte itself.
    assert.equal(errorOf(bytesOf('x'), { maxElements: 0 }).code, ScanErrorCode.TOO_MANY_ELEMENTS);
    assert.equal(errorOf(bytesOf('1.a;'), { maxElementLength: 0 }).code, ScanErrorCode.ELEMENT_TOO_LONG);
    assert.equal(new GuacamoleFramer({ maxElementLength: 0 }).push(bytesOf('0.,0.;')), 6);
  });

  test('invalid limits are rejected', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
      assert.throws(() => new GuacamoleFramer({ maxElements: bad }), RangeError);
    }
    assert.deepEqual(new GuacamoleFramer().limits, DEFAULT_LIMITS);
    assert.deepEqual(DEFAULT_LIMITS, {
      maxElementLength: 8192,
      maxElements: 128,
      maxInstructionBytes: 32768,
    });
  });
});

describe('GuacamoleFramer: golden seeds (native/fuzz/corpus)', () => {
  for (const seed of SEEDS) {
    test(seed.name, () => {
      const expected = { ends: seed.ends, error: seed.error };
      assert.deepEqual(referenceScan(seed.bytes), expected);
      const whole = [seed.bytes];
      assert.deepEqual(frame(whole), expectedFramerRun(whole, expected));
      if (seed.bytes.length < 1000) {
        const bytes = everyByte(seed.bytes);
        assert.deepEqual(frame(bytes), expectedFramerRun(bytes, expected));
      }
      const halves = splitAt(seed.bytes, [seed.bytes.length >> 1]);
      assert.deepEqual(frame(halves), expectedFramerRun(halves, expected));
    });
  }

  test('the corpus files hold the seeds', () => {
    for (const seed of SEEDS) {
      const path = join(SEED_CORPUS_DIR, seed.name);
      assert.ok(existsSync(path), `${path} missing`);
      assert.deepEqual(new Uint8Array(readFileSync(path)), seed.bytes, seed.name);
    }
  });
});
