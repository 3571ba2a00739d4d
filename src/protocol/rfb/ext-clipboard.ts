/**
 * The Extended Clipboard pseudo-encoding (0xC0A1E5CE), client side, sans-I/O: UTF-8 text both ways.
 *
 * With it, a Client/ServerCutText whose signed length is negative carries |length| bytes: a u32 flags
 * word (bits 0–15 formats, text = bit 0; bits 24–28 actions caps, request, peek, notify, provide), then
 * - caps: a u32 maximum unsolicited size per format bit set (what the sender accepts);
 * - request / peek / notify: nothing (formats asked for / available);
 * - provide: a zlib stream holding, per format bit set, a u32 size and the data. Text is UTF-8 with CRLF
 *   line ends and a terminating NUL.
 * The server announces caps; we answer with ours, then: notify(text) → request(text) → provide; request
 * → provide of our last text; peek → notify. Inflation is bounded (zlib bombs) and text is capped.
 */
import { constants, deflateSync } from 'node:zlib';
import type { ExtendedClipboardHandler } from './clipboard-text.js';
import { InflateStream } from './decoders/inflate.js';
import { RfbProtocolError } from './decoders/types.js';

export const ExtClipboardFlag = {
  Text: 1 << 0,
  Caps: 1 << 24,
  Request: 1 << 25,
  Peek: 1 << 26,
  Notify: 1 << 27,
  Provide: 1 << 28,
} as const;

const FORMAT_MASK = 0xffff;
const ACTIONS = [
  ExtClipboardFlag.Request,
  ExtClipboardFlag.Peek,
  ExtClipboardFlag.Notify,
  ExtClipboardFlag.Provide,
];
const OUR_ACTIONS = ACTIONS.reduce((a, b) => a | b, 0);

export const DEFAULT_MAX_CLIPBOARD_TEXT = 1 << 20;

export interface ExtendedClipboardOptions {
  /** Largest clipboard text accepted or sent, in UTF-8 bytes (default 1 MiB). */
  maxTextBytes?: number;
}

export interface ExtClipboardResult {
  /** Clipboard text the server provided (line ends normalised to \n). */
  text?: string | undefined;
  /** Payloads to send, each as a ClientCutText with a negated length (see encodeExtendedCutText). */
  replies: Uint8Array[];
  /** Set when something was ignored (e.g. text over the size limit): worth a log line. */
  warning?: string | undefined;
}

export class ExtendedClipboard implements ExtendedClipboardHandler {
  private readonly maxText: number;
  private serverFormats = 0;
  private serverActions = 0;
  private serverTextMax = 0;
  private caps = false;
  private localText: string | null = null;

  constructor(options: ExtendedClipboardOptions = {}) {
    this.maxText = Math.max(0, Math.trunc(options.maxTextBytes ?? DEFAULT_MAX_CLIPBOARD_TEXT));
  }

  /** True once the server announced its capabilities including text. */
  get active(): boolean {
    return this.caps && (this.serverFormats & ExtClipboardFlag.Text) !== 0;
  }

  get enabled(): boolean {
    return this.active;
  }

  /** See ExtendedClipboardHandler.legacyFallback: the server takes `provide` but not `notify`. */
  get legacyFallback(): boolean {
    return this.active && (this.serverActions & ExtClipboardFlag.Notify) === 0;
  }

  /** A ServerCutText's payload (the |length| bytes after a negative length). */
  handleServerPayload(payload: Uint8Array): ExtClipboardResult {
    if (payload.length < 4) {
      throw new RfbProtocolError(`extended clipboard message of ${payload.length} bytes lacks its flags`);
    }
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    const flags = view.getUint32(0);
    const formats = flags & FORMAT_MASK;
    if (flags & ExtClipboardFlag.Caps) return this.onCaps(flags, view);
    const actions = ACTIONS.filter((a) => flags & a);
    if (actions.length === 0)
      return { replies: [], warning: `extended clipboard flags 0x${hex(flags)} ignored` };
    if (actions.length > 1) {
      throw new RfbProtocolError(`extended clipboard message with several actions (flags 0x${hex(flags)})`);
    }
    switch (actions[0]) {
      case ExtClipboardFlag.Request:
        return { replies: formats & ExtClipboardFlag.Text ? [this.provide(this.localText ?? '')] : [] };
      case ExtClipboardFlag.Peek:
        return {
          replies: [
            flagsOnly(ExtClipboardFlag.Notify | (this.localText !== null ? ExtClipboardFlag.Text : 0)),
          ],
        };
      case ExtClipboardFlag.Notify:
        return {
          replies:
            formats & ExtClipboardFlag.Text
              ? [flagsOnly(ExtClipboardFlag.Request | ExtClipboardFlag.Text)]
              : [],
        };
      default:
        return this.onProvide(formats, payload.subarray(4));
    }
  }

