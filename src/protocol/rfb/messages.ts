/** Client-to-server RFB messages (RFC 6143 §7.1, §7.5; ExtendedDesktopSize's SetDesktopSize). */
import { encodePixelFormat, type PixelFormat } from './pixel-format.js';

export type RfbVersion = '3.3' | '3.7' | '3.8';

export const ClientMessageType = {
  SetPixelFormat: 0,
  SetEncodings: 2,
  FramebufferUpdateRequest: 3,
  KeyEvent: 4,
  PointerEvent: 5,
  ClientCutText: 6,
  SetDesktopSize: 251,
} as const;

/** "RFB 003.00x\n" (12 bytes). */
export function encodeProtocolVersion(version: RfbVersion): Uint8Array {
  const minor = version === '3.3' ? 3 : version === '3.7' ? 7 : 8;
  return new TextEncoder().encode(`RFB 003.00${minor}\n`);
}

/** ClientInit: the shared-flag byte (true: leave other clients connected). */
export function encodeClientInit(shared: boolean): Uint8Array {
  return Uint8Array.of(shared ? 1 : 0);
}

export function encodeSetPixelFormat(pf: PixelFormat): Uint8Array {
  const b = new Uint8Array(20);
  b[0] = ClientMessageType.SetPixelFormat;
  b.set(encodePixelFormat(pf), 4);
  return b;
}

/** SetEncodings; values are signed 32-bit encoding numbers, in preference order. */
export function encodeSetEncodings(encodings: readonly number[]): Uint8Array {
  if (encodings.length > 0xffff) throw new RangeError(`too many encodings (${encodings.length})`);
  const b = new Uint8Array(4 + 4 * encodings.length);
  const v = new DataView(b.buffer);
  b[0] = ClientMessageType.SetEncodings;
  v.setUint16(2, encodings.length);
  encodings.forEach((e, i) => {
    v.setInt32(4 + 4 * i, e | 0);
  });
  return b;
}

export function encodeFramebufferUpdateRequest(
  incremental: boolean,
  x: number,
  y: number,
  w: number,
  h: number,
): Uint8Array {
  const b = new Uint8Array(10);
  const v = new DataView(b.buffer);
  b[0] = ClientMessageType.FramebufferUpdateRequest;
  b[1] = incremental ? 1 : 0;
  v.setUint16(2, u16(x));
  v.setUint16(4, u16(y));
  v.setUint16(6, u16(w));
  v.setUint16(8, u16(h));
  return b;
}

/** KeyEvent: an X11 keysym, pressed or released. */
export function encodeKeyEvent(keysym: number, down: boolean): Uint8Array {
  const b = new Uint8Array(8);
  b[0] = ClientMessageType.KeyEvent;
  b[1] = down ? 1 : 0;
  new DataView(b.buffer).setUint32(4, keysym >>> 0);
  return b;
}

/** PointerEvent: button mask (bit 0 = left ... bit 4 = wheel down) and position, clamped to 0..65535. */
export function encodePointerEvent(x: number, y: number, mask: number): Uint8Array {
  const b = new Uint8Array(6);
  const v = new DataView(b.buffer);
  b[0] = ClientMessageType.PointerEvent;
  b[1] = mask & 0xff;
  v.setUint16(2, u16(x));
  v.setUint16(4, u16(y));
  return b;
}

/** ClientCutText with already-encoded text bytes (Latin-1 unless the clipboard-encoding says otherwise). */
export function encodeClientCutText(text: Uint8Array): Uint8Array {
  const b = new Uint8Array(8 + text.length);
  b[0] = ClientMessageType.ClientCutText;
  new DataView(b.buffer).setUint32(4, text.length);
  b.set(text, 8);
  return b;
}

/** ClientCutText carrying an extended-clipboard payload: the length is sent negated. */
export function encodeClientCutTextExtended(payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(8 + payload.length);
  b[0] = ClientMessageType.ClientCutText;
  new DataView(b.buffer).setInt32(4, -payload.length);
  b.set(payload, 8);
  return b;
}

/** One screen of an ExtendedDesktopSize layout. */
export interface Screen {
  id: number;
  x: number;
  y: number;
  w: number;
  h: number;
  flags: number;
}

/** SetDesktopSize (message 251) with the given screen layout (at least one screen, at most 255). */
export function encodeSetDesktopSize(width: number, height: number, screens: readonly Screen[]): Uint8Array {
  if (screens.length === 0 || screens.length > 255) {
    throw new RangeError(`SetDesktopSize needs 1..255 screens, got ${screens.length}`);
  }
  const b = new Uint8Array(8 + 16 * screens.length);
  const v = new DataView(b.buffer);
  b[0] = ClientMessageType.SetDesktopSize;
  v.setUint16(2, u16(width));
  v.setUint16(4, u16(height));
  b[6] = screens.length;
  screens.forEach((s, i) => {
    const o = 8 + 16 * i;
    v.setUint32(o, s.id >>> 0);
    v.setUint16(o + 4, u16(s.x));
    v.setUint16(o + 6, u16(s.y));
    v.setUint16(o + 8, u16(s.w));
    v.setUint16(o + 10, u16(s.h));
    v.setUint32(o + 12, s.flags >>> 0);
  });
  return b;
}

function u16(n: number): number {
  return Number.isFinite(n) ? Math.min(0xffff, Math.max(0, Math.trunc(n))) : 0;
}
