import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { constants, deflateSync, inflateSync } from 'node:zlib';
import type { ExtendedClipboardHandler } from '../../src/protocol/rfb/clipboard-text.js';
import { coreDecoders } from '../../src/protocol/rfb/decoders/core.js';
import { ExtendedClipboard } from '../../src/protocol/rfb/ext-clipboard.js';
import {
  encodeClientCutText,
  encodeClientCutTextExtended,
  encodeFramebufferUpdateRequest,
  encodeKeyEvent,
  encodePointerEvent,
  encodeSetDesktopSize,
  encodeSetEncodings,
} from '../../src/protocol/rfb/messages.js';
import {
  ascii,
  concat,
  connectedClient,
  fbUpdate,
  handshake38,
  px32,
  testClient,
  u16,
  u32,
} from '../helpers/rfb-bytes.js';

const cutText = (bytes: Uint8Array | number[]): Uint8Array => {
  const b = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes);
  return concat([3, 0, 0, 0], u32(b.length), b);
};

describe('RfbClient after the handshake', { timeout: 30_000 }, () => {
  test('Bell and SetColourMapEntries (ignored)', () => {
    const c = connectedClient();
    const colourMap = concat([1, 0], u16(0), u16(2), new Uint8Array(12));
    assert.deepEqual(c.feed(concat(colourMap, [2])), [{ type: 'bell' }]);
  });

  test('ServerCutText per clipboard-encoding', () => {
    const cases: [string, number[], string][] = [
      ['ISO8859-1', [0x63, 0x61, 0x66, 0xe9, 0x80], 'caf\u00e9\u0080'],
      ['UTF-8', [0x63, 0xc3, 0xa9, 0xe2, 0x82, 0xac], 'c\u00e9\u20ac'],
      ['UTF-16', [0x41, 0x00, 0xac, 0x20], 'A\u20ac'],
      ['CP1252', [0x80, 0x93, 0x81, 0xe9], '\u20ac\u201c\u0081\u00e9'],
    ];
    for (const [encoding, bytes, text] of cases) {
      const c = connectedClient(64, 48, { clipboardEncoding: encoding as 'UTF-8' });
      assert.deepEqual(c.feed(cutText(bytes)), [{ type: 'clipboard', text }], encoding);
    }
  });

  test('ServerCutText longer than maxCutTextBytes is truncated, the rest skipped', () => {
    const c = connectedClient(64, 48, { limits: { maxCutTextBytes: 5 } });
    assert.deepEqual(c.feed(concat(cutText(ascii('hello world')), [2])), [
      { type: 'clipboard', text: 'hello' },
      { type: 'bell' },
    ]);
  });

  test('DesktopSize resizes the framebuffer; the same size is not an event', () => {
    const c = connectedClient(64, 48);
    const events = c.feed(
      fbUpdate([
        { x: 0, y: 0, w: 100, h: 80, encoding: -223 },
        { x: 0, y: 0, w: 100, h: 80, encoding: -223 },
        { x: 90, y: 70, w: 10, h: 10, encoding: 1, data: [...u16(0), ...u16(0)] },
      ]),
    );
    assert.deepEqual(
      events.map((e) => e.type),
      ['frame-start', 'resize', 'copy', 'frame-end'],
    );
    assert.deepEqual([c.framebuffer.width, c.framebuffer.height], [100, 80]);
    c.takeOutput();
    c.requestUpdate(true);
    assert.deepEqual(c.takeOutput(), encodeFramebufferUpdateRequest(true, 0, 0, 100, 80));
  });

  test('ExtendedDesktopSize enables resize(); SetDesktopSize keeps the screen id', () => {
    const c = connectedClient(64, 48);
    c.resize(200, 100);
    assert.equal(c.takeOutput(), null, 'ignored before the server announced ExtendedDesktopSize');
    const layout = [1, 0, 0, 0, ...u32(0x77), ...u16(0), ...u16(0), ...u16(64), ...u16(48), ...u32(0)];
    assert.deepEqual(c.feed(fbUpdate([{ x: 0, y: 0, w: 64, h: 48, encoding: -308, data: layout }])), [
      { type: 'frame-start' },
      { type: 'frame-end' },
    ]);
    assert.equal(c.canResize, true);
    c.resize(200, 100);
    assert.deepEqual(
      c.takeOutput(),
      encodeSetDesktopSize(200, 100, [{ id: 0x77, x: 0, y: 0, w: 200, h: 100, flags: 0 }]),
    );
    const grown = [1, 0, 0, 0, ...u32(0x77), ...u16(0), ...u16(0), ...u16(200), ...u16(100), ...u32(0)];
    assert.deepEqual(c.feed(fbUpdate([{ x: 1, y: 0, w: 200, h: 100, encoding: -308, data: grown }]))[1], {
      type: 'resize',
      width: 200,
      height: 100,
    });
  });

  test('Cursor: RGBA with the mask as alpha', () => {
    const c = connectedClient();
    const data = [
      ...px32(0xff0000),
      ...px32(0x00ff00),
      ...px32(0x0000ff),
      ...px32(0xffffff),
      0b10000000,
      0b01000000,
    ];
    const events = c.feed(fbUpdate([{ x: 1, y: 0, w: 2, h: 2, encoding: -239, data }]));
    assert.deepEqual(events[1], {
      type: 'cursor',
      hotX: 1,
      hotY: 0,
      width: 2,
      height: 2,
      rgba: Uint8Array.from([255, 0, 0, 255, 0, 255, 0, 0, 0, 0, 255, 0, 255, 255, 255, 255]),
    });
  });

  test('key, pointer, requestUpdate; read-only drops input', () => {
    const c = connectedClient(64, 48);
    c.key(0xff0d, true);
    c.pointer(10, 500, 1);
    c.pointer(-5, 3, 0);
    c.requestUpdate(false);
    assert.deepEqual(
      c.takeOutput(),
      concat(
        encodeKeyEvent(0xff0d, true),
        encodePointerEvent(10, 47, 1),
        encodePointerEvent(0, 3, 0),
        encodeFramebufferUpdateRequest(false, 0, 0, 64, 48),
      ),
    );
    assert.equal(c.takeOutput(), null);
    const ro = connectedClient(64, 48, { readOnly: true });
    ro.key(0x61, true);
    ro.pointer(1, 1, 1);
    ro.clipboard('x');
    assert.equal(ro.takeOutput(), null);
    ro.requestUpdate(true);
    assert.notEqual(ro.takeOutput(), null);
  });

  test('input before the handshake is dropped, clipboard kept until connected', () => {
    const c = testClient();
    c.key(0x61, true);
    c.requestUpdate(true);
    c.clipboard('early');
    assert.equal(c.takeOutput(), null);
    c.feed(handshake38());
    const out = c.takeOutput() as Uint8Array;
    const tail = encodeClientCutText(ascii('early'));
    assert.deepEqual(out.subarray(out.length - tail.length), tail);
  });

  test('clipboard(): Latin-1 replaces what it cannot map; UTF-8 passes through', () => {
    const c = connectedClient();
    c.clipboard('caf\u00e9 \u20ac \u{1f600}');
    assert.deepEqual(
      c.takeOutput(),
      encodeClientCutText(Uint8Array.from([...ascii('caf'), 0xe9, 0x20, 0x3f, 0x20, 0x3f])),
    );
    const u = connectedClient(64, 48, { clipboardEncoding: 'UTF-8', limits: { maxCutTextBytes: 4 } });
    u.clipboard('ab\u20ac');
    assert.deepEqual(u.takeOutput(), encodeClientCutText(ascii('ab')), 'truncated before a split character');
  });

  test('extended clipboard hook', () => {
    const seen: Uint8Array[] = [];
    const handler: ExtendedClipboardHandler & { active: boolean; legacyFallback: boolean } = {
      active: false,
      legacyFallback: false,
      handleServerPayload(payload) {
        seen.push(payload.slice());
        handler.active = true;
        return { text: 'from server', replies: [Uint8Array.of(9, 9)] };
      },
      sendText: (text) => [ascii(`P:${text}`)],
    };
    const c = testClient({ extendedClipboard: handler });
    c.feed(handshake38());
    const out = c.takeOutput() as Uint8Array;
    const list = encodeSetEncodings([5, 2, 1, 0, -239, -308, -223, -224, 0xc0a1e5ce | 0]);
    assert.ok(Buffer.from(out).includes(Buffer.from(list)), 'SetEncodings includes ExtendedClipboard');
    c.clipboard('before caps');
    assert.deepEqual(c.takeOutput(), encodeClientCutText(ascii('before caps')));
    const events = c.feed(concat([3, 0, 0, 0], u32(-3 >>> 0), [1, 2, 3]));
    assert.deepEqual(events, [{ type: 'clipboard', text: 'from server' }]);
    assert.deepEqual(seen, [Uint8Array.of(1, 2, 3)]);
    assert.deepEqual(c.takeOutput(), encodeClientCutTextExtended(Uint8Array.of(9, 9)));
    c.clipboard('after');
    assert.deepEqual(c.takeOutput(), encodeClientCutTextExtended(ascii('P:after')));
    handler.legacyFallback = true; // a libvncserver server: classic message first, then the extended one
    c.clipboard('both');
    assert.deepEqual(
      c.takeOutput(),
      concat(encodeClientCutText(ascii('both')), encodeClientCutTextExtended(ascii('P:both'))),
    );
  });

  test('the reader is trimmed after a large rectangle', () => {
    const N = 4 << 20;
    const decoders = coreDecoders();
    decoders.set(16, () => ({
      step(r) {
        if (!r.has(N)) return false;
        r.skip(N);
        return true;
      },
    }));
    const c = connectedClient(64, 48, { decoders, encodings: [16, 0] });
    const msg = concat(fbUpdate([{ x: 0, y: 0, w: 1, h: 1, encoding: 16 }]), new Uint8Array(N));
    c.feed(msg.subarray(0, N));
    assert.ok(c.bufferedBytes >= N - 100, `buffered ${c.bufferedBytes} while waiting`);
    assert.deepEqual(c.feed(msg.subarray(N)), [{ type: 'frame-end' }]);
    assert.ok(c.bufferedBytes <= 1 << 20, `buffered ${c.bufferedBytes} after`);
  });
});

