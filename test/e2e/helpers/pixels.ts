// Comparing RGBA pixel regions: what the X display shows against what the browser's canvas shows.
import sharp from 'sharp';

export type Rgb = readonly [number, number, number];

/** '#336699' or '#369' → [0x33, 0x66, 0x99]. */
export function parseColor(hex: string): Rgb {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(hex);
  if (!m) throw new Error(`not a #rgb or #rrggbb colour: ${hex}`);
  let digits = m[1]!;
  if (digits.length === 3) digits = [...digits].map((c) => c + c).join('');
  const n = Number.parseInt(digits, 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export interface ColorMatch {
  pixels: number;
  /** Pixels whose R, G and B are each within the tolerance of the colour. */
  matching: number;
  /** The first pixel that did not match, for the failure message. */
  firstMismatch?: { index: number; rgba: [number, number, number, number] };
}

/** Counts the pixels of an RGBA buffer within `tolerance` (per channel) of `color`. Alpha is not compared. */
export function matchColor(rgba: Uint8Array, color: Rgb, tolerance = 0): ColorMatch {
  const pixels = Math.floor(rgba.length / 4);
  let matching = 0;
  let firstMismatch: ColorMatch['firstMismatch'];
  for (let i = 0; i < pixels; i++) {
    const o = i * 4;
    const ok =
      Math.abs(rgba[o]! - color[0]) <= tolerance &&
      Math.abs(rgba[o + 1]! - color[1]) <= tolerance &&
      Math.abs(rgba[o + 2]! - color[2]) <= tolerance;
    if (ok) matching++;
    else firstMismatch ??= { index: i, rgba: [rgba[o]!, rgba[o + 1]!, rgba[o + 2]!, rgba[o + 3]!] };
  }
  return firstMismatch === undefined ? { pixels, matching } : { pixels, matching, firstMismatch };
}

export interface RegionDiff {
  pixels: number;
  /** Pixels where some channel differs by more than the tolerance. */
  mismatched: number;
  /** Largest difference of any channel (R, G, B) over all pixels. */
  maxDelta: number;
}

/** Compares two equally sized RGBA buffers channel by channel (alpha not compared). */
export function diffRgba(a: Uint8Array, b: Uint8Array, tolerance = 0): RegionDiff {
  if (a.length !== b.length) throw new Error(`regions differ in size: ${a.length} vs ${b.length} bytes`);
  const pixels = Math.floor(a.length / 4);
  let mismatched = 0;
  let maxDelta = 0;
  for (let i = 0; i < pixels; i++) {
    const o = i * 4;
    let worst = 0;
    for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(a[o + c]! - b[o + c]!));
    if (worst > tolerance) mismatched++;
    if (worst > maxDelta) maxDelta = worst;
  }
  return { pixels, mismatched, maxDelta };
}

/** Writes RGBA pixels as a PNG (to look at a failure: the X screen, or readPixels output). */
export async function saveRgbaPng(
  path: string,
  width: number,
  height: number,
  rgba: Uint8Array,
): Promise<string> {
  await sharp(Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength), {
    raw: { width, height, channels: 4 },
  })
    .png()
    .toFile(path);
  return path;
}
