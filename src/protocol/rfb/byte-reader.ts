/**
 * A resumable reader over bytes received from an RFB server. The RFB client appends chunks; decoders
 * check `has(n)` before reading and return "need more" otherwise, leaving the reader where it was.
 * Views returned by `bytes()` are valid until the next `append()`.
 */
export class ByteReader {
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private end = 0;
  private mark = 0;

  /** Appends received bytes (copied). Compacts consumed bytes first. */
  append(chunk: Uint8Array): void {
    const live = this.end - this.pos;
    if (this.pos > 0 && live > 0) this.buf.copyWithin(0, this.pos, this.end);
    this.mark -= this.pos;
    this.end = live;
    this.pos = 0;
    if (this.end + chunk.length > this.buf.length) {
      const grown = new Uint8Array(Math.max(this.end + chunk.length, this.buf.length * 2, 4096));
      grown.set(this.buf.subarray(0, this.end));
      this.buf = grown;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  get available(): number {
    return this.end - this.pos;
  }

  has(n: number): boolean {
    return this.end - this.pos >= n;
  }

  /** Remembers the current position so a partial parse can be undone with `rewind()`. */
  save(): void {
    this.mark = this.pos;
  }

  rewind(): void {
    this.pos = this.mark;
  }

  u8(): number {
    return this.buf[this.pos++] as number;
  }

  u16(): number {
    const v = ((this.buf[this.pos] as number) << 8) | (this.buf[this.pos + 1] as number);
    this.pos += 2;
    return v;
  }

  u32(): number {
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return (
      (((b[p] as number) << 24) |
        ((b[p + 1] as number) << 16) |
        ((b[p + 2] as number) << 8) |
        (b[p + 3] as number)) >>>
      0
    );
  }

  s32(): number {
    return this.u32() | 0;
  }

  /** A view of the next n bytes (valid until the next append), consumed. */
  bytes(n: number): Uint8Array {
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  skip(n: number): void {
    this.pos += n;
  }

  /** Byte at offset `off` from the current position, not consumed. */
  peek(off = 0): number {
    return this.buf[this.pos + off] as number;
  }

  /** Bytes held (consumed ones are dropped on the next append). */
  get capacity(): number {
    return this.buf.length;
  }
}
