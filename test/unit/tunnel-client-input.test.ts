import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeInstruction as enc } from '../../src/protocol/guacamole/encoder.js';
import { GuacamoleFramer } from '../../src/protocol/guacamole/framer.js';
import type { Instruction } from '../../src/protocol/guacamole/parser.js';
import { STATUS } from '../../src/protocol/guacamole/status.js';
import { ClientInput, PASTE_REFUSED, UPLOAD_REFUSED } from '../../src/proxy/tunnel/client-input.js';
import { DEFAULT_POLICY, type Policy } from '../../src/proxy/types.js';

const T = { timeout: 10_000 };
const utf8 = new TextEncoder();

function policy(p: Partial<Policy>): Policy {
  return { ...DEFAULT_POLICY, ...p };
}

function ins(opcode: string, ...args: string[]): Instruction {
  return { opcode, args };
}

/** Pushes every message; returns everything produced. */
function run(input: ClientInput, messages: Array<string | Uint8Array>) {
  let toClient = '';
  const toBackend: Instruction[] = [];
  const errors: Array<{ status: number; message: string }> = [];
  for (const m of messages) {
    const r = input.push(m);
    toClient += r.toClient;
    toBackend.push(...r.toBackend);
    if (r.error) errors.push(r.error);
  }
  return { toClient, toBackend, errors };
}

const forbidden = (stream: string, message: string) => enc('ack', stream, message, STATUS.CLIENT_FORBIDDEN);

describe('ClientInput: tunnel rules', () => {
  test('ping is echoed unchanged and never forwarded', T, () => {
    const input = new ClientInput();
    const ping = '0.,4.ping,13.1700000000000;';
    const r = input.push(ping);
    assert.equal(r.toClient, ping);
    assert.deepEqual(r.toBackend, []);
    assert.equal(r.error, undefined);
    assert.equal(input.instructionsIn, 1);
    assert.equal(input.instructionsDropped, 1);
    assert.equal(input.bytesIn, ping.length);
  });

  test('other empty-opcode instructions are dropped; the rest is forwarded in order', T, () => {
    const input = new ClientInput();
    const r = input.push(`0.,4.pong;0.;${enc('sync', '12')}0.,4.ping,1.5;${enc('key', '65', '1')}`);
    assert.equal(r.toClient, '0.,4.ping,1.5;');
    assert.deepEqual(r.toBackend, [ins('sync', '12'), ins('key', '65', '1')]);
  });

  test('an instruction split across messages (binary and text) is reassembled', T, () => {
    const input = new ClientInput();
    const out = run(input, ['5.mou', utf8.encode('se,3.1'), '00,2.50,', '1.0;4.sync,1.1;5.', 'mouse']);
    assert.deepEqual(out.toBackend, [ins('mouse', '100', '50', '0'), ins('sync', '1')]);
    assert.equal(input.bufferedBytes, 7);
    const more = input.push(',1.1,1.2,1.0;');
    assert.deepEqual(more.toBackend, [ins('mouse', '1', '2', '0')]);
    assert.equal(input.bufferedBytes, 0);
  });

  test('a UTF-8 character split across binary messages', T, () => {
    const input = new ClientInput();
    const bytes = utf8.encode(enc('clipboard-text', 'a€😀b'));
    const euro = bytes.indexOf(0xe2);
    const messages = [bytes.slice(0, euro + 1), bytes.slice(euro + 1, euro + 2), bytes.slice(euro + 2, -3)];
    messages.push(bytes.slice(-3));
    const out = run(input, messages);
    assert.deepEqual(out.toBackend, [ins('clipboard-text', 'a€😀b')]);
    assert.equal(input.bytesIn, bytes.length);
  });

  test('disconnect is forwarded last; later input is ignored', T, () => {
    const input = new ClientInput();
    const r = input.push(`${enc('sync', '1')}${enc('disconnect')}${enc('key', '1', '1')}`);
    assert.deepEqual(r.toBackend, [ins('sync', '1'), ins('disconnect')]);
    assert.equal(input.closed, true);
    assert.deepEqual(input.push(enc('key', '2', '1')).toBackend, []);
  });

  test('nop, sync, size and unknown opcodes pass through', T, () => {
    const input = new ClientInput({
      policy: policy({ readOnly: true, disablePaste: true, disableUpload: true }),
    });
    const r = input.push(
      `${enc('nop')}${enc('sync', '5')}${enc('size', '800', '600')}${enc('whatever', 'x')}`,
    );
    assert.deepEqual(r.toBackend, [
      ins('nop'),
      ins('sync', '5'),
      ins('size', '800', '600'),
      ins('whatever', 'x'),
    ]);
  });

  test('takes a framer (must enforce the same limits)', T, () => {
    const input = new ClientInput({ framer: new GuacamoleFramer() });
    assert.deepEqual(input.push(enc('sync', '1')).toBackend, [ins('sync', '1')]);
    assert.throws(
      () => new ClientInput({ limits: { maxElements: 4 }, framer: new GuacamoleFramer() }),
      RangeError,
    );
  });
});

