/** RFB PIXEL_FORMAT (RFC 6143 §7.4) and conversion of pixel values to 0xRRGGBB. */

export interface PixelFormat {
  bitsPerPixel: 8 | 16 | 32;
  depth: number;
  bigEndian: boolean;
  trueColour: boolean;
  redMax: number;
  greenMax: number;
  blueMax: number;
  redShift: number;
  greenShift: number;
  blueShift: number;
}

/** The formats Gatehouse asks servers for, by guacd's `color-depth` (8, 16, 24, 32). */
export function pixelFormatForDepth(colorDepth: number): PixelFormat {
  switch (colorDepth) {
    case 8:
      return fmt(8, 8, 7, 7, 3, 0, 3, 6);
    case 16:
      return fmt(16, 16, 31, 63, 31, 11, 5, 0);
    default:
      return fmt(32, 24, 255, 255, 255, 16, 8, 0);
  }
}

function fmt(
  bpp: 8 | 16 | 32,
  depth: number,
  rm: number,
  gm: number,
  bm: number,
  rs: number,
  gs: number,
  bs: number,
): PixelFormat {
  return {
    bitsPerPixel: bpp,
    depth,
    bigEndian: false,
    trueColour: true,
    redMax: rm,
    greenMax: gm,
    blueMax: bm,
    redShift: rs,
    greenShift: gs,
    blueShift: bs,
  };
}

export const bytesPerPixel = (pf: PixelFormat): number => pf.bitsPerPixel >> 3;

/**
 * ZRLE/Tight "compact pixel" size: 3 bytes when the format is 32 bpp true colour with depth ≤ 24 and all
 * colour bits in the low or high three bytes; else bytesPerPixel.
 */
export function compactPixelBytes(pf: PixelFormat): number {
  if (pf.bitsPerPixel !== 32 || !pf.trueColour || pf.depth > 24) return bytesPerPixel(pf);
  const mask = (pf.redMax << pf.redShift) | (pf.greenMax << pf.greenShift) | (pf.blueMax << pf.blueShift);
  return (mask & 0xff000000) === 0 || (mask & 0x000000ff) === 0 ? 3 : 4;
}

/** Reads a pixel value of `bytes` bytes (1..4) at `off` in the format's byte order. */
export function readPixelValue(pf: PixelFormat, src: Uint8Array, off: number, bytes: number): number {
  let v = 0;
  if (pf.bigEndian) {
    for (let i = 0; i < bytes; i++) v = (v << 8) | (src[off + i] as number);
  } else {
    for (let i = bytes - 1; i >= 0; i--) v = (v << 8) | (src[off + i] as number);
  }
  return v >>> 0;
}

/**
 * Converts a pixel value to 0xRRGGBB, scaling each channel to 8 bits. For 3-byte compact pixels the
 * value is the packed low (or high) three bytes as ZRLE/Tight send them: pass `compactShift` = 8 when
 * the colour bits live in the high three bytes.
 */
export function pixelToRgb(pf: PixelFormat, value: number, compactShift = 0): number {
  const v = compactShift ? value << compactShift : value;
  const r = scale((v >>> pf.redShift) & pf.redMax, pf.redMax);
  const g = scale((v >>> pf.greenShift) & pf.greenMax, pf.greenMax);
  const b = scale((v >>> pf.blueShift) & pf.blueMax, pf.blueMax);
  return (r << 16) | (g << 8) | b;
}

function scale(c: number, max: number): number {
  return max === 255 ? c : max === 0 ? 0 : Math.round((c * 255) / max);
}

/** Serialises a PIXEL_FORMAT (16 bytes) for SetPixelFormat. */
export function encodePixelFormat(pf: PixelFormat): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  b[0] = pf.bitsPerPixel;
  b[1] = pf.depth;
  b[2] = pf.bigEndian ? 1 : 0;
  b[3] = pf.trueColour ? 1 : 0;
  v.setUint16(4, pf.redMax);
  v.setUint16(6, pf.greenMax);
  v.setUint16(8, pf.blueMax);
  b[10] = pf.redShift;
  b[11] = pf.greenShift;
  b[12] = pf.blueShift;
  return b;
}

/** Parses a PIXEL_FORMAT (16 bytes) from ServerInit; returns null when the bpp is not 8/16/32. */
export function decodePixelFormat(b: Uint8Array): PixelFormat | null {
  const v = new DataView(b.buffer, b.byteOffset, 16);
  const bpp = b[0];
  if (bpp !== 8 && bpp !== 16 && bpp !== 32) return null;
  return {
    bitsPerPixel: bpp,
    depth: b[1] as number,
    bigEndian: b[2] !== 0,
    trueColour: b[3] !== 0,
    redMax: v.getUint16(4),
    greenMax: v.getUint16(6),
    blueMax: v.getUint16(8),
    redShift: b[10] as number,
    greenShift: b[11] as number,
    blueShift: b[12] as number,
  };
}
