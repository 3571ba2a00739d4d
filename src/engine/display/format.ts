/**
 * Which image format a region is sent in, guacd's rules (reference §7), plus the cheap pixel tests
 * they need. All pure functions over RGBA8888 (stride w*4).
 */

export type ImageFormat = 'png' | 'jpeg' | 'webp';

export const MIMETYPES: Readonly<Record<ImageFormat, string>> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
};

/** A region updated at least this often (frames/s) may be sent lossy. */
export const LOSSY_MIN_FPS = 3;
/** ...and only when larger than this many pixels (the JPEG "tax" is not worth it below). */
export const LOSSY_MIN_AREA = 4096;

export interface FormatInputs {
  /** force-lossless was set. */
  lossless: boolean;
  /** Image mimetypes the client advertised. */
  accepts: readonly string[];
  /** Region size in pixels. */
  area: number;
  /** Update rate of the region (HeatMap.fps). */
  fps: number;
  /** isPngUnfriendly of the region's pixels. */
  pngUnfriendly: boolean;
}

/**
 * PNG, unless lossy pays: not lossless, region > 4096 px, updated ≥ 3 fps and PNG-unfriendly — then
 * WebP if the client accepts it, else JPEG if the client accepts it, else PNG after all.
 */
export function chooseFormat(i: FormatInputs): ImageFormat {
  if (i.lossless || i.area <= LOSSY_MIN_AREA || i.fps < LOSSY_MIN_FPS || !i.pngUnfriendly) return 'png';
  if (i.accepts.includes(MIMETYPES.webp)) return 'webp';
  if (i.accepts.includes(MIMETYPES.jpeg)) return 'jpeg';
  return 'png';
}

/** Lossy quality from the client's processing lag (ms): 90 − (lag − 20), clamped to 30..90. */
export function lossyQuality(lagMs: number): number {
  const q = Math.round(90 - (lagMs - 20));
  return Number.isFinite(q) ? Math.min(90, Math.max(30, q)) : 30;
}

const SAMPLE_ROWS = 16;

/**
 * Photo-like content, which PNG compresses badly: along up to SAMPLE_ROWS evenly spaced rows, fewer
 * than 4 pixels repeat their left neighbour for every one that differs (guacd's criterion, sampled).
 */
export function isPngUnfriendly(rgba: Uint8Array, w: number, h: number): boolean {
  if (w < 2 || h < 1) return false;
  const px = pixels32(rgba);
  const rows = Math.min(h, SAMPLE_ROWS);
  let same = 0;
  let different = 1;
  for (let k = 0; k < rows; k++) {
    const y = Math.floor(((k + 0.5) * h) / rows);
    let o = y * w;
    let last = px[o] as number;
    const end = o + w;
    for (o++; o < end; o++) {
      const p = px[o] as number;
      if (p === last) same++;
      else different++;
      last = p;
    }
  }
  return same < 4 * different;
}

/** The region's single colour as 0xRRGGBB if every pixel is the same opaque colour, else -1. */
export function uniformColor(rgba: Uint8Array): number {
  const px = pixels32(rgba);
  const n = px.length;
  if (n === 0) return -1;
  const first = px[0] as number;
  for (let i = 1; i < n; i++) if (px[i] !== first) return -1;
  const alpha = rgba[3] as number;
  if (alpha !== 255) return -1;
  return ((rgba[0] as number) << 16) | ((rgba[1] as number) << 8) | (rgba[2] as number);
}

/** True if every pixel has alpha 255. */
export function isOpaque(rgba: Uint8Array): boolean {
  for (let i = 3; i < rgba.length; i += 4) if (rgba[i] !== 255) return false;
  return true;
}

function pixels32(rgba: Uint8Array): Uint32Array {
  if (rgba.byteOffset % 4 === 0) return new Uint32Array(rgba.buffer, rgba.byteOffset, rgba.length >>> 2);
  return new Uint32Array(rgba.slice().buffer, 0, rgba.length >>> 2);
}
