// A reader for X Window Dump files (what `xwd -root -silent` prints): ZPixmap images of 8, 16, 24 or 32 bits
// per pixel, TrueColor/DirectColor through the channel masks, the other visual classes through the colormap
// the dump carries. Output is RGBA, 8 bits a channel, alpha 255.
//
// Layout: a header of 25 big-endian CARD32s (header_size counts the window name after them), then
// ncolors colormap entries of 12 bytes (pixel CARD32, red/green/blue CARD16, flags, pad; big-endian too),
// then height rows of bytes_per_line bytes, pixels in the image's own byte_order (0 = LSB first).

export interface XwdHeader {
  headerSize: number;
  version: number;
  format: number;
  depth: number;
  width: number;
  height: number;
  byteOrder: number;
  bitsPerPixel: number;
  bytesPerLine: number;
  visualClass: number;
  redMask: number;
  greenMask: number;
  blueMask: number;
  ncolors: number;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface RgbaImage {
  width: number;
  height: number;
  /** width * height * 4 bytes, rows top to bottom. */
  data: Uint8Array;
}

const HEADER_FIELDS = 25;
const ZPIXMAP = 2;
const TRUE_COLOR = 4;
const DIRECT_COLOR = 5;

export function parseXwdHeader(buf: Uint8Array): XwdHeader {
  if (buf.length < HEADER_FIELDS * 4) throw new Error(`xwd: ${buf.length} bytes is shorter than the header`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const f = (i: number): number => view.getUint32(i * 4, false);
  const header: XwdHeader = {
    headerSize: f(0),
    version: f(1),
    format: f(2),
    depth: f(3),
    width: f(4),
    height: f(5),
    byteOrder: f(7),
    bitsPerPixel: f(11),
    bytesPerLine: f(12),
    visualClass: f(13),
    redMask: f(14),
    greenMask: f(15),
    blueMask: f(16),
    ncolors: f(19),
  };
  if (header.version !== 7) throw new Error(`xwd: file version ${header.version}, expected 7`);
  if (header.format !== ZPIXMAP)
    throw new Error(`xwd: pixmap format ${header.format}, only ZPixmap (2) is read`);
  if (![8, 16, 24, 32].includes(header.bitsPerPixel)) {
    throw new Error(`xwd: ${header.bitsPerPixel} bits per pixel is not supported (8, 16, 24, 32)`);
  }
  if (header.headerSize < HEADER_FIELDS * 4)
    throw new Error(`xwd: header size ${header.headerSize} too small`);
  if (header.bytesPerLine < (header.width * header.bitsPerPixel) / 8) {
    throw new Error(`xwd: ${header.bytesPerLine} bytes per line cannot hold ${header.width} pixels`);
  }
  return header;
}

/** One colour channel: where it sits in a pixel, and how to widen it to 8 bits. */
interface Channel {
  mask: number;
  shift: number;
  max: number;
}

function channel(mask: number): Channel {
  if (mask === 0) return { mask, shift: 0, max: 1 };
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  return { mask, shift, max: mask >>> shift };
}

function to8(c: Channel, pixel: number): number {
  return Math.round((((pixel & c.mask) >>> c.shift) * 255) / c.max);
}

/** Decodes the whole image, or only `region` of it (which must lie inside the image). */
export function decodeXwd(buf: Uint8Array, region?: Rect): RgbaImage {
  const h = parseXwdHeader(buf);
  const r = region ?? { x: 0, y: 0, width: h.width, height: h.height };
  if (
    r.x < 0 ||
    r.y < 0 ||
    r.width <= 0 ||
    r.height <= 0 ||
    r.x + r.width > h.width ||
    r.y + r.height > h.height
  ) {
    throw new RangeError(`region ${JSON.stringify(r)} is not inside the ${h.width}x${h.height} image`);
  }
  const colormapOffset = h.headerSize;
  const pixelsOffset = colormapOffset + h.ncolors * 12;
  const needed = pixelsOffset + h.bytesPerLine * h.height;
  if (buf.length < needed) throw new Error(`xwd: ${buf.length} bytes, the header promises ${needed}`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);

  const trueColor = h.visualClass === TRUE_COLOR || h.visualClass === DIRECT_COLOR;
  const red = channel(h.redMask);
  const green = channel(h.greenMask);
  const blue = channel(h.blueMask);
  const palette = new Map<number, [number, number, number]>();
  if (!trueColor) {
    for (let i = 0; i < h.ncolors; i++) {
      const o = colormapOffset + i * 12;
      palette.set(view.getUint32(o, false), [
        view.getUint16(o + 4, false) >> 8,
        view.getUint16(o + 6, false) >> 8,
        view.getUint16(o + 8, false) >> 8,
      ]);
    }
  }

  const little = h.byteOrder === 0;
  const bytesPer = h.bitsPerPixel / 8;
  const readPixel = (o: number): number => {
    switch (bytesPer) {
      case 1:
        return buf[o]!;
      case 2:
        return view.getUint16(o, little);
      case 3:
        return little
          ? buf[o]! | (buf[o + 1]! << 8) | (buf[o + 2]! << 16)
          : (buf[o]! << 16) | (buf[o + 1]! << 8) | buf[o + 2]!;
      default:
        return view.getUint32(o, little);
    }
  };

  const out = new Uint8Array(r.width * r.height * 4);
  let d = 0;
  for (let y = r.y; y < r.y + r.height; y++) {
    let o = pixelsOffset + y * h.bytesPerLine + r.x * bytesPer;
    for (let x = 0; x < r.width; x++, o += bytesPer) {
      const p = readPixel(o);
      if (trueColor) {
        out[d++] = to8(red, p);
        out[d++] = to8(green, p);
        out[d++] = to8(blue, p);
      } else {
        const rgb = palette.get(p) ?? [0, 0, 0];
        out[d++] = rgb[0];
        out[d++] = rgb[1];
        out[d++] = rgb[2];
      }
      out[d++] = 255;
    }
  }
  return { width: r.width, height: r.height, data: out };
}
