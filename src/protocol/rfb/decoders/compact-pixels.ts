/**
 * The short pixel forms of ZRLE (CPIXEL) and Tight (TPIXEL), as PixelConverters (see pixels.ts).
 *
 * CPIXEL: when compactPixelBytes(pf) is 3, the low (or, if the low byte is unused, high) three bytes of
 * the pixel value, in the format's byte order. TPIXEL: for 32 bpp true colour, depth 24, 8-bit channels,
 * three bytes red, green, blue in that order whatever the shifts; otherwise a full PIXEL.
 */
import { compactPixelBytes, type PixelFormat, pixelToRgb, readPixelValue } from '../pixel-format.js';
import { type PixelConverter, pixelConverter } from './pixels.js';

const zrleCache = new WeakMap<PixelFormat, PixelConverter>();
const tightCache = new WeakMap<PixelFormat, PixelConverter>();

/** Converter for ZRLE CPIXELs in `pf`. */
export function cpixelConverter(pf: PixelFormat): PixelConverter {
  let c = zrleCache.get(pf);
  if (!c) {
    c = compactPixelBytes(pf) === 3 ? threeByteCpixel(pf) : pixelConverter(pf);
    zrleCache.set(pf, c);
  }
  return c;
}

/** Bytes per Tight TPIXEL in `pf`. */
export function tpixelBytes(pf: PixelFormat): number {
  const rgb888 =
    pf.trueColour &&
    pf.bitsPerPixel === 32 &&
    pf.depth === 24 &&
    pf.redMax === 255 &&
    pf.greenMax === 255 &&
    pf.blueMax === 255;
  return rgb888 ? 3 : pf.bitsPerPixel >> 3;
}

/** Converter for Tight TPIXELs in `pf`. */
export function tpixelConverter(pf: PixelFormat): PixelConverter {
  let c = tightCache.get(pf);
  if (!c) {
    // The wire format we request has red above blue (pixelFormatForDepth); a format with red below blue is
    // that one with swap-red-blue applied, so the bytes R, G, B are read as B, G, R.
    c = tpixelBytes(pf) === 3 ? (pf.redShift < pf.blueShift ? BGR_BYTES : RGB_BYTES) : pixelConverter(pf);
    tightCache.set(pf, c);
  }
  return c;
}

/** Three bytes R, G, B. */
const RGB_BYTES: PixelConverter = byteShuffle(0, 1, 2);
/** The same three bytes with red and blue exchanged (swap-red-blue). */
const BGR_BYTES: PixelConverter = byteShuffle(2, 1, 0);

function threeByteCpixel(pf: PixelFormat): PixelConverter {
  const mask = (pf.redMax << pf.redShift) | (pf.greenMax << pf.greenShift) | (pf.blueMax << pf.blueShift);
  // The three bytes hold value bits 0..23, or bits 8..31 when the low byte is unused.
  const shift = (mask & 0xff000000) === 0 ? 0 : 8;
  const offsetOf = (channelShift: number): number => {
    const byteInValue = (channelShift - shift) / 8; // 0 = least significant of the three
    return pf.bigEndian ? 2 - byteInValue : byteInValue;
  };
  const shifts = [pf.redShift, pf.greenShift, pf.blueShift];
  const direct =
    pf.redMax === 255 &&
    pf.greenMax === 255 &&
    pf.blueMax === 255 &&
    shifts.every((s) => s >= shift && s - shift <= 16 && (s - shift) % 8 === 0) &&
    new Set(shifts).size === 3;
  if (direct) return byteShuffle(offsetOf(pf.redShift), offsetOf(pf.greenShift), offsetOf(pf.blueShift));
  const rgbAt = (s: Uint8Array, o: number): number => pixelToRgb(pf, readPixelValue(pf, s, o, 3), shift);
  return {
    bpp: 3,
    rgbAt,
    toRgba(src, srcOff, dst, dstOff, count) {
      for (let i = 0, s = srcOff, d = dstOff; i < count; i++, s += 3, d += 4) {
        const rgb = rgbAt(src, s);
        dst[d] = rgb >>> 16;
        dst[d + 1] = (rgb >>> 8) & 0xff;
        dst[d + 2] = rgb & 0xff;
        dst[d + 3] = 255;
      }
    },
  };
}

/** Three-byte pixels whose red, green and blue are the bytes at offsets ri, gi, bi. */
function byteShuffle(ri: number, gi: number, bi: number): PixelConverter {
  return {
    bpp: 3,
    rgbAt: (s, o) => ((s[o + ri] as number) << 16) | ((s[o + gi] as number) << 8) | (s[o + bi] as number),
    toRgba(src, srcOff, dst, dstOff, count) {
      for (let i = 0, s = srcOff, d = dstOff; i < count; i++, s += 3, d += 4) {
        dst[d] = src[s + ri] as number;
        dst[d + 1] = src[s + gi] as number;
        dst[d + 2] = src[s + bi] as number;
        dst[d + 3] = 255;
      }
    },
  };
}
