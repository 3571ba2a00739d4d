/**
 * Encodes a FramePlan's items into what gets written: instruction text for size/copy/fill and uniform
 * tiles, encoded images for the rest (format per chooseFormat). A PNG tile of at most 256 colours becomes
 * an indexed PNG (indexed-png.ts: palette pass here, deflate on the thread pool), any other image is
 * encoded by sharp on the thread pool (encodeImage). Each tile's work starts only when the limiter lets
 * it, so a large frame's palette passes are spread over several turns of the event loop instead of one.
 * Stream indices are not assigned here but at emission, which happens strictly in order.
 */
import { encodeImage } from './encode-image.js';
import {
  chooseFormat,
  type ImageFormat,
  isPngUnfriendly,
  LOSSY_MIN_AREA,
  LOSSY_MIN_FPS,
  MIMETYPES,
  uniformColor,
} from './format.js';
import type { PlanItem } from './frame-builder.js';
import type { HeatMap } from './heat-map.js';
import { encodeIndexed, indexImage } from './indexed-png.js';
import { copyInstruction, fillInstructions, sizeInstruction } from './instructions.js';
import type { Limiter } from './limiter.js';
import { area, type Rect } from './rects.js';
import { returnTileBuffer } from './tile-buffers.js';

export type EncodedItem =
  /** Instruction text; `stream` is an image stream index it holds until written. */
  | { kind: 'text'; text: string; stream?: number }
  | { kind: 'image'; mimetype: string; rect: Rect; data: Uint8Array }
  | { kind: 'failed'; rect: Rect; error: unknown };

export interface PlanContext {
  lossless: boolean;
  accepts: readonly string[];
  heat: HeatMap;
  /** Time (ms) the plan was taken: heat-map rates are measured against it. */
  now: number;
  /** Lossy quality for this plan (lossyQuality of the current lag). */
  quality: number;
  limiter: Limiter;
  /** Counts per format, for stats. */
  onImage?: (format: ImageFormat | 'passthrough-jpeg' | 'fill', bytes: number) => void;
}

/** The format a tile of pixels goes out in (exported for tests). */
export function formatFor(ctx: PlanContext, rect: Rect, rgba: Uint8Array): ImageFormat {
  const a = area(rect);
  if (ctx.lossless || a <= LOSSY_MIN_AREA) return 'png';
  const fps = ctx.heat.fps(rect, ctx.now);
  if (fps < LOSSY_MIN_FPS) return 'png';
  return chooseFormat({
    lossless: ctx.lossless,
    accepts: ctx.accepts,
    area: a,
    fps,
    pngUnfriendly: isPngUnfriendly(rgba, rect.w, rect.h),
  });
}

export function encodePlanItem(ctx: PlanContext, item: PlanItem): EncodedItem | Promise<EncodedItem> {
  switch (item.kind) {
    case 'size':
      return { kind: 'text', text: sizeInstruction(0, item.w, item.h) };
    case 'copy':
      return { kind: 'text', text: copyInstruction(item.sx, item.sy, item.rect) };
    case 'fill':
      ctx.onImage?.('fill', 0);
      return { kind: 'text', text: fillInstructions(item.rect, item.rgb) };
    case 'jpeg':
      ctx.onImage?.('passthrough-jpeg', item.data.length);
      return { kind: 'image', mimetype: MIMETYPES.jpeg, rect: item.rect, data: item.data };
    case 'pixels':
      return encodePixels(ctx, item.rect, item.rgba);
  }
}

/** The tile's pixels are not used after this (its buffer is given back for reuse if it was recycled). */
function encodePixels(ctx: PlanContext, rect: Rect, rgba: Uint8Array): EncodedItem | Promise<EncodedItem> {
  const { uniform, format } = classify(ctx, rect, rgba);
  if (uniform >= 0) {
    returnTileBuffer(rgba);
    ctx.onImage?.('fill', 0);
    return { kind: 'text', text: fillInstructions(rect, uniform) };
  }
  return ctx.limiter
    .run(() => nextTurn().then(() => encodeTile(rgba, rect, format, ctx.quality)))
    .then(
      (data): EncodedItem => {
        returnTileBuffer(rgba);
        ctx.onImage?.(format, data.length);
        return { kind: 'image', mimetype: MIMETYPES[format], rect, data };
      },
      (error: unknown): EncodedItem => {
        returnTileBuffer(rgba);
        return { kind: 'failed', rect, error };
      },
    );
}

/**
 * Resolves on a later turn of the event loop. An indexed PNG's work is all on the event loop when its
 * deflate is small enough to run synchronously, so without this a frame's tiles would run back to back.
 */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Indexed PNG where the tile has ≤ 256 colours, else sharp. */
function encodeTile(rgba: Uint8Array, rect: Rect, format: ImageFormat, quality: number): Promise<Uint8Array> {
  if (format === 'png') {
    const indexed = indexImage(rgba, rect.w, rect.h);
    if (indexed) return encodeIndexed(indexed);
  }
  return encodeImage(rgba, rect.w, rect.h, format, quality, { opaque: true });
}

function classify(ctx: PlanContext, rect: Rect, rgba: Uint8Array): { uniform: number; format: ImageFormat } {
  const uniform = uniformColor(rgba);
  return { uniform, format: uniform >= 0 ? 'png' : formatFor(ctx, rect, rgba) };
}
