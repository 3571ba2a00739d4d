/**
 * Fast conversion of RFB pixels (in the pixel format we set) to 0xRRGGBB and to RGBA8888. Converters are
 * cached per PixelFormat object; 8- and 16-bit formats use a lookup table.
 */
import { bytesPerPixel, type PixelFormat, pixelToRgb, readPixelValue } from '../pixel-format.js';

export interface PixelConverter {
  /** Bytes per pixel on the wire. */
  readonly bpp: number;
  /** The pixel at src[off] as 0xRRGGBB. */
  rgbAt(src: Uint8Array, off: number): number;
  /** Converts `count` pixels from src[srcOff] to RGBA at dst[dstOff] (alpha 255). */
  toRgba(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, count: number): void;
}

const cache = new WeakMap<PixelFormat, PixelConverter>();

export function pixelConverter(pf: PixelFormat): PixelConverter {
  let c = cache.get(pf);
  if (!c) {
    c = build(pf);
    cache.set(pf, c);
  }
  return c;
}

function build(pf: PixelFormat): PixelConverter {
  const bpp = bytesPerPixel(pf);
  if (bpp === 4 && isDirect888(pf)) return direct32(pf);
  if (bpp === 4) return generic(pf, bpp);
  const table = new Uint32Array(1 << (8 * bpp));
  for (let v = 0; v < table.length; v++) table[v] = pixelToRgb(pf, v);
  if (bpp === 1) return tabled(bpp, table, (s, o) => s[o] as number);
  return tabled(
    bpp,
    table,
    pf.bigEndian
      ? (s, o) => ((s[o] as number) << 8) | (s[o + 1] as number)
      : (s, o) => (s[o] as number) | ((s[o + 1] as number) << 8),
  );
}

function isDirect888(pf: PixelFormat): boolean {
  const shifts = [pf.redShift, pf.greenShift, pf.blueShift];
  return (
    pf.redMax === 255 &&
    pf.greenMax === 255 &&
    pf.blueMax === 255 &&
    shifts.every((s) => s % 8 === 0 && s <= 24) &&
    new Set(shifts).size === 3
  );
}

/** 32 bpp with 8-bit channels on byte boundaries: plain byte shuffling. */
function direct32(pf: PixelFormat): PixelConverter {
  const byteOf = (shift: number): number => (pf.bigEndian ? 3 - shift / 8 : shift / 8);
  const ri = byteOf(pf.redShift);
  const gi = byteOf(pf.greenShift);
  const bi = byteOf(pf.blueShift);
  return {
    bpp: 4,
    rgbAt: (s, o) => ((s[o + ri] as number) << 16) | ((s[o + gi] as number) << 8) | (s[o + bi] as number),
    toRgba(src, srcOff, dst, dstOff, count) {
      let s = srcOff;
      let d = dstOff;
      for (let i = 0; i < count; i++, s += 4, d += 4) {
        dst[d] = src[s + ri] as number;
        dst[d + 1] = src[s + gi] as number;
        dst[d + 2] = src[s + bi] as number;
        dst[d + 3] = 255;
      }
    },
  };
}

function tabled(bpp: number, table: Uint32Array, read: (s: Uint8Array, o: number) => number): PixelConverter {
  return {
    bpp,
    rgbAt: (s, o) => table[read(s, o)] as number,
    toRgba(src, srcOff, dst, dstOff, count) {
      let s = srcOff;
      let d = dstOff;
      for (let i = 0; i < count; i++, s += bpp, d += 4) {
        const rgb = table[read(src, s)] as number;
        dst[d] = rgb >>> 16;
        dst[d + 1] = (rgb >>> 8) & 0xff;
        dst[d + 2] = rgb & 0xff;
        dst[d + 3] = 255;
      }
    },
  };
}

function generic(pf: PixelFormat, bpp: number): PixelConverter {
  const rgbAt = (s: Uint8Array, o: number): number => pixelToRgb(pf, readPixelValue(pf, s, o, bpp));
  return {
    bpp,
    rgbAt,
    toRgba(src, srcOff, dst, dstOff, count) {
      let s = srcOff;
      let d = dstOff;
      for (let i = 0; i < count; i++, s += bpp, d += 4) {
        const rgb = rgbAt(src, s);
        dst[d] = rgb >>> 16;
        dst[d + 1] = (rgb >>> 8) & 0xff;
        dst[d + 2] = rgb & 0xff;
        dst[d + 3] = 255;
      }
    },
  };
}
