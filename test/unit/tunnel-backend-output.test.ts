import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeInstruction as enc, encodeBlobs } from '../../src/protocol/guacamole/encoder.js';
import { GuacamoleParser } from '../../src/protocol/guacamole/parser.js';
import { STATUS } from '../../src/protocol/guacamole/status.js';
import {
  BackendOutput,
  DEFAULT_BATCH_BYTES,
  DOWNLOAD_REFUSED,
  STREAM_INDEX_MIMETYPE,
} from '../../src/proxy/tunnel/backend-output.js';
import { DEFAULT_POLICY, type Policy } from '../../src/proxy/types.js';

const T = { timeout: 10_000 };

function policy(p: Partial<Policy>): Policy {
  return { ...DEFAULT_POLICY, ...p };
}

function drain(out: BackendOutput): string[] {
  out.flush();
  return out.take();
}

/** Parses a message alone, as guacamole-common-js <= 1.5.1 does: it must hold whole instructions only. */
function parseWhole(message: string) {
  const p = new GuacamoleParser();
  const list = p.feed(Buffer.from(message, 'utf8'));
  assert.equal(p.bufferedBytes, 0, 'message ends mid-instruction');
  return list;
}

const blob = (stream: string, n = 100) => enc('blob', stream, 'A'.repeat(n));

describe('BackendOutput: batching', () => {
  test('small pushes are batched into one message until flush', T, () => {
    const out = new BackendOutput();
    out.push(enc('sync', '1'));
    out.push(enc('nop'));
    assert.deepEqual(out.take(), []);
    assert.equal(out.pendingBytes, 17);
    assert.deepEqual(drain(out), [`${enc('sync', '1')}${enc('nop')}`]);
    assert.equal(out.pendingBytes, 0);
    assert.deepEqual(drain(out), []);
    assert.equal(out.bytesOut, 17);
    assert.equal(out.messagesOut, 1);
  });

  test('messages are sealed at the target size, never splitting a push', T, () => {
    const out = new BackendOutput({ batchBytes: 1000 });
    const piece = blob('1', 284); // 300 bytes
    assert.equal(piece.length, 300);
    for (let i = 0; i < 10; i++) out.push(piece);
    const ready = out.take(); // three pieces fit (900), the fourth would pass 1000
    assert.deepEqual(
      ready.map((m) => m.length),
      [900, 900, 900],
    );
    assert.deepEqual(
      drain(out).map((m) => m.length),
      [300],
    );
  });

  test('a push at or over the target goes alone, sealing what was before it', T, () => {
    const out = new BackendOutput({ batchBytes: 500 });
    out.push(enc('sync', '1'));
    const big = blob('1', 2000);
    out.push(big);
    out.push(enc('sync', '2'));
    assert.deepEqual(out.take(), [enc('sync', '1'), big]);
    assert.deepEqual(drain(out), [enc('sync', '2')]);
  });

  test('the default target is 8 KiB, counted in UTF-8 bytes', T, () => {
    const out = new BackendOutput();
    const euro = enc('name', '€'.repeat(1000)); // 3013 bytes, 1013 characters
    for (let i = 0; i < 6; i++) out.push(euro);
    const ready = drain(out);
    assert.deepEqual(
      ready.map((m) => Buffer.byteLength(m)),
      [6026, 6026, 6026],
    );
    assert.ok(ready.every((m) => Buffer.byteLength(m) <= DEFAULT_BATCH_BYTES));
    assert.equal(out.bytesOut, 18078);
  });

  test('batchBytes is validated', T, () => {
    assert.throws(() => new BackendOutput({ batchBytes: 0 }), RangeError);
    assert.throws(() => new BackendOutput({ batchBytes: 1.5 }), RangeError);
  });

  test('no outbound filter: text is not scanned at all (unparseable text passes through)', T, () => {
    const out = new BackendOutput({
      policy: policy({ disablePaste: true, disableUpload: true, readOnly: true }),
    });
    assert.equal(out.filters, false);
    const garbage = 'this is not ;; guacamole, 99.';
    out.push(garbage);
    out.push(enc('clipboard', '1', 'text/plain'));
    assert.deepEqual(drain(out), [garbage + enc('clipboard', '1', 'text/plain')]);
    assert.equal(out.failure, null);
    assert.equal(out.instructionsOut, 0);
  });

  test('countInstructions counts without a filter, and still passes unparseable text', T, () => {
    const out = new BackendOutput({ countInstructions: true });
    out.push(`${enc('sync', '1')}${blob('3', 5000)}${enc('name', '😀é')}`);
    assert.equal(out.instructionsOut, 3);
    out.push('garbage');
    assert.equal(out.instructionsOut, 3);
    assert.match(out.failure ?? '', /not counted/);
    assert.equal(drain(out).join('').endsWith('garbage'), true);
  });

  test('a filtered push with nothing dropped is appended whole (no copy)', T, () => {
    const out = new BackendOutput({ policy: policy({ disableCopy: true }) });
    const text = `${enc('img', '1', '14', '0', 'image/png', '0', '0')}${blob('1', 5000)}${enc('end', '1')}`;
    out.push(text);
    assert.deepEqual(drain(out), [text]);
    assert.equal(out.instructionsOut, 3);
    assert.equal(out.instructionsDropped, 0);
  });
});

