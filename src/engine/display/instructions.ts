/**
 * The display instructions the encoder sends, as wire text, and the stream index allocator.
 *
 * Channel masks: guacamole-common-js maps a mask to a canvas globalCompositeOperation; SRC (0xC) is
 * "copy", which per the canvas spec clears the whole layer outside what is drawn. So everything drawn on
 * the visible layer uses OVER (0xE), as guacd does: our pixels are opaque, and opaque OVER replaces the
 * pixels it covers and nothing else. SRC is used only for the cursor image on its own buffer, where
 * clearing the rest of the buffer (an older, larger cursor) is exactly what is wanted.
 */
import { Buffer } from 'node:buffer';
import { encodeInstruction, MAX_BLOB_BYTES } from '../../protocol/guacamole/encoder.js';
import type { Rect } from './rects.js';

export const MASK_OVER = 0xe;
export const MASK_SRC = 0xc;
/** The visible default layer. */
export const DEFAULT_LAYER = 0;
/** The off-screen buffer the cursor image is drawn into. */
export const CURSOR_LAYER = -1;

export function sizeInstruction(layer: number, w: number, h: number): string {
  return encodeInstruction('size', layer, w, h);
}

/** copy,srcLayer,sx,sy,w,h,mask,dstLayer,dx,dy within the default layer. */
export function copyInstruction(sx: number, sy: number, dst: Rect): string {
  return encodeInstruction(
    'copy',
    DEFAULT_LAYER,
    sx,
    sy,
    dst.w,
    dst.h,
    MASK_OVER,
    DEFAULT_LAYER,
    dst.x,
    dst.y,
  );
}

/** rect + cfill with an opaque 0xRRGGBB colour. */
export function fillInstructions(r: Rect, rgb: number, layer = DEFAULT_LAYER, mask = MASK_OVER): string {
  return (
    encodeInstruction('rect', layer, r.x, r.y, r.w, r.h) +
    encodeInstruction('cfill', mask, layer, (rgb >>> 16) & 0xff, (rgb >>> 8) & 0xff, rgb & 0xff, 255)
  );
}

/** Base64 characters of one full 6048-byte blob. */
const BLOB_CHARS = (MAX_BLOB_BYTES / 3) * 4;

/**
 * img + blobs (≤ 6048 bytes each) + end: one image stream, whole. Same text as encodeBlobs gives, but
 * built from one base64 string of the whole image cut into slices, which keeps thousands of short-lived
 * 8 KB strings (and the garbage-collection pauses they cause) out of the young generation.
 */
export function imageInstructions(
  stream: number,
  mask: number,
  layer: number,
  mimetype: string,
  x: number,
  y: number,
  data: Uint8Array,
): string {
  const b64 = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
  const index = String(stream);
  const head = `4.blob,${index.length}.${index},`;
  const parts = [encodeInstruction('img', stream, mask, layer, mimetype, x, y)];
  for (let off = 0; off < b64.length; off += BLOB_CHARS) {
    const chunk = b64.slice(off, off + BLOB_CHARS);
    parts.push(head, String(chunk.length), '.', chunk, ';');
  }
  parts.push(encodeInstruction('end', stream));
  return parts.join('');
}

export function cursorInstruction(hotX: number, hotY: number, w: number, h: number): string {
  return encodeInstruction('cursor', hotX, hotY, CURSOR_LAYER, 0, 0, w, h);
}

export function syncInstruction(ts: number, frames: number): string {
  return encodeInstruction('sync', ts, frames);
}

/**
 * Server-side stream indices: the lowest free index is handed out, and given back after `end`. Image
 * streams are opened and ended within one write, so in practice one index is reused; pass one shared
 * allocator to everything in a session that opens streams (clipboard, files) to keep them distinct.
 */
export class StreamIds {
  private readonly used = new Set<number>();

  constructor(
    private readonly first = 1,
    private readonly limit = 512,
  ) {}

  alloc(): number {
    for (let i = this.first; i < this.first + this.limit; i++) {
      if (!this.used.has(i)) {
        this.used.add(i);
        return i;
      }
    }
    throw new Error(`no free stream index (${this.limit} in use)`);
  }

  free(index: number): void {
    this.used.delete(index);
  }

  get inUse(): number {
    return this.used.size;
  }
}
