/**
 * Persistent, synchronous zlib inflate streams for RFB (ZRLE has one per connection, Tight four, the
 * extended clipboard a fresh one per message), on pako's low-level API so that output goes straight into
 * buffers we size: nothing is ever inflated beyond the bound the caller gives, so a decompression bomb
 * costs at most that bound in memory and the time to produce it.
 *
 * Servers end each rectangle's compressed data at a Z_SYNC_FLUSH point: all of it inflates now, and the
 * stream's state (window, position) carries over to the next rectangle.
 */
import {
  Z_BUF_ERROR,
  Z_OK,
  Z_STREAM_END,
  Z_SYNC_FLUSH,
  ZStream,
  zlibInflate,
  zlibInflateInit,
  zlibInflateReset,
} from 'pako';
import { type DecodeContext, RfbProtocolError } from './types.js';

const EMPTY: Uint8Array<ArrayBuffer> = new Uint8Array(0);
/** First output buffer size when the final size is unknown (grown by doubling up to the bound). */
const INITIAL_OUTPUT = 16 << 10;

export class InflateStream {
  private strm: ZStream;
  /** Input bytes the last inflateUpTo() did not consume (it stopped at `max`, or the stream ended). */
  leftover = 0;

  /** `label` names the stream in error messages, e.g. "ZRLE" or "Tight stream 2". */
  constructor(readonly label: string) {
    this.strm = newStream(label);
  }

  /** Starts over: the next data must begin with a zlib header (Tight's stream-reset bits). */
  reset(): void {
    if (zlibInflateReset(this.strm) !== Z_OK) this.strm = newStream(this.label);
  }

  /**
   * Inflates `input` into exactly `size` bytes: fewer (short data), more (the stream holds more than the
   * rectangle needs) or input left over are all errors. At most size + 1 bytes are ever produced.
   */
  inflateExact(input: Uint8Array, size: number): Uint8Array {
    const out = new Uint8Array(size + 1);
    const produced = this.run(input, out, 0);
    const left = this.strm.avail_in;
    this.release();
    if (produced > size) {
      throw new RfbProtocolError(`${this.label}: zlib data inflates to more than the expected ${size} bytes`);
    }
    if (produced < size) {
      throw new RfbProtocolError(`${this.label}: zlib data inflated to ${produced} bytes, expected ${size}`);
    }
    if (left > 0) throw new RfbProtocolError(`${this.label}: ${left} bytes of zlib data left over`);
    return out.subarray(0, size);
  }

  /**
   * Inflates all of `input` when the output size is not known up front (ZRLE). Output beyond `limit`
   * bytes is an error, detected as soon as the limit is passed.
   */
  inflateAll(input: Uint8Array, limit: number): Uint8Array {
    const out = this.inflateUpTo(input, limit + 1);
    if (out.length > limit) {
      throw new RfbProtocolError(
        `${this.label}: zlib data inflates to more than the limit of ${limit} bytes`,
      );
    }
    if (this.leftover > 0) {
      throw new RfbProtocolError(`${this.label}: ${this.leftover} bytes of zlib data left over`);
    }
    return out;
  }

  /**
   * Inflates `input` but keeps at most `max` bytes of output: inflation simply stops there (see
   * `leftover`). The buffer grows by doubling, so a small result costs little whatever `max` is.
   */
  inflateUpTo(input: Uint8Array, max: number): Uint8Array {
    let out = new Uint8Array(Math.min(max, Math.max(INITIAL_OUTPUT, input.length * 4)));
    let total = this.run(input, out, 0);
    while (total === out.length && out.length < max) {
      const grown = new Uint8Array(Math.min(max, out.length * 2));
      grown.set(out);
      out = grown;
      total += this.run(null, out, total);
    }
    this.leftover = this.strm.avail_in;
    this.release();
    return out.subarray(0, total);
  }

  /** One inflate call into out[offset..]; `input` null continues with the input already set. */
  private run(input: Uint8Array | null, out: Uint8Array<ArrayBuffer>, offset: number): number {
    const s = this.strm;
    if (input) {
      s.input = input;
      s.next_in = 0;
      s.avail_in = input.length;
    }
    s.output = out;
    s.next_out = offset;
    s.avail_out = out.length - offset;
    const ret = zlibInflate(s, Z_SYNC_FLUSH);
    if (ret !== Z_OK && ret !== Z_STREAM_END && ret !== Z_BUF_ERROR) {
      this.release();
      throw new RfbProtocolError(`${this.label}: invalid zlib data (${s.msg || `error ${ret}`})`);
    }
    return s.next_out - offset;
  }

  /** Drops references to the caller's buffers (the stream keeps its own 32 KiB window). */
  private release(): void {
    this.strm.input = EMPTY;
    this.strm.output = EMPTY;
  }
}

function newStream(label: string): ZStream {
  const strm = new ZStream();
  strm.output = EMPTY;
  if (zlibInflateInit(strm) !== Z_OK) throw new Error(`${label}: zlib inflate init failed`);
  return strm;
}

/** The connection's stream(s) stored under `key` in ctx.state.slots, created on first use. */
export function inflateStreams(
  ctx: DecodeContext,
  key: string,
  count: number,
  label: string,
): InflateStream[] {
  const found = ctx.state.slots.get(key);
  if (Array.isArray(found) && found.length === count && found.every((s) => s instanceof InflateStream)) {
    return found as InflateStream[];
  }
  const streams = Array.from(
    { length: count },
    (_, i) => new InflateStream(count === 1 ? label : `${label} stream ${i}`),
  );
  ctx.state.slots.set(key, streams);
  return streams;
}
