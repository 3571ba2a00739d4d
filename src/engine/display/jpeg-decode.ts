/**
 * The framebuffer's JPEG decoder (for Tight JPEG rectangles that must be materialised): jpeg-js, pure
 * JavaScript and synchronous, with its resolution and memory caps set from the rectangle's size, so a
 * JPEG claiming larger dimensions fails before anything big is allocated.
 */
import { decode } from 'jpeg-js';
import type { JpegDecoder } from './framebuffer.js';

/** Working memory jpeg-js may use per output pixel (coefficient blocks per component, output), MiB floor. */
const BYTES_PER_PIXEL_BUDGET = 32;
const MIN_MEMORY_MB = 16;

export const decodeJpegRgba: JpegDecoder = (data: Uint8Array, w: number, h: number): Uint8Array => {
  if (!Number.isInteger(w) || !Number.isInteger(h) || w <= 0 || h <= 0) {
    throw new Error(`cannot decode a JPEG into a ${w}x${h} rectangle`);
  }
  let image: { width: number; height: number; data: Uint8Array };
  try {
    image = decode(data, {
      useTArray: true,
      formatAsRGBA: true,
      // jpeg-js compares the frame's pixel count with this × 1e6; the half pixel absorbs rounding.
      maxResolutionInMP: (w * h + 0.5) / 1e6,
      maxMemoryUsageInMB: Math.max(MIN_MEMORY_MB, Math.ceil((w * h * BYTES_PER_PIXEL_BUDGET) / (1 << 20))),
    });
  } catch (err) {
    throw new Error(
      `invalid JPEG for a ${w}x${h} rectangle: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (image.width !== w || image.height !== h) {
    throw new Error(`JPEG is ${image.width}x${image.height}, but its rectangle is ${w}x${h}`);
  }
  return image.data;
};
