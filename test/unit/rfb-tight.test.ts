import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import zlib from 'node:zlib';
import sharp from 'sharp';
import type { Rect } from '../../src/engine/display/framebuffer.js';
import { ByteReader } from '../../src/protocol/rfb/byte-reader.js';
import { tightDecoder } from '../../src/protocol/rfb/decoders/tight.js';
import { RfbProtocolError } from '../../src/protocol/rfb/decoders/types.js';
import { type PixelFormat, pixelFormatForDepth, pixelToRgb } from '../../src/protocol/rfb/pixel-format.js';
import { randomPixel, rng } from '../helpers/rfb-zrle-encode.js';
import {
  concat,
  decodeChunked,
  decodeWhole,
  makeContext,
  pixelAt,
  SyncFlushDeflater,
  type TestContext,
} from '../helpers/zlib-stream.js';

const T = { timeout: 30_000 };
const pf24 = pixelFormatForDepth(24);
const pf16 = pixelFormatForDepth(16);

/** Tight's compact length. */
function compact(n: number): number[] {
  if (n < 128) return [n];
  if (n < 16384) return [(n & 0x7f) | 0x80, n >> 7];
  return [(n & 0x7f) | 0x80, ((n >> 7) & 0x7f) | 0x80, n >> 14];
}

/** TPIXEL bytes of pixel value v: R,G,B for the 24-bit format, else the PIXEL (little-endian). */
function tpixel(pf: PixelFormat, v: number): number[] {
  if (pf.bitsPerPixel === 32 && pf.depth === 24) {
    const rgb = pixelToRgb(pf, v);
    return [rgb >>> 16, (rgb >>> 8) & 0xff, rgb & 0xff];
  }
  return pf.bitsPerPixel === 16 ? [v & 0xff, v >> 8] : [v & 0xff];
}

/** Gradient-filter pixel values (spec pseudo-code), as TPIXEL bytes. */
function gradient(pf: PixelFormat, px: number[], w: number, h: number): number[] {
  const three = pf.bitsPerPixel === 32;
  const max = three ? [255, 255, 255] : [pf.redMax, pf.greenMax, pf.blueMax];
  const comp = (v: number): number[] => {
    if (three) {
      const rgb = pixelToRgb(pf, v);
      return [rgb >>> 16, (rgb >>> 8) & 0xff, rgb & 0xff];
    }
    return [
      (v >> pf.redShift) & pf.redMax,
      (v >> pf.greenShift) & pf.greenMax,
      (v >> pf.blueShift) & pf.blueMax,
    ];
  };
  const V = (x: number, y: number, c: number): number =>
    x < 0 || y < 0 ? 0 : (comp(px[y * w + x] as number)[c] as number);
  const out: number[] = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const d = [0, 1, 2].map((c) => {
        const m = max[c] as number;
        const p = Math.min(m, Math.max(0, V(x - 1, y, c) + V(x, y - 1, c) - V(x - 1, y - 1, c)));
        return (V(x, y, c) - p) & m;
      });
      if (three) out.push(...d);
      else {
        const v =
          ((d[0] as number) << pf.redShift) |
          ((d[1] as number) << pf.greenShift) |
          ((d[2] as number) << pf.blueShift);
        out.push(v & 0xff, v >> 8);
      }
    }
  }
  return out;
}

/** Server side: four persistent deflate streams. */
class TightServer {
  private streams: (SyncFlushDeflater | null)[] = [null, null, null, null];

  /** A basic-compression rectangle. `reset` sets the control's reset bits for these stream ids. */
  async basic(
    stream: number,
    filter: number | null,
    data: number[],
    pre: number[] = [],
    reset: number[] = [],
  ): Promise<Uint8Array> {
    let control = (stream << 4) | (filter === null ? 0 : 0x40);
    for (const r of reset) {
      control |= 1 << r;
      this.streams[r]?.close();
      this.streams[r] = null;
    }
    const head = [control, ...(filter === null ? [] : [filter]), ...pre];
    if (data.length < 12) return Uint8Array.from([...head, ...data]);
    let s = this.streams[stream];
    if (!s) {
      s = new SyncFlushDeflater();
      this.streams[stream] = s;
    }
    const z = await s.push(Uint8Array.from(data));
    return concat([Uint8Array.from([...head, ...compact(z.length)]), z]);
  }