describe('ClientInput: bad input', () => {
  test('garbage → CLIENT_BAD_REQUEST (0x0300), then input is ignored', T, () => {
    const input = new ClientInput();
    const r = input.push(`${enc('sync', '1')}hello`);
    assert.equal(r.error?.status, STATUS.CLIENT_BAD_REQUEST);
    assert.match(r.error?.message ?? '', /Malformed instruction/);
    assert.deepEqual(r.toBackend, []);
    assert.deepEqual(input.failure, r.error);
    assert.equal(input.closed, true);
    const after = input.push(enc('sync', '2'));
    assert.deepEqual(after, { toClient: '', toBackend: [] });
  });

  for (const [what, text] of [
    ['bad separator', '4.sync,1.1:'],
    ['lying length', '4.sync,1.12;'],
    ['no length', '.sync;'],
    ['invalid UTF-8', [0x34, 0x2e, 0x73, 0x79, 0x6e, 0xff, 0x3b]],
  ] as const) {
    test(`${what} → 0x0300`, T, () => {
      const input = new ClientInput();
      const r = input.push(typeof text === 'string' ? text : Uint8Array.from(text));
      assert.equal(r.error?.status, STATUS.CLIENT_BAD_REQUEST);
    });
  }

  test('element over the length limit → CLIENT_OVERRUN (0x030D), even before its value arrives', T, () => {
    const input = new ClientInput();
    const r = input.push('4.blob,1.0,8193.');
    assert.equal(r.error?.status, STATUS.CLIENT_OVERRUN);
    assert.match(r.error?.message ?? '', /maxElementLength/);
  });

  test('instruction over the byte limit, spread over messages → 0x030D; memory stays bounded', T, () => {
    const input = new ClientInput({ limits: { maxInstructionBytes: 4096 } });
    let error: { status: number } | undefined;
    const chunk = `1000.${'A'.repeat(1000)},`;
    input.push('4.blob,');
    for (let i = 0; i < 10 && error === undefined; i++) {
      error = input.push(chunk).error;
      assert.ok(input.bufferedBytes <= 4096);
    }
    assert.equal(error?.status, STATUS.CLIENT_OVERRUN);
  });

  test('too many elements → 0x030D', T, () => {
    const input = new ClientInput();
    const r = input.push(`3.key${',1.1'.repeat(200)};`);
    assert.equal(r.error?.status, STATUS.CLIENT_OVERRUN);
  });
});

