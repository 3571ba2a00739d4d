import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GuacamoleProtocolError, ScanErrorCode } from '../../src/protocol/guacamole/errors.js';
import { GuacamoleFramer } from '../../src/protocol/guacamole/framer.js';
import type { GuacamoleLimits } from '../../src/protocol/guacamole/limits.js';
import { GuacamoleParser, type Instruction } from '../../src/protocol/guacamole/parser.js';
import { bytesOf, splitAt } from '../helpers/guac-arbitraries.js';
import { driveFramer, driveParser, expectedBatchSizes } from '../helpers/guac-drive.js';
import { referenceDecode, referenceScan } from '../helpers/guac-reference.js';
import { SEEDS } from '../helpers/guac-seeds.js';

function parseAll(chunks: Uint8Array[], limits?: Partial<GuacamoleLimits>): Instruction[] {
  const p = new GuacamoleParser(limits);
  return chunks.flatMap((c) => p.feed(c));
}

function everyByte(bytes: Uint8Array): Uint8Array[] {
  return Array.from(bytes, (b) => Uint8Array.of(b));
}

function errorOf(chunks: Uint8Array[], limits?: Partial<GuacamoleLimits>): GuacamoleProtocolError {
  const p = new GuacamoleParser(limits);
  try {
    for (const c of chunks) p.feed(c);
  } catch (err) {
    assert.ok(err instanceof GuacamoleProtocolError, String(err));
    return err;
  }
  assert.fail('expected a GuacamoleProtocolError');
}

