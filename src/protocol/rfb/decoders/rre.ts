/**
 * RRE (2): a background colour and N solid subrectangles. Subrectangles are read one at a time as they
 * arrive. Few subrectangles are reported as 'fill' events (background first); many as one 'update'.
 */
import type { Rect } from '../../../engine/display/framebuffer.js';
import type { ByteReader } from '../byte-reader.js';
import { pixelConverter } from './pixels.js';
import { type DecodeContext, type DecoderFactory, type RectDecoder, RfbProtocolError } from './types.js';

/** Above this many subrectangles the rectangle is reported as one 'update' instead of fills. */
export const RRE_MAX_FILL_EVENTS = 32;

export const rreDecoder: DecoderFactory = (rect: Rect, ctx: DecodeContext): RectDecoder => {
  const conv = pixelConverter(ctx.pf);
  let remaining = -1; // -1: header not read yet
  let asFills = true;
  return {
    step(reader: ByteReader): boolean {
      if (remaining < 0) {
        if (!reader.has(4 + conv.bpp)) return false;
        const n = reader.u32();
        // Each subrectangle is at least 1x1 and lies inside the rectangle, so at most w*h of them make sense.
        if (n > rect.w * rect.h) {
          throw new RfbProtocolError(`RRE rectangle ${rect.w}x${rect.h} claims ${n} subrectangles`);
        }
        const bg = conv.rgbAt(reader.bytes(conv.bpp), 0);
        remaining = n;
        asFills = n <= RRE_MAX_FILL_EVENTS;
        fill({ ...rect }, bg);
      }
      const unit = conv.bpp + 8;
      while (remaining > 0) {
        if (!reader.has(unit)) return false;
        const rgb = conv.rgbAt(reader.bytes(conv.bpp), 0);
        const sx = reader.u16();
        const sy = reader.u16();
        const sw = reader.u16();
        const sh = reader.u16();
        if (sx + sw > rect.w || sy + sh > rect.h) {
          throw new RfbProtocolError(
            `RRE subrectangle ${sw}x${sh}+${sx}+${sy} lies outside its ${rect.w}x${rect.h} rectangle`,
          );
        }
        fill({ x: rect.x + sx, y: rect.y + sy, w: sw, h: sh }, rgb);
        remaining--;
      }
      if (!asFills) ctx.emit({ type: 'update', rect: { ...rect } });
      return true;
    },
  };

  function fill(r: Rect, rgb: number): void {
    if (r.w === 0 || r.h === 0) return;
    ctx.fb.fill(r, rgb);
    if (asFills) ctx.emit({ type: 'fill', rect: r, rgb });
  }
};
