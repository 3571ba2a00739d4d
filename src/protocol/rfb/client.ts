/**
 * The sans-I/O RFB client: feed it the server's bytes, send what takeOutput() returns, act on the events.
 * Pixel data lands in `framebuffer`; the owner (the VNC engine session) paces update requests. Errors
 * are events (exactly one, then the client ignores further input), never exceptions.
 */
import { Framebuffer, type JpegDecoder, MAX_FRAMEBUFFER_SIDE } from '../../engine/display/framebuffer.js';
import { STATUS } from '../guacamole/status.js';
import { ByteReader } from './byte-reader.js';
import {
  type ClipboardEncoding,
  decodeClipboardText,
  type ExtendedClipboardHandler,
  encodeClipboardText,
  truncateEncoded,
} from './clipboard-text.js';
import { type DecodeContext, type DecoderFactory, RfbProtocolError } from './decoders/types.js';
import { buildEncodingList } from './encodings.js';
import type { RfbEvent } from './events.js';
import { type HandshakePhase, RfbHandshake, RfbStatusError, type ServerInit } from './handshake.js';
import {
  encodeClientCutText,
  encodeClientCutTextExtended,
  encodeFramebufferUpdateRequest,
  encodeKeyEvent,
  encodePointerEvent,
  encodeSetDesktopSize,
  encodeSetEncodings,
  encodeSetPixelFormat,
  type RfbVersion,
  type Screen,
} from './messages.js';
import { type PixelFormat, pixelFormatForDepth } from './pixel-format.js';
import {
  colourMapReader,
  framebufferUpdateReader,
  type MessageReader,
  ServerMessageType,
  serverCutTextReader,
  type UpdateHost,
} from './server-messages.js';

export interface RfbLimits {
  maxWidth: number;
  maxHeight: number;
  /** Longest desktop name / failure reason (bytes). */
  maxNameLength: number;
  /** Longest clipboard text kept, either way (bytes); longer server text is truncated. */
  maxCutTextBytes: number;
  /** Most bytes buffered (or inflated by a decoder) for one rectangle. */
  maxRectBytes: number;
}

export const DEFAULT_RFB_LIMITS: Readonly<RfbLimits> = Object.freeze({
  maxWidth: MAX_FRAMEBUFFER_SIDE,
  maxHeight: MAX_FRAMEBUFFER_SIDE,
  maxNameLength: 4096,
  maxCutTextBytes: 1 << 20,
  maxRectBytes: 64 << 20,
});

export interface RfbClientOptions {
  password?: string | undefined;
  /** Accepted for guacd compatibility; None and VNC Authentication do not use it. */
  username?: string | undefined;
  /** Real encodings in preference order; those without a decoder are dropped, pseudo-encodings added. */
  encodings: number[];
  colorDepth: 8 | 16 | 24 | 32;
  swapRedBlue: boolean;
  readOnly: boolean;
  clipboardEncoding: ClipboardEncoding;
  decoders: Map<number, DecoderFactory>;
  jpegDecoder?: JpegDecoder | undefined;
  limits?: Partial<RfbLimits> | undefined;
  /** Ask for the Cursor pseudo-encoding (default true; false for guacd's `cursor=remote`). */
  cursor?: boolean | undefined;
  /** Tight JPEG quality / compression levels 0..9 (sent only when Tight is requested). */
  qualityLevel?: number | undefined;
  compressLevel?: number | undefined;
  /** The extended clipboard (ext-clipboard.ts); may also be set later with setExtendedClipboard(). */
  extendedClipboard?: ExtendedClipboardHandler | undefined;
  /** ClientInit shared flag (default true). */
  shared?: boolean | undefined;
  /** Non-fatal oddities worth a log line (clipboard text truncated or ignored). */
  onWarning?: ((message: string) => void) | undefined;
}

export type RfbPhase = HandshakePhase | 'connected' | 'failed';