describe('GuacamoleParser: decoding', () => {
  test('one instruction', () => {
    assert.deepEqual(parseAll([bytesOf('4.sync,3.123;')]), [{ opcode: 'sync', args: ['123'] }]);
  });

  test('empty opcode, zero-length args, no args', () => {
    assert.deepEqual(parseAll([bytesOf('0.;0.,4.ping,13.1700000000000;4.args,0.,0.;3.nop;')]), [
      { opcode: '', args: [] },
      { opcode: '', args: ['ping', '1700000000000'] },
      { opcode: 'args', args: ['', ''] },
      { opcode: 'nop', args: [] },
    ]);
  });

  test('multibyte values: é, €, 😀 (one codepoint, a surrogate pair in JS)', () => {
    const got = parseAll([bytesOf('4.name,1.é,1.€,1.😀,3.a€😀,2.😀😀;')]);
    assert.deepEqual(got, [{ opcode: 'name', args: ['é', '€', '😀', 'a€😀', '😀😀'] }]);
    assert.equal(got[0]?.args[2]?.length, 2);
  });

  test('values hold punctuation and NUL as data', () => {
    assert.deepEqual(parseAll([bytesOf('5.;,.;,,3.1.2,1.', [0], ';')]), [
      { opcode: ';,.;,', args: ['1.2', '\u0000'] },
    ]);
  });

  test('long ASCII and long non-ASCII values', () => {
    const ascii = 'QUJD'.repeat(2048);
    const mixed = 'é€😀x'.repeat(2048);
    const bytes = bytesOf(`4.blob,1.1,8192.${ascii};4.text,8192.${mixed};`);
    const expected = [
      { opcode: 'blob', args: ['1', ascii] },
      { opcode: 'text', args: [mixed] },
    ];
    assert.deepEqual(parseAll([bytes]), expected);
    assert.deepEqual(parseAll(splitAt(bytes, [5, 100, 8000, 8300, 8301, 20000, 30000])), expected);
  });

  test('every split position of a multi-instruction stream gives the same instructions', () => {
    const bytes = bytesOf(
      '3.img,1.1,2.14,1.0,9.image/png;4.blob,1.1,4.AAAA;0.,4.ping,1.é;5.€😀abc,0.;3.end,1.1;4.name,1.😀;',
    );
    const expected = referenceDecode(bytes, referenceScan(bytes).ends);
    assert.equal(expected.length, 6);
    assert.deepEqual(parseAll([bytes]), expected);
    for (let cut = 0; cut <= bytes.length; cut++) {
      for (let cut2 = cut; cut2 <= bytes.length; cut2++) {
        assert.deepEqual(parseAll(splitAt(bytes, [cut, cut2])), expected, `cuts ${cut}, ${cut2}`);
      }
    }
    assert.deepEqual(parseAll(everyByte(bytes)), expected);
  });

  test('a 4-byte character split across three chunks', () => {
    const bytes = bytesOf('1.😀;');
    assert.equal(bytes.length, 7);
    const p = new GuacamoleParser();
    assert.deepEqual(p.feed(bytes.subarray(0, 3)), []);
    assert.deepEqual(p.feed(bytes.subarray(3, 4)), []);
    assert.deepEqual(p.feed(bytes.subarray(4, 7)), [{ opcode: '😀', args: [] }]);
    assert.equal(p.bufferedBytes, 0);
  });

  test('batches: each feed returns the instructions it completed', () => {
    const p = new GuacamoleParser();
    assert.deepEqual(p.feed(bytesOf('3.nop;4.sy')), [{ opcode: 'nop', args: [] }]);
    assert.equal(p.bufferedBytes, 4);
    assert.deepEqual(p.feed(bytesOf('nc,2.')), []);
    assert.equal(p.bufferedBytes, 9);
    assert.deepEqual(p.feed(bytesOf('1é;3.nop;1.')), [
      { opcode: 'sync', args: ['1é'] },
      { opcode: 'nop', args: [] },
    ]);
    assert.equal(p.bufferedBytes, 2);
    assert.deepEqual(p.feed(bytesOf('x;')), [{ opcode: 'x', args: [] }]);
    assert.equal(p.bufferedBytes, 0);
    assert.equal(p.bytesSeen, 29);
  });

  test('keeps only the incomplete trailing instruction, bounded by maxInstructionBytes', () => {
    const p = new GuacamoleParser({ maxInstructionBytes: 1000 });
    p.feed(bytesOf('3.nop;'.repeat(100)));
    assert.equal(p.bufferedBytes, 0);
    p.feed(bytesOf('4.blob,990.'));
    for (let i = 0; i < 979; i++) p.feed(bytesOf('A'));
    assert.equal(p.bufferedBytes, 990);
    assert.throws(
      () => p.feed(bytesOf('AAAAAAAAAAAAAAAA')),
      (e: unknown) =>
        e instanceof GuacamoleProtocolError &&
        e.code === ScanErrorCode.INSTRUCTION_TOO_LONG &&
        e.offset === 600 + 1000,
    );
  });

  test('chunks that are views into larger buffers, and chunks reused after feed', () => {
    const backing = bytesOf('zz4.sync,1.1;3.no');
    const p = new GuacamoleParser();
    assert.deepEqual(p.feed(backing.subarray(2)), [{ opcode: 'sync', args: ['1'] }]);
    backing.fill(0x21); // the parser must have copied the tail it keeps
    assert.deepEqual(p.feed(bytesOf('p;')), [{ opcode: 'nop', args: [] }]);
    assert.deepEqual(new GuacamoleParser().feed(Buffer.from('3.nop;')), [{ opcode: 'nop', args: [] }]);
  });
});

