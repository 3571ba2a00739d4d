/**
 * ServerCutText / ClientCutText text per guacd's `clipboard-encoding` (ISO8859-1 is the RFB standard;
 * UTF-8, UTF-16 (little-endian, no BOM) and CP1252 are what some servers use instead), and the hook
 * through which the extended clipboard (UTF-8, negative lengths) plugs into the client.
 */

export type ClipboardEncoding = 'ISO8859-1' | 'UTF-8' | 'UTF-16' | 'CP1252';

export const CLIPBOARD_ENCODINGS: readonly ClipboardEncoding[] = ['ISO8859-1', 'UTF-8', 'UTF-16', 'CP1252'];

/** What replaces a character the target encoding cannot represent. */
const REPLACEMENT = 0x3f; // '?'

/** Windows-1252 bytes 0x80..0x9F (0 where the code page leaves the byte undefined). */
const CP1252_HIGH = [
  0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0,
  0x017d, 0, 0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a,
  0x0153, 0, 0x017e, 0x0178,
];

const CP1252_REVERSE = new Map<number, number>(
  CP1252_HIGH.flatMap((cp, i) => (cp === 0 ? [] : [[cp, 0x80 + i] as [number, number]])),
);

export function decodeClipboardText(bytes: Uint8Array, encoding: ClipboardEncoding): string {
  switch (encoding) {
    case 'UTF-8':
      return new TextDecoder('utf-8').decode(bytes);
    case 'UTF-16':
      return new TextDecoder('utf-16le').decode(bytes);
    case 'CP1252':
      return singleByteDecode(bytes, (b) => (b >= 0x80 && b < 0xa0 ? CP1252_HIGH[b - 0x80] || b : b));
    default:
      return singleByteDecode(bytes, (b) => b);
  }
}

function singleByteDecode(bytes: Uint8Array, map: (b: number) => number): string {
  let out = '';
  const CHUNK = 8192;
  for (let i = 0; i < bytes.length; i += CHUNK) {
    const codes = Array.from(bytes.subarray(i, i + CHUNK), map);
    out += String.fromCharCode(...codes);
  }
  return out;
}

/** Encodes text; characters the encoding lacks become '?' (one per code point). */
export function encodeClipboardText(text: string, encoding: ClipboardEncoding): Uint8Array {
  switch (encoding) {
    case 'UTF-8':
      return new TextEncoder().encode(text);
    case 'UTF-16': {
      const out = new Uint8Array(text.length * 2);
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        out[2 * i] = c & 0xff;
        out[2 * i + 1] = c >> 8;
      }
      return out;
    }
    case 'CP1252':
      return singleByteEncode(text, (cp) =>
        cp < 0x80 || (cp >= 0xa0 && cp <= 0xff) ? cp : (CP1252_REVERSE.get(cp) ?? REPLACEMENT),
      );
    default:
      return singleByteEncode(text, (cp) => (cp <= 0xff ? cp : REPLACEMENT));
  }
}

function singleByteEncode(text: string, map: (codePoint: number) => number): Uint8Array {
  const out: number[] = [];
  for (const ch of text) out.push(map(ch.codePointAt(0) as number));
  return Uint8Array.from(out);
}

/** Cuts encoded text to `max` bytes without splitting a UTF-8 sequence or a UTF-16 unit. */
export function truncateEncoded(bytes: Uint8Array, max: number, encoding: ClipboardEncoding): Uint8Array {
  if (bytes.length <= max) return bytes;
  let end = max;
  if (encoding === 'UTF-8') while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
  if (encoding === 'UTF-16') end -= end % 2;
  return bytes.subarray(0, end);
}

/**
 * The extended clipboard (ExtendedClipboard pseudo-encoding) as the client sees it. The module in
 * ext-clipboard.ts implements it; the client only routes bytes.
 */
export interface ExtendedClipboardHandler {
  /**
   * A ServerCutText whose length was negative: its |length| payload bytes (flags word first). Returns the
   * clipboard text it carried, if any, and payloads to send back (each sent as a ClientCutText with a
   * negated length). Throws RfbProtocolError on malformed data.
   */
  handleServerPayload(payload: Uint8Array): {
    text?: string | undefined;
    replies: Uint8Array[];
    /** Something ignored that is worth a log line (passed to the client's onWarning). */
    warning?: string | undefined;
  };
  /** True once the server's capabilities arrived: local clipboard text then goes through sendText(). */
  readonly active: boolean;
  /** Local clipboard text: payloads to send (ClientCutText with negated length). */
  sendText(text: string): Uint8Array[];
  /**
   * True when local text should also go as a classic ClientCutText before the extended messages: servers
   * built on libvncserver (x11vnc) announce the extension without the notify action and accept `provide`,
   * yet do not hand its UTF-8 text to the application, so only the classic message reaches the X clipboard.
   */
  readonly legacyFallback: boolean;
}
