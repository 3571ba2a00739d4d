import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import zlib from 'node:zlib';
import type { Rect } from '../../src/engine/display/framebuffer.js';
import { ByteReader } from '../../src/protocol/rfb/byte-reader.js';
import { RfbProtocolError } from '../../src/protocol/rfb/decoders/types.js';
import { maxZrleBytes, zrleDecoder } from '../../src/protocol/rfb/decoders/zrle.js';
import { type PixelFormat, pixelFormatForDepth } from '../../src/protocol/rfb/pixel-format.js';
import { encodeRect, rng, type TileKind } from '../helpers/rfb-zrle-encode.js';
import {
  concat,
  decodeChunked,
  decodeWhole,
  makeContext,
  pixelAt,
  SyncFlushDeflater,
  syncFlushed,
  type TestContext,
  u32,
} from '../helpers/zlib-stream.js';

const T = { timeout: 30_000 };
const pf24 = pixelFormatForDepth(24);

/** A rectangle's ZRLE wire bytes: u32 length + the compressed piece. */
const wire = (compressed: Uint8Array): Uint8Array => concat([u32(compressed.length), compressed]);

function assertPixels(ctx: TestContext, rect: Rect, rgb: Uint32Array, what = ''): void {
  for (let y = 0; y < rect.h; y++) {
    for (let x = 0; x < rect.w; x++) {
      const got = pixelAt(ctx.fb, rect.x + x, rect.y + y);
      const want = rgb[y * rect.w + x] as number;
      if (got !== want) {
        assert.fail(`${what} pixel (${x},${y}) is ${got.toString(16)}, expected ${want.toString(16)}`);
      }
    }
  }
}

