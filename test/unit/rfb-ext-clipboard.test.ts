import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import zlib from 'node:zlib';
import { RfbProtocolError } from '../../src/protocol/rfb/decoders/types.js';
import {
  ExtendedClipboard,
  encodeExtendedCutText,
  ExtClipboardFlag as F,
} from '../../src/protocol/rfb/ext-clipboard.js';
import { concat, SyncFlushDeflater, u32 } from '../helpers/zlib-stream.js';

const T = { timeout: 10_000 };
const ALL_ACTIONS = F.Request | F.Peek | F.Notify | F.Provide;

/** The server's caps: formats text+rtf+html (rtf = bit 1, html = bit 2) with per-format sizes. */
function serverCaps(textMax: number, actions = ALL_ACTIONS): Uint8Array {
  return concat([u32(F.Caps | actions | F.Text | 0b110), u32(textMax), u32(2 << 20), u32(2 << 20)]);
}

/** A provide message as a server would build it: one zlib stream of (size, data) per format. */
function provide(formats: number, records: Uint8Array[], compress = zlib.deflateSync): Uint8Array {
  const body = concat(records.flatMap((r) => [u32(r.length), r]));
  return concat([u32(F.Provide | formats), new Uint8Array(compress(body))]);
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const flagsOf = (payload: Uint8Array | undefined): number => {
  assert.ok(payload);
  return new DataView(payload.buffer, payload.byteOffset).getUint32(0);
};

/** Reads back the text of a provide payload we built. */
function providedText(payload: Uint8Array): string {
  assert.equal(flagsOf(payload), F.Provide | F.Text);
  const body = zlib.inflateSync(payload.subarray(4), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const size = body.readUInt32BE(0);
  assert.equal(body.length, 4 + size);
  assert.equal(body[4 + size - 1], 0, 'NUL-terminated');
  return body.subarray(4, 4 + size - 1).toString('utf8');
}

function connected(textMax = 1 << 20, options = {}): ExtendedClipboard {
  const c = new ExtendedClipboard(options);
  c.handleServerPayload(serverCaps(textMax));
  return c;
}

function protocolError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof RfbProtocolError, `expected RfbProtocolError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('ExtendedClipboard', () => {
  test('inactive until the server caps; then replies with our caps (text, all actions, our limit)', T, () => {
    const c = new ExtendedClipboard({ maxTextBytes: 5000 });
    assert.equal(c.active, false);
    assert.deepEqual(c.sendText('x'), []);
    const { replies, text } = c.handleServerPayload(serverCaps(1 << 20));
    assert.equal(text, undefined);
    assert.equal(c.active, true);
    assert.equal(c.enabled, true);
    assert.equal(replies.length, 1);
    assert.deepEqual(replies[0], concat([u32(F.Caps | F.Text | ALL_ACTIONS), u32(5000)]));
    // caps without text: nothing to exchange
    const noText = new ExtendedClipboard();
    noText.handleServerPayload(concat([u32(F.Caps | ALL_ACTIONS | 0b10), u32(100)]));
    assert.equal(noText.active, false);
  });

  test('provide from the server: UTF-8 text, CRLF → LF, NUL dropped, other formats ignored', T, () => {
    const c = connected();
    const text = 'héllo\r\nwörld ✓ 🎉\r\n';
    const msg = provide(F.Text | 0b100, [utf8(`${text}\0`), utf8('<b>html</b>\0')]);
    assert.deepEqual(c.handleServerPayload(msg), { text: 'héllo\nwörld ✓ 🎉\n', replies: [] });
    // a provide without text is ignored
    assert.deepEqual(c.handleServerPayload(provide(0b100, [utf8('<i>x</i>\0')])), { replies: [] });
  });

  test('provide as a sync-flushed stream without an end (as TigerVNC sends it)', T, async () => {
    const d = new SyncFlushDeflater();
    const z = await d.push(concat([u32(4), utf8('abc\0')]));
    d.close();
    const c = connected();
    assert.equal(c.handleServerPayload(concat([u32(F.Provide | F.Text), z])).text, 'abc');
  });

  test(
    'notify(text) → request(text); notify without text → nothing; request → provide; peek → notify',
    T,
    () => {
      const c = connected();
      const notify = c.handleServerPayload(u32(F.Notify | F.Text));
      assert.deepEqual(notify.replies, [u32(F.Request | F.Text)]);
      assert.deepEqual(c.handleServerPayload(u32(F.Notify | 0b10)).replies, []);
      // before any local text: peek says no formats, request gets empty text
      assert.deepEqual(c.handleServerPayload(u32(F.Peek)).replies, [u32(F.Notify)]);
      assert.equal(providedText(c.handleServerPayload(u32(F.Request | F.Text)).replies[0] as Uint8Array), '');
      c.sendText('line 1\nline 2 ünïcödé');
      assert.deepEqual(c.handleServerPayload(u32(F.Peek)).replies, [u32(F.Notify | F.Text)]);
      const req = c.handleServerPayload(u32(F.Request | F.Text));
      assert.equal(providedText(req.replies[0] as Uint8Array), 'line 1\r\nline 2 ünïcödé');
      assert.deepEqual(c.handleServerPayload(u32(F.Request | 0b10)).replies, []);
    },
  );

  test('sendText: provide when the server accepts that size unsolicited, else notify', T, () => {
    const big = connected(1 << 20);
    const [p] = big.sendText('a\r\nb\nc');
    assert.equal(providedText(p as Uint8Array), 'a\r\nb\r\nc');
    const zero = connected(0);
    assert.deepEqual(zero.sendText('hello'), [u32(F.Notify | F.Text)]);
    const five = connected(6); // "hello" + NUL fits exactly
    assert.equal(flagsOf(five.sendText('hello')[0]), F.Provide | F.Text);
    assert.equal(flagsOf(five.sendText('hello!')[0]), F.Notify | F.Text);
    const neither = new ExtendedClipboard();
    neither.handleServerPayload(concat([u32(F.Caps | F.Request | F.Text), u32(100)]));
    assert.deepEqual(neither.sendText('x'), []);
  });

  test('our provide round-trips through another instance; full messages carry a negative length', T, () => {
    const a = connected();
    const b = connected();
    const text = 'ünïcödé\nzeile 2 — 日本語';
    const [payload] = a.sendText(text);
    assert.equal(b.handleServerPayload(payload as Uint8Array).text, text);
    const msg = encodeExtendedCutText(payload as Uint8Array);
    assert.equal(msg[0], 6);
    assert.equal(new DataView(msg.buffer).getInt32(4), -(payload as Uint8Array).length);
    assert.deepEqual(msg.subarray(8), payload);
  });

  test('outgoing text is capped at maxTextBytes on a character boundary', T, () => {
    const c = connected(1 << 20, { maxTextBytes: 10 });
    const [p] = c.sendText('ééééééé'); // 14 bytes of UTF-8
    assert.equal(providedText(p as Uint8Array), 'ééééé');
  });

  describe('limits', () => {
    test('server text over the limit is dropped with a warning', T, () => {
      const c = connected(1 << 20, { maxTextBytes: 100 });
      const r = c.handleServerPayload(provide(F.Text, [new Uint8Array(500).fill(0x41)]));
      assert.equal(r.text, undefined);
      assert.match(r.warning ?? '', /exceeds the 100-byte limit/);
      const fits = c.handleServerPayload(
        provide(F.Text, [concat([new Uint8Array(100).fill(0x41), Uint8Array.of(0)])]),
      );
      assert.equal(fits.text?.length, 100);
    });

    test('zlib bomb: a provide inflating to 100 MB costs at most the limit', T, () => {
      const c = connected(1 << 20, { maxTextBytes: 1 << 20 });
      const bomb = zlib.deflateSync(new Uint8Array(100 << 20), { level: 1 });
      // the text size field claims 100 MB
      const claimed = concat([
        u32(F.Provide | F.Text),
        zlib.deflateSync(concat([u32(100 << 20), new Uint8Array(1000)])),
      ]);
      const before = process.memoryUsage().arrayBuffers;
      const t0 = performance.now();
      assert.match(c.handleServerPayload(claimed).warning ?? '', /exceeds/);
      // a small text followed by 100 MB of another format
      const msg = concat([
        u32(F.Provide | F.Text | 0b10),
        zlib.deflateSync(concat([u32(3), utf8('hi\0'), u32(100 << 20)])),
      ]);
      assert.equal(c.handleServerPayload(msg).text, 'hi');
      // the size field says 0x00000000 then the zeros go on for 100 MB: text '' and the rest is never inflated
      assert.equal(c.handleServerPayload(concat([u32(F.Provide | F.Text), bomb])).text, '');
      const ms = performance.now() - t0;
      assert.ok(ms < 500, `took ${ms} ms`);
      assert.ok(process.memoryUsage().arrayBuffers - before < 8 << 20);
    });
  });

  describe('malformed → RfbProtocolError', () => {
    test('too short, caps without sizes, several actions, bad zlib, text cut short', T, () => {
      const c = connected();
      protocolError(() => c.handleServerPayload(Uint8Array.of(0, 0, 1)), /lacks its flags/);
      protocolError(
        () => new ExtendedClipboard().handleServerPayload(concat([u32(F.Caps | F.Text | 0b110), u32(5)])),
        /caps/,
      );
      protocolError(() => c.handleServerPayload(u32(F.Request | F.Notify | F.Text)), /several actions/);
      protocolError(
        () => c.handleServerPayload(concat([u32(F.Provide | F.Text), Uint8Array.of(0x78, 0x9c, 0xff, 0xff)])),
        /invalid zlib/,
      );
      protocolError(
        () =>
          c.handleServerPayload(
            concat([u32(F.Provide | F.Text), zlib.deflateSync(concat([u32(10), utf8('abc')]))]),
          ),
        /inflated to only 3/,
      );
      protocolError(
        () => c.handleServerPayload(concat([u32(F.Provide | F.Text), zlib.deflateSync(Uint8Array.of(0, 0))])),
        /before its text size/,
      );
    });

    test('unknown actions are ignored with a warning', T, () => {
      const r = connected().handleServerPayload(u32(1 << 30));
      assert.deepEqual(r.replies, []);
      assert.match(r.warning ?? '', /ignored/);
    });
  });
});
