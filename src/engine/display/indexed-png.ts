/**
 * Indexed-colour PNG (colour type 3) for tiles with at most 256 exact colours — screen content (text,
 * window chrome, flat UI) almost always is. Lossless, pixel-exact, several times smaller than truecolour
 * PNG and cheaper to produce: one palette pass in JS, bit packing to 1/2/4/8 bits per pixel, and zlib
 * deflate — on libuv's thread pool (node:zlib's async API) unless it is cheaper than the trip there, so
 * the event loop does the palette pass and at most a small deflate (see SYNC_DEFLATE_*).
 *
 * The palette pass is built to stay short on the event loop:
 * - pixels are compared as 32-bit integers, and a run of equal pixels costs one comparison each;
 * - colour lookups use a small open-addressing hash table reused across calls (a generation stamp marks
 *   its live slots, so nothing is cleared between tiles);
 * - evenly spaced sample rows are scanned first, so photo-like tiles are rejected after a few rows;
 * - the pass stops at the 257th colour.
 * Indices are written straight into the PNG scanline layout (filter byte "None" + one byte per pixel),
 * then packed in place when fewer bits suffice.
 */
import { deflate, deflateSync } from 'node:zlib';
import { chunkSize, PNG_SIGNATURE, writeChunk } from './png-chunks.js';

/** Most colours a palette can hold. */
export const MAX_PALETTE = 256;
/**
 * zlib level for the pixel data: on the VNC benchmark's text tiles levels 1–3 (zlib's fast path) gave the
 * same time and size within noise; level 6 took ≈ 2.5× the time for ≈ 12 % fewer bytes.
 */
export const INDEXED_DEFLATE_LEVEL = 2;
/**
 * Deflating on the event loop is cheaper than a trip to the thread pool (≈ 0.1–0.4 ms of main-thread work
 * for node:zlib's async machinery) when there is little to compress: at most SYNC_DEFLATE_BYTES of
 * scanlines, or at most SYNC_DEFLATE_CHANGES colour changes along the rows (deflate's cost follows the
 * changes: ≈ 0.05–0.1 ms for a 500×180 tile of text, ≈ 6 ms for 512×512 of 256-colour noise).
 */
export const SYNC_DEFLATE_BYTES = 16 * 1024;
export const SYNC_DEFLATE_CHANGES = 20_000;

/** A tile as palette + scanlines (filter byte + packed indices per row), ready to be deflated. */
export interface IndexedImage {
  width: number;
  height: number;
  bitDepth: 1 | 2 | 4 | 8;
  /** Palette entries as RGB triplets (PLTE contents). */
  rgb: Uint8Array;
  /** Alpha per palette entry up to the last non-opaque one (tRNS contents), or null if all opaque. */
  alpha: Uint8Array | null;
  /**
   * Raw scanlines: height × (1 + ceil(width × bitDepth / 8)) bytes. May be a view of a scratch buffer
   * that the next indexImage call overwrites: use it (or copy it) before then. encodeIndexed does.
   */
  scanlines: Uint8Array;
  /** Pixels that differ from their left neighbour (a measure of how hard the data is to compress). */
  changes: number;
}

const HASH_BITS = 10; // 1024 slots for ≤ 257 keys: load ≤ 25 %
const HASH_SIZE = 1 << HASH_BITS;
const HASH_MASK = HASH_SIZE - 1;
const SAMPLE_ROWS = 16;

// Shared scratch state: the palette pass is synchronous, so one set serves every caller.
const slotKey = new Int32Array(HASH_SIZE);
const slotIndex = new Uint16Array(HASH_SIZE);
const slotGen = new Uint32Array(HASH_SIZE);
/** Scanline buffers up to this size are taken from a scratch buffer reused across calls (less garbage). */
const SCRATCH_MAX = 1 << 20;
let scratch = new Uint8Array(0);
/** Pixel offset where each palette entry was first seen (its colour is read back from there). */
const firstAt = new Int32Array(MAX_PALETTE + 1);
let generation = 0;
let colors = 0;
/** Colour changes counted by indexPixels since startPalette. */
let changes = 0;

/** Index of colour p, adding it if new; -1 once the palette would exceed MAX_PALETTE colours. */
function lookup(p: number, at: number): number {
  let s = Math.imul(p, 0x9e3779b1) >>> (32 - HASH_BITS);
  for (;;) {
    if (slotGen[s] !== generation) {
      if (colors === MAX_PALETTE) return -1;
      slotGen[s] = generation;
      slotKey[s] = p;
      slotIndex[s] = colors;
      firstAt[colors] = at;
      return colors++;
    }
    if (slotKey[s] === p) return slotIndex[s] as number;
    s = (s + 1) & HASH_MASK;
  }
}

