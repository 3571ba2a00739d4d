/**
 * Tight basic compression, after inflation: undoes the filter (copy, palette, gradient) and writes the
 * rectangle to the framebuffer in batches of whole rows (scratch bounded to ~1 MiB).
 */
import type { Rect } from '../../../engine/display/framebuffer.js';
import { type PixelFormat, pixelToRgb, readPixelValue } from '../pixel-format.js';
import type { PixelConverter } from './pixels.js';
import { type DecodeContext, RfbProtocolError } from './types.js';

const MAX_BATCH_BYTES = 1 << 20;

export interface TightPixels {
  rect: Rect;
  ctx: DecodeContext;
  /** TPIXEL converter for ctx.pf. */
  conv: PixelConverter;
  /** 0 copy, 1 palette, 2 gradient. */
  filter: number;
  /** Palette TPIXELs (palette filter only). */
  palette: Uint8Array;
  paletteSize: number;
  /** The filtered data, exactly the expected size. */
  data: Uint8Array;
}

/** Fills `rgba` (rows × w pixels) with rows [y0, y0 + rows) of the rectangle. */
type RowWriter = (y0: number, rows: number, rgba: Uint8Array) => void;

export function writeTightPixels(px: TightPixels): void {
  const { rect, ctx } = px;
  const write =
    px.filter === 1
      ? paletteRows(px)
      : px.filter === 2
        ? gradientRows(px)
        : copyRows(px.conv, px.data, rect.w);
  const batch = Math.max(1, Math.floor(MAX_BATCH_BYTES / (rect.w * 4)));
  const scratch = new Uint8Array(Math.min(batch, rect.h) * rect.w * 4);
  for (let y = 0; y < rect.h; y += batch) {
    const rows = Math.min(batch, rect.h - y);
    const rgba = scratch.subarray(0, rows * rect.w * 4);
    write(y, rows, rgba);
    ctx.fb.put({ x: rect.x, y: rect.y + y, w: rect.w, h: rows }, rgba);
  }
}

function copyRows(conv: PixelConverter, data: Uint8Array, w: number): RowWriter {
  return (y0, rows, rgba) => conv.toRgba(data, y0 * w * conv.bpp, rgba, 0, rows * w);
}

function paletteRows(px: TightPixels): RowWriter {
  const { conv, paletteSize, data } = px;
  const w = px.rect.w;
  const colours = new Uint32Array(paletteSize);
  for (let i = 0; i < paletteSize; i++) colours[i] = conv.rgbAt(px.palette, i * conv.bpp);
  const put = (rgba: Uint8Array, d: number, index: number): void => {
    if (index >= paletteSize) {
      throw new RfbProtocolError(`Tight palette index ${index} beyond a palette of ${paletteSize}`);
    }
    const rgb = colours[index] as number;
    rgba[d] = rgb >>> 16;
    rgba[d + 1] = (rgb >>> 8) & 0xff;
    rgba[d + 2] = rgb & 0xff;
    rgba[d + 3] = 255;
  };
  if (paletteSize === 2) {
    const rowBytes = Math.ceil(w / 8);
    return (y0, rows, rgba) => {
      for (let y = 0, d = 0; y < rows; y++) {
        const row = (y0 + y) * rowBytes;
        for (let x = 0; x < w; x++, d += 4)
          put(rgba, d, ((data[row + (x >> 3)] as number) >> (7 - (x & 7))) & 1);
      }
    };
  }
  return (y0, rows, rgba) => {
    for (let i = 0, s = y0 * w, d = 0; i < rows * w; i++, s++, d += 4) put(rgba, d, data[s] as number);
  };
}

/**
 * Gradient: each colour component was sent as its difference from the prediction
 * clamp(left + above − above-left, 0, max), modulo max + 1. Rows are reconstructed in order, so the
 * writer must be called for consecutive rows from the top (writeTightPixels does).
 */
function gradientRows(px: TightPixels): RowWriter {
  const { conv, data, ctx } = px;
  const w = px.rect.w;
  const tpp = conv.bpp;
  const pf = ctx.pf;
  const rgbBytes = tpp === 3;
  const max = rgbBytes ? [255, 255, 255] : [pf.redMax, pf.greenMax, pf.blueMax];
  const shifts = [pf.redShift, pf.greenShift, pf.blueShift];
  let prev = new Int32Array(w * 3); // the row above, reconstructed components (zeros above the top)
  let cur = new Int32Array(w * 3);
  return (y0, rows, rgba) => {
    for (let y = 0, d = 0; y < rows; y++) {
      let s = (y0 + y) * w * tpp;
      for (let x = 0; x < w; x++, s += tpp, d += 4) {
        const value = rgbBytes ? 0 : readPixelValue(pf, data, s, tpp);
        for (let c = 0; c < 3; c++) {
          const m = max[c] as number;
          const left = x > 0 ? (cur[(x - 1) * 3 + c] as number) : 0;
          const upLeft = x > 0 ? (prev[(x - 1) * 3 + c] as number) : 0;
          let p = left + (prev[x * 3 + c] as number) - upLeft;
          p = p < 0 ? 0 : Math.min(p, m);
          const diff = rgbBytes ? (data[s + c] as number) : (value >>> (shifts[c] as number)) & m;
          cur[x * 3 + c] = (diff + p) & m;
        }
        writeRgb(rgba, d, rgbBytes ? rgbOf(cur, x) : componentsToRgb(pf, cur, x, shifts));
      }
      const t = prev;
      prev = cur;
      cur = t;
    }
  };
}

function rgbOf(comp: Int32Array, x: number): number {
  return ((comp[x * 3] as number) << 16) | ((comp[x * 3 + 1] as number) << 8) | (comp[x * 3 + 2] as number);
}

function componentsToRgb(pf: PixelFormat, comp: Int32Array, x: number, shifts: number[]): number {
  const v =
    ((comp[x * 3] as number) << (shifts[0] as number)) |
    ((comp[x * 3 + 1] as number) << (shifts[1] as number)) |
    ((comp[x * 3 + 2] as number) << (shifts[2] as number));
  return pixelToRgb(pf, v >>> 0);
}

function writeRgb(rgba: Uint8Array, d: number, rgb: number): void {
  rgba[d] = rgb >>> 16;
  rgba[d + 1] = (rgb >>> 8) & 0xff;
  rgba[d + 2] = rgb & 0xff;
  rgba[d + 3] = 255;
}
