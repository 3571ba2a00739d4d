// The XWD reader of the e2e harness (helpers/xwd.ts) on dumps built here: 32, 24, 16 and 8 bits per pixel,
// both pixel byte orders, a colormap, a region, and malformed input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeXwd, parseXwdHeader } from './helpers/xwd.js';

interface DumpSpec {
  width: number;
  height: number;
  bitsPerPixel: 8 | 16 | 24 | 32;
  byteOrder: 0 | 1;
  visualClass?: number;
  masks?: [number, number, number];
  colormap?: [number, number, number, number][];
  /** Pixel value at (x, y). */
  pixel: (x: number, y: number) => number;
  name?: string;
  padTo?: number;
}

function buildXwd(spec: DumpSpec): Buffer {
  const name = Buffer.from(`${spec.name ?? 'xwdump'}\0`);
  const headerSize = 100 + name.length;
  const bytesPer = spec.bitsPerPixel / 8;
  const pad = spec.padTo ?? 4;
  const bytesPerLine = Math.ceil((spec.width * bytesPer) / pad) * pad;
  const colormap = spec.colormap ?? [];
  const [rm, gm, bm] = spec.masks ?? [0xff0000, 0xff00, 0xff];
  const fields = [
    headerSize,
    7,
    2,
    spec.bitsPerPixel === 32 ? 24 : spec.bitsPerPixel,
    spec.width,
    spec.height,
    0,
    spec.byteOrder,
    32,
    spec.byteOrder,
    32,
    spec.bitsPerPixel,
    bytesPerLine,
    spec.visualClass ?? 4,
    rm,
    gm,
    bm,
    8,
    256,
    colormap.length,
    spec.width,
    spec.height,
    0,
    0,
    0,
  ];
  const header = Buffer.alloc(100);
  fields.forEach((v, i) => {
    header.writeUInt32BE(v, i * 4);
  });
  const cmap = Buffer.alloc(colormap.length * 12);
  colormap.forEach(([pixel, r, g, b], i) => {
    cmap.writeUInt32BE(pixel, i * 12);
    cmap.writeUInt16BE(r, i * 12 + 4);
    cmap.writeUInt16BE(g, i * 12 + 6);
    cmap.writeUInt16BE(b, i * 12 + 8);
  });
  const pixels = Buffer.alloc(bytesPerLine * spec.height, 0xee);
  for (let y = 0; y < spec.height; y++) {
    for (let x = 0; x < spec.width; x++) {
      const o = y * bytesPerLine + x * bytesPer;
      const p = spec.pixel(x, y);
      for (let b = 0; b < bytesPer; b++) {
        const shift = spec.byteOrder === 0 ? 8 * b : 8 * (bytesPer - 1 - b);
        pixels[o + b] = (p >>> shift) & 0xff;
      }
    }
  }
  return Buffer.concat([header, name, cmap, pixels]);
}

const rgbAt = (x: number, y: number): [number, number, number] => [x * 40, y * 50, (x + y) * 10];

describe('xwd reader', () => {
  for (const [bpp, order] of [
    [32, 0],
    [32, 1],
    [24, 0],
    [24, 1],
  ] as const) {
    it(`${bpp} bpp, byte order ${order}: every pixel`, () => {
      const dump = buildXwd({
        width: 5,
        height: 3,
        bitsPerPixel: bpp,
        byteOrder: order,
        pixel: (x, y) => {
          const [r, g, b] = rgbAt(x, y);
          return (r << 16) | (g << 8) | b;
        },
      });
      const img = decodeXwd(dump);
      assert.equal(img.width, 5);
      assert.equal(img.height, 3);
      for (let y = 0; y < 3; y++) {
        for (let x = 0; x < 5; x++) {
          const o = (y * 5 + x) * 4;
          assert.deepEqual([...img.data.subarray(o, o + 4)], [...rgbAt(x, y), 255], `pixel ${x},${y}`);
        }
      }
    });
  }

  it('16 bpp 565 widens channels to 8 bits', () => {
    const dump = buildXwd({
      width: 2,
      height: 1,
      bitsPerPixel: 16,
      byteOrder: 0,
      masks: [0xf800, 0x07e0, 0x001f],
      pixel: (x) => (x === 0 ? 0xffff : (6 << 11) | (25 << 5) | 19),
    });
    const img = decodeXwd(dump);
    assert.deepEqual([...img.data], [255, 255, 255, 255, 49, 101, 156, 255]);
  });

  it('8 bpp PseudoColor goes through the colormap', () => {
    const dump = buildXwd({
      width: 2,
      height: 2,
      bitsPerPixel: 8,
      byteOrder: 0,
      visualClass: 3,
      masks: [0, 0, 0],
      colormap: [
        [0, 0, 0, 0],
        [7, 0xffff, 0x8000, 0x0100],
      ],
      pixel: (x, y) => (x === y ? 7 : 0),
    });
    const img = decodeXwd(dump);
    assert.deepEqual([...img.data.subarray(0, 8)], [255, 128, 1, 255, 0, 0, 0, 255]);
  });

  it('decodes a region, honouring row padding', () => {
    const dump = buildXwd({
      width: 7,
      height: 4,
      bitsPerPixel: 24,
      byteOrder: 0,
      padTo: 8,
      pixel: (x, y) => (x * 16 + y) << 8,
    });
    const img = decodeXwd(dump, { x: 2, y: 1, width: 3, height: 2 });
    const greens = [];
    for (let i = 0; i < 6; i++) greens.push(img.data[i * 4 + 1]);
    assert.deepEqual(greens, [33, 49, 65, 34, 50, 66]);
  });

  it('rejects malformed dumps with a clear message', () => {
    const good = buildXwd({ width: 2, height: 2, bitsPerPixel: 32, byteOrder: 0, pixel: () => 0 });
    assert.throws(() => decodeXwd(good.subarray(0, 50)), /shorter than the header/);
    assert.throws(() => decodeXwd(good.subarray(0, good.length - 1)), /header promises/);
    const badVersion = Buffer.from(good);
    badVersion.writeUInt32BE(6, 4);
    assert.throws(() => parseXwdHeader(badVersion), /file version 6/);
    const xyPixmap = Buffer.from(good);
    xyPixmap.writeUInt32BE(1, 8);
    assert.throws(() => decodeXwd(xyPixmap), /only ZPixmap/);
    assert.throws(() => decodeXwd(good, { x: 1, y: 1, width: 2, height: 1 }), /not inside/);
  });
});
