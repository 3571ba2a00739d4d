/** The interface every RFB rectangle decoder implements (Raw, CopyRect, RRE, Hextile, ZRLE, Tight...). */
import type { Framebuffer, Rect } from '../../../engine/display/framebuffer.js';
import type { ByteReader } from '../byte-reader.js';
import type { RfbEvent } from '../events.js';
import type { PixelFormat } from '../pixel-format.js';

/** Thrown by decoders on malformed server data; the session ends with UPSTREAM_ERROR (0x0203). */
export class RfbProtocolError extends Error {
  override readonly name = 'RfbProtocolError';
}

/** Per-connection state decoders share (zlib streams persist across rectangles for ZRLE and Tight). */
export interface DecoderState {
  /** Opaque per-encoding state, e.g. inflate streams; created on first use by the decoder module. */
  slots: Map<string, unknown>;
}

export interface DecodeContext {
  fb: Framebuffer;
  /** The pixel format in effect (the one we set with SetPixelFormat). */
  pf: PixelFormat;
  emit(event: RfbEvent): void;
  state: DecoderState;
  /** Upper bound on bytes a decoder may inflate or buffer for one rectangle. */
  maxRectBytes: number;
}

export interface RectDecoder {
  /**
   * Consumes bytes for this rectangle. Returns true when the rectangle is complete, false when it needs
   * more bytes: then it must leave the reader so that the next call (after more bytes arrive) resumes
   * correctly — either by consuming only whole units it has fully processed, or by `save()`/`rewind()`.
   * Throws RfbProtocolError on malformed data.
   */
  step(reader: ByteReader): boolean;
}

/** Creates the decoder for one rectangle; the rectangle is already checked to lie inside the framebuffer. */
export type DecoderFactory = (rect: Rect, ctx: DecodeContext) => RectDecoder;
