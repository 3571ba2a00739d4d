/**
 * Test helpers for the zlib-based RFB decoders: one continuous node:zlib deflate stream split at
 * Z_SYNC_FLUSH points (as VNC servers send ZRLE/Tight data), and a minimal DecodeContext.
 */
import zlib from 'node:zlib';
import { Framebuffer, type JpegDecoder, type Rect } from '../../src/engine/display/framebuffer.js';
import { ByteReader } from '../../src/protocol/rfb/byte-reader.js';
import type { DecodeContext, DecoderFactory } from '../../src/protocol/rfb/decoders/types.js';
import type { RfbEvent } from '../../src/protocol/rfb/events.js';
import { type PixelFormat, pixelFormatForDepth } from '../../src/protocol/rfb/pixel-format.js';

/** A persistent deflate stream: each push() returns that part's bytes, ending at a sync-flush point. */
export class SyncFlushDeflater {
  private readonly d: zlib.Deflate;
  private out: Buffer[] = [];

  constructor(options: zlib.ZlibOptions = {}) {
    this.d = zlib.createDeflate(options);
    this.d.on('data', (c: Buffer) => this.out.push(c));
  }

  async push(part: Uint8Array): Promise<Uint8Array> {
    if (part.length > 0) this.d.write(part);
    await new Promise<void>((resolve) => this.d.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve()));
    await new Promise<void>((resolve) => setImmediate(resolve));
    const bytes = new Uint8Array(Buffer.concat(this.out));
    this.out = [];
    return bytes;
  }

  close(): void {
    this.d.destroy();
  }
}

/** Deflates parts as consecutive sync-flushed pieces of one stream. */
export async function syncFlushed(
  parts: Uint8Array[],
  options: zlib.ZlibOptions = {},
): Promise<Uint8Array[]> {
  const d = new SyncFlushDeflater(options);
  try {
    const out: Uint8Array[] = [];
    for (const p of parts) out.push(await d.push(p));
    return out;
  } finally {
    d.close();
  }
}

export interface TestContext extends DecodeContext {
  events: RfbEvent[];
}

export function makeContext(
  w: number,
  h: number,
  opts: { pf?: PixelFormat; maxRectBytes?: number; jpeg?: JpegDecoder } = {},
): TestContext {
  const events: RfbEvent[] = [];
  return {
    fb: new Framebuffer(w, h, opts.jpeg),
    pf: opts.pf ?? pixelFormatForDepth(24),
    emit: (e) => events.push(e),
    state: { slots: new Map() },
    maxRectBytes: opts.maxRectBytes ?? 64 << 20,
    events,
  };
}

/** Feeds `bytes` to a fresh decoder in one go; asserts nothing is left over. Returns step()'s result. */
export function decodeWhole(
  factory: DecoderFactory,
  rect: Rect,
  ctx: DecodeContext,
  bytes: Uint8Array,
): boolean {
  const reader = new ByteReader();
  reader.append(bytes);
  const done = factory(rect, ctx).step(reader);
  if (done && reader.available !== 0) throw new Error(`${reader.available} bytes left unconsumed`);
  return done;
}

/**
 * Feeds a sequence of rectangles (each [rect, bytes]) in chunks cut at `cuts` (absolute offsets in the
 * concatenation), one decoder per rectangle, as the RFB client would. Returns the number of step() calls
 * that returned false.
 */
export function decodeChunked(
  factory: DecoderFactory,
  rects: [Rect, Uint8Array][],
  ctx: DecodeContext,
  cuts: number[],
): number {
  const all = concat(rects.map(([, b]) => b));
  const reader = new ByteReader();
  let i = 0;
  let decoder = rects[0] ? factory(rects[0][0], ctx) : null;
  let waits = 0;
  const points = [...cuts.filter((c) => c > 0 && c < all.length).sort((a, b) => a - b), all.length];
  let prev = 0;
  for (const p of points) {
    reader.append(all.subarray(prev, p));
    prev = p;
    while (decoder) {
      if (!decoder.step(reader)) {
        waits++;
        break;
      }
      i++;
      const next = rects[i];
      decoder = next ? factory(next[0], ctx) : null;
    }
  }
  if (decoder) throw new Error('decoding did not finish');
  if (reader.available !== 0) throw new Error(`${reader.available} bytes left unconsumed`);
  return waits;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

/** RGBA of one framebuffer pixel as 0xRRGGBB. */
export function pixelAt(fb: Framebuffer, x: number, y: number): number {
  const o = (y * fb.width + x) * 4;
  return ((fb.data[o] as number) << 16) | ((fb.data[o + 1] as number) << 8) | (fb.data[o + 2] as number);
}
