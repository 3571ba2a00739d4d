/** Raw encoding (0): w×h pixels, row by row. Decoded in batches of whole rows as they arrive. */
import type { Rect } from '../../../engine/display/framebuffer.js';
import type { ByteReader } from '../byte-reader.js';
import { pixelConverter } from './pixels.js';
import type { DecodeContext, DecoderFactory, RectDecoder } from './types.js';

/** Rows converted per framebuffer write, at most (bounds the scratch buffer to ~1 MiB for wide rects). */
const MAX_BATCH_BYTES = 1 << 20;

export const rawDecoder: DecoderFactory = (rect: Rect, ctx: DecodeContext): RectDecoder => {
  const conv = pixelConverter(ctx.pf);
  const rowBytes = rect.w * conv.bpp;
  const maxRows = Math.max(1, Math.floor(MAX_BATCH_BYTES / Math.max(1, rect.w * 4)));
  let row = 0;
  let scratch = new Uint8Array(0);
  return {
    step(reader: ByteReader): boolean {
      if (rect.w === 0 || rect.h === 0) return finish();
      while (row < rect.h) {
        const rows = Math.min(rect.h - row, maxRows, Math.floor(reader.available / rowBytes));
        if (rows === 0) return false;
        const need = rows * rect.w * 4;
        if (scratch.length < need) scratch = new Uint8Array(need);
        conv.toRgba(reader.bytes(rows * rowBytes), 0, scratch, 0, rows * rect.w);
        ctx.fb.put({ x: rect.x, y: rect.y + row, w: rect.w, h: rows }, scratch.subarray(0, need));
        row += rows;
      }
      return finish();
    },
  };

  function finish(): boolean {
    if (rect.w > 0 && rect.h > 0) ctx.emit({ type: 'update', rect: { ...rect } });
    return true;
  }
};