describe('BackendOutput: policy', () => {
  test('disableCopy drops clipboard streams (open, blob, end) and sends no ack', T, () => {
    const out = new BackendOutput({ policy: policy({ disableCopy: true }) });
    out.push(
      `${enc('sync', '1')}${enc('clipboard', '3', 'text/plain')}${enc('blob', '3', 'aGk=')}` +
        `${enc('img', '5', '14', '0', 'image/png', '0', '0')}${blob('5')}${enc('end', '3')}${enc('end', '5')}`,
    );
    out.push(enc('blob', '3', 'aGk=')); // after end: index 3 no longer refused (a stray blob passes)
    const messages = drain(out);
    assert.deepEqual(
      messages.flatMap(parseWhole).map((i) => `${i.opcode}:${i.args[0]}`),
      ['sync:1', 'img:5', 'blob:5', 'end:5', 'blob:3'],
    );
    assert.equal(out.toBackend(), '');
    assert.equal(out.instructionsDropped, 3);
    assert.equal(out.instructionsOut, 5);
    assert.equal(out.refusedStreams, 0);
  });

  test('disableCopy alone lets file downloads through', T, () => {
    const out = new BackendOutput({ policy: policy({ disableCopy: true }) });
    const text = `${enc('file', '2', 'text/plain', 'a.txt')}${blob('2')}${enc('end', '2')}`;
    out.push(text);
    assert.deepEqual(drain(out), [text]);
    assert.equal(out.toBackend(), '');
  });

  test('disableDownload drops file and pipe streams and acks 0x0303 to the backend', T, () => {
    const out = new BackendOutput({ policy: policy({ disableDownload: true }) });
    out.push(
      `${enc('file', '2', 'text/plain', 'a.txt')}${enc('pipe', '4', 'text/plain', 'p')}${enc('sync', '7')}`,
    );
    out.push(`${blob('2')}${blob('4')}${enc('end', '2')}${enc('end', '4')}`);
    out.push(enc('clipboard', '6', 'text/plain'));
    assert.deepEqual(drain(out), [enc('sync', '7') + enc('clipboard', '6', 'text/plain')]);
    assert.equal(
      out.toBackend(),
      enc('ack', '2', DOWNLOAD_REFUSED, STATUS.CLIENT_FORBIDDEN) +
        enc('ack', '4', DOWNLOAD_REFUSED, STATUS.CLIENT_FORBIDDEN),
    );
    assert.equal(out.toBackend(), '', 'toBackend() clears');
    assert.equal(out.refusedStreams, 0);
  });

  test('disableDownload refuses body streams with file content, not directory listings', T, () => {
    const out = new BackendOutput({ policy: policy({ disableDownload: true }) });
    const listing = `${enc('body', '0', '8', STREAM_INDEX_MIMETYPE, '/')}${blob('8')}${enc('end', '8')}`;
    out.push(listing);
    out.push(
      `${enc('body', '0', '10', 'application/octet-stream', '/etc/passwd')}${blob('10')}${enc('end', '10')}`,
    );
    assert.deepEqual(drain(out), [listing]);
    assert.equal(out.toBackend(), enc('ack', '10', DOWNLOAD_REFUSED, STATUS.CLIENT_FORBIDDEN));
  });

  test('a new stream opened on a refused index (no end) frees it', T, () => {
    const out = new BackendOutput({ policy: policy({ disableDownload: true }) });
    out.push(enc('file', '1', 'text/plain', 'a'));
    assert.equal(out.refusedStreams, 1);
    const img = `${enc('img', '1', '14', '0', 'image/png', '0', '0')}${blob('1')}${enc('end', '1')}`;
    out.push(img);
    assert.deepEqual(drain(out), [img]);
  });

  test('values holding astral characters, ";" and "," are skipped correctly', T, () => {
    const out = new BackendOutput({ policy: policy({ disableCopy: true }) });
    const tricky = enc('name', '😀;😀,3.end;');
    const text = `${tricky}${enc('clipboard', '1', 'text/plain')}${enc('blob', '1', '😀')}${enc('sync', '😀')}`;
    out.push(text);
    assert.deepEqual(drain(out), [tricky + enc('sync', '😀')]);
  });

  test('a lone surrogate counts as one codepoint (the U+FFFD it becomes)', T, () => {
    const out = new BackendOutput({ policy: policy({ disableCopy: true }) });
    const text = `4.name,3.a\uD800b;${enc('clipboard', '1', 'text/plain')}${enc('sync', '1')}`;
    out.push(text);
    assert.deepEqual(drain(out), [`4.name,3.a\uD800b;${enc('sync', '1')}`]);
    assert.equal(out.failure, null);
  });

  test('values are skipped by length, never read: instruction-like payloads stay payload', T, () => {
    const out = new BackendOutput({ policy: policy({ disableCopy: true }) });
    const fake = enc('blob', '5', `9.clipboard,1.5,10.text/plain;4.blob,1.5,1.x;`);
    out.push(`${enc('img', '5', '14', '0', 'image/png', '0', '0')}${fake}${enc('end', '5')}`);
    assert.equal(drain(out).join('').includes(fake), true);
    assert.equal(out.instructionsDropped, 0);
  });

  test('a value shorter than its declared length is not a whole instruction', T, () => {
    const out = new BackendOutput({ policy: policy({ disableCopy: true }) });
    out.push(`4.blob,1.1,20.${'é'.repeat(15)};`);
    assert.deepEqual(drain(out), []);
    assert.match(out.failure ?? '', /not a sequence of whole instructions/);
  });

  test('filtering mode: an unscannable rest is dropped (fail closed), what came before is kept', T, () => {
    const out = new BackendOutput({ policy: policy({ disableDownload: true }) });
    out.push(`${enc('sync', '1')}4.file,1.2,9x`);
    assert.deepEqual(drain(out), [enc('sync', '1')]);
    assert.match(out.failure ?? '', /offset 11/);
    out.push(enc('sync', '2'));
    assert.deepEqual(drain(out), [enc('sync', '2')]);
  });

  test('encodeBlobs output (real image traffic) scans and passes', T, () => {
    const out = new BackendOutput({ policy: policy({ disableCopy: true, disableDownload: true }) });
    const data = new Uint8Array(50_000).map((_, i) => (i * 31) & 0xff);
    const blobs = encodeBlobs(3, data).join('');
    const text = `${enc('img', '3', '14', '0', 'image/jpeg', '0', '0')}${blobs}${enc('end', '3')}`;
    out.push(text);
    assert.deepEqual(drain(out), [text]);
    assert.equal(out.instructionsOut, 11);
  });

  test('no filter: the text is never read (spy on String.prototype.charCodeAt/slice)', T, (t) => {
    const text = `${enc('clipboard', '1', 'text/plain')}${enc('file', '2', 'a/b', 'n')}`;
    const reads = (p: Policy): number => {
      const out = new BackendOutput({ policy: p });
      const charCodeAt = t.mock.method(String.prototype, 'charCodeAt');
      const slice = t.mock.method(String.prototype, 'slice');
      try {
        out.push(text);
        out.push(text);
      } finally {
        charCodeAt.mock.restore();
        slice.mock.restore();
      }
      return charCodeAt.mock.callCount() + slice.mock.callCount();
    };
    assert.equal(reads(DEFAULT_POLICY), 0);
    assert.ok(reads(policy({ disableCopy: true })) > 0, 'the spy sees the scanner when a filter is on');
  });

  test('no filter: even a stream-opening instruction is neither counted nor inspected', T, () => {
    const out = new BackendOutput();
    out.push(`${enc('clipboard', '1', 'text/plain')}${enc('file', '2', 'a/b', 'n')}`);
    assert.equal(out.instructionsOut, 0);
    assert.equal(out.instructionsDropped, 0);
    assert.equal(out.toBackend(), '');
    assert.equal(drain(out).length, 1);
  });
});
