import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { encodeInstruction as enc } from '../../src/protocol/guacamole/encoder.js';
import { GuacamoleParser, type Instruction } from '../../src/protocol/guacamole/parser.js';
import { STATUS } from '../../src/protocol/guacamole/status.js';
import {
  BackendOutput,
  DOWNLOAD_REFUSED,
  STREAM_INDEX_MIMETYPE,
} from '../../src/proxy/tunnel/backend-output.js';
import { ClientInput } from '../../src/proxy/tunnel/client-input.js';
import { countInstructions } from '../../src/proxy/tunnel/scan.js';
import { parseStreamIndex } from '../../src/proxy/tunnel/streams.js';
import { DEFAULT_POLICY, type Policy } from '../../src/proxy/types.js';
import {
  adversarialStream,
  elementText,
  instructionArb,
  splitAt,
  wellFormed,
} from '../helpers/guac-arbitraries.js';

const T = { timeout: 60_000 };

function parseWhole(message: string): Instruction[] {
  const p = new GuacamoleParser();
  const list = p.feed(Buffer.from(message, 'utf8'));
  assert.equal(p.bufferedBytes, 0, 'message ends mid-instruction');
  return list;
}

/** Any instruction, values well-formed (lone surrogates replaced), as wire text. */
const anyInstruction = instructionArb().map((i) => enc(wellFormed(i.opcode), ...i.args.map(wellFormed)));

/** Instructions that exercise the outbound filter: streams opened, fed and ended on a few indices. */
const streamInstruction = fc.oneof(
  anyInstruction,
  fc
    .tuple(
      fc.constantFrom('clipboard', 'file', 'pipe', 'img', 'audio', 'blob', 'end', 'body', 'sync'),
      fc.constantFrom('0', '1', '2', '3', '03', '1024'),
      fc.array(elementText(12), { maxLength: 4 }),
      fc.boolean(),
    )
    .map(([op, stream, rest, listing]) => {
      const args = rest.map(wellFormed);
      if (op === 'body') return enc(op, '0', stream, listing ? STREAM_INDEX_MIMETYPE : 'text/plain', ...args);
      return enc(op, stream, ...args);
    }),
);