function startPalette(): void {
  generation = (generation + 1) >>> 0;
  if (generation === 0) {
    slotGen.fill(0);
    generation = 1;
  }
  colors = 0;
  changes = 0;
}

/**
 * Maps pixels [start, end) to palette indices at out[o..]; false once there are more than 256 colours.
 * The row's leading and trailing runs of one colour (margins, the background after a line of text, blank
 * rows) are written with fill(); in between, the last two colours seen are kept in locals, so runs and
 * two-colour alternation (text on a background) never reach the hash table.
 */
function indexPixels(px: Int32Array, start: number, end: number, out: Uint8Array, o: number): boolean {
  let a = px[start] as number;
  let ai = lookup(a, start);
  if (ai < 0) return false;
  let from = start + 1;
  while (from < end && px[from] === a) from++;
  out.fill(ai, o, o + from - start);
  if (from === end) return true;
  const z = px[end - 1] as number;
  let to = end - 1;
  while (px[to - 1] === z) to--; // stops at `from` at the latest: px[from] differs from px[from - 1]
  let b = a;
  let bi = ai;
  let n = 2; // the changes at `from` and `to`
  for (let i = from, j = o + from - start; i < to; i++, j++) {
    const p = px[i] as number;
    if (p !== a) {
      n++;
      if (p === b) {
        b = a;
        a = p;
        const t = bi;
        bi = ai;
        ai = t;
      } else {
        const k = lookup(p, i);
        if (k < 0) return false;
        b = a;
        bi = ai;
        a = p;
        ai = k;
      }
    }
    out[j] = ai;
  }
  const zi = lookup(z, to);
  if (zi < 0) return false;
  out.fill(zi, o + to - start, o + end - start);
  changes += n;
  return true;
}

/** Adds the colours of pixels [start, end) to the palette; false once there are more than 256. */
function collectColors(px: Int32Array, start: number, end: number): boolean {
  let a = px[start] as number;
  if (lookup(a, start) < 0) return false;
  for (let i = start + 1; i < end; i++) {
    const p = px[i] as number;
    if (p !== a) {
      if (lookup(p, i) < 0) return false;
      a = p;
    }
  }
  return true;
}

/**
 * The tile as an indexed image, or null if it has more than 256 distinct RGBA colours.
 * rgba is w×h RGBA8888 with stride w*4. Runs synchronously (about 1–2 ns per pixel of screen content).
 */
export function indexImage(rgba: Uint8Array, w: number, h: number): IndexedImage | null {
  if (!Number.isSafeInteger(w) || !Number.isSafeInteger(h) || w < 1 || h < 1 || rgba.length !== w * h * 4) {
    throw new RangeError(`invalid image: ${rgba.length} bytes for ${w}x${h} RGBA`);
  }
  const px = pixels32(rgba);
  startPalette();
  // Cheap rejection of photo-like tiles: sample rows first (their colours are part of the palette anyway).
  if (h > SAMPLE_ROWS * 2) {
    for (let k = 0; k < SAMPLE_ROWS; k++) {
      const y = Math.floor(((k + 0.5) * h) / SAMPLE_ROWS);
      if (!collectColors(px, y * w, y * w + w)) return null;
    }
  }
  const stride = w + 1;
  const lines = scanlineBuffer(h * stride);
  for (let y = 0; y < h; y++) {
    lines[y * stride] = 0; // filter type "None"
    if (!indexPixels(px, y * w, y * w + w, lines, y * stride + 1)) return null;
  }
  const n = colors;
  const bitDepth: 1 | 2 | 4 | 8 = n <= 2 ? 1 : n <= 4 ? 2 : n <= 16 ? 4 : 8;
  const rgb = new Uint8Array(n * 3);
  let lastTranslucent = -1;
  for (let k = 0; k < n; k++) {
    const o = (firstAt[k] as number) * 4;
    rgb[k * 3] = rgba[o] as number;
    rgb[k * 3 + 1] = rgba[o + 1] as number;
    rgb[k * 3 + 2] = rgba[o + 2] as number;
    if (rgba[o + 3] !== 255) lastTranslucent = k;
  }
  let alpha: Uint8Array | null = null;
  if (lastTranslucent >= 0) {
    alpha = new Uint8Array(lastTranslucent + 1);
    for (let k = 0; k <= lastTranslucent; k++) alpha[k] = rgba[(firstAt[k] as number) * 4 + 3] as number;
  }
  const scanlines = bitDepth === 8 ? lines : packInPlace(lines, w, h, bitDepth);
  return { width: w, height: h, bitDepth, rgb, alpha, scanlines, changes };
}

