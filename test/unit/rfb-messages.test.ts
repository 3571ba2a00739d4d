import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeClipboardText, encodeClipboardText } from '../../src/protocol/rfb/clipboard-text.js';
import {
  buildEncodingList,
  Encoding,
  encodingName,
  PseudoEncoding,
  parseEncodingsParam,
  unknownEncodingsMessage,
} from '../../src/protocol/rfb/encodings.js';
import {
  encodeClientCutText,
  encodeClientCutTextExtended,
  encodeClientInit,
  encodeFramebufferUpdateRequest,
  encodeKeyEvent,
  encodePointerEvent,
  encodeProtocolVersion,
  encodeSetDesktopSize,
  encodeSetEncodings,
  encodeSetPixelFormat,
} from '../../src/protocol/rfb/messages.js';
import { pixelFormatForDepth } from '../../src/protocol/rfb/pixel-format.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('client messages', () => {
  test('ProtocolVersion and ClientInit', () => {
    assert.equal(Buffer.from(encodeProtocolVersion('3.3')).toString(), 'RFB 003.003\n');
    assert.equal(Buffer.from(encodeProtocolVersion('3.7')).toString(), 'RFB 003.007\n');
    assert.equal(Buffer.from(encodeProtocolVersion('3.8')).toString(), 'RFB 003.008\n');
    assert.equal(hex(encodeClientInit(true)), '01');
    assert.equal(hex(encodeClientInit(false)), '00');
  });

  test('SetPixelFormat (32-bpp true colour, little-endian, RGB at 16/8/0)', () => {
    assert.equal(
      hex(encodeSetPixelFormat(pixelFormatForDepth(24))),
      '00000000' + '2018' + '0001' + '00ff00ff00ff' + '100800' + '000000',
    );
  });

  test('SetEncodings with signed values', () => {
    assert.equal(
      hex(encodeSetEncodings([16, 0, -239, 0xc0a1e5ce | 0])),
      '02000004' + '00000010' + '00000000' + 'ffffff11' + 'c0a1e5ce',
    );
  });

  test('FramebufferUpdateRequest, KeyEvent, PointerEvent (clamped)', () => {
    assert.equal(
      hex(encodeFramebufferUpdateRequest(true, 1, 2, 1024, 768)),
      '0301' + '0001' + '0002' + '0400' + '0300',
    );
    assert.equal(hex(encodeKeyEvent(0xff0d, true)), '04010000' + '0000ff0d');
    assert.equal(hex(encodeKeyEvent(0x61, false)), '04000000' + '00000061');
    assert.equal(hex(encodePointerEvent(70000, -1, 0x108)), '0508' + 'ffff' + '0000');
  });

  test('ClientCutText, plain and extended (negated length)', () => {
    assert.equal(hex(encodeClientCutText(Uint8Array.of(0x41, 0xe9))), '06000000' + '00000002' + '41e9');
    assert.equal(
      hex(encodeClientCutTextExtended(Uint8Array.of(1, 2, 3))),
      '06000000' + 'fffffffd' + '010203',
    );
  });

  test('SetDesktopSize (message 251)', () => {
    assert.equal(
      hex(encodeSetDesktopSize(800, 600, [{ id: 1, x: 0, y: 0, w: 800, h: 600, flags: 0 }])),
      'fb00' + '0320' + '0258' + '0100' + '00000001' + '0000' + '0000' + '0320' + '0258' + '00000000',
    );
    assert.throws(() => encodeSetDesktopSize(1, 1, []), RangeError);
  });
});

describe('encodings', () => {
  test('guacd names, default, unknown and unimplemented', () => {
    assert.deepEqual(parseEncodingsParam(undefined), {
      encodings: [Encoding.ZRLE, Encoding.CopyRect, Encoding.Hextile, Encoding.RRE, Encoding.Raw],
      skipped: ['ultra', 'zlib', 'corre'],
      unknown: [],
    });
    assert.deepEqual(parseEncodingsParam('  Tight  copyrect tight bogus x '), {
      encodings: [Encoding.Tight, Encoding.CopyRect, Encoding.Raw],
      skipped: [],
      unknown: ['bogus', 'x'],
    });
    assert.deepEqual(parseEncodingsParam('constructor toString'), {
      encodings: [Encoding.Raw],
      skipped: [],
      unknown: ['constructor', 'toString'],
    });
    assert.match(unknownEncodingsMessage(['bogus']), /unknown encoding in "encodings": bogus \(known: zrle/);
  });

  test('pseudo-encoding numbers', () => {
    assert.equal(PseudoEncoding.ExtendedClipboard, -1063131698);
    assert.deepEqual(
      buildEncodingList({
        encodings: [7, 0],
        cursor: true,
        extendedClipboard: true,
        qualityLevel: 9,
        compressLevel: 0,
      }),
      [7, 0, -23, -256, -239, -308, -223, -224, -1063131698],
    );
    assert.deepEqual(
      buildEncodingList({ encodings: [16, 0], cursor: false, extendedClipboard: false, qualityLevel: 5 }),
      [16, 0, -308, -223, -224],
      'levels only with Tight',
    );
    assert.equal(encodingName(16), 'zrle');
    assert.equal(encodingName(-239), 'Cursor');
    assert.equal(encodingName(-27), 'QualityLevel5');
    assert.equal(encodingName(12345), 'encoding 12345');
  });
});

describe('clipboard text', () => {
  test('round trips and replacements', () => {
    const all = 'A\u00e9\u20ac\u0152\u{1f600}';
    assert.deepEqual([...encodeClipboardText(all, 'ISO8859-1')], [0x41, 0xe9, 0x3f, 0x3f, 0x3f]);
    assert.deepEqual([...encodeClipboardText(all, 'CP1252')], [0x41, 0xe9, 0x80, 0x8c, 0x3f]);
    for (const enc of ['UTF-8', 'UTF-16'] as const)
      assert.equal(decodeClipboardText(encodeClipboardText(all, enc), enc), all);
    const latin = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
    assert.equal(decodeClipboardText(encodeClipboardText(latin, 'ISO8859-1'), 'ISO8859-1'), latin);
  });
});