/** Pushes: the instructions grouped at random boundaries (every push is whole instructions). */
function grouped(list: string[], cuts: number[]): string[] {
  const at = [...new Set(cuts.map((c) => c % (list.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let prev = 0;
  for (const c of [...at, list.length]) {
    if (c > prev) out.push(list.slice(prev, c).join(''));
    prev = c;
  }
  return out;
}

/** The outbound policy, written independently over decoded instructions. */
function referenceFilter(text: string, policy: Policy): { kept: string; acks: string; dropped: number } {
  const refused = new Set<number>();
  let kept = '';
  let acks = '';
  let dropped = 0;
  for (const i of parseWhole(text)) {
    const idx = (k: number) => parseStreamIndex(i.args[k]);
    let keep = true;
    const open = (k: number, refuse: boolean, ack: boolean) => {
      refused.delete(idx(k));
      if (!refuse) return;
      keep = false;
      const stream = i.args[k];
      if (stream === undefined) return;
      if (idx(k) >= 0 && idx(k) < 1024) refused.add(idx(k));
      if (ack) acks += enc('ack', stream, DOWNLOAD_REFUSED, STATUS.CLIENT_FORBIDDEN);
    };
    switch (i.opcode) {
      case 'blob':
        keep = !refused.has(idx(0));
        break;
      case 'end':
        keep = !refused.has(idx(0));
        refused.delete(idx(0));
        break;
      case 'clipboard':
        open(0, policy.disableCopy, false);
        break;
      case 'file':
      case 'pipe':
        open(0, policy.disableDownload, true);
        break;
      case 'body':
        open(1, policy.disableDownload && i.args[2] !== STREAM_INDEX_MIMETYPE, true);
        break;
      case 'img':
      case 'audio':
      case 'video':
      case 'argv':
        open(0, false, false);
        break;
    }
    if (keep) kept += enc(i.opcode, ...i.args);
    else dropped++;
  }
  return { kept, acks, dropped };
}

describe('tunnel properties', () => {
  test(
    'BackendOutput without a filter: whole-instruction messages that concatenate back to the input',
    T,
    () => {
      fc.assert(
        fc.property(
          fc.array(anyInstruction, { maxLength: 40 }),
          fc.array(fc.nat(), { maxLength: 40 }),
          fc.array(fc.boolean(), { maxLength: 40 }),
          fc.integer({ min: 1, max: 400 }),
          (list, cuts, flushes, batchBytes) => {
            const out = new BackendOutput({ batchBytes, countInstructions: true });
            const pushes = grouped(list, cuts);
            const messages: string[] = [];
            pushes.forEach((p, k) => {
              out.push(p);
              if (flushes[k]) out.flush();
              messages.push(...out.take());
            });
            out.flush();
            messages.push(...out.take());
            assert.equal(messages.join(''), list.join(''));
            for (const m of messages) {
              parseWhole(m);
              // Over the target only when the message is one push.
              if (Buffer.byteLength(m) > batchBytes)
                assert.ok(pushes.includes(m), 'an over-size message is one push');
            }
            assert.equal(out.instructionsOut, list.length);
            assert.equal(out.bytesOut, Buffer.byteLength(list.join('')));
            assert.equal(out.pendingBytes, 0);
            assert.equal(out.failure, null);
          },
        ),
      );
    },
  );

  test('BackendOutput with filters agrees with a reference over decoded instructions', T, () => {
    fc.assert(
      fc.property(
        fc.array(streamInstruction, { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 1, max: 300 }),
        (list, cuts, disableCopy, disableDownload, batchBytes) => {
          fc.pre(disableCopy || disableDownload);
          const policy = { ...DEFAULT_POLICY, disableCopy, disableDownload };
          const out = new BackendOutput({ policy, batchBytes });
          const messages: string[] = [];
          let acks = '';
          for (const p of grouped(list, cuts)) {
            out.push(p);
            messages.push(...out.take());
            acks += out.toBackend();
          }
          out.flush();
          messages.push(...out.take());
          for (const m of messages) parseWhole(m);
          const want = referenceFilter(list.join(''), policy);
          assert.equal(messages.join(''), want.kept);
          assert.equal(acks, want.acks);
          assert.equal(out.instructionsDropped, want.dropped);
          assert.equal(out.instructionsOut, list.length - want.dropped);
          assert.equal(out.failure, null);
        },
      ),
    );
  });

  test('countInstructions agrees with the parser on any instruction stream', T, () => {
    fc.assert(
      fc.property(fc.array(anyInstruction, { maxLength: 30 }), (list) => {
        const text = list.join('');
        assert.equal(countInstructions(text), parseWhole(text).length);
      }),
    );
  });

  test('ClientInput: any split of a valid stream gives the same instructions and ping echoes', T, () => {
    const withPings = fc.oneof(
      { weight: 4, arbitrary: instructionArb() },
      fc.nat().map((n) => ({ opcode: '', args: ['ping', String(n)] })),
    );
    fc.assert(
      fc.property(
        fc.array(withPings, { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (list, cuts) => {
          const clean = list.map((i) => ({ opcode: wellFormed(i.opcode), args: i.args.map(wellFormed) }));
          const bytes = Buffer.from(clean.map((i) => enc(i.opcode, ...i.args)).join(''), 'utf8');
          const input = new ClientInput();
          let toClient = '';
          const toBackend: Instruction[] = [];
          for (const chunk of splitAt(
            bytes,
            cuts.map((c) => c % (bytes.length + 1)),
          )) {
            const r = input.push(chunk);
            assert.equal(r.error, undefined);
            toClient += r.toClient;
            toBackend.push(...r.toBackend);
          }
          const end = clean.findIndex((i) => i.opcode === 'disconnect');
          const seen = end < 0 ? clean : clean.slice(0, end + 1);
          assert.deepEqual(
            toBackend,
            seen.filter((i) => i.opcode !== ''),
          );
          const pings = seen.filter((i) => i.opcode === '' && i.args[0] === 'ping');
          assert.equal(toClient, pings.map((i) => enc('', ...i.args)).join(''));
          assert.equal(input.bytesIn, bytes.length);
        },
      ),
    );
  });

  test(
    'ClientInput never throws on adversarial bytes: instructions, or one error of 0x0300/0x030D',
    T,
    () => {
      fc.assert(
        fc.property(adversarialStream(), fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
          const input = new ClientInput({ limits: { maxElementLength: 64, maxInstructionBytes: 256 } });
          const errors: number[] = [];
          for (const chunk of splitAt(
            bytes,
            cuts.map((c) => c % (bytes.length + 1)),
          )) {
            const r = input.push(chunk);
            if (r.error) errors.push(r.error.status);
            assert.ok(input.bufferedBytes <= 256);
          }
          assert.ok(errors.length <= 1);
          for (const status of errors)
            assert.ok(([STATUS.CLIENT_BAD_REQUEST, STATUS.CLIENT_OVERRUN] as number[]).includes(status));
        }),
      );
    },
  );

  test(
    'BackendOutput with filters never throws on arbitrary text; bytes out never exceed bytes in',
    T,
    () => {
      fc.assert(
        fc.property(
          fc.array(fc.oneof(streamInstruction, fc.string({ unit: 'binary', maxLength: 20 })), {
            maxLength: 20,
          }),
          (pushes) => {
            const out = new BackendOutput({
              policy: { ...DEFAULT_POLICY, disableCopy: true, disableDownload: true },
            });
            for (const p of pushes) out.push(p);
            out.flush();
            const sent = out.take().join('');
            assert.ok(Buffer.byteLength(sent) <= Buffer.byteLength(pushes.join('')));
            assert.equal(out.bytesOut, Buffer.byteLength(sent));
          },
        ),
      );
    },
  );
});