/** Input is appended to the reader in slices of this size, so buffering never exceeds one unit + a slice. */
const FEED_SLICE = 64 * 1024;
/** Above this capacity an emptied reader is replaced, so a burst of large rectangles does not pin memory. */
const TRIM_CAPACITY = 1 << 20;

export class RfbClient {
  private readonly limits: RfbLimits;
  private reader = new ByteReader();
  private readonly fb: Framebuffer;
  private readonly hs: RfbHandshake;
  private readonly ctx: DecodeContext;
  private readonly host: UpdateHost;
  /**
   * The format we decode with; `wirePf` (what we ask for) differs only by swap-red-blue, which, as in
   * guacd, exchanges the channels when decoding (so it also corrects servers that ignore SetPixelFormat).
   */
  private readonly pf: PixelFormat;
  private readonly wirePf: PixelFormat;
  private state: 'handshake' | 'connected' | 'failed' = 'handshake';
  private msg: MessageReader | null = null;
  private events: RfbEvent[] = [];
  private output: Uint8Array[] = [];
  private ext: ExtendedClipboardHandler | undefined;
  private screens: Screen[] | null = null;
  private pendingClipboard: string | null = null;
  private name = '';

  constructor(private readonly options: RfbClientOptions) {
    this.limits = { ...DEFAULT_RFB_LIMITS, ...options.limits };
    this.limits.maxWidth = Math.min(this.limits.maxWidth, MAX_FRAMEBUFFER_SIDE);
    this.limits.maxHeight = Math.min(this.limits.maxHeight, MAX_FRAMEBUFFER_SIDE);
    this.ext = options.extendedClipboard;
    this.fb = new Framebuffer(0, 0, options.jpegDecoder);
    this.wirePf = pixelFormatForDepth(options.colorDepth);
    this.pf = options.swapRedBlue ? swapRedBlue(this.wirePf) : this.wirePf;
    this.hs = new RfbHandshake(
      {
        password: options.password,
        shared: options.shared ?? true,
        maxWidth: this.limits.maxWidth,
        maxHeight: this.limits.maxHeight,
        maxNameLength: this.limits.maxNameLength,
      },
      (b) => this.output.push(b),
    );
    this.ctx = {
      fb: this.fb,
      pf: this.pf,
      emit: (e) => this.events.push(e),
      state: { slots: new Map() },
      maxRectBytes: this.limits.maxRectBytes,
    };
    this.host = {
      ctx: this.ctx,
      decoders: options.decoders,
      maxWidth: this.limits.maxWidth,
      maxHeight: this.limits.maxHeight,
      resize: (w, h) => this.serverResize(w, h),
      setScreens: (s) => {
        this.screens = s;
      },
    };
  }

  /** Where the client is: a handshake step, 'connected', or 'failed' (after an error event). */
  get phase(): RfbPhase {
    return this.state === 'handshake' ? this.hs.phase : this.state;
  }

  get framebuffer(): Framebuffer {
    return this.fb;
  }

  /** The negotiated RFB version (meaningful once past 'protocol-version'). */
  get version(): RfbVersion {
    return this.hs.version;
  }

  /** The security type the handshake chose (1 None, 2 VNC Authentication), or null before. */
  get securityType(): number | null {
    return this.hs.security;
  }

  get desktopName(): string {
    return this.name;
  }

  /** True once the server announced ExtendedDesktopSize, so resize() sends SetDesktopSize. */
  get canResize(): boolean {
    return this.screens !== null;
  }

  /** Bytes currently buffered from the server (for memory-bound checks). */
  get bufferedBytes(): number {
    return this.reader.capacity;
  }

  setExtendedClipboard(handler: ExtendedClipboardHandler | undefined): void {
    this.ext = handler;
  }

