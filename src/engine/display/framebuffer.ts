/**
 * The engine's copy of the remote screen: RGBA8888, row stride width * 4, alpha always 255.
 *
 * RFB decoders write into it; the display encoder reads regions from it to build images. JPEG rectangles
 * (Tight) are sent to the browser as they came and only *registered* here as pending: their pixels are
 * decoded into the buffer lazily, when something needs them — a write that partly overlaps them, a
 * CopyRect that reads them, or the encoder reading an overlapping region (`materialize`). A later write
 * that fully covers a pending JPEG simply drops it, so a stream of JPEG frames is never decoded.
 */
export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Decodes a JPEG into RGBA8888 of exactly w×h (synchronously). Injected to keep this module small. */
export type JpegDecoder = (data: Uint8Array, w: number, h: number) => Uint8Array;

interface PendingJpeg extends Rect {
  data: Uint8Array;
}

export const MAX_FRAMEBUFFER_SIDE = 8192;

export function intersects(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

export function contains(outer: Rect, inner: Rect): boolean {
  return (
    inner.x >= outer.x &&
    inner.y >= outer.y &&
    inner.x + inner.w <= outer.x + outer.w &&
    inner.y + inner.h <= outer.y + outer.h
  );
}

export class Framebuffer {
  width = 0;
  height = 0;
  data: Uint8Array = new Uint8Array(0);
  private pending: PendingJpeg[] = [];

  constructor(
    width: number,
    height: number,
    private readonly decodeJpeg?: JpegDecoder,
  ) {
    this.resize(width, height);
  }

  /** Resizes (contents cleared to opaque black). Throws RangeError beyond MAX_FRAMEBUFFER_SIDE. */
  resize(width: number, height: number): void {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
      throw new RangeError(`invalid framebuffer size ${width}x${height}`);
    }
    if (width > MAX_FRAMEBUFFER_SIDE || height > MAX_FRAMEBUFFER_SIDE) {
      throw new RangeError(
        `framebuffer ${width}x${height} exceeds ${MAX_FRAMEBUFFER_SIDE}x${MAX_FRAMEBUFFER_SIDE}`,
      );
    }
    this.width = width;
    this.height = height;
    this.data = new Uint8Array(width * height * 4);
    for (let i = 3; i < this.data.length; i += 4) this.data[i] = 255;
    this.pending = [];
  }

  /** True if the rectangle lies inside the framebuffer (empty rectangles included). */
  inBounds(r: Rect): boolean {
    return (
      r.x >= 0 && r.y >= 0 && r.w >= 0 && r.h >= 0 && r.x + r.w <= this.width && r.y + r.h <= this.height
    );
  }

  /** Fills with one colour given as 0xRRGGBB. */
  fill(r: Rect, rgb: number): void {
    this.beforeWrite(r);
    const red = (rgb >>> 16) & 0xff;
    const green = (rgb >>> 8) & 0xff;
    const blue = rgb & 0xff;
    const d = this.data;
    const stride = this.width * 4;
    for (let y = r.y; y < r.y + r.h; y++) {
      let o = y * stride + r.x * 4;
      for (let x = 0; x < r.w; x++, o += 4) {
        d[o] = red;
        d[o + 1] = green;
        d[o + 2] = blue;
        d[o + 3] = 255;
      }
    }
  }

  /** Writes w×h RGBA pixels (row stride w*4). */
  put(r: Rect, rgba: Uint8Array): void {
    this.beforeWrite(r);
    this.writeRaw(r, rgba);
  }

  private writeRaw(r: Rect, rgba: Uint8Array): void {
    const stride = this.width * 4;
    const row = r.w * 4;
    for (let y = 0; y < r.h; y++) {
      this.data.set(rgba.subarray(y * row, y * row + row), (r.y + y) * stride + r.x * 4);
    }
  }

  /** CopyRect: copies the w×h area at (sx, sy) to r (overlap-safe). */
  copy(sx: number, sy: number, r: Rect): void {
    this.materialize({ x: sx, y: sy, w: r.w, h: r.h });
    this.beforeWrite(r);
    const stride = this.width * 4;
    const row = r.w * 4;
    const down = r.y > sy; // copy bottom-up when moving down, so overlapping rows are read before written
    for (let i = 0; i < r.h; i++) {
      const y = down ? r.h - 1 - i : i;
      const src = (sy + y) * stride + sx * 4;
      this.data.copyWithin((r.y + y) * stride + r.x * 4, src, src + row);
    }
  }

  /**
   * A copy of the region's pixels (RGBA, stride w*4), pending JPEGs decoded first; written into `out`
   * (exactly w*h*4 bytes) if given.
   */
  read(r: Rect, out: Uint8Array = new Uint8Array(r.w * r.h * 4)): Uint8Array {
    if (out.length !== r.w * r.h * 4)
      throw new RangeError(`read buffer is ${out.length} bytes, need ${r.w * r.h * 4}`);
    this.materialize(r);
    const stride = this.width * 4;
    const row = r.w * 4;
    for (let y = 0; y < r.h; y++) {
      const src = (r.y + y) * stride + r.x * 4;
      out.set(this.data.subarray(src, src + row), y * row);
    }
    return out;
  }

  /** Registers a JPEG rectangle whose pixels are not decoded yet (see the module comment). */
  addPendingJpeg(r: Rect, data: Uint8Array): void {
    this.beforeWrite(r);
    this.pending.push({ ...r, data: data.slice() });
  }

  get pendingJpegs(): number {
    return this.pending.length;
  }

  /** Decodes, in arrival order, every pending JPEG that overlaps r. */
  materialize(r: Rect): void {
    if (this.pending.length === 0) return;
    const keep: PendingJpeg[] = [];
    const todo: PendingJpeg[] = [];
    for (const p of this.pending) (intersects(p, r) ? todo : keep).push(p);
    if (todo.length === 0) return;
    this.pending = keep;
    for (const p of todo) {
      if (!this.decodeJpeg) throw new Error('framebuffer has pending JPEG data but no JPEG decoder');
      // Pending JPEGs are pairwise disjoint (addPendingJpeg resolves overlaps), so a raw write is safe.
      this.writeRaw(p, this.decodeJpeg(p.data, p.w, p.h));
    }
  }

  /** Before pixels in r change: drop pending JPEGs r fully covers, decode those it partly covers. */
  private beforeWrite(r: Rect): void {
    if (this.pending.length === 0) return;
    this.pending = this.pending.filter((p) => !contains(r, p));
    this.materialize(r);
  }
}
