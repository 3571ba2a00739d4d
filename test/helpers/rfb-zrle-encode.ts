/**
 * A test-side ZRLE encoder (RFC 6143 §7.7.6, written from the spec) and pixel helpers: images are
 * arrays of pixel values in a PixelFormat; CPIXELs are derived per the spec's 3-byte rule.
 */
import { compactPixelBytes, type PixelFormat, pixelToRgb } from '../../src/protocol/rfb/pixel-format.js';

export type TileKind =
  | { k: 'raw' }
  | { k: 'solid' }
  | { k: 'packed'; n: number }
  | { k: 'rle' }
  | { k: 'prle'; n: number };

export { rng } from './rng.js';

/** A random pixel value using only the format's colour bits. */
export function randomPixel(pf: PixelFormat, rand: () => number): number {
  const c = (max: number): number => Math.floor(rand() * (max + 1));
  return (
    ((c(pf.redMax) << pf.redShift) | (c(pf.greenMax) << pf.greenShift) | (c(pf.blueMax) << pf.blueShift)) >>>
    0
  );
}

/** The bytes of pixel value v as a CPIXEL in pf. */
export function cpixel(pf: PixelFormat, v: number): number[] {
  const cpp = compactPixelBytes(pf);
  const bpp = pf.bitsPerPixel >> 3;
  let value = v >>> 0;
  if (cpp === 3 && bpp === 4) {
    const mask = (pf.redMax << pf.redShift) | (pf.greenMax << pf.greenShift) | (pf.blueMax << pf.blueShift);
    if ((mask & 0xff000000) !== 0) value >>>= 8;
  }
  const out: number[] = [];
  for (let i = 0; i < cpp; i++) out.push((value >>> (8 * i)) & 0xff); // little-endian order
  return pf.bigEndian ? out.reverse() : out;
}

function runLength(len: number): number[] {
  const out: number[] = [];
  let rest = len - 1;
  while (rest >= 255) {
    out.push(255);
    rest -= 255;
  }
  out.push(rest);
  return out;
}

/** Pixels for a tile suited to `kind` (few colours for palettes, runs for RLE). */
export function tilePixels(pf: PixelFormat, kind: TileKind, n: number, rand: () => number): number[] {
  const colours = (count: number): number[] => {
    const set = new Set<number>();
    while (set.size < count) set.add(randomPixel(pf, rand));
    return [...set];
  };
  switch (kind.k) {
    case 'solid':
      return new Array(n).fill(randomPixel(pf, rand));
    case 'raw':
      return Array.from({ length: n }, () => randomPixel(pf, rand));
    case 'packed': {
      const pal = colours(kind.n);
      // every palette entry appears, the rest at random
      return Array.from({ length: n }, (_, i) => pal[i < kind.n ? i : Math.floor(rand() * kind.n)] as number);
    }
    case 'rle':
    case 'prle': {
      const pal = kind.k === 'prle' ? colours(kind.n) : null;
      const out: number[] = [];
      let first = 0;
      while (out.length < n) {
        const c = pal
          ? (pal[first < pal.length ? first++ : Math.floor(rand() * pal.length)] as number)
          : randomPixel(pf, rand);
        const len = rand() < 0.3 ? 1 : 1 + Math.floor(rand() * (rand() < 0.2 ? 700 : 40));
        for (let i = 0; i < len && out.length < n; i++) out.push(c);
      }
      return out;
    }
  }
}

/** One tile's ZRLE bytes (before compression). */
export function encodeTile(pf: PixelFormat, kind: TileKind, px: number[], tw: number, th: number): number[] {
  const cp = (v: number): number[] => cpixel(pf, v);
  switch (kind.k) {
    case 'raw':
      return [0, ...px.flatMap(cp)];
    case 'solid':
      return [1, ...cp(px[0] as number)];
    case 'packed': {
      const pal = [...new Set(px)];
      const bits = pal.length === 2 ? 1 : pal.length <= 4 ? 2 : 4;
      const out = [pal.length, ...pal.flatMap(cp)];
      for (let y = 0; y < th; y++) {
        const row = new Array(Math.ceil((tw * bits) / 8)).fill(0);
        for (let x = 0; x < tw; x++) {
          const bit = x * bits;
          row[bit >> 3] |= pal.indexOf(px[y * tw + x] as number) << (8 - bits - (bit & 7));
        }
        out.push(...row);
      }
      return out;
    }
    case 'rle':
    case 'prle': {
      const pal = kind.k === 'prle' ? [...new Set(px)] : null;
      const out = pal ? [128 + pal.length, ...pal.flatMap(cp)] : [128];
      for (let i = 0; i < px.length; ) {
        let j = i + 1;
        while (j < px.length && px[j] === px[i]) j++;
        const len = j - i;
        if (pal) {
          const idx = pal.indexOf(px[i] as number);
          out.push(...(len === 1 ? [idx] : [idx | 128, ...runLength(len)]));
        } else out.push(...cp(px[i] as number), ...runLength(len));
        i = j;
      }
      return out;
    }
  }
}

/** A rectangle's ZRLE bytes and its expected 0xRRGGBB pixels; `kindOf` picks each tile's kind. */
export function encodeRect(
  pf: PixelFormat,
  w: number,
  h: number,
  kindOf: (tileIndex: number) => TileKind,
  rand: () => number,
): { bytes: Uint8Array; rgb: Uint32Array } {
  const rgb = new Uint32Array(w * h);
  const out: number[] = [];
  let t = 0;
  for (let ty = 0; ty < h; ty += 64) {
    for (let tx = 0; tx < w; tx += 64) {
      const tw = Math.min(64, w - tx);
      const th = Math.min(64, h - ty);
      const kind = kindOf(t++);
      const px = tilePixels(pf, kind, tw * th, rand);
      for (let y = 0; y < th; y++) {
        for (let x = 0; x < tw; x++) rgb[(ty + y) * w + tx + x] = pixelToRgb(pf, px[y * tw + x] as number);
      }
      out.push(...encodeTile(pf, kind, px, tw, th));
    }
  }
  return { bytes: Uint8Array.from(out), rgb };
}