  /** Consumes bytes from the server; returns what happened. */
  feed(bytes: Uint8Array): RfbEvent[] {
    try {
      for (let off = 0; off < bytes.length && this.state !== 'failed'; off += FEED_SLICE) {
        this.reader.append(bytes.subarray(off, off + FEED_SLICE));
        this.process();
        if (this.reader.available > this.limits.maxRectBytes) {
          throw new RfbProtocolError(
            `VNC server sent ${this.reader.available} bytes without completing a rectangle ` +
              `(limit ${this.limits.maxRectBytes})`,
          );
        }
      }
      this.trim();
    } catch (err) {
      this.failWith(err);
    }
    const events = this.events;
    this.events = [];
    return events;
  }

  /** Bytes to send to the server (all pending output, concatenated), or null. */
  takeOutput(): Uint8Array | null {
    if (this.output.length === 0) return null;
    const first = this.output[0] as Uint8Array;
    if (this.output.length === 1) {
      this.output = [];
      return first;
    }
    const out = new Uint8Array(this.output.reduce((n, b) => n + b.length, 0));
    let o = 0;
    for (const b of this.output) {
      out.set(b, o);
      o += b.length;
    }
    this.output = [];
    return out;
  }

  /** FramebufferUpdateRequest for the whole screen (the engine decides when). */
  requestUpdate(incremental: boolean): void {
    if (this.state !== 'connected') return;
    this.output.push(encodeFramebufferUpdateRequest(incremental, 0, 0, this.fb.width, this.fb.height));
  }

  key(keysym: number, down: boolean): void {
    if (this.state !== 'connected' || this.options.readOnly) return;
    this.output.push(encodeKeyEvent(keysym, down));
  }

  pointer(x: number, y: number, mask: number): void {
    if (this.state !== 'connected' || this.options.readOnly) return;
    const cx = clamp(x, 0, Math.max(0, this.fb.width - 1));
    const cy = clamp(y, 0, Math.max(0, this.fb.height - 1));
    this.output.push(encodePointerEvent(cx, cy, mask));
  }

  /** Local clipboard text to the server (kept until connected if the handshake is not done). */
  clipboard(text: string): void {
    if (this.options.readOnly || this.state === 'failed') return;
    if (this.state !== 'connected') {
      this.pendingClipboard = text;
      return;
    }
    const ext = this.ext?.active ? this.ext : undefined;
    if (!ext || ext.legacyFallback) {
      const bytes = encodeClipboardText(text, this.options.clipboardEncoding);
      this.output.push(
        encodeClientCutText(
          truncateEncoded(bytes, this.limits.maxCutTextBytes, this.options.clipboardEncoding),
        ),
      );
    }
    if (ext) for (const p of ext.sendText(text)) this.output.push(encodeClientCutTextExtended(p));
  }

  /** SetDesktopSize, only when the server supports ExtendedDesktopSize; otherwise ignored. */
  resize(width: number, height: number): void {
    if (this.state !== 'connected' || this.options.readOnly || this.screens === null) return;
    const w = clamp(width, 1, this.limits.maxWidth);
    const h = clamp(height, 1, this.limits.maxHeight);
    if (w === this.fb.width && h === this.fb.height) return;
    const first = this.screens[0];
    const screen: Screen = { id: first?.id ?? 0, x: 0, y: 0, w, h, flags: first?.flags ?? 0 };
    this.output.push(encodeSetDesktopSize(w, h, [screen]));
  }

  private process(): void {
    for (;;) {
      if (this.state === 'handshake') {
        const init = this.hs.step(this.reader);
        if (!init) return;
        this.onServerInit(init);
        continue;
      }
      if (!this.msg) {
        if (!this.reader.has(1)) return;
        this.msg = this.messageReader(this.reader.u8());
      }
      if (!this.msg.step(this.reader)) return;
      this.msg = null;
    }
  }

