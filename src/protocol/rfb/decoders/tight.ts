/**
 * Tight (encoding 7). A compression-control byte (low four bits: zlib streams to reset; high four bits:
 * fill, JPEG, or basic compression on stream 0..3 with an optional filter id), then:
 * - fill: one TPIXEL for the whole rectangle ('fill' event);
 * - JPEG: a compact length and a JFIF image, registered in the framebuffer undecoded ('jpeg' event);
 * - basic: for the palette filter a palette, then the filtered pixel data (copy, palette indices or
 *   gradient residues) — sent as is when shorter than 12 bytes, else as a compact length and zlib data
 *   that must inflate to exactly the expected size.
 * The decoder parses with peek() until the whole rectangle has arrived, so partial data consumes nothing.
 */
import type { Rect } from '../../../engine/display/framebuffer.js';
import type { ByteReader } from '../byte-reader.js';
import { tpixelBytes, tpixelConverter } from './compact-pixels.js';
import { inflateStreams } from './inflate.js';
import { type TightPixels, writeTightPixels } from './tight-filters.js';
import { type DecodeContext, type DecoderFactory, type RectDecoder, RfbProtocolError } from './types.js';

const FILL = 0x8;
const JPEG = 0x9;
const FILTER_COPY = 0;
const FILTER_PALETTE = 1;
const FILTER_GRADIENT = 2;
/** Filtered data shorter than this is sent uncompressed. */
const MIN_TO_COMPRESS = 12;

/** A parsed header: byte offsets in the reader and what follows; null fields mean "need more bytes". */
interface Layout {
  /** Bytes from the control byte to the start of the payload (filter id, palette, length included). */
  headerBytes: number;
  /** Payload bytes after the header. */
  payloadBytes: number;
  paletteOffset: number;
  paletteSize: number;
  filter: number;
  /** Inflated size for basic compression with zlib, 0 when the payload is raw. */
  inflatedSize: number;
}

export const tightDecoder: DecoderFactory = (rect: Rect, ctx: DecodeContext): RectDecoder => ({
  step(reader: ByteReader): boolean {
    if (!reader.has(1)) return false;
    const control = reader.peek(0);
    const kind = control >> 4;
    const tpp = tpixelBytes(ctx.pf);
    let layout: Layout | null;
    if (kind === FILL) layout = { ...NO_FILTER, headerBytes: 1, payloadBytes: tpp };
    else if (kind === JPEG) layout = jpegLayout(reader, ctx);
    else if (kind & 0x8) {
      throw new RfbProtocolError(`Tight compression control 0x${control.toString(16)} is invalid`);
    } else layout = basicLayout(reader, rect, ctx, tpp);
    if (!layout || !reader.has(layout.headerBytes + layout.payloadBytes)) return false;

    const streams = inflateStreams(ctx, 'tight', 4, 'Tight');
    for (let i = 0; i < 4; i++) if (control & (1 << i)) streams[i]?.reset();

    const header = reader.bytes(layout.headerBytes);
    const payload = reader.bytes(layout.payloadBytes);
    if (rect.w === 0 || rect.h === 0) return true;
    const conv = tpixelConverter(ctx.pf);
    if (kind === FILL) {
      const rgb = conv.rgbAt(payload, 0);
      ctx.fb.fill(rect, rgb);
      ctx.emit({ type: 'fill', rect: { ...rect }, rgb });
      return true;
    }
    if (kind === JPEG) {
      const data = payload.slice();
      ctx.fb.addPendingJpeg(rect, data);
      ctx.emit({ type: 'jpeg', rect: { ...rect }, data });
      return true;
    }
    const stream = streams[kind & 3];
    const data =
      layout.inflatedSize > 0 && stream ? stream.inflateExact(payload, layout.inflatedSize) : payload;
    const px: TightPixels = {
      rect,
      ctx,
      conv,
      filter: layout.filter,
      palette: header.subarray(layout.paletteOffset, layout.paletteOffset + layout.paletteSize * tpp),
      paletteSize: layout.paletteSize,
      data,
    };
    writeTightPixels(px);
    ctx.emit({ type: 'update', rect: { ...rect } });
    return true;
  },
});

const NO_FILTER = { paletteOffset: 0, paletteSize: 0, filter: FILTER_COPY, inflatedSize: 0 };

function jpegLayout(reader: ByteReader, ctx: DecodeContext): Layout | null {
  const len = compactLength(reader, 1);
  if (!len) return null;
  if (len.value === 0) throw new RfbProtocolError('Tight JPEG rectangle with no data');
  checkLimit(len.value, ctx, 'Tight JPEG data');
  return { ...NO_FILTER, headerBytes: 1 + len.bytes, payloadBytes: len.value };
}

function basicLayout(reader: ByteReader, rect: Rect, ctx: DecodeContext, tpp: number): Layout | null {
  let off = 1;
  let filter = FILTER_COPY;
  if (reader.peek(0) & 0x40) {
    if (!reader.has(2)) return null;
    filter = reader.peek(off++);
  }
  let paletteOffset = 0;
  let paletteSize = 0;
  let dataSize: number;
  switch (filter) {
    case FILTER_COPY:
      dataSize = rect.w * rect.h * tpp;
      break;
    case FILTER_PALETTE:
      if (!reader.has(off + 1)) return null;
      paletteSize = reader.peek(off++) + 1;
      if (paletteSize < 2) throw new RfbProtocolError('Tight palette of a single colour is invalid');
      paletteOffset = off;
      off += paletteSize * tpp;
      dataSize = (paletteSize === 2 ? Math.ceil(rect.w / 8) : rect.w) * rect.h;
      break;
    case FILTER_GRADIENT:
      if (ctx.pf.bitsPerPixel === 8)
        throw new RfbProtocolError('Tight gradient filter with 8 bits per pixel');
      dataSize = rect.w * rect.h * tpp;
      break;
    default:
      throw new RfbProtocolError(`Tight filter id ${filter} is invalid`);
  }
  checkLimit(dataSize, ctx, 'Tight rectangle data');
  if (dataSize < MIN_TO_COMPRESS) {
    return { headerBytes: off, payloadBytes: dataSize, paletteOffset, paletteSize, filter, inflatedSize: 0 };
  }
  if (!reader.has(off)) return null;
  const len = compactLength(reader, off);
  if (!len) return null;
  checkLimit(len.value, ctx, 'Tight zlib data');
  return {
    headerBytes: off + len.bytes,
    payloadBytes: len.value,
    paletteOffset,
    paletteSize,
    filter,
    inflatedSize: dataSize,
  };
}

/** Tight's compact length (1–3 bytes, 7+7+8 bits, least significant first) at `off`, peeked. */
export function compactLength(reader: ByteReader, off: number): { value: number; bytes: number } | null {
  if (!reader.has(off + 1)) return null;
  const b0 = reader.peek(off);
  if (!(b0 & 0x80)) return { value: b0, bytes: 1 };
  if (!reader.has(off + 2)) return null;
  const b1 = reader.peek(off + 1);
  if (!(b1 & 0x80)) return { value: (b0 & 0x7f) | (b1 << 7), bytes: 2 };
  if (!reader.has(off + 3)) return null;
  return { value: (b0 & 0x7f) | ((b1 & 0x7f) << 7) | (reader.peek(off + 2) << 14), bytes: 3 };
}

function checkLimit(n: number, ctx: DecodeContext, what: string): void {
  if (n > ctx.maxRectBytes)
    throw new RfbProtocolError(`${what} of ${n} bytes exceeds the limit of ${ctx.maxRectBytes}`);
}
