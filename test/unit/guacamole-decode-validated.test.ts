import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decodeInstruction } from '../../src/protocol/guacamole/decode-validated.js';
import { GuacamoleFramer } from '../../src/protocol/guacamole/framer.js';
import { GuacamoleParser, type Instruction } from '../../src/protocol/guacamole/parser.js';
import { bytesOf, concatBytes, instructionArb, instructionBytes } from '../helpers/guac-arbitraries.js';
import { referenceDecode, referenceScan } from '../helpers/guac-reference.js';

/** Decodes every instruction in bytes[0, end), as the parser does over a framed chunk. */
function decodeAll(bytes: Uint8Array, end = bytes.length): Instruction[] {
  const src = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const out: Instruction[] = [];
  let pos = 0;
  while (pos < end) pos = decodeInstruction(src, pos, end, out);
  assert.equal(pos, end);
  return out;
}

describe('decodeInstruction (validated bytes)', () => {
  test('decodes one instruction and returns the offset past its ;', () => {
    const src = Buffer.from('3.nop;4.sync,3.123;0.,0.;');
    const out: Instruction[] = [];
    assert.equal(decodeInstruction(src, 0, src.length, out), 6);
    assert.equal(decodeInstruction(src, 6, src.length, out), 19);
    assert.equal(decodeInstruction(src, 19, src.length, out), 25);
    assert.deepEqual(out, [
      { opcode: 'nop', args: [] },
      { opcode: 'sync', args: ['123'] },
      { opcode: '', args: [''] },
    ]);
  });

  test('every value size class, ASCII or not, with separators inside values', () => {
    const values: string[] = [];
    for (const n of [0, 1, 15, 16, 17, 63, 64, 65, 200]) {
      const ascii = 'QUJD,;.9'.repeat(26).slice(0, n);
      values.push(ascii);
      if (n > 0) {
        values.push(
          `é${ascii.slice(1)}`,
          `${ascii.slice(1)}😀`,
          `${ascii.slice(0, n >> 1)}€${ascii.slice(1 + (n >> 1))}`,
        );
      }
    }
    values.push('é,', 'é;', '😀;;;', '\u0000\u007f\u0080\u07ff\u0800\uffff\u{10000}\u{10ffff}');
    const ins = { opcode: 'x', args: values };
    assert.deepEqual(decodeAll(instructionBytes(ins)), [ins]);
    for (const v of values)
      assert.deepEqual(decodeAll(instructionBytes({ opcode: v, args: [] })), [{ opcode: v, args: [] }]);
  });

  test('agrees with the reference decoder on valid streams', () => {
    fc.assert(
      fc.property(fc.array(instructionArb(), { maxLength: 6 }), (list) => {
        const bytes = concatBytes(list.map(instructionBytes));
        assert.deepEqual(decodeAll(bytes), referenceDecode(bytes, referenceScan(bytes).ends));
      }),
      { numRuns: 500 },
    );
  });

  test('bytes a framer did not accept: an Error, never a hang or a silent overread', () => {
    const bad = [
      bytesOf('4.sync'),
      bytesOf('4.sync,'),
      bytesOf('9007199254740991.abc;'),
      bytesOf('99999999999999999999'),
      bytesOf('2.', [0xf0], ';'),
      bytesOf('5.ab;'),
      bytesOf('x'),
    ];
    for (const bytes of bad) {
      const out: Instruction[] = [];
      assert.throws(() => decodeInstruction(Buffer.from(bytes), 0, bytes.length, out), /not framed/);
      assert.deepEqual(out, []);
    }
    const framed = Buffer.from('4.sync;3.nop;');
    for (let end = 0; end < 7; end++) {
      assert.throws(() => decodeInstruction(framed, 0, end, []), /not framed/, `end ${end}`);
    }
  });
});

describe('GuacamoleParser over a given framer', () => {
  test('uses it, and refuses one whose limits differ', () => {
    const limits = { maxElements: 3 };
    const p = new GuacamoleParser(limits, new GuacamoleFramer(limits));
    assert.deepEqual(p.feed(bytesOf('4.sync,1.1;0.,0.')), [{ opcode: 'sync', args: ['1'] }]);
    assert.throws(() => p.feed(bytesOf(',0.,0.;')), /maxElements \(3\) at byte 20/);
    assert.throws(() => new GuacamoleParser(limits, new GuacamoleFramer()), RangeError);
    assert.throws(() => new GuacamoleParser(undefined, new GuacamoleFramer(limits)), RangeError);
  });

  test('a framer without a limits property is taken on trust', () => {
    const inner = new GuacamoleFramer();
    const bare = {
      push: (c: Uint8Array) => inner.push(c),
      get bytesSeen() {
        return inner.bytesSeen;
      },
    };
    const p = new GuacamoleParser(undefined, bare);
    assert.deepEqual(p.feed(bytesOf('3.nop;3.n')), [{ opcode: 'nop', args: [] }]);
    assert.deepEqual(p.feed(bytesOf('op;')), [{ opcode: 'nop', args: [] }]);
    assert.equal(p.bytesSeen, 12);
  });
});