  close(): void {
    for (const s of this.streams) s?.close();
  }
}

function expectRect(ctx: TestContext, rect: Rect, rgbAt: (x: number, y: number) => number, what = ''): void {
  for (let y = 0; y < rect.h; y++) {
    for (let x = 0; x < rect.w; x++) {
      const got = pixelAt(ctx.fb, rect.x + x, rect.y + y);
      const want = rgbAt(x, y);
      if (got !== want) assert.fail(`${what} (${x},${y}): ${got.toString(16)} != ${want.toString(16)}`);
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

function randomImage(pf: PixelFormat, n: number, seed: number, colours = 0): number[] {
  const rand = rng(seed);
  const pal = Array.from({ length: colours }, () => randomPixel(pf, rand));
  return Array.from({ length: n }, (_, i) =>
    colours ? (pal[i < colours ? i : Math.floor(rand() * colours)] as number) : randomPixel(pf, rand),
  );
}

/** Builds one rectangle per filter for `pf`; returns wire bytes and expected pixels. */
async function filterCases(pf: PixelFormat, server: TightServer) {
  const cases: { name: string; rect: Rect; bytes: Uint8Array; px: number[] }[] = [];
  const add = async (name: string, rect: Rect, px: number[], make: () => Promise<Uint8Array>) =>
    cases.push({ name, rect, px, bytes: await make() });
  const r1 = { x: 1, y: 2, w: 37, h: 11 };
  const img = randomImage(pf, r1.w * r1.h, 1);
  await add('copy, no filter id', r1, img, () =>
    server.basic(
      0,
      null,
      img.flatMap((v) => tpixel(pf, v)),
    ),
  );
  await add('copy, explicit id', r1, img, () =>
    server.basic(
      1,
      0,
      img.flatMap((v) => tpixel(pf, v)),
    ),
  );
  const tiny = randomImage(pf, 3, 2);
  await add('copy, under 12 bytes raw', { x: 0, y: 0, w: 3, h: 1 }, tiny, () =>
    server.basic(
      2,
      0,
      tiny.flatMap((v) => tpixel(pf, v)),
    ),
  );
  const two = randomImage(pf, r1.w * r1.h, 3, 2);
  await add('palette of 2, 1 bit per pixel', r1, two, () => {
    const pal = [two[0] as number, two[1] as number];
    const rowBytes = Math.ceil(r1.w / 8);
    const bits = new Array(rowBytes * r1.h).fill(0);
    two.forEach((v, i) => {
      const x = i % r1.w;
      const y = Math.floor(i / r1.w);
      if (v === pal[1]) bits[y * rowBytes + (x >> 3)] |= 0x80 >> (x & 7);
    });
    return server.basic(3, 1, bits, [1, ...pal.flatMap((v) => tpixel(pf, v))]);
  });
  for (const n of [3, 17, 256]) {
    const many = randomImage(pf, r1.w * r1.h, 4 + n, n);
    const pal = [...new Set(many)];
    if (pal.length < 3) continue; // colliding random colours: a 2-colour palette is another case
    await add(`palette of ${pal.length}`, r1, many, () =>
      server.basic(
        n % 4,
        1,
        many.map((v) => pal.indexOf(v)),
        [pal.length - 1, ...pal.flatMap((v) => tpixel(pf, v))],
      ),
    );
  }
  const g = randomImage(pf, r1.w * r1.h, 9);
  await add('gradient', r1, g, () => server.basic(2, 2, gradient(pf, g, r1.w, r1.h)));
  return cases;
}

describe('Tight decoder', () => {
  for (const [name, pf] of [
    ['24-bit (3-byte TPIXEL)', pf24],
    ['16-bit', pf16],
  ] as const) {
    test(`basic compression, every filter, ${name}`, T, async () => {
      const server = new TightServer();
      const cases = await filterCases(pf, server);
      server.close();
      const ctx = makeContext(40, 20, { pf });
      for (const c of cases) {
        ctx.events.length = 0;
        assert.equal(decodeWhole(tightDecoder, c.rect, ctx, c.bytes), true, c.name);
        expectRect(ctx, c.rect, (x, y) => pixelToRgb(pf, c.px[y * c.rect.w + x] as number), c.name);
        assert.deepEqual(ctx.events, [{ type: 'update', rect: c.rect }], c.name);
      }
    });
  }

  test('8 bpp: copy and palette (TPIXEL = one byte)', T, async () => {
    const pf = pixelFormatForDepth(8);
    const server = new TightServer();
    const cases = (await filterCases(pf, server)).filter((c) => c.name !== 'gradient');
    server.close();
    const ctx = makeContext(40, 20, { pf });
    for (const c of cases) {
      decodeWhole(tightDecoder, c.rect, ctx, c.bytes);
      expectRect(ctx, c.rect, (x, y) => pixelToRgb(pf, c.px[y * c.rect.w + x] as number), c.name);
    }
  });

  test('fill: one TPIXEL, a fill event', T, () => {
    const ctx = makeContext(20, 20);
    const rect = { x: 2, y: 3, w: 10, h: 7 };
    decodeWhole(tightDecoder, rect, ctx, Uint8Array.of(0x80, 0x12, 0x34, 0x56));
    assert.deepEqual(ctx.events, [{ type: 'fill', rect, rgb: 0x123456 }]);
    expectRect(ctx, rect, () => 0x123456);
    assert.equal(pixelAt(ctx.fb, 1, 3), 0);
    const ctx16 = makeContext(20, 20, { pf: pf16 });
    decodeWhole(tightDecoder, rect, ctx16, Uint8Array.of(0x80, 0x1f, 0xf8)); // 0xf81f: red 31, blue 31
    assert.deepEqual(ctx16.events, [{ type: 'fill', rect, rgb: 0xff00ff }]);
  });

  test('JPEG: registered undecoded, emitted as is; compact lengths of 1, 2 and 3 bytes', T, async () => {
    const rect = { x: 8, y: 8, w: 16, h: 16 };
    const raw = Buffer.alloc(16 * 16 * 3, 0x80);
    const jpeg = new Uint8Array(
      await sharp(raw, { raw: { width: 16, height: 16, channels: 3 } })
        .jpeg()
        .toBuffer(),
    );
    for (const data of [jpeg, new Uint8Array(100).fill(1), new Uint8Array(20_000).fill(2)]) {
      const ctx = makeContext(32, 32);
      const bytes = concat([Uint8Array.from([0x90, ...compact(data.length)]), data]);
      decodeWhole(tightDecoder, rect, ctx, bytes);
      assert.equal(ctx.fb.pendingJpegs, 1);
      assert.equal(ctx.events.length, 1);
      const e = ctx.events[0];
      assert.ok(e?.type === 'jpeg');
      assert.deepEqual(e.rect, rect);
      assert.deepEqual(e.data, data);
    }
  });

  test('streams persist; reset bits restart them (also on fill and JPEG rectangles)', T, async () => {
    const server = new TightServer();
    const rect = { x: 0, y: 0, w: 20, h: 10 };
    const img = randomImage(pf24, 200, 5);
    const data = img.flatMap((v) => tpixel(pf24, v));
    const ctx = makeContext(20, 10);
    const first = await server.basic(1, null, data);
    const repeat = await server.basic(1, null, data);
    assert.ok(repeat.length < first.length / 4, 'the repeat refers back into the window');
    decodeWhole(tightDecoder, rect, ctx, first);
    decodeWhole(tightDecoder, rect, ctx, repeat);
    // the server restarts stream 1 and says so
    const restarted = await server.basic(1, null, data, [], [1]);
    decodeWhole(tightDecoder, rect, ctx, restarted);
    expectRect(ctx, rect, (x, y) => pixelToRgb(pf24, img[y * 20 + x] as number));
    // reset announced on a fill rectangle, then a fresh stream 1
    const fresh = new TightServer();
    const afterFill = await fresh.basic(1, null, data);
    decodeWhole(tightDecoder, rect, ctx, Uint8Array.of(0x82, 1, 2, 3));
    decodeWhole(tightDecoder, rect, ctx, afterFill);
    expectRect(ctx, rect, (x, y) => pixelToRgb(pf24, img[y * 20 + x] as number));
    // without the reset bit, a restarted stream is garbage to the decoder
    const unannounced = await fresh.basic(2, null, data);
    const other = makeContext(20, 10);
    decodeWhole(tightDecoder, rect, other, await new TightServer().basic(2, null, data));
    protocolError(() => decodeWhole(tightDecoder, rect, other, unannounced), /Tight stream 2/);
    server.close();
    fresh.close();
  });

  test('split at every byte: nothing consumed early, same framebuffer and events', T, async () => {
    const server = new TightServer();
    const cases = await filterCases(pf24, server);
    server.close();
    const seq: [Rect, Uint8Array][] = [
      ...cases
        .filter((c) => !c.name.includes('256') && !c.name.includes('17'))
        .map((c) => [c.rect, c.bytes] as [Rect, Uint8Array]),
      [{ x: 0, y: 0, w: 5, h: 5 }, Uint8Array.of(0x80, 9, 8, 7)],
      [{ x: 5, y: 5, w: 4, h: 4 }, concat([Uint8Array.of(0x90, 130, 1), new Uint8Array(130).fill(3)])],
    ];
    const reference = makeContext(40, 20);
    decodeChunked(tightDecoder, seq, reference, []);
    const total = seq.reduce((n, [, b]) => n + b.length, 0);
    for (let cut = 1; cut < total; cut++) {
      const ctx = makeContext(40, 20);
      decodeChunked(tightDecoder, seq, ctx, [cut]);
      assert.deepEqual(ctx.fb.data, reference.fb.data, `cut at ${cut}`);
      assert.equal(ctx.events.length, reference.events.length);
    }
    const ctx = makeContext(40, 20);
    decodeChunked(
      tightDecoder,
      seq,
      ctx,
      Array.from({ length: total }, (_, i) => i),
    );
    assert.deepEqual(ctx.fb.data, reference.fb.data);
  });

  test('random corruption of headers, palettes and data only ever ends in RfbProtocolError', T, async () => {
    const rand = rng(77);
    const server = new TightServer();
    const cases = await filterCases(pf24, server);
    server.close();
    let errors = 0;
    for (let i = 0; i < 400; i++) {
      const c = cases[i % cases.length] as (typeof cases)[number];
      const bytes = c.bytes.slice();
      const at =
        i % 3 === 0 ? Math.floor(rand() * Math.min(4, bytes.length)) : Math.floor(rand() * bytes.length);
      bytes[at] = Math.floor(rand() * 256);
      const ctx = makeContext(40, 20);
      try {
        const reader = new ByteReader();
        reader.append(bytes);
        tightDecoder(c.rect, ctx).step(reader);
      } catch (err) {
        assert.ok(err instanceof RfbProtocolError, String(err));
        errors++;
      }
    }
    assert.ok(errors > 50, `${errors} of 400 corrupted rectangles were rejected`);
  });

  describe('malformed data → RfbProtocolError', () => {
    const rect = { x: 0, y: 0, w: 8, h: 8 };
    const fails = (
      bytes: number[] | Uint8Array,
      pattern: RegExp,
      opts: { maxRectBytes?: number; pf?: PixelFormat } = {},
    ) =>
      protocolError(
        () => decodeWhole(tightDecoder, rect, makeContext(8, 8, opts), Uint8Array.from(bytes)),
        pattern,
      );

    test('bad compression control and filter ids', T, () => {
      for (const control of [0xa0, 0xb0, 0xc0, 0xf0, 0xaf])
        fails([control, 0, 0, 0, 0], /compression control/);
      fails([0x40, 3], /filter id 3/);
      fails([0x40, 0xff], /filter id 255/);
    });

    test('bad palettes', T, async () => {
      fails([0x40, 1, 0, 1, 2, 3], /single colour/);
      // palette of 3, index 3 in raw (8x1 rect needs 8 index bytes: < 12, sent uncompressed)
      protocolError(
        () =>
          decodeWhole(
            tightDecoder,
            { x: 0, y: 0, w: 8, h: 1 },
            makeContext(8, 8),
            Uint8Array.of(0x40, 1, 2, ...[1, 1, 1, 2, 2, 2, 3, 3, 3], 0, 1, 2, 3, 0, 0, 0, 0),
          ),
        /palette index 3 beyond a palette of 3/,
      );
    });

    test('short and excess inflate output', T, async () => {
      const s = new SyncFlushDeflater();
      const short = await s.push(new Uint8Array(8 * 8 * 3 - 1));
      s.close();
      fails(
        concat([Uint8Array.from([0x00, ...compact(short.length)]), short]),
        /inflated to 191 bytes, expected 192/,
      );
      const s2 = new SyncFlushDeflater();
      const long = await s2.push(new Uint8Array(8 * 8 * 3 + 1));
      s2.close();
      fails(concat([Uint8Array.from([0x00, ...compact(long.length)]), long]), /more than the expected 192/);
      fails([0x00, 5, 0x78, 0x9c, 0xff, 0xff, 0xff], /invalid zlib data/);
    });

    test('decompression bomb: 10 KB expected, the stream would inflate to 100 MB', T, async () => {
      const d = new SyncFlushDeflater({ level: 1 });
      const zeros = new Uint8Array(1 << 20);
      const parts: Uint8Array[] = [];
      for (let i = 0; i < 100; i++) parts.push(await d.push(zeros));
      d.close();
      const z = concat(parts);
      const big = { x: 0, y: 0, w: 64, h: 53 }; // 64*53*3 = 10176 bytes expected
      const bytes = concat([Uint8Array.from([0x00, ...compact(z.length)]), z]);
      const before = process.memoryUsage().arrayBuffers;
      const t0 = performance.now();
      protocolError(
        () => decodeWhole(tightDecoder, big, makeContext(64, 64), bytes),
        /more than the expected 10176/,
      );
      const ms = performance.now() - t0;
      assert.ok(ms < 500, `took ${ms} ms`);
      assert.ok(process.memoryUsage().arrayBuffers - before < 8 << 20);
    });

    test('sizes beyond maxRectBytes are refused from the header alone', T, () => {
      const header = (bytes: number[], opts: { maxRectBytes: number }) => {
        const reader = new ByteReader();
        reader.append(Uint8Array.from(bytes));
        return () => tightDecoder(rect, makeContext(8, 8, opts)).step(reader);
      };
      protocolError(
        header([0x90, ...compact(5000)], { maxRectBytes: 4999 }),
        /JPEG data of 5000 bytes exceeds/,
      );
      protocolError(header([0x00, ...compact(300)], { maxRectBytes: 299 }), /zlib data of 300 bytes exceeds/);
      protocolError(header([0x00], { maxRectBytes: 100 }), /rectangle data of 192 bytes exceeds/);
      fails([0x90, 0], /JPEG rectangle with no data/);
    });

    test('gradient filter with 8 bits per pixel', T, () => {
      fails([0x40, 2], /gradient/, { pf: pixelFormatForDepth(8) });
    });

    test('a complete stream: trailing data after its end', T, () => {
      const whole = zlib.deflateSync(new Uint8Array(192));
      const bytes = concat([whole, Uint8Array.of(1, 2)]);
      fails(concat([Uint8Array.from([0x00, ...compact(bytes.length)]), bytes]), /left over/);
    });
  });
});
