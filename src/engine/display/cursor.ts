/**
 * The pointer image: validated from the Cursor pseudo-encoding, then drawn into an off-screen buffer
 * (layer -1) with SRC — which clears whatever an older cursor left there — and set with `cursor`.
 */
import { encodeInstruction } from '../../protocol/guacamole/encoder.js';
import { encodeImage } from './encode-image.js';
import { MIMETYPES } from './format.js';
import {
  CURSOR_LAYER,
  cursorInstruction,
  imageInstructions,
  MASK_SRC,
  type StreamIds,
  sizeInstruction,
} from './instructions.js';

/** Largest cursor side accepted (larger cursor images are ignored with a log line). */
export const MAX_CURSOR_SIDE = 512;

export interface CursorImage {
  hotX: number;
  hotY: number;
  w: number;
  h: number;
  rgba: Uint8Array;
}

/** A copy of the cursor with its hotspot clamped inside it, or null if the size or data length is bad. */
export function validCursor(
  hotX: number,
  hotY: number,
  w: number,
  h: number,
  rgba: Uint8Array,
): CursorImage | null {
  const ok =
    Number.isSafeInteger(w) &&
    Number.isSafeInteger(h) &&
    w >= 0 &&
    h >= 0 &&
    w <= MAX_CURSOR_SIDE &&
    h <= MAX_CURSOR_SIDE &&
    rgba.length === w * h * 4;
  if (!ok) return null;
  const clampHot = (v: number, side: number) =>
    Number.isSafeInteger(v) ? Math.min(Math.max(0, v), Math.max(0, side - 1)) : 0;
  return { hotX: clampHot(hotX, w), hotY: clampHot(hotY, h), w, h, rgba: rgba.slice() };
}

/** size,-1,w,h + img (SRC, PNG) onto -1 + cursor,hx,hy,-1,0,0,w,h; a 0×0 cursor is a transparent 1×1. */
export async function cursorInstructions(c: CursorImage, streams: StreamIds): Promise<string> {
  if (c.w === 0 || c.h === 0) {
    return (
      sizeInstruction(CURSOR_LAYER, 1, 1) +
      encodeInstruction('rect', CURSOR_LAYER, 0, 0, 1, 1) +
      encodeInstruction('cfill', MASK_SRC, CURSOR_LAYER, 0, 0, 0, 0) +
      cursorInstruction(0, 0, 1, 1)
    );
  }
  const png = await encodeImage(c.rgba, c.w, c.h, 'png', 100);
  const stream = streams.alloc();
  try {
    return (
      sizeInstruction(CURSOR_LAYER, c.w, c.h) +
      imageInstructions(stream, MASK_SRC, CURSOR_LAYER, MIMETYPES.png, 0, 0, png) +
      cursorInstruction(c.hotX, c.hotY, c.w, c.h)
    );
  } finally {
    streams.free(stream);
  }
}