/** A buffer of n bytes (contents undefined): a view of the scratch buffer when small enough, else a new one. */
function scanlineBuffer(n: number): Uint8Array {
  if (n > SCRATCH_MAX) return new Uint8Array(n);
  if (scratch.length < n) scratch = new Uint8Array(Math.min(SCRATCH_MAX, Math.max(n, scratch.length * 2)));
  return scratch.subarray(0, n);
}

/**
 * Packs 8-bit index rows into `depth`-bit rows in the same buffer. Safe in place: packed row y starts at
 * or before unpacked row y, and each output byte is written only after the pixels it holds were read.
 */
function packInPlace(lines: Uint8Array, w: number, h: number, depth: 1 | 2 | 4): Uint8Array {
  const perByte = 8 / depth;
  const whole = Math.floor(w / perByte); // output bytes with all their pixels inside the row
  const packedRow = Math.ceil(w / perByte);
  const src = w + 1;
  const dst = packedRow + 1;
  const l = lines;
  for (let y = 0; y < h; y++) {
    let i = y * src + 1;
    let o = y * dst;
    l[o++] = 0;
    const stop = o + whole;
    if (depth === 1) {
      for (; o < stop; o++, i += 8) {
        l[o] =
          ((l[i] as number) << 7) |
          ((l[i + 1] as number) << 6) |
          ((l[i + 2] as number) << 5) |
          ((l[i + 3] as number) << 4) |
          ((l[i + 4] as number) << 3) |
          ((l[i + 5] as number) << 2) |
          ((l[i + 6] as number) << 1) |
          (l[i + 7] as number);
      }
    } else if (depth === 2) {
      for (; o < stop; o++, i += 4) {
        l[o] =
          ((l[i] as number) << 6) |
          ((l[i + 1] as number) << 4) |
          ((l[i + 2] as number) << 2) |
          (l[i + 3] as number);
      }
    } else {
      for (; o < stop; o++, i += 2) l[o] = ((l[i] as number) << 4) | (l[i + 1] as number);
    }
    if (packedRow > whole) {
      // The row's last, partial byte: remaining pixels from the high bits down, zero padding after.
      const rowEnd = y * src + 1 + w;
      let byte = 0;
      for (let shift = 8 - depth; i < rowEnd; i++, shift -= depth) byte |= (l[i] as number) << shift;
      l[o] = byte;
    }
  }
  return lines.subarray(0, h * dst);
}

/** The PNG file of an indexed image around its deflated (zlib-wrapped) scanlines. */
export function assemblePng(img: IndexedImage, zdata: Uint8Array): Uint8Array {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, img.width);
  view.setUint32(4, img.height);
  ihdr[8] = img.bitDepth;
  ihdr[9] = 3; // colour type: indexed; compression, filter and interlace methods 0
  const chunks: Array<[string, Uint8Array]> = [
    ['IHDR', ihdr],
    ['PLTE', img.rgb],
  ];
  if (img.alpha) chunks.push(['tRNS', img.alpha]);
  chunks.push(['IDAT', zdata], ['IEND', new Uint8Array(0)]);
  const out = new Uint8Array(chunks.reduce((n, [, data]) => n + chunkSize(data), PNG_SIGNATURE.length));
  out.set(PNG_SIGNATURE, 0);
  let o = PNG_SIGNATURE.length;
  for (const [type, data] of chunks) o = writeChunk(out, o, type, data);
  return out;
}

/** Deflates the scanlines (on the thread pool unless that costs more) and returns the PNG file. */
export function encodeIndexed(img: IndexedImage, level = INDEXED_DEFLATE_LEVEL): Promise<Uint8Array> {
  if (img.scanlines.length <= SYNC_DEFLATE_BYTES || img.changes <= SYNC_DEFLATE_CHANGES) {
    try {
      return Promise.resolve(assemblePng(img, deflateSync(img.scanlines, { level })));
    } catch (err) {
      return Promise.reject(err);
    }
  }
  // The scratch buffer is reused by the next indexImage call, which may run before the deflate does.
  const lines = img.scanlines.buffer === scratch.buffer ? img.scanlines.slice() : img.scanlines;
  return new Promise((resolve, reject) => {
    deflate(lines, { level }, (err, z) => {
      if (err) reject(err);
      else resolve(assemblePng(img, z));
    });
  });
}

/** An indexed PNG of the tile, or null (synchronously) if it has more than 256 colours. */
export function encodeIndexedPng(rgba: Uint8Array, w: number, h: number): Promise<Uint8Array> | null {
  const img = indexImage(rgba, w, h);
  return img ? encodeIndexed(img) : null;
}

function pixels32(rgba: Uint8Array): Int32Array {
  if (rgba.byteOffset % 4 === 0) return new Int32Array(rgba.buffer, rgba.byteOffset, rgba.length >>> 2);
  return new Int32Array(rgba.slice().buffer, 0, rgba.length >>> 2);
}
