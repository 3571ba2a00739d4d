/**
 * Readers for the server-to-client messages after the handshake (RFC 6143 §7.6), each resumable: the
 * client consumes the message-type byte, creates the reader and calls step() until it returns true.
 */
import type { Rect } from '../../engine/display/framebuffer.js';
import type { ByteReader } from './byte-reader.js';
import {
  type DecodeContext,
  type DecoderFactory,
  type RectDecoder,
  RfbProtocolError,
} from './decoders/types.js';
import { encodingName, PseudoEncoding } from './encodings.js';
import { cursorDecoder, desktopSizeDecoder, extendedDesktopSizeDecoder, type PseudoHost } from './pseudo.js';

export const ServerMessageType = {
  FramebufferUpdate: 0,
  SetColourMapEntries: 1,
  Bell: 2,
  ServerCutText: 3,
} as const;

export interface MessageReader {
  step(reader: ByteReader): boolean;
}

export interface UpdateHost extends PseudoHost {
  ctx: DecodeContext;
  decoders: ReadonlyMap<number, DecoderFactory>;
}

type PseudoFactory = (rect: Rect, ctx: DecodeContext, host: PseudoHost) => RectDecoder;

const PSEUDO: ReadonlyMap<number, PseudoFactory> = new Map([
  [PseudoEncoding.Cursor, cursorDecoder],
  [PseudoEncoding.DesktopSize, desktopSizeDecoder],
  [PseudoEncoding.ExtendedDesktopSize, extendedDesktopSizeDecoder],
]);

/** FramebufferUpdate: padding, rectangle count, then rectangles (a LastRect ends it early). */
export function framebufferUpdateReader(host: UpdateHost): MessageReader {
  let remaining = -1;
  let decoder: RectDecoder | null = null;
  return {
    step(reader: ByteReader): boolean {
      if (remaining < 0) {
        if (!reader.has(3)) return false;
        reader.skip(1);
        remaining = reader.u16();
        host.ctx.emit({ type: 'frame-start' });
      }
      for (;;) {
        if (decoder) {
          if (!decoder.step(reader)) return false;
          decoder = null;
          remaining--;
        }
        if (remaining === 0) break;
        if (!reader.has(12)) return false;
        const rect = { x: reader.u16(), y: reader.u16(), w: reader.u16(), h: reader.u16() };
        const encoding = reader.s32();
        if (encoding === PseudoEncoding.LastRect) break;
        decoder = createDecoder(host, rect, encoding);
      }
      host.ctx.emit({ type: 'frame-end' });
      return true;
    },
  };
}

function createDecoder(host: UpdateHost, rect: Rect, encoding: number): RectDecoder {
  const pseudo = PSEUDO.get(encoding);
  if (pseudo) return pseudo(rect, host.ctx, host);
  const factory = host.decoders.get(encoding);
  if (!factory) {
    throw new RfbProtocolError(
      `VNC server sent a rectangle in ${encodingName(encoding)}, which was not requested`,
    );
  }
  const fb = host.ctx.fb;
  if (!fb.inBounds(rect)) {
    throw new RfbProtocolError(
      `rectangle ${rect.w}x${rect.h}+${rect.x}+${rect.y} (${encodingName(encoding)}) lies outside the ` +
        `${fb.width}x${fb.height} framebuffer`,
    );
  }
  return factory(rect, host.ctx);
}

/** SetColourMapEntries: we always ask for true colour, so the entries are read and ignored. */
export function colourMapReader(): MessageReader {
  let remaining = -1;
  return {
    step(reader: ByteReader): boolean {
      if (remaining < 0) {
        if (!reader.has(5)) return false;
        reader.skip(3);
        remaining = reader.u16() * 6;
      }
      const n = Math.min(remaining, reader.available);
      reader.skip(n);
      remaining -= n;
      return remaining === 0;
    },
  };
}

export interface CutTextHost {
  maxCutTextBytes: number;
  /** Standard ServerCutText bytes (truncated to maxCutTextBytes) and the length the server sent. */
  onText(bytes: Uint8Array, total: number): void;
  /** Extended-clipboard payload (negative length); undefined when the extension is not in use. */
  onExtended: ((payload: Uint8Array) => void) | undefined;
  warn(message: string): void;
}

/**
 * ServerCutText: padding, signed length, text. Text longer than maxCutTextBytes is truncated (the rest
 * is skipped as it arrives, never buffered); an extended-clipboard payload that is too long, or that
 * arrives when the extension is not in use, is skipped whole.
 */
export function serverCutTextReader(host: CutTextHost): MessageReader {
  let skip = -1;
  let kept: Uint8Array | null = null;
  let filled = 0;
  let extended = false;
  let total = 0;
  return {
    step(reader: ByteReader): boolean {
      if (skip < 0) {
        if (!reader.has(7)) return false;
        reader.skip(3);
        const length = reader.s32();
        extended = length < 0;
        const size = Math.abs(length);
        total = size;
        const keep = extended
          ? host.onExtended && size <= host.maxCutTextBytes
            ? size
            : 0
          : Math.min(size, host.maxCutTextBytes);
        kept = new Uint8Array(keep);
        skip = size - keep;
      }
      const buf = kept as Uint8Array;
      if (filled < buf.length) {
        const n = Math.min(buf.length - filled, reader.available);
        buf.set(reader.bytes(n), filled);
        filled += n;
        if (filled < buf.length) return false;
      }
      const n = Math.min(skip, reader.available);
      reader.skip(n);
      skip -= n;
      if (skip > 0) return false;
      if (!extended) host.onText(buf, total);
      else if (buf.length > 0) host.onExtended?.(buf);
      else if (host.onExtended) host.warn(`extended clipboard message of ${total} bytes skipped (too long)`);
      return true;
    },
  };
}