describe('GuacamoleParser: errors match the framer', () => {
  const cases: Array<[string, Uint8Array, ScanErrorCode, number]> = [
    ['x.abc;', bytesOf('x.abc;'), ScanErrorCode.BAD_LENGTH, 0],
    ['missing .', bytesOf('3.nop;4sync;'), ScanErrorCode.BAD_LENGTH, 7],
    ['length 8193', bytesOf('8193.'), ScanErrorCode.ELEMENT_TOO_LONG, 3],
    ['129 elements', bytesOf('0.', ',0.'.repeat(128), ';'), ScanErrorCode.TOO_MANY_ELEMENTS, 384],
    [
      '32769-byte instruction',
      bytesOf('4.blob,', `8192.${'é'.repeat(8192)},`.repeat(2)),
      ScanErrorCode.INSTRUCTION_TOO_LONG,
      32768,
    ],
    ['overlong C0 80', bytesOf('1.', [0xc0, 0x80], ';'), ScanErrorCode.INVALID_UTF8, 2],
    ['surrogate ED A0 80', bytesOf('1.', [0xed, 0xa0, 0x80], ';'), ScanErrorCode.INVALID_UTF8, 3],
    ['F5 lead', bytesOf('1.', [0xf5], ';'), ScanErrorCode.INVALID_UTF8, 2],
    ['truncated char then ,', bytesOf('2.a', [0xc3], ',1.b;'), ScanErrorCode.INVALID_UTF8, 4],
    ['missing terminator', bytesOf('4.sync3.abc'), ScanErrorCode.BAD_SEPARATOR, 6],
  ];
  for (const [name, bytes, code, offset] of cases) {
    test(`${name} → ${ScanErrorCode[code]} at ${offset}`, () => {
      for (const chunks of [[bytes], splitAt(bytes, [1, bytes.length >> 1]), everyByte(bytes)]) {
        const err = errorOf(chunks);
        assert.equal(err.code, code);
        assert.equal(err.offset, offset);
        assert.deepEqual(driveFramer(new GuacamoleFramer(), chunks).error, { code, offset });
      }
    });
  }

  test('dead after an error: the same error again, state released', () => {
    const p = new GuacamoleParser();
    assert.deepEqual(p.feed(bytesOf('3.nop;4.sync,')), [{ opcode: 'nop', args: [] }]);
    let first: unknown;
    try {
      p.feed(bytesOf('1.1?'));
    } catch (err) {
      first = err;
    }
    assert.ok(first instanceof GuacamoleProtocolError);
    assert.equal(first.code, ScanErrorCode.BAD_SEPARATOR);
    assert.equal(first.offset, 16);
    assert.equal(p.failure, first);
    assert.equal(p.bufferedBytes, 0);
    assert.throws(
      () => p.feed(bytesOf('3.nop;')),
      (e: unknown) => e === first,
    );
  });

  test('huge digit strings fail fast', () => {
    const err = errorOf([new Uint8Array(1 << 20).fill(0x37)]);
    assert.equal(err.code, ScanErrorCode.ELEMENT_TOO_LONG);
    assert.equal(err.offset, 4);
  });

  test('limit overrides', () => {
    assert.equal(errorOf([bytesOf('4.sync;')], { maxElementLength: 3 }).code, ScanErrorCode.ELEMENT_TOO_LONG);
    const e = errorOf([bytesOf('4.sync,1.1,1.2;')], { maxElements: 2 });
    assert.equal(e.code, ScanErrorCode.TOO_MANY_ELEMENTS);
    assert.equal(e.offset, 11);
    assert.equal(e.limitValue, 2);
    assert.deepEqual(parseAll([bytesOf('4.sync,1.1;4.sync,1.1;')], { maxInstructionBytes: 11 }).length, 2);
    assert.equal(errorOf([bytesOf('4.sync,1.1;')], { maxInstructionBytes: 10 }).offset, 10);
  });
});

describe('GuacamoleParser: golden seeds', () => {
  for (const seed of SEEDS) {
    test(seed.name, () => {
      const expected = { ends: seed.ends, error: seed.error };
      const instructions = referenceDecode(seed.bytes, seed.ends);
      const splits = [[seed.bytes], splitAt(seed.bytes, [seed.bytes.length >> 1])];
      if (seed.bytes.length < 1000) splits.push(everyByte(seed.bytes));
      for (const chunks of splits) {
        const run = driveParser(new GuacamoleParser(), chunks);
        assert.deepEqual(run.error, seed.error);
        assert.deepEqual(
          run.batches.map((b) => b.length),
          expectedBatchSizes(chunks, expected),
        );
        const sizes = run.batches.reduce((n, b) => n + b.length, 0);
        assert.deepEqual(run.batches.flat(), instructions.slice(0, sizes));
      }
    });
  }
});
