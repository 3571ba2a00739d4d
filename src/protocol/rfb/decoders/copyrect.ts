/** CopyRect (1): the source position of an area already on screen; applied and reported as 'copy'. */
import type { Rect } from '../../../engine/display/framebuffer.js';
import type { ByteReader } from '../byte-reader.js';
import { type DecodeContext, type DecoderFactory, type RectDecoder, RfbProtocolError } from './types.js';

export const copyRectDecoder: DecoderFactory = (rect: Rect, ctx: DecodeContext): RectDecoder => ({
  step(reader: ByteReader): boolean {
    if (!reader.has(4)) return false;
    const srcX = reader.u16();
    const srcY = reader.u16();
    if (!ctx.fb.inBounds({ x: srcX, y: srcY, w: rect.w, h: rect.h })) {
      throw new RfbProtocolError(
        `CopyRect source ${rect.w}x${rect.h}+${srcX}+${srcY} lies outside the ` +
          `${ctx.fb.width}x${ctx.fb.height} framebuffer`,
      );
    }
    if (rect.w === 0 || rect.h === 0) return true;
    ctx.fb.copy(srcX, srcY, rect);
    ctx.emit({ type: 'copy', srcX, srcY, rect: { ...rect } });
    return true;
  },
});
