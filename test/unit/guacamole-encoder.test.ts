import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  codepointLength,
  encodeBlobs,
  encodeInstruction,
  encodeInstructionBytes,
  MAX_BLOB_BYTES,
} from '../../src/protocol/guacamole/encoder.js';
import { GuacamoleFramer } from '../../src/protocol/guacamole/framer.js';
import { GuacamoleParser } from '../../src/protocol/guacamole/parser.js';
import { bytesOf } from '../helpers/guac-arbitraries.js';

const utf8 = new TextEncoder();

describe('codepointLength', () => {
  const cases: Array<[string, number]> = [
    ['', 0],
    ['sync', 4],
    ['é', 1],
    ['€', 1],
    ['😀', 1],
    ['a😀b', 3],
    ['😀😀', 2],
    ['\u{10FFFF}', 1],
    ['\uD800', 1], // lone high surrogate → U+FFFD on the wire
    ['\uDC00', 1], // lone low surrogate
    ['\uDC00\uD800', 2], // reversed pair: two lone surrogates
    ['a\uD83D', 2],
    ['\uD83D\uD83D\uDE00', 2], // lone high, then a pair
  ];
  for (const [s, n] of cases) {
    test(`${JSON.stringify(s)} → ${n}`, () => {
      assert.equal(codepointLength(s), n);
      // It is the number of codepoints after UTF-8 encoding.
      assert.equal(codepointLength(s), Array.from(new TextDecoder().decode(utf8.encode(s))).length);
    });
  }
});

describe('encodeInstruction', () => {
  test('opcode and args', () => {
    assert.equal(encodeInstruction('sync', 123), '4.sync,3.123;');
    assert.equal(encodeInstruction('size', 0, 1024, 768), '4.size,1.0,4.1024,3.768;');
    assert.equal(encodeInstruction('nop'), '3.nop;');
  });

  test('empty opcode and empty args', () => {
    assert.equal(encodeInstruction(''), '0.;');
    assert.equal(encodeInstruction('', 'ping', 5), '0.,4.ping,1.5;');
    assert.equal(encodeInstruction('args', '', ''), '4.args,0.,0.;');
  });

  test('lengths count codepoints', () => {
    assert.equal(encodeInstruction('name', 'é', '€', '😀', 'a😀'), '4.name,1.é,1.€,1.😀,2.a😀;');
    assert.equal(encodeInstruction('x', '\uD800'), '1.x,1.\uD800;');
  });

  test('numbers: integers plainly, other finite numbers by String()', () => {
    assert.equal(encodeInstruction('n', 0, -0, -5, 1.5, -0.25), '1.n,1.0,1.0,2.-5,3.1.5,5.-0.25;');
    assert.equal(encodeInstruction('n', 1e21), '1.n,22.1000000000000000000000;');
    assert.equal(encodeInstruction('n', 2 ** 53), '1.n,16.9007199254740992;');
    assert.equal(encodeInstruction('n', 1e-7), '1.n,4.1e-7;');
    assert.equal(encodeInstruction('n', 0x10), '1.n,2.16;');
  });

  test('bigint', () => {
    assert.equal(encodeInstruction('n', 12345678901234567890n, -1n), '1.n,20.12345678901234567890,2.-1;');
  });

  test('non-finite numbers and other types are TypeErrors', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      assert.throws(() => encodeInstruction('n', bad), TypeError);
    }
    const anyEncode = encodeInstruction as unknown as (...a: unknown[]) => string;
    assert.throws(() => anyEncode('n', undefined), TypeError);
    assert.throws(() => anyEncode('n', null), TypeError);
    assert.throws(() => anyEncode('n', {}), TypeError);
    assert.throws(() => anyEncode(5), TypeError);
  });

  test('round trip through the parser, and the framer accepts the bytes', () => {
    const args = ['', 'é€😀', ';,.', '\u0000', 'x'.repeat(5000), '42'];
    const bytes = encodeInstructionBytes('tést', ...args, 7);
    assert.deepEqual(new GuacamoleParser().feed(bytes), [{ opcode: 'tést', args: [...args, '7'] }]);
    assert.equal(new GuacamoleFramer().push(bytes), bytes.length);
  });

  test('encodeInstructionBytes: UTF-8, lone surrogates as U+FFFD', () => {
    assert.deepEqual(encodeInstructionBytes('a', '€'), bytesOf('1.a,1.€;'));
    const bytes = encodeInstructionBytes('a', 'x\uD800y');
    assert.deepEqual(bytes, bytesOf('1.a,3.x', [0xef, 0xbf, 0xbd], 'y;'));
    assert.deepEqual(new GuacamoleParser().feed(bytes), [{ opcode: 'a', args: ['x\uFFFDy'] }]);
  });
});

describe('encodeBlobs', () => {
  const data = Uint8Array.from({ length: 20000 }, (_, i) => (i * 7919) & 0xff);

  function decode(blobs: string[], stream = '1'): Uint8Array {
    const p = new GuacamoleParser();
    const parts: Buffer[] = [];
    for (const blob of blobs) {
      const [ins] = p.feed(utf8.encode(blob));
      assert.ok(ins);
      assert.equal(ins.opcode, 'blob');
      assert.equal(ins.args.length, 2);
      assert.equal(ins.args[0], stream);
      parts.push(Buffer.from(ins.args[1] ?? '', 'base64'));
    }
    return new Uint8Array(Buffer.concat(parts));
  }

  test('empty data gives no blobs', () => {
    assert.deepEqual(encodeBlobs(1, new Uint8Array(0)), []);
  });

  test('at most 6048 raw bytes (8064 base64 characters) per blob', () => {
    assert.equal(MAX_BLOB_BYTES, 6048);
    const blobs = encodeBlobs(1, data);
    assert.equal(blobs.length, 4);
    assert.ok(blobs[0]?.startsWith('4.blob,1.1,8064.'));
    assert.ok(blobs[3]?.startsWith(`4.blob,1.1,${Math.ceil((20000 - 3 * 6048) / 3) * 4}.`));
    assert.deepEqual(decode(blobs), data);
    assert.equal(encodeBlobs(1, data.subarray(0, 6048)).length, 1);
    assert.equal(encodeBlobs(1, data.subarray(0, 6049)).length, 2);
    assert.deepEqual(encodeBlobs(3, Uint8Array.of(0x4d)), ['4.blob,1.3,4.TQ==;']);
  });

  test('string streams, custom chunk sizes, subarray views', () => {
    const view = data.subarray(1000, 1100);
    const blobs = encodeBlobs('17', view, 30);
    assert.equal(blobs.length, 4);
    assert.deepEqual(decode(blobs, '17'), view);
    assert.deepEqual(decode(encodeBlobs(0, view, 1), '0'), view);
    for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => encodeBlobs(1, view, bad), RangeError);
  });
});
