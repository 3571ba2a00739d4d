/**
 * Image encoding with sharp (libvips): the work runs on libuv's thread pool, so awaiting it never blocks
 * the event loop. Settings chosen for speed on live screen content (measured in bench/display-encode.ts):
 * - PNG: zlib level 2 with adaptive row filters; no palette quantisation — libimagequant costs more than it
 *   saves and is not exact. Tiles of ≤ 256 colours do not come here (indexed-png.ts); for what does
 *   (photo-like content, gradients) the filters are worth their time: without them a 512×512 gradient grew
 *   from 6 KB to 369 KB and a photo-like tile from 0.43 to 0.78 MB, for 20 % less time at most.
 * - JPEG: baseline libjpeg settings (mozjpeg's trellis/scan optimisation off), 4:2:0.
 * - WebP: lossy, method (effort) 2.
 * Opaque input is sent as RGB (smaller, faster); otherwise RGBA (PNG/WebP keep alpha, JPEG drops it).
 */
import sharp from 'sharp';
import { type ImageFormat, isOpaque } from './format.js';

export interface EncodeImageOptions {
  /** Whether every pixel has alpha 255; computed when not given. */
  opaque?: boolean;
}

export const PNG_COMPRESSION_LEVEL = 2;
export const WEBP_EFFORT = 2;

/** Encodes w×h RGBA8888 (stride w*4) pixels; quality 1..100 applies to JPEG and WebP. */
export async function encodeImage(
  rgba: Uint8Array,
  w: number,
  h: number,
  format: ImageFormat,
  quality: number,
  options: EncodeImageOptions = {},
): Promise<Uint8Array> {
  if (!Number.isSafeInteger(w) || !Number.isSafeInteger(h) || w < 1 || h < 1) {
    throw new RangeError(`invalid image size ${w}x${h}`);
  }
  if (rgba.length !== w * h * 4) {
    throw new RangeError(`image data is ${rgba.length} bytes, expected ${w * h * 4} for ${w}x${h} RGBA`);
  }
  const q = Math.min(100, Math.max(1, Math.round(Number.isFinite(quality) ? quality : 90)));
  const opaque = options.opaque ?? isOpaque(rgba);
  let img = sharp(rgba, { raw: { width: w, height: h, channels: 4 } });
  if (opaque || format === 'jpeg') img = img.removeAlpha();
  switch (format) {
    case 'png':
      img = img.png({ compressionLevel: PNG_COMPRESSION_LEVEL, adaptiveFiltering: true });
      break;
    case 'jpeg':
      img = img.jpeg({ quality: q, mozjpeg: false, chromaSubsampling: '4:2:0' });
      break;
    case 'webp':
      img = img.webp({ quality: q, effort: WEBP_EFFORT, alphaQuality: 100 });
      break;
    default:
      throw new RangeError(`unknown image format ${String(format)}`);
  }
  const out = await img.toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