  private onServerInit(init: ServerInit): void {
    this.fb.resize(init.width, init.height);
    this.name = init.name;
    const decoders = this.options.decoders;
    const list = buildEncodingList({
      encodings: this.options.encodings.filter((e) => decoders.has(e)),
      cursor: this.options.cursor ?? true,
      extendedClipboard: this.ext !== undefined,
      qualityLevel: this.options.qualityLevel,
      compressLevel: this.options.compressLevel,
    });
    this.output.push(encodeSetPixelFormat(this.wirePf), encodeSetEncodings(list));
    this.output.push(encodeFramebufferUpdateRequest(false, 0, 0, init.width, init.height));
    this.state = 'connected';
    this.events.push({ type: 'ready', width: init.width, height: init.height, name: init.name });
    if (this.pendingClipboard !== null) {
      const text = this.pendingClipboard;
      this.pendingClipboard = null;
      this.clipboard(text);
    }
  }

  private messageReader(type: number): MessageReader {
    switch (type) {
      case ServerMessageType.FramebufferUpdate:
        return framebufferUpdateReader(this.host);
      case ServerMessageType.SetColourMapEntries:
        return colourMapReader();
      case ServerMessageType.Bell:
        return {
          step: () => {
            this.events.push({ type: 'bell' });
            return true;
          },
        };
      case ServerMessageType.ServerCutText:
        return serverCutTextReader({
          maxCutTextBytes: this.limits.maxCutTextBytes,
          onText: (b, total) => {
            if (total > b.length)
              this.warn(`server clipboard text of ${total} bytes truncated to ${b.length}`);
            this.events.push({
              type: 'clipboard',
              text: decodeClipboardText(b, this.options.clipboardEncoding),
            });
          },
          onExtended: this.ext ? (p) => this.onExtendedClipboard(p) : undefined,
          warn: (m) => this.warn(m),
        });
      default:
        throw new RfbProtocolError(`VNC server sent an unknown message type ${type}`);
    }
  }

  private onExtendedClipboard(payload: Uint8Array): void {
    if (!this.ext) return;
    const { text, replies, warning } = this.ext.handleServerPayload(payload);
    if (warning) this.warn(warning);
    if (text !== undefined) this.events.push({ type: 'clipboard', text });
    for (const r of replies) this.output.push(encodeClientCutTextExtended(r));
  }

  private warn(message: string): void {
    this.options.onWarning?.(message);
  }

  private serverResize(w: number, h: number): void {
    if (w > this.limits.maxWidth || h > this.limits.maxHeight) {
      throw new RfbProtocolError(
        `VNC server resized the desktop to ${w}x${h}, beyond the limit ${this.limits.maxWidth}x${this.limits.maxHeight}`,
      );
    }
    if (w === this.fb.width && h === this.fb.height) return;
    this.fb.resize(w, h);
    this.events.push({ type: 'resize', width: w, height: h });
  }

  private failWith(err: unknown): void {
    if (this.state === 'failed') return;
    this.state = 'failed';
    this.msg = null;
    this.reader = new ByteReader();
    let status: number = STATUS.UPSTREAM_ERROR;
    let message: string;
    if (err instanceof RfbStatusError) {
      status = err.status;
      message = err.message;
    } else if (err instanceof RfbProtocolError) {
      message = err.message;
    } else {
      message = `error processing VNC server data: ${err instanceof Error ? err.message : String(err)}`;
    }
    this.events.push({ type: 'error', status, message });
  }

  private trim(): void {
    const r = this.reader;
    if (r.capacity <= TRIM_CAPACITY || r.available > r.capacity / 4) return;
    const fresh = new ByteReader();
    if (r.available > 0) fresh.append(r.bytes(r.available));
    this.reader = fresh;
  }
}

/** The format with red and blue exchanged (guacd's swap-red-blue). */
export function swapRedBlue(pf: PixelFormat): PixelFormat {
  return { ...pf, redMax: pf.blueMax, redShift: pf.blueShift, blueMax: pf.redMax, blueShift: pf.redShift };
}

function clamp(n: number, lo: number, hi: number): number {
  return Number.isFinite(n) ? Math.min(hi, Math.max(lo, Math.trunc(n))) : lo;
}
