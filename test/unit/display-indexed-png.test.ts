/** Indexed PNG: CRC-32, palette/bit-depth choice, exact round trips through sharp's decoder, the >256-colour
 * rejection, transparency, the thread-pool path, and the plan encoder using it for few-colour tiles. */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { HeatMap } from '../../src/engine/display/heat-map.js';
import {
  encodeIndexed,
  encodeIndexedPng,
  indexImage,
  SYNC_DEFLATE_BYTES,
  SYNC_DEFLATE_CHANGES,
} from '../../src/engine/display/indexed-png.js';
import { Limiter } from '../../src/engine/display/limiter.js';
import { type EncodedItem, encodePlanItem, type PlanContext } from '../../src/engine/display/plan-encoder.js';
import { crc32, pngChunk } from '../../src/engine/display/png-chunks.js';
import { rng } from '../helpers/rng.js';

/** w×h opaque pixels using exactly `colors` distinct random colours (each appears at least once if it fits). */
function paletteTile(w: number, h: number, colors: number, seed: number, alpha = false): Uint8Array {
  const rand = rng(seed);
  const palette: number[][] = [];
  const seen = new Set<string>();
  while (palette.length < colors) {
    const c = [0, 0, 0, alpha ? Math.floor(rand() * 256) : 255].map((v, i) =>
      i < 3 ? Math.floor(rand() * 256) : v,
    ) as number[];
    const key = c.join();
    if (!seen.has(key)) {
      seen.add(key);
      palette.push(c);
    }
  }
  const px = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    // Runs of random length, so both the run and the per-pixel paths are exercised.
    const c = i < colors ? i : Math.floor(rand() * colors);
    px.set(palette[c] as number[], i * 4);
  }
  return px;
}

async function decode(png: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await sharp(png).ensureAlpha().raw().toBuffer());
}

/** IHDR fields of a PNG: width, height, bit depth, colour type. */
function ihdr(png: Uint8Array): { w: number; h: number; depth: number; type: number } {
  const b = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  assert.equal(b.toString('latin1', 12, 16), 'IHDR');
  return { w: b.readUInt32BE(16), h: b.readUInt32BE(20), depth: b[24] as number, type: b[25] as number };
}

