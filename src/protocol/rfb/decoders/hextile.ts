/**
 * Hextile (5): the rectangle as 16x16 tiles, left to right, top to bottom, each raw or a background
 * plus solid subrectangles. Resumable tile by tile: a tile is decoded only once all its bytes are here
 * (at most ~1.5 KiB). Events are merged along each row of tiles: runs of solid tiles of one colour become
 * one 'fill', runs of other tiles one 'update'.
 */
import type { Rect } from '../../../engine/display/framebuffer.js';
import type { ByteReader } from '../byte-reader.js';
import { pixelConverter } from './pixels.js';
import { type DecodeContext, type DecoderFactory, type RectDecoder, RfbProtocolError } from './types.js';

const RAW = 1;
const BACKGROUND = 2;
const FOREGROUND = 4;
const ANY_SUBRECTS = 8;
const SUBRECTS_COLOURED = 16;

interface Run {
  x0: number;
  x1: number;
  /** 0xRRGGBB for a run of solid tiles, -1 for an 'update' run. */
  rgb: number;
}

export const hextileDecoder: DecoderFactory = (rect: Rect, ctx: DecodeContext): RectDecoder => {
  const conv = pixelConverter(ctx.pf);
  const bpp = conv.bpp;
  const tilesX = Math.ceil(rect.w / 16);
  const tiles = tilesX * Math.ceil(rect.h / 16);
  const scratch = new Uint8Array(16 * 16 * 4);
  let index = 0;
  let bg = 0;
  let fg = 0;
  let run: Run | null = null;
  let runY = 0;
  let runH = 0;

  return {
    step(reader: ByteReader): boolean {
      while (index < tiles) {
        const tx = (index % tilesX) * 16;
        const ty = Math.floor(index / tilesX) * 16;
        const tw = Math.min(16, rect.w - tx);
        const th = Math.min(16, rect.h - ty);
        const len = tileLength(reader, tw, th);
        if (len < 0 || !reader.has(len)) return false;
        decodeTile(reader, tx, ty, tw, th);
        index++;
        if (index % tilesX === 0) flush();
      }
      return true;
    },
  };

  /** Bytes the next tile takes, or -1 when not enough is here to tell. */
  function tileLength(reader: ByteReader, tw: number, th: number): number {
    if (!reader.has(1)) return -1;
    const mask = reader.peek(0);
    if (mask > 31)
      throw new RfbProtocolError(`Hextile tile has unknown subencoding bits 0x${mask.toString(16)}`);
    if (mask & RAW) return 1 + tw * th * bpp;
    const len = 1 + (mask & BACKGROUND ? bpp : 0) + (mask & FOREGROUND ? bpp : 0);
    if (!(mask & ANY_SUBRECTS)) return len;
    if (!reader.has(len + 1)) return -1;
    const count = reader.peek(len);
    return len + 1 + count * (mask & SUBRECTS_COLOURED ? bpp + 2 : 2);
  }

  function decodeTile(reader: ByteReader, tx: number, ty: number, tw: number, th: number): void {
    const tile = { x: rect.x + tx, y: rect.y + ty, w: tw, h: th };
    const mask = reader.u8();
    if (mask & RAW) {
      conv.toRgba(reader.bytes(tw * th * bpp), 0, scratch, 0, tw * th);
      ctx.fb.put(tile, scratch.subarray(0, tw * th * 4));
      note(tile, -1);
      return;
    }
    if (mask & BACKGROUND) bg = conv.rgbAt(reader.bytes(bpp), 0);
    if (mask & FOREGROUND) fg = conv.rgbAt(reader.bytes(bpp), 0);
    const count = mask & ANY_SUBRECTS ? reader.u8() : 0;
    if (count === 0) {
      ctx.fb.fill(tile, bg);
      note(tile, bg);
      return;
    }
    paint(0, 0, tw, th, tw, bg);
    for (let i = 0; i < count; i++) {
      const rgb = mask & SUBRECTS_COLOURED ? conv.rgbAt(reader.bytes(bpp), 0) : fg;
      const xy = reader.u8();
      const wh = reader.u8();
      const sx = xy >> 4;
      const sy = xy & 15;
      const sw = (wh >> 4) + 1;
      const sh = (wh & 15) + 1;
      if (sx + sw > tw || sy + sh > th) {
        throw new RfbProtocolError(
          `Hextile subrectangle ${sw}x${sh}+${sx}+${sy} lies outside its ${tw}x${th} tile`,
        );
      }
      paint(sx, sy, sw, sh, tw, rgb);
    }
    ctx.fb.put(tile, scratch.subarray(0, tw * th * 4));
    note(tile, -1);
  }

  function paint(x: number, y: number, w: number, h: number, stride: number, rgb: number): void {
    const r = rgb >>> 16;
    const g = (rgb >>> 8) & 0xff;
    const b = rgb & 0xff;
    for (let row = y; row < y + h; row++) {
      let o = (row * stride + x) * 4;
      for (let col = 0; col < w; col++, o += 4) {
        scratch[o] = r;
        scratch[o + 1] = g;
        scratch[o + 2] = b;
        scratch[o + 3] = 255;
      }
    }
  }

  /** Extends the current run with this tile, or flushes it and starts a new one. */
  function note(tile: Rect, rgb: number): void {
    if (run && run.rgb === rgb && run.x1 === tile.x) {
      run.x1 = tile.x + tile.w;
      return;
    }
    flush();
    run = { x0: tile.x, x1: tile.x + tile.w, rgb };
    runY = tile.y;
    runH = tile.h;
  }

  function flush(): void {
    if (!run) return;
    const r = { x: run.x0, y: runY, w: run.x1 - run.x0, h: runH };
    ctx.emit(run.rgb < 0 ? { type: 'update', rect: r } : { type: 'fill', rect: r, rgb: run.rgb });
    run = null;
  }
};