describe('RfbClient with the ExtendedClipboard module', { timeout: 30_000 }, () => {
  const ext = (payload: Uint8Array): Uint8Array => concat([3, 0, 0, 0], u32(-payload.length >>> 0), payload);
  const flags = (f: number, ...rest: (Uint8Array | number[])[]): Uint8Array => concat(u32(f >>> 0), ...rest);
  const CAPS = 1 << 24;
  const TEXT = 1;
  const ALL_ACTIONS = (1 << 25) | (1 << 26) | (1 << 27) | (1 << 28);

  test('caps exchange, notify → request, provide → clipboard event; local text provided', () => {
    const warnings: string[] = [];
    const c = connectedClient(64, 48, {
      extendedClipboard: new ExtendedClipboard(),
      onWarning: (m) => warnings.push(m),
    });
    assert.deepEqual(c.feed(ext(flags(CAPS | TEXT | ALL_ACTIONS, u32(1 << 20)))), []);
    const capsReply = c.takeOutput() as Uint8Array;
    assert.deepEqual(capsReply.subarray(0, 8), Uint8Array.from([6, 0, 0, 0, ...u32(-8 >>> 0)]));
    c.feed(ext(flags((1 << 27) | TEXT)));
    assert.deepEqual(c.takeOutput(), encodeClientCutTextExtended(Uint8Array.from(u32((1 << 25) | TEXT))));
    const text = new TextEncoder().encode('h\u00e9llo\r\nw\u00f6rld\0');
    const provide = flags((1 << 28) | TEXT, deflateSync(concat(u32(text.length), text)));
    assert.deepEqual(c.feed(ext(provide)), [{ type: 'clipboard', text: 'h\u00e9llo\nw\u00f6rld' }]);
    c.clipboard('\u20ac');
    const out = c.takeOutput() as Uint8Array;
    assert.deepEqual(out.subarray(8, 12), Uint8Array.from(u32((1 << 28) | TEXT)));
    const record = inflateSync(out.subarray(12), { finishFlush: constants.Z_SYNC_FLUSH });
    assert.deepEqual(new Uint8Array(record), concat(u32(4), [0xe2, 0x82, 0xac, 0]));
    assert.deepEqual(warnings, []);
  });

  test('malformed extended clipboard data is an UPSTREAM_ERROR', () => {
    const c = connectedClient(64, 48, { extendedClipboard: new ExtendedClipboard() });
    const events = c.feed(ext(Uint8Array.of(1, 2)));
    assert.equal(events.length, 1);
    assert.equal(events[0]?.type === 'error' && events[0].status, 0x0203);
  });

  test('oversized standard and extended clipboard messages are reported through onWarning', () => {
    const warnings: string[] = [];
    const c = connectedClient(64, 48, {
      extendedClipboard: new ExtendedClipboard(),
      limits: { maxCutTextBytes: 8 },
      onWarning: (m) => warnings.push(m),
    });
    c.feed(concat(cutText(ascii('0123456789')), ext(new Uint8Array(20))));
    assert.deepEqual(warnings, [
      'server clipboard text of 10 bytes truncated to 8',
      'extended clipboard message of 20 bytes skipped (too long)',
    ]);
  });
});