describe('crc32', { timeout: 60_000 }, () => {
  test('known values', () => {
    assert.equal(crc32(new Uint8Array(0)), 0);
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    assert.equal(crc32(Buffer.from('IEND')), 0xae426082);
    assert.equal(crc32(Buffer.from('The quick brown fox jumps over the lazy dog')), 0x414fa339);
  });

  test('continues across pieces', () => {
    const all = Buffer.from('Gatehouse indexed PNG');
    assert.equal(crc32(all.subarray(9), crc32(all.subarray(0, 9))), crc32(all));
  });

  test('chunks carry the CRC over type and data', () => {
    const c = pngChunk('IEND', new Uint8Array(0));
    assert.deepEqual([...c], [0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);
    assert.throws(() => pngChunk('ID1T', new Uint8Array(1)), RangeError);
  });
});

describe('indexed PNG round trip', { timeout: 60_000 }, () => {
  const depthFor = (n: number) => (n <= 2 ? 1 : n <= 4 ? 2 : n <= 16 ? 4 : 8);
  const sizes: Array<[number, number]> = [
    [1, 1],
    [1, 9],
    [3, 5],
    [7, 3],
    [13, 11],
    [33, 17],
    [61, 40],
    [257, 3],
  ];
  for (const colors of [1, 2, 3, 4, 5, 16, 17, 255, 256]) {
    test(`${colors} colour${colors === 1 ? '' : 's'}: exact at odd widths, ${depthFor(colors)}-bit`, async () => {
      let seed = colors * 100;
      for (const [w, h] of sizes) {
        if (w * h < colors) continue;
        const px = paletteTile(w, h, colors, seed++);
        const img = indexImage(px, w, h);
        assert.ok(img, `${w}x${h} indexed`);
        assert.equal(img.bitDepth, depthFor(colors));
        assert.equal(img.rgb.length, colors * 3);
        assert.equal(img.alpha, null);
        const png = await encodeIndexed(img);
        assert.deepEqual(ihdr(png), { w, h, depth: depthFor(colors), type: 3 });
        assert.deepEqual(await decode(png), px, `${colors} colours at ${w}x${h}`);
      }
    });
  }

  test('runs: blank rows, margins, trailing background, single columns', async () => {
    const w = 45;
    const h = 12;
    const px = paletteTile(w, h, 1, 1); // background
    const ink = [10, 20, 30, 255];
    for (let x = 5; x < 30; x += 3) px.set(ink, (3 * w + x) * 4); // text, then background to the row end
    px.set(ink, 5 * w * 4); // row starting with ink
    px.set(ink, (6 * w + w - 1) * 4); // row ending with ink
    for (let x = 0; x < w; x++) px.set(ink, (8 * w + x) * 4); // an all-ink row
    const png = await encodeIndexedPng(px, w, h);
    assert.ok(png);
    assert.deepEqual(await decode(png), px);
    for (const [cw, ch] of [
      [1, 40],
      [2, 40],
    ]) {
      const col = paletteTile(cw as number, ch as number, 3, 7);
      const p = await encodeIndexedPng(col, cw as number, ch as number);
      assert.ok(p);
      assert.deepEqual(await decode(p), col);
    }
  });

  test('more than 256 colours: not indexed, wherever the 257th appears', () => {
    const px = paletteTile(64, 64, 257, 5);
    assert.equal(indexImage(px, 64, 64), null);
    assert.equal(encodeIndexedPng(px, 64, 64), null);
    // 256 colours in every sampled row, the 257th only in the very last pixel.
    const late = paletteTile(64, 64, 256, 6);
    assert.ok(indexImage(late, 64, 64));
    late.set([1, 2, 3, 255], late.length - 4);
    const has = new Set(Array.from({ length: 64 * 64 }, (_, i) => late.subarray(i * 4, i * 4 + 4).join()));
    if (has.size === 257) assert.equal(indexImage(late, 64, 64), null);
  });

  test('translucent colours get a tRNS chunk and round-trip', async () => {
    const px = paletteTile(29, 13, 6, 9, true);
    const img = indexImage(px, 29, 13);
    assert.ok(img?.alpha);
    const png = await encodeIndexed(img);
    assert.ok(Buffer.from(png).includes(Buffer.from('tRNS')));
    assert.deepEqual(await decode(png), px);
    const opaque = await encodeIndexedPng(paletteTile(29, 13, 6, 9), 29, 13);
    assert.ok(opaque && !Buffer.from(opaque).includes(Buffer.from('tRNS')));
  });

  test('large busy tiles deflate on the thread pool; results stay exact while the next tile is indexed', async () => {
    const a = paletteTile(400, 300, 200, 11);
    const b = paletteTile(400, 300, 3, 12);
    const imgA = indexImage(a, 400, 300);
    assert.ok(imgA);
    assert.ok(imgA.scanlines.length > SYNC_DEFLATE_BYTES && imgA.changes > SYNC_DEFLATE_CHANGES);
    const pngA = encodeIndexed(imgA); // async: must not read the scratch buffer indexImage(b) reuses
    const pngB = encodeIndexedPng(b, 400, 300);
    assert.ok(pngB);
    assert.deepEqual(await decode(await pngA), a);
    assert.deepEqual(await decode(await pngB), b);
  });

  test('bad sizes throw RangeError', () => {
    assert.throws(() => indexImage(new Uint8Array(12), 2, 2), RangeError);
    assert.throws(() => indexImage(new Uint8Array(0), 0, 0), RangeError);
  });
});

describe('plan encoder', { timeout: 60_000 }, () => {
  function ctx(): PlanContext {
    return {
      lossless: false,
      accepts: ['image/png', 'image/jpeg', 'image/webp'],
      heat: new HeatMap(256, 256),
      now: 1000,
      quality: 80,
      limiter: new Limiter(2),
    };
  }

  async function encode(
    px: Uint8Array,
    w: number,
    h: number,
  ): Promise<Extract<EncodedItem, { kind: 'image' }>> {
    const out = await encodePlanItem(ctx(), { kind: 'pixels', rect: { x: 0, y: 0, w, h }, rgba: px });
    assert.equal(out.kind, 'image');
    return out as Extract<EncodedItem, { kind: 'image' }>;
  }

  test('few colours → indexed PNG; more than 256 → truecolour PNG; both exact', async () => {
    const few = paletteTile(100, 60, 5, 21);
    const a = await encode(few, 100, 60);
    assert.equal(a.mimetype, 'image/png');
    assert.equal(ihdr(a.data).type, 3);
    assert.deepEqual(await decode(a.data), few);
    const many = paletteTile(100, 60, 300, 22);
    const b = await encode(many, 100, 60);
    assert.equal(b.mimetype, 'image/png');
    assert.equal(ihdr(b.data).type, 2); // RGB
    assert.deepEqual(await decode(b.data), many);
  });
});
