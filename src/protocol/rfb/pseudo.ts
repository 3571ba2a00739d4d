/** Pseudo-encoding rectangles: Cursor, DesktopSize and ExtendedDesktopSize. */
import type { Rect } from '../../engine/display/framebuffer.js';
import type { ByteReader } from './byte-reader.js';
import { pixelConverter } from './decoders/pixels.js';
import { type DecodeContext, type RectDecoder, RfbProtocolError } from './decoders/types.js';
import type { Screen } from './messages.js';

/** What pseudo-encodings change in the client beyond the framebuffer. */
export interface PseudoHost {
  maxWidth: number;
  maxHeight: number;
  /** Resizes the framebuffer (if the size changed) and reports it. */
  resize(width: number, height: number): void;
  /** The server supports ExtendedDesktopSize; its current screen layout. */
  setScreens(screens: Screen[]): void;
}

/**
 * Cursor (-239): rect x,y is the hotspot; w×h pixels then a 1-bit mask (rows padded to bytes, most
 * significant bit first). Reported as RGBA with alpha 0 where the mask bit is clear.
 */
export function cursorDecoder(rect: Rect, ctx: DecodeContext, host: PseudoHost): RectDecoder {
  const conv = pixelConverter(ctx.pf);
  const maskRow = (rect.w + 7) >> 3;
  const pixelBytes = rect.w * rect.h * conv.bpp;
  const total = pixelBytes + maskRow * rect.h;
  if (rect.w > host.maxWidth || rect.h > host.maxHeight || total > ctx.maxRectBytes) {
    throw new RfbProtocolError(`cursor of ${rect.w}x${rect.h} exceeds the limits`);
  }
  return {
    step(reader: ByteReader): boolean {
      if (!reader.has(total)) return false;
      const rgba = new Uint8Array(rect.w * rect.h * 4);
      conv.toRgba(reader.bytes(pixelBytes), 0, rgba, 0, rect.w * rect.h);
      const mask = reader.bytes(maskRow * rect.h);
      for (let y = 0; y < rect.h; y++) {
        for (let x = 0; x < rect.w; x++) {
          const bit = ((mask[y * maskRow + (x >> 3)] as number) >> (7 - (x & 7))) & 1;
          if (!bit) rgba[(y * rect.w + x) * 4 + 3] = 0;
        }
      }
      const hotX = rect.w === 0 ? 0 : Math.min(rect.x, rect.w - 1);
      const hotY = rect.h === 0 ? 0 : Math.min(rect.y, rect.h - 1);
      ctx.emit({ type: 'cursor', hotX, hotY, width: rect.w, height: rect.h, rgba });
      return true;
    },
  };
}

/** DesktopSize (-223): the new size is the rectangle's w×h; no data. */
export function desktopSizeDecoder(rect: Rect, _ctx: DecodeContext, host: PseudoHost): RectDecoder {
  return {
    step(): boolean {
      host.resize(rect.w, rect.h);
      return true;
    },
  };
}

/**
 * ExtendedDesktopSize (-308): x = reason, y = status, w×h = size; then the screen layout. A non-zero
 * status answers our own SetDesktopSize with a refusal: the size (still the current one) is applied as is.
 */
export function extendedDesktopSizeDecoder(rect: Rect, _ctx: DecodeContext, host: PseudoHost): RectDecoder {
  return {
    step(reader: ByteReader): boolean {
      if (!reader.has(4)) return false;
      const n = reader.peek(0);
      if (!reader.has(4 + 16 * n)) return false;
      reader.skip(4);
      const screens: Screen[] = [];
      for (let i = 0; i < n; i++) {
        const id = reader.u32();
        const x = reader.u16();
        const y = reader.u16();
        const w = reader.u16();
        const h = reader.u16();
        const flags = reader.u32();
        screens.push({ id, x, y, w, h, flags });
      }
      host.setScreens(screens);
      host.resize(rect.w, rect.h);
      return true;
    },
  };
}