  /** Local clipboard text: payloads to send (empty until the server's caps arrived). */
  sendText(text: string): Uint8Array[] {
    if (!this.active) return [];
    this.localText = text;
    const size = utf8Payload(text, this.maxText).length;
    if (this.serverActions & ExtClipboardFlag.Provide && size <= this.serverTextMax)
      return [this.provide(text)];
    if (this.serverActions & ExtClipboardFlag.Notify) {
      return [flagsOnly(ExtClipboardFlag.Notify | ExtClipboardFlag.Text)];
    }
    return [];
  }

  private onCaps(flags: number, view: DataView): ExtClipboardResult {
    const formatBits = countBits(flags & FORMAT_MASK);
    if (view.byteLength < 4 + 4 * formatBits) {
      throw new RfbProtocolError(
        `extended clipboard caps list ${formatBits} formats but carry ${view.byteLength - 4} bytes of sizes`,
      );
    }
    this.caps = true;
    this.serverFormats = flags & FORMAT_MASK;
    this.serverActions = flags & OUR_ACTIONS;
    this.serverTextMax = flags & ExtClipboardFlag.Text ? view.getUint32(4) : 0;
    const ours = new Uint8Array(8);
    const v = new DataView(ours.buffer);
    v.setUint32(0, ExtClipboardFlag.Caps | ExtClipboardFlag.Text | OUR_ACTIONS);
    v.setUint32(4, this.maxText);
    return { replies: [ours] };
  }

  private onProvide(formats: number, compressed: Uint8Array): ExtClipboardResult {
    if (!(formats & ExtClipboardFlag.Text)) return { replies: [] };
    // Text is the first format in the stream: its size, then at most maxText bytes are worth inflating.
    const inflater = new InflateStream('extended clipboard');
    const data = inflater.inflateUpTo(compressed, 4 + this.maxText + 1);
    if (data.length < 4)
      throw new RfbProtocolError('extended clipboard provide message ended before its text size');
    const size = new DataView(data.buffer, data.byteOffset, 4).getUint32(0);
    if (size > this.maxText + 1) {
      return {
        replies: [],
        warning: `server clipboard text of ${size} bytes exceeds the ${this.maxText}-byte limit`,
      };
    }
    if (data.length < 4 + size) {
      throw new RfbProtocolError(
        `extended clipboard text of ${size} bytes inflated to only ${data.length - 4}`,
      );
    }
    let bytes = data.subarray(4, 4 + size);
    const nul = bytes.indexOf(0);
    if (nul >= 0) bytes = bytes.subarray(0, nul);
    if (bytes.length > this.maxText) {
      return { replies: [], warning: `server clipboard text exceeds the ${this.maxText}-byte limit` };
    }
    return { text: new TextDecoder('utf-8').decode(bytes).replace(/\r\n/g, '\n'), replies: [] };
  }

  private provide(text: string): Uint8Array {
    const body = utf8Payload(text, this.maxText);
    const record = new Uint8Array(4 + body.length);
    new DataView(record.buffer).setUint32(0, body.length);
    record.set(body, 4);
    // Sync-flushed, not finished: libvncserver (x11vnc) treats Z_STREAM_END inside a record as an inflate
    // error and drops the client; TigerVNC and noVNC read either form.
    const zipped = deflateSync(record, { finishFlush: constants.Z_SYNC_FLUSH });
    const out = new Uint8Array(4 + zipped.length);
    new DataView(out.buffer).setUint32(0, ExtClipboardFlag.Provide | ExtClipboardFlag.Text);
    out.set(zipped, 4);
    return out;
  }
}

/** A full ClientCutText message (type 6, padding, negated length) carrying an extended payload. */
export function encodeExtendedCutText(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + payload.length);
  out[0] = 6;
  new DataView(out.buffer).setInt32(4, -payload.length);
  out.set(payload, 8);
  return out;
}

/** Text as the extended clipboard sends it: CRLF line ends, UTF-8, NUL-terminated, capped at max bytes. */
function utf8Payload(text: string, max: number): Uint8Array {
  const crlf = text.replace(/\r\n/g, '\n').replace(/\n/g, '\r\n');
  const out = new Uint8Array(Math.min(max, crlf.length * 3) + 1);
  const { written } = new TextEncoder().encodeInto(crlf, out.subarray(0, out.length - 1));
  out[written] = 0;
  return out.subarray(0, written + 1);
}

function flagsOnly(flags: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, flags >>> 0);
  return out;
}

function countBits(n: number): number {
  let c = 0;
  for (let v = n; v; v &= v - 1) c++;
  return c;
}

function hex(n: number): string {
  return (n >>> 0).toString(16);
}