function protocolError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof RfbProtocolError, `expected RfbProtocolError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

const KINDS: TileKind[] = [
  { k: 'raw' },
  { k: 'solid' },
  { k: 'packed', n: 2 },
  { k: 'packed', n: 3 },
  { k: 'packed', n: 4 },
  { k: 'packed', n: 5 },
  { k: 'packed', n: 16 },
  { k: 'rle' },
  { k: 'prle', n: 2 },
  { k: 'prle', n: 50 },
  { k: 'prle', n: 127 },
];

describe('ZRLE decoder', () => {
  test('every subencoding, partial tiles at the right and bottom edges', T, async () => {
    for (const [i, kind] of KINDS.entries()) {
      const rand = rng(100 + i);
      // 150x75: tiles 64, 64, 22 wide and 64, 11 high
      const rect = { x: 3, y: 5, w: 150, h: 75 };
      const { bytes, rgb } = encodeRect(pf24, rect.w, rect.h, () => kind, rand);
      const [z] = await syncFlushed([bytes]);
      const ctx = makeContext(160, 90);
      assert.equal(decodeWhole(zrleDecoder, rect, ctx, wire(z as Uint8Array)), true);
      assertPixels(ctx, rect, rgb, JSON.stringify(kind));
    }
  });

  test('pixel formats: 16 bpp, 8 bpp, 32 bpp big-endian, colour in the high three bytes', T, async () => {
    const formats: PixelFormat[] = [
      pixelFormatForDepth(16),
      pixelFormatForDepth(8),
      { ...pf24, bigEndian: true },
      { ...pf24, redShift: 24, greenShift: 16, blueShift: 8 },
      { ...pf24, redShift: 0, blueShift: 16 },
    ];
    for (const [i, pf] of formats.entries()) {
      const rect = { x: 0, y: 0, w: 130, h: 70 };
      const { bytes, rgb } = encodeRect(
        pf,
        rect.w,
        rect.h,
        (t) => KINDS[(t + i) % KINDS.length] as TileKind,
        rng(i),
      );
      const [z] = await syncFlushed([bytes]);
      const ctx = makeContext(130, 70, { pf });
      decodeWhole(zrleDecoder, rect, ctx, wire(z as Uint8Array));
      assertPixels(ctx, rect, rgb, `format ${i}`);
    }
  });

  test('the zlib stream persists across rectangles (later data refers back to earlier)', T, async () => {
    const rand = rng(7);
    const rects = [0, 1, 2].map((i) => ({ x: i * 100, y: i, w: 100, h: 66 }));
    const encoded = rects.map(() =>
      encodeRect(pf24, 100, 66, (t) => KINDS[t % KINDS.length] as TileKind, rand),
    );
    // the third rectangle repeats the first: its compressed form is tiny because of back-references
    encoded[2] = encoded[0] as (typeof encoded)[number];
    const pieces = await syncFlushed(encoded.map((e) => e.bytes));
    assert.ok((pieces[2] as Uint8Array).length < (pieces[0] as Uint8Array).length / 4);
    const ctx = makeContext(300, 70);
    for (const [i, rect] of rects.entries()) {
      decodeWhole(zrleDecoder, rect, ctx, wire(pieces[i] as Uint8Array));
    }
    for (const [i, rect] of rects.entries()) {
      assertPixels(ctx, rect, (encoded[i] as (typeof encoded)[number]).rgb, `rect ${i}`);
    }
  });

  test('split at every byte: step() waits, consumes nothing early, and ends identical', T, async () => {
    const rand = rng(11);
    const rects = [
      { x: 0, y: 0, w: 70, h: 40 },
      { x: 5, y: 3, w: 20, h: 9 },
      { x: 40, y: 30, w: 30, h: 36 },
    ];
    const kinds: TileKind[][] = [
      [
        { k: 'prle', n: 50 },
        { k: 'packed', n: 5 },
      ],
      [{ k: 'raw' }],
      [{ k: 'rle' }],
    ];
    const encoded = rects.map((r, i) => encodeRect(pf24, r.w, r.h, (t) => kinds[i]?.[t] as TileKind, rand));
    const pieces = await syncFlushed(encoded.map((e) => e.bytes));
    const seq = rects.map((r, i) => [r, wire(pieces[i] as Uint8Array)] as [Rect, Uint8Array]);
    const reference = makeContext(80, 70);
    decodeChunked(zrleDecoder, seq, reference, []);
    const total = seq.reduce((n, [, b]) => n + b.length, 0);
    for (let cut = 1; cut < total; cut++) {
      const ctx = makeContext(80, 70);
      decodeChunked(zrleDecoder, seq, ctx, [cut]);
      assert.deepEqual(ctx.fb.data, reference.fb.data, `cut at ${cut}`);
      assert.deepEqual(ctx.events, reference.events);
    }
    const ctx = makeContext(80, 70);
    const waits = decodeChunked(
      zrleDecoder,
      seq,
      ctx,
      Array.from({ length: total }, (_, i) => i),
    );
    // every append but the last leaves a decoder waiting (the next rectangle's, after one completes)
    assert.equal(waits, total - 1);
    assert.deepEqual(ctx.fb.data, reference.fb.data);
  });

  test(
    'events: a solid rectangle is one fill; tiles coalesce per row and across full-width rows',
    T,
    async () => {
      const rect = { x: 0, y: 0, w: 200, h: 150 };
      const solid = concat(Array.from({ length: 12 }, () => Uint8Array.of(1, 0x30, 0x20, 0x10)));
      const [z] = await syncFlushed([solid]);
      const ctx = makeContext(200, 150);
      decodeWhole(zrleDecoder, rect, ctx, wire(z as Uint8Array));
      assert.deepEqual(ctx.events, [{ type: 'fill', rect, rgb: 0x102030 }]);
      assert.equal(pixelAt(ctx.fb, 199, 149), 0x102030);

      // 4x3 tiles: row 0 raw raw solid solid | row 1 all raw | row 2 all raw
      const kinds = (t: number): TileKind => (t === 2 || t === 3 ? { k: 'solid' } : { k: 'raw' });
      const enc = encodeRect(pf24, 200, 150, kinds, rng(3));
      const [z2] = await syncFlushed([enc.bytes]);
      const ctx2 = makeContext(200, 150);
      decodeWhole(zrleDecoder, rect, ctx2, wire(z2 as Uint8Array));
      const types = ctx2.events.map((e) => e.type);
      assert.deepEqual(types, ['update', 'fill', 'fill', 'update']);
      assert.deepEqual(ctx2.events[0], { type: 'update', rect: { x: 0, y: 0, w: 128, h: 64 } });
      assert.deepEqual(ctx2.events[3], { type: 'update', rect: { x: 0, y: 64, w: 200, h: 86 } });
    },
  );

  test('empty rectangle with an empty payload', T, () => {
    const ctx = makeContext(10, 10);
    assert.equal(decodeWhole(zrleDecoder, { x: 0, y: 0, w: 0, h: 0 }, ctx, u32(0)), true);
    assert.deepEqual(ctx.events, []);
  });

  test('random corruption (before and after compression) only ever ends in RfbProtocolError', T, async () => {
    const rand = rng(99);
    const rect = { x: 0, y: 0, w: 70, h: 66 };
    const base = encodeRect(
      pf24,
      rect.w,
      rect.h,
      (t) => KINDS[(t * 3) % KINDS.length] as TileKind,
      rand,
    ).bytes;
    let errors = 0;
    for (let i = 0; i < 300; i++) {
      const tiles = base.slice();
      const compressedToo = i % 2 === 1;
      for (let k = 0; k < 1 + (i % 4); k++)
        tiles[Math.floor(rand() * tiles.length)] = Math.floor(rand() * 256);
      const [z] = await syncFlushed([tiles]);
      const data = (z as Uint8Array).slice();
      if (compressedToo) {
        const at = 2 + Math.floor(rand() * (data.length - 2));
        data[at] = (data[at] as number) ^ (1 << Math.floor(rand() * 8));
      }
      try {
        decodeWhole(zrleDecoder, rect, makeContext(70, 66), wire(data));
      } catch (err) {
        assert.ok(err instanceof RfbProtocolError, String(err));
        errors++;
      }
    }
    // most corruptions just change pixels; the point is that none escapes as another kind of error
    assert.ok(errors > 0, `${errors} of 300 corrupted rectangles were rejected`);
  });

  describe('malformed data → RfbProtocolError', () => {
    const rect = { x: 0, y: 0, w: 8, h: 8 };
    async function decodeTile(tile: number[]): Promise<void> {
      const [z] = await syncFlushed([Uint8Array.from(tile)]);
      decodeWhole(zrleDecoder, rect, makeContext(8, 8), wire(z as Uint8Array));
    }
    async function rejects(tile: number[], pattern: RegExp): Promise<void> {
      const [z] = await syncFlushed([Uint8Array.from(tile)]);
      protocolError(() => decodeWhole(zrleDecoder, rect, makeContext(8, 8), wire(z as Uint8Array)), pattern);
    }
    const px = [1, 2, 3];

    test('subencodings 17..127 and 129', T, async () => {
      for (const sub of [17, 18, 64, 126, 127, 129])
        await rejects([sub, ...new Array(400).fill(0)], /subencoding/);
    });

    test('palette indices beyond the palette', T, async () => {
      // packed palette of 3: 2-bit index 3 is out of range
      await rejects([3, ...px, ...px, ...px, ...new Array(16).fill(0xff)], /palette index 3/);
      // palette RLE of 2: index 5
      await rejects([130, ...px, ...px, 5], /palette index 5/);
      await decodeTile([130, ...px, ...px, 0x80, 62, 1]); // and a valid one for contrast
    });

    test('runs longer than the tile', T, async () => {
      await rejects([128, ...px, 64], /overflows/);
      await rejects([130, ...px, ...px, 0x80, 255, 255], /overflows/);
    });

    test('short inflate output (the data ends inside a tile)', T, async () => {
      await rejects([0, ...new Array(8 * 8 * 3 - 1).fill(7)], /ended early/);
      await rejects([], /ended early/);
      await rejects([128, ...px], /ended early/);
    });

    test('inflated data longer than the tiles need', T, async () => {
      await rejects([1, ...px, 0], /1 extra bytes/);
    });

    test('length beyond maxRectBytes is refused as soon as the length is known', T, () => {
      const ctx = makeContext(8, 8, { maxRectBytes: 1000 });
      const reader = new ByteReader();
      reader.append(u32(1001));
      protocolError(() => zrleDecoder(rect, ctx).step(reader), /exceeds the limit/);
    });

    test('invalid zlib data and left-over compressed bytes', T, async () => {
      protocolError(
        () =>
          decodeWhole(
            zrleDecoder,
            rect,
            makeContext(8, 8),
            wire(Uint8Array.of(0x78, 0x9c, 0xff, 0xff, 0xff)),
          ),
        /invalid zlib data/,
      );
      const whole = zlib.deflateSync(Uint8Array.of(1, 1, 2, 3));
      const ctx = makeContext(8, 8);
      protocolError(
        () => decodeWhole(zrleDecoder, rect, ctx, wire(concat([whole, Uint8Array.of(9, 9)]))),
        /left over/,
      );
    });

    test('decompression bomb: 64x64 expected, the stream would inflate to 100 MB', T, async () => {
      const d = new SyncFlushDeflater({ level: 1 });
      const zeros = new Uint8Array(1 << 20);
      const parts: Uint8Array[] = [];
      for (let i = 0; i < 100; i++) parts.push(await d.push(zeros));
      d.close();
      const bomb = wire(concat(parts));
      const big = { x: 0, y: 0, w: 64, h: 64 };
      const ctx = makeContext(64, 64);
      const before = process.memoryUsage().arrayBuffers;
      const t0 = performance.now();
      protocolError(() => decodeWhole(zrleDecoder, big, ctx, bomb), /more than the limit of \d+ bytes/);
      const ms = performance.now() - t0;
      const grown = process.memoryUsage().arrayBuffers - before;
      assert.ok(ms < 500, `took ${ms} ms`);
      assert.ok(grown < 8 << 20, `array buffers grew by ${grown} bytes`);
      assert.ok(maxZrleBytes(big, 3) < 20_000);
    });
  });
});
