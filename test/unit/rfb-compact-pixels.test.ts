import assert from 'node:assert/strict';
import { test } from 'node:test';
import { swapRedBlue } from '../../src/protocol/rfb/client.js';
import { tpixelBytes, tpixelConverter } from '../../src/protocol/rfb/decoders/compact-pixels.js';
import { pixelFormatForDepth } from '../../src/protocol/rfb/pixel-format.js';

test('Tight TPIXEL: R, G, B bytes; swap-red-blue reads them as B, G, R', () => {
  const pf = pixelFormatForDepth(24);
  assert.equal(tpixelBytes(pf), 3);
  const bytes = Uint8Array.of(0x11, 0x22, 0x33);
  assert.equal(tpixelConverter(pf).rgbAt(bytes, 0), 0x112233);
  const swapped = swapRedBlue(pf);
  assert.equal(tpixelBytes(swapped), 3);
  assert.equal(tpixelConverter(swapped).rgbAt(bytes, 0), 0x332211);
  const rgba = new Uint8Array(4);
  tpixelConverter(swapped).toRgba(bytes, 0, rgba, 0, 1);
  assert.deepEqual([...rgba], [0x33, 0x22, 0x11, 255]);
});
