import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeInstruction as enc } from '../../src/protocol/guacamole/encoder.js';
import {
  countInstructions,
  elementIndex,
  elementIs,
  elementText,
  hasSurrogates,
  InstructionHead,
  scanInstruction,
} from '../../src/proxy/tunnel/scan.js';
import { MAX_TRACKED_STREAMS, parseStreamIndex, StreamSet } from '../../src/proxy/tunnel/streams.js';

const T = { timeout: 10_000 };

/** The recorded elements (opcode first) and the end of the first instruction of `text`. */
function heads(text: string): { elements: string[]; end: number } {
  const head = new InstructionHead();
  const end = scanInstruction(text, 0, hasSurrogates(text), head);
  const elements: string[] = [];
  for (let k = 0; k < head.recorded; k++) elements.push(elementText(text, head, k) ?? '');
  return { elements, end };
}

describe('light scanner', () => {
  test('records the first four elements, returns the end', T, () => {
    const text = `${enc('body', '0', '12', 'text/plain', 'name')}${enc('sync', '1')}`;
    assert.deepEqual(heads(text), {
      elements: ['body', '0', '12', 'text/plain'],
      end: text.indexOf('4.sync'),
    });
    assert.deepEqual(heads(enc('nop')), { elements: ['nop'], end: 6 });
    assert.deepEqual(heads('0.;'), { elements: [''], end: 3 });
    assert.deepEqual(heads('0.,0.;'), { elements: ['', ''], end: 6 });
  });

  test('elementIs, elementText and elementIndex read in place', T, () => {
    const text = enc('blob', '007', 'QUJD');
    const head = new InstructionHead();
    assert.equal(scanInstruction(text, 0, false, head), text.length);
    assert.equal(elementIs(text, head, 0, 'blob'), true);
    assert.equal(elementIs(text, head, 0, 'blo'), false);
    assert.equal(elementIs(text, head, 0, 'blobs'), false);
    assert.equal(elementIs(text, head, 5, 'blob'), false);
    assert.equal(elementIndex(text, head, 1), 7);
    assert.equal(elementIndex(text, head, 3), -1);
    assert.equal(elementText(text, head, 2), 'QUJD');
    assert.equal(elementText(text, head, 3), undefined);
  });

  test('astral values are walked by codepoint', T, () => {
    const text = enc('x', '😀😀', 'a😀');
    assert.equal(hasSurrogates(text), true);
    assert.deepEqual(heads(text), { elements: ['x', '😀😀', 'a😀'], end: text.length });
    // Skipped by code units instead, it lands mid-value and fails rather than misreading.
    assert.equal(scanInstruction(text, 0, false, new InstructionHead()), -1);
  });

  test('malformed or truncated text gives -1', T, () => {
    for (const bad of [
      '',
      '4.sync',
      '4.sync,',
      '4.sync,1.1',
      'x.sync;',
      '.;',
      '4.sync:',
      '4.sync,1.12;',
      '1234567890.a;',
    ]) {
      assert.equal(heads(bad).end, -1, JSON.stringify(bad));
    }
    assert.equal(countInstructions('3.nop;4.sy'), -1);
    assert.equal(countInstructions(''), 0);
    assert.equal(countInstructions(`${enc('a', ';')}${enc('b', ',')}`), 2);
  });
});

describe('stream bookkeeping', () => {
  test('parseStreamIndex reads like atoi/parseInt', T, () => {
    for (const [s, n] of [
      ['0', 0],
      ['12', 12],
      ['007', 7],
      [' 5', 5],
      ['+3', 3],
      ['-0', 0],
      ['7x', 7],
      ['\t\n9', 9],
      ['- 1', -1],
      ['-1', -1],
      ['', -1],
      ['x', -1],
      [undefined, -1],
    ] as const) {
      assert.equal(parseStreamIndex(s), n, String(s));
    }
  });

  test('StreamSet is a bounded set', T, () => {
    const s = new StreamSet(4);
    assert.equal(s.add(3), true);
    assert.equal(s.add(3), true);
    assert.equal(s.add(4), false);
    assert.equal(s.add(-1), false);
    assert.equal(s.size, 1);
    assert.equal(s.has(3), true);
    assert.equal(s.has(4), false);
    s.delete(3);
    s.delete(3);
    assert.equal(s.size, 0);
    assert.equal(new StreamSet().add(MAX_TRACKED_STREAMS - 1), true);
    assert.throws(() => new StreamSet(0), RangeError);
  });
});