describe('ClientInput: policy', () => {
  test('readOnly drops key, mouse and touch only', T, () => {
    const input = new ClientInput({ policy: policy({ readOnly: true }) });
    const r = input.push(
      `${enc('key', '65', '1')}${enc('mouse', '1', '2', '1')}${enc('touch', '0', '1', '2', '3', '4', '0', '1')}` +
        `${enc('sync', '9')}${enc('clipboard', '0', 'text/plain')}`,
    );
    assert.deepEqual(r.toBackend, [ins('sync', '9'), ins('clipboard', '0', 'text/plain')]);
    assert.equal(input.instructionsDropped, 3);
  });

  test('without readOnly, key/mouse/touch pass', T, () => {
    const input = new ClientInput();
    const r = input.push(`${enc('key', '65', '1')}${enc('mouse', '1', '2', '1')}`);
    assert.equal(r.toBackend.length, 2);
  });

  test(
    'disablePaste: clipboard stream refused with ack 0x0303; its blob/end dropped; other streams pass',
    T,
    () => {
      const input = new ClientInput({ policy: policy({ disablePaste: true }) });
      const r = input.push(
        `${enc('clipboard', '0', 'text/plain')}${enc('blob', '0', 'aGVsbG8=')}${enc('file', '1', 'text/plain', 'a.txt')}` +
          `${enc('blob', '1', 'eA==')}${enc('end', '0')}${enc('end', '1')}`,
      );
      assert.equal(r.toClient, forbidden('0', PASTE_REFUSED));
      assert.equal(r.toClient, '3.ack,1.0,28.Clipboard paste is disabled.,3.771;');
      assert.deepEqual(r.toBackend, [
        ins('file', '1', 'text/plain', 'a.txt'),
        ins('blob', '1', 'eA=='),
        ins('end', '1'),
      ]);
      assert.equal(input.refusedStreams, 0);
    },
  );

  test('a refused index reused after end opens normally; without end the refusal stays', T, () => {
    const input = new ClientInput({ policy: policy({ disablePaste: true }) });
    input.push(enc('clipboard', '2', 'text/plain'));
    assert.equal(input.refusedStreams, 1);
    // The index is refused until its end; a blob split across messages is still dropped.
    const split = enc('blob', '2', 'QUJD');
    assert.deepEqual(run(input, [split.slice(0, 5), split.slice(5)]).toBackend, []);
    assert.deepEqual(input.push(enc('end', '2')).toBackend, []);
    assert.equal(input.refusedStreams, 0);
    // Reused for an allowed stream: everything passes.
    const r = input.push(
      `${enc('pipe', '2', 'text/plain', 'p')}${enc('blob', '2', 'QQ==')}${enc('end', '2')}`,
    );
    assert.equal(r.toBackend.length, 3);
  });

  test('a new allowed stream opened on a refused index (no end) frees it', T, () => {
    const input = new ClientInput({ policy: policy({ disablePaste: true }) });
    input.push(enc('clipboard', '3', 'text/plain'));
    const r = input.push(`${enc('audio', '3', 'audio/L16')}${enc('blob', '3', 'AA==')}`);
    assert.deepEqual(r.toBackend, [ins('audio', '3', 'audio/L16'), ins('blob', '3', 'AA==')]);
  });

  test('stream indices are read like atoi/parseInt ("007" is 7)', T, () => {
    const input = new ClientInput({ policy: policy({ disablePaste: true }) });
    input.push(enc('clipboard', '007', 'text/plain'));
    assert.deepEqual(input.push(`${enc('blob', '7', 'AA==')}${enc('end', ' +7')}`).toBackend, []);
    assert.equal(input.refusedStreams, 0);
  });

  test('disableUpload: file and put streams refused (put names its stream second)', T, () => {
    const input = new ClientInput({ policy: policy({ disableUpload: true }) });
    const r = input.push(
      `${enc('file', '4', 'application/pdf', 'x.pdf')}${enc('blob', '4', 'AA==')}${enc('end', '4')}` +
        `${enc('put', '1', '6', 'text/plain', '/tmp/y')}${enc('blob', '6', 'AA==')}${enc('end', '6')}` +
        `${enc('blob', '1', 'AA==')}${enc('clipboard', '8', 'text/plain')}`,
    );
    assert.equal(r.toClient, forbidden('4', UPLOAD_REFUSED) + forbidden('6', UPLOAD_REFUSED));
    assert.deepEqual(r.toBackend, [ins('blob', '1', 'AA=='), ins('clipboard', '8', 'text/plain')]);
    assert.equal(input.refusedStreams, 0);
  });

  test('refusal without a policy flag: nothing refused', T, () => {
    const input = new ClientInput({ policy: policy({ readOnly: true }) });
    const r = input.push(
      `${enc('clipboard', '0', 'text/plain')}${enc('file', '1', 'a/b', 'n')}${enc('put', '0', '2', 'a/b', 'n')}`,
    );
    assert.equal(r.toClient, '');
    assert.equal(r.toBackend.length, 3);
  });

  test('the refused set is bounded; an out-of-range index is refused but not tracked', T, () => {
    const input = new ClientInput({ policy: policy({ disablePaste: true }), maxStreams: 8 });
    let acks = '';
    for (let i = 0; i < 20; i++) acks += input.push(enc('clipboard', String(i), 'text/plain')).toClient;
    assert.equal(input.refusedStreams, 8);
    assert.equal(acks.split(';').length - 1, 20);
    // Not tracked: its blob reaches the backend, which never saw the stream open.
    assert.deepEqual(input.push(enc('blob', '15', 'AA==')).toBackend, [ins('blob', '15', 'AA==')]);
    assert.deepEqual(input.push(enc('blob', '5', 'AA==')).toBackend, []);
    // A refused open with no stream argument is dropped without an ack.
    const bare = input.push(enc('clipboard'));
    assert.deepEqual(bare, { toClient: '', toBackend: [] });
  });
});
