/**
 * ZRLE (encoding 16): a u32 length and that many bytes of zlib data from the connection's single
 * stream; inflated, they are 64×64 tiles (raw, solid, packed palette, plain RLE, palette RLE) of CPIXELs.
 * The decoder waits for the whole compressed payload (bounded by maxRectBytes), inflates it with the
 * output bounded by the most a valid rectangle of this size can need, then decodes tile by tile into
 * the framebuffer.
 */
import type { Rect } from '../../../engine/display/framebuffer.js';
import type { ByteReader } from '../byte-reader.js';
import { cpixelConverter } from './compact-pixels.js';
import { inflateStreams } from './inflate.js';
import type { PixelConverter } from './pixels.js';
import { TileEvents, UPDATE } from './tile-events.js';
import { type DecodeContext, type DecoderFactory, type RectDecoder, RfbProtocolError } from './types.js';

const TILE = 64;
const MAX_PALETTE = 127;

/** Scratch for one tile's RGBA (decoding is synchronous, so one buffer serves every connection). */
const tileRgba = new Uint8Array(TILE * TILE * 4);
const palette = new Uint32Array(MAX_PALETTE);

export const zrleDecoder: DecoderFactory = (rect: Rect, ctx: DecodeContext): RectDecoder => ({
  step(reader: ByteReader): boolean {
    if (!reader.has(4)) return false;
    const length =
      ((reader.peek(0) << 24) | (reader.peek(1) << 16) | (reader.peek(2) << 8) | reader.peek(3)) >>> 0;
    if (length > ctx.maxRectBytes) {
      throw new RfbProtocolError(
        `ZRLE rectangle of ${length} bytes exceeds the limit of ${ctx.maxRectBytes}`,
      );
    }
    if (!reader.has(4 + length)) return false;
    reader.skip(4);
    const compressed = reader.bytes(length);
    const conv = cpixelConverter(ctx.pf);
    const [stream] = inflateStreams(ctx, 'zrle', 1, 'ZRLE');
    const limit = Math.min(ctx.maxRectBytes, maxZrleBytes(rect, conv.bpp));
    const data = (stream as NonNullable<typeof stream>).inflateAll(compressed, limit);
    decodeTiles(rect, ctx, conv, data);
    return true;
  },
});

/** The most inflated bytes a valid ZRLE rectangle of this size can take (worst case per tile). */
export function maxZrleBytes(rect: Rect, cpp: number): number {
  let total = 0;
  for (let y = 0; y < rect.h; y += TILE) {
    const th = Math.min(TILE, rect.h - y);
    for (let x = 0; x < rect.w; x += TILE) {
      const n = Math.min(TILE, rect.w - x) * th;
      // Plain RLE at worst is a CPIXEL and one length byte per pixel; palette RLE a full palette plus
      // one byte per pixel.
      total += 1 + Math.max(n * (cpp + 1), MAX_PALETTE * cpp + n);
    }
  }
  return total;
}

function decodeTiles(rect: Rect, ctx: DecodeContext, conv: PixelConverter, data: Uint8Array): void {
  const cpp = conv.bpp;
  const events = new TileEvents(rect, ctx.emit);
  let pos = 0;

  const need = (n: number): void => {
    if (pos + n > data.length) {
      throw new RfbProtocolError(
        `ZRLE data for the ${rect.w}x${rect.h} rectangle ended early (${data.length} bytes inflated)`,
      );
    }
  };
  const readPalette = (size: number): void => {
    need(size * cpp);
    for (let i = 0; i < size; i++, pos += cpp) palette[i] = conv.rgbAt(data, pos);
  };
  const runLength = (max: number): number => {
    let len = 1;
    for (;;) {
      need(1);
      const b = data[pos++] as number;
      len += b;
      if (len > max) throw new RfbProtocolError(`ZRLE run of more than ${max} pixels overflows its tile`);
      if (b !== 255) return len;
    }
  };
  const putRun = (rgb: number, at: number, len: number): void => {
    const r = rgb >>> 16;
    const g = (rgb >>> 8) & 0xff;
    const b = rgb & 0xff;
    for (let i = 0, d = at * 4; i < len; i++, d += 4) {
      tileRgba[d] = r;
      tileRgba[d + 1] = g;
      tileRgba[d + 2] = b;
      tileRgba[d + 3] = 255;
    }
  };

  for (let ty = 0; ty < rect.h; ty += TILE) {
    const th = Math.min(TILE, rect.h - ty);
    for (let tx = 0; tx < rect.w; tx += TILE) {
      const tw = Math.min(TILE, rect.w - tx);
      const n = tw * th;
      const tile = { x: rect.x + tx, y: rect.y + ty, w: tw, h: th };
      need(1);
      const sub = data[pos++] as number;
      if (sub === 1) {
        need(cpp);
        const rgb = conv.rgbAt(data, pos);
        pos += cpp;
        ctx.fb.fill(tile, rgb);
        events.add(tile.x, tile.y, tw, th, rgb);
        continue;
      }
      if (sub === 0) {
        need(n * cpp);
        conv.toRgba(data, pos, tileRgba, 0, n);
        pos += n * cpp;
      } else if (sub <= 16) {
        readPalette(sub);
        const bits = sub === 2 ? 1 : sub <= 4 ? 2 : 4;
        const rowBytes = Math.ceil((tw * bits) / 8);
        need(rowBytes * th);
        const mask = (1 << bits) - 1;
        for (let y = 0, d = 0; y < th; y++, pos += rowBytes) {
          for (let x = 0; x < tw; x++, d++) {
            const bit = x * bits;
            const index = ((data[pos + (bit >> 3)] as number) >> (8 - bits - (bit & 7))) & mask;
            if (index >= sub)
              throw new RfbProtocolError(`ZRLE palette index ${index} beyond a palette of ${sub}`);
            putRun(palette[index] as number, d, 1);
          }
        }
      } else if (sub === 128) {
        for (let filled = 0; filled < n; ) {
          need(cpp);
          const rgb = conv.rgbAt(data, pos);
          pos += cpp;
          const len = runLength(n - filled);
          putRun(rgb, filled, len);
          filled += len;
        }
      } else if (sub >= 130) {
        const size = sub - 128;
        readPalette(size);
        for (let filled = 0; filled < n; ) {
          need(1);
          const b = data[pos++] as number;
          const index = b & 0x7f;
          if (index >= size)
            throw new RfbProtocolError(`ZRLE palette index ${index} beyond a palette of ${size}`);
          const len = b & 0x80 ? runLength(n - filled) : 1;
          putRun(palette[index] as number, filled, len);
          filled += len;
        }
      } else {
        throw new RfbProtocolError(`ZRLE tile subencoding ${sub} is invalid`);
      }
      ctx.fb.put(tile, tileRgba.subarray(0, n * 4));
      events.add(tile.x, tile.y, tw, th, UPDATE);
    }
    events.endRow();
  }
  events.finish();
  if (pos !== data.length) {
    throw new RfbProtocolError(
      `ZRLE data for the ${rect.w}x${rect.h} rectangle has ${data.length - pos} extra bytes`,
    );
  }
}
