import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { Framebuffer } from '../../src/engine/display/framebuffer.js';
import { decodeJpegRgba } from '../../src/engine/display/jpeg-decode.js';

const T = { timeout: 20_000 };

/** A w×h JPEG of a smooth gradient, and sharp's own decoding of it (RGBA). */
async function makeJpeg(
  w: number,
  h: number,
  chromaSubsampling: '4:4:4' | '4:2:0' = '4:4:4',
): Promise<{ jpeg: Uint8Array; rgba: Uint8Array }> {
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      raw[o] = Math.round((x * 255) / Math.max(1, w - 1));
      raw[o + 1] = Math.round((y * 255) / Math.max(1, h - 1));
      raw[o + 2] = 128;
    }
  }
  const jpeg = await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 95, chromaSubsampling })
    .toBuffer();
  const rgba = await sharp(jpeg).ensureAlpha().raw().toBuffer();
  return { jpeg: new Uint8Array(jpeg), rgba: new Uint8Array(rgba) };
}

function maxChannelDiff(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

describe('decodeJpegRgba', () => {
  test('decodes to RGBA of exactly w×h, close to sharp (libjpeg) decoding the same image', T, async () => {
    for (const [w, h] of [
      [64, 48],
      [37, 11],
      [1, 1],
      [3, 7], // (21 / 1e6) * 1000 * 1000 < 21 in floating point
    ] as const) {
      const { jpeg, rgba } = await makeJpeg(w, h);
      const out = decodeJpegRgba(jpeg, w, h);
      assert.equal(out.length, w * h * 4);
      for (let i = 3; i < out.length; i += 4) assert.equal(out[i], 255);
      assert.ok(maxChannelDiff(out, rgba) <= 4, `${w}x${h}: differs by ${maxChannelDiff(out, rgba)}`);
    }
  });

  test(
    '4:2:0 chroma subsampling: jpeg-js upsamples more simply than libjpeg, within a few levels',
    T,
    async () => {
      const { jpeg, rgba } = await makeJpeg(37, 11, '4:2:0');
      assert.ok(maxChannelDiff(decodeJpegRgba(jpeg, 37, 11), rgba) <= 16);
    },
  );

  test('a JPEG of another size than its rectangle is a clear error', T, async () => {
    const { jpeg } = await makeJpeg(32, 16);
    assert.throws(() => decodeJpegRgba(jpeg, 16, 32), /JPEG is 32x16, but its rectangle is 16x32/);
    // larger than the rectangle: refused from the frame header, before decoding
    assert.throws(
      () => decodeJpegRgba(jpeg, 16, 16),
      /invalid JPEG for a 16x16 rectangle: maxResolutionInMP/,
    );
  });

  test('garbage and empty rectangles are errors, not crashes', T, () => {
    assert.throws(() => decodeJpegRgba(Uint8Array.of(1, 2, 3, 4), 8, 8), /invalid JPEG for a 8x8 rectangle/);
    assert.throws(() => decodeJpegRgba(new Uint8Array(0), 8, 8), /invalid JPEG/);
    assert.throws(() => decodeJpegRgba(Uint8Array.of(0xff, 0xd8), 0, 8), /0x8 rectangle/);
  });

  test('as the framebuffer decoder: a pending JPEG is decoded when read', T, async () => {
    const { jpeg, rgba } = await makeJpeg(20, 10);
    const fb = new Framebuffer(30, 30, decodeJpegRgba);
    const rect = { x: 5, y: 7, w: 20, h: 10 };
    fb.addPendingJpeg(rect, jpeg);
    assert.equal(fb.pendingJpegs, 1);
    const out = fb.read(rect);
    assert.equal(fb.pendingJpegs, 0);
    assert.ok(maxChannelDiff(out, rgba) <= 8);
  });
});
