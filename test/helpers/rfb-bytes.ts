/** Builders for RFB server byte streams in tests (hand-built from RFC 6143, not captured). */

import { RfbClient, type RfbClientOptions } from '../../src/protocol/rfb/client.js';
import { coreDecoders } from '../../src/protocol/rfb/decoders/core.js';
import type { RfbEvent } from '../../src/protocol/rfb/events.js';
import { encodePixelFormat, pixelFormatForDepth } from '../../src/protocol/rfb/pixel-format.js';

export function concat(...parts: (Uint8Array | number[])[]): Uint8Array {
  const arrays = parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of arrays) {
    out.set(a, o);
    o += a.length;
  }
  return out;
}

export const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

export function u16(n: number): number[] {
  return [(n >> 8) & 0xff, n & 0xff];
}

export function u32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

/** A pixel in Gatehouse's 32-bpp format (little-endian, red at shift 16): bytes B G R 0. */
export function px32(rgb: number): number[] {
  return [rgb & 0xff, (rgb >> 8) & 0xff, (rgb >> 16) & 0xff, 0];
}

/** A length-prefixed string (u32 length). */
export function str32(s: string): Uint8Array {
  const b = new TextEncoder().encode(s);
  return concat(u32(b.length), b);
}

/** ServerInit with the server's native format = our 32-bpp format. */
export function serverInit(width: number, height: number, name = 'test desktop'): Uint8Array {
  return concat(u16(width), u16(height), encodePixelFormat(pixelFormatForDepth(32)), str32(name));
}

/** Handshake bytes of an RFB 3.8 server offering only None. */
export function handshake38(width = 64, height = 48, name = 'test desktop'): Uint8Array {
  return concat(ascii('RFB 003.008\n'), [1, 1], u32(0), serverInit(width, height, name));
}

export interface TestRect {
  x: number;
  y: number;
  w: number;
  h: number;
  encoding: number;
  data?: Uint8Array | number[];
}

export function rectHeader(r: TestRect): number[] {
  return [...u16(r.x), ...u16(r.y), ...u16(r.w), ...u16(r.h), ...u32(r.encoding >>> 0)];
}

/** A FramebufferUpdate message with these rectangles (count may be overridden, e.g. 0xffff for LastRect). */
export function fbUpdate(rects: TestRect[], count = rects.length): Uint8Array {
  return concat([0, 0, ...u16(count)], ...rects.flatMap((r) => [rectHeader(r), r.data ?? []]));
}

export function rawData(w: number, h: number, colour: (x: number, y: number) => number): number[] {
  const out: number[] = [];
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out.push(...px32(colour(x, y)));
  return out;
}

export function testClient(overrides: Partial<RfbClientOptions> = {}): RfbClient {
  return new RfbClient({
    encodings: [16, 5, 2, 1, 0],
    colorDepth: 24,
    swapRedBlue: false,
    readOnly: false,
    clipboardEncoding: 'ISO8859-1',
    decoders: coreDecoders(),
    ...overrides,
  });
}

/** A client already past a 3.8/None handshake of a width×height desktop (its output drained). */
export function connectedClient(
  width = 64,
  height = 48,
  overrides: Partial<RfbClientOptions> = {},
): RfbClient {
  const c = testClient(overrides);
  const ev = c.feed(handshake38(width, height));
  if (ev.length !== 1 || ev[0]?.type !== 'ready') throw new Error(`handshake failed: ${JSON.stringify(ev)}`);
  c.takeOutput();
  return c;
}

/** Feeds `bytes` in chunks ending at the given offsets (plus the end); returns all events. */
export function feedSplit(c: RfbClient, bytes: Uint8Array, cuts: number[]): RfbEvent[] {
  const events: RfbEvent[] = [];
  let prev = 0;
  for (const cut of [...cuts, bytes.length]) {
    events.push(...c.feed(bytes.subarray(prev, cut)));
    prev = cut;
  }
  return events;
}

/** The RGB of the framebuffer pixel at (x, y). */
export function pixelAt(c: RfbClient, x: number, y: number): number {
  const fb = c.framebuffer;
  const o = (y * fb.width + x) * 4;
  return ((fb.data[o] as number) << 16) | ((fb.data[o + 1] as number) << 8) | (fb.data[o + 2] as number);
}

export function errorsOf(events: RfbEvent[]): Extract<RfbEvent, { type: 'error' }>[] {
  return events.filter((e): e is Extract<RfbEvent, { type: 'error' }> => e.type === 'error');
}
