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
/** Regions with at most this many colours along the sampled rows are PNG-friendly whatever their layout. */
export const FEW_COLORS = 16;

/**
 * Photo-like content, which PNG compresses badly. Along up to SAMPLE_ROWS evenly spaced rows: at most
 * FEW_COLORS distinct colours → friendly (text, UI: an indexed PNG of it is small and cheap, where lossy
 * would cost more and blur it); otherwise unfriendly when fewer than 4 pixels repeat their left neighbour
 * for every one that differs (guacd's criterion, sampled).
 */
export function isPngUnfriendly(rgba: Uint8Array, w: number, h: number): boolean {
  if (w < 2 || h < 1) return false;
  const px = pixels32(rgba);
  const rows = Math.min(h, SAMPLE_ROWS);
  const seen = new Int32Array(FEW_COLORS);
  let distinct = 0; // FEW_COLORS + 1 once there are more
  let same = 0;
  let different = 1;
  for (let k = 0; k < rows; k++) {
    const y = Math.floor(((k + 0.5) * h) / rows);
    let o = y * w;
    let last = px[o] as number;
    if (distinct <= FEW_COLORS) distinct = note(seen, distinct, last);
    const end = o + w;
    for (o++; o < end; o++) {
      const p = px[o] as number;
      if (p === last) {
        same++;
        continue;
      }
      different++;
      last = p;
      if (distinct <= FEW_COLORS) distinct = note(seen, distinct, p);
    }
  }
  if (distinct <= FEW_COLORS) return false;
  return same < 4 * different;
}

/** Adds colour p to the first `n` entries of seen if new; returns the new count (FEW_COLORS + 1 = more). */
function note(seen: Int32Array, n: number, p: number): number {
  for (let i = 0; i < n; i++) if (seen[i] === p) return n;
  if (n === FEW_COLORS) return n + 1;
  seen[n] = p;
  return n + 1;
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

/** The pixels as 32-bit integers (signed: V8 keeps them unboxed; only compared for equality). */
function pixels32(rgba: Uint8Array): Int32Array {
  if (rgba.byteOffset % 4 === 0) return new Int32Array(rgba.buffer, rgba.byteOffset, rgba.length >>> 2);
  return new Int32Array(rgba.slice().buffer, 0, rgba.length >>> 2);
}
