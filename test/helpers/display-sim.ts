/**
 * A simulated Guacamole client display for display-encoder tests: parses the instruction stream with
 * GuacamoleParser and replays size / img+blob+end / copy / rect+cfill / cursor / sync onto RGBA layers,
 * decoding PNG/JPEG/WebP with sharp. Channel masks follow the canvas composite operations that
 * guacamole-common-js uses: OVER (0xE) draws over; SRC (0xC) is canvas "copy", which clears the whole
 * layer outside what it draws. Any other mask, an unknown stream or an oversized blob fails the test.
 */
import { Buffer } from 'node:buffer';
import sharp from 'sharp';
import type { ClientInfo, GuacSink } from '../../src/engine/types.js';
import { MAX_BLOB_BYTES } from '../../src/protocol/guacamole/encoder.js';
import { GuacamoleParser, type Instruction } from '../../src/protocol/guacamole/parser.js';

export interface Layer {
  w: number;
  h: number;
  data: Uint8Array;
}

interface OpenStream {
  mask: number;
  layer: number;
  mimetype: string;
  x: number;
  y: number;
  chunks: Buffer[];
}

export class SimClient {
  readonly layers = new Map<number, Layer>();
  readonly instructions: Instruction[] = [];
  readonly syncs: Array<{ ts: number; frames: number }> = [];
  readonly mimetypes: string[] = [];
  cursor: { hotX: number; hotY: number; w: number; h: number; rgba: Uint8Array } | null = null;
  private readonly parser = new GuacamoleParser();
  private readonly streams = new Map<number, OpenStream>();
  private readonly paths = new Map<number, Array<[number, number, number, number]>>();
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown = null;

  /** Parses (synchronously: malformed text throws) and queues the instructions for replay. */
  feed(text: string): void {
    const parsed = this.parser.feed(Buffer.from(text, 'utf8'));
    for (const ins of parsed) {
      this.instructions.push(ins);
      this.chain = this.chain
        .then(() => this.apply(ins))
        .catch((err: unknown) => {
          this.failure ??= err;
        });
    }
  }

  /** Resolves once everything fed so far is replayed; rejects with the first replay error. */
  async settled(): Promise<void> {
    await this.chain;
    if (this.failure) throw this.failure;
  }

  layer(index: number): Layer {
    let l = this.layers.get(index);
    if (!l) {
      l = { w: 0, h: 0, data: new Uint8Array(0) };
      this.layers.set(index, l);
    }
    return l;
  }

  private async apply(ins: Instruction): Promise<void> {
    const a = ins.args;
    const n = (i: number) => {
      const v = Number(a[i]);
      if (!Number.isInteger(v)) throw new Error(`${ins.opcode}: argument ${i} not an integer: ${a[i]}`);
      return v;
    };
    switch (ins.opcode) {
      case 'size':
        resizeLayer(this.layer(n(0)), n(1), n(2));
        return;
      case 'img': {
        if (this.streams.has(n(0))) throw new Error(`img on open stream ${n(0)}`);
        this.streams.set(n(0), {
          mask: n(1),
          layer: n(2),
          mimetype: a[3] ?? '',
          x: n(4),
          y: n(5),
          chunks: [],
        });
        this.mimetypes.push(a[3] ?? '');
        return;
      }
      case 'blob': {
        const s = this.streams.get(n(0));
        if (!s) throw new Error(`blob on unknown stream ${n(0)}`);
        const bytes = Buffer.from(a[1] ?? '', 'base64');
        if (bytes.length > MAX_BLOB_BYTES) throw new Error(`blob of ${bytes.length} bytes`);
        s.chunks.push(bytes);
        return;
      }
      case 'end': {
        const s = this.streams.get(n(0));
        if (!s) throw new Error(`end on unknown stream ${n(0)}`);
        this.streams.delete(n(0));
        const { data, info } = await sharp(Buffer.concat(s.chunks))
          .ensureAlpha()
          .raw()
          .toBuffer({ resolveWithObject: true });
        const src: Layer = { w: info.width, h: info.height, data: new Uint8Array(data) };
        draw(this.layer(s.layer), src, 0, 0, src.w, src.h, s.x, s.y, s.mask);
        return;
      }
      case 'copy': {
        const src = this.layer(n(0));
        const snapshot: Layer = { w: src.w, h: src.h, data: src.data.slice() };
        draw(this.layer(n(6)), snapshot, n(1), n(2), n(3), n(4), n(7), n(8), n(5));
        return;
      }
      case 'rect': {
        const list = this.paths.get(n(0)) ?? [];
        list.push([n(1), n(2), n(3), n(4)]);
        this.paths.set(n(0), list);
        return;
      }
      case 'cfill': {
        const layer = this.layer(n(1));
        const rects = this.paths.get(n(1)) ?? [];
        this.paths.delete(n(1));
        const rgba = [n(2), n(3), n(4), n(5)];
        for (const [x, y, w, h] of rects) {
          const src: Layer = { w, h, data: new Uint8Array(w * h * 4) };
          for (let i = 0; i < w * h; i++) src.data.set(rgba, i * 4);
          draw(layer, src, 0, 0, w, h, x, y, n(0));
        }
        return;
      }
      case 'cursor': {
        const src = this.layer(n(2));
        const [sx, sy, w, h] = [n(3), n(4), n(5), n(6)];
        this.cursor = { hotX: n(0), hotY: n(1), w, h, rgba: readRegion(src, sx, sy, w, h) };
        return;
      }
      case 'sync':
        this.syncs.push({ ts: n(0), frames: a.length > 1 ? n(1) : 0 });
        return;
      default:
        throw new Error(`unexpected instruction ${ins.opcode}`);
    }
  }
}

/** Resizes keeping the top-left content; new pixels are transparent (as a canvas). */
export function resizeLayer(l: Layer, w: number, h: number): void {
  const data = new Uint8Array(w * h * 4);
  const cw = Math.min(w, l.w);
  for (let y = 0; y < Math.min(h, l.h); y++)
    data.set(l.data.subarray(y * l.w * 4, (y * l.w + cw) * 4), y * w * 4);
  l.w = w;
  l.h = h;
  l.data = data;
}

export function readRegion(l: Layer, x: number, y: number, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 4);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const sx = x + c;
      const sy = y + r;
      if (sx < 0 || sy < 0 || sx >= l.w || sy >= l.h) continue;
      out.set(l.data.subarray((sy * l.w + sx) * 4, (sy * l.w + sx) * 4 + 4), (r * w + c) * 4);
    }
  }
  return out;
}

/** Draws src's (sx, sy, w, h) at (dx, dy) on dst with a channel mask (clipped to both layers). */
function draw(
  dst: Layer,
  src: Layer,
  sx: number,
  sy: number,
  w: number,
  h: number,
  dx: number,
  dy: number,
  mask: number,
) {
  if (mask !== 0xe && mask !== 0xc) throw new Error(`unsupported channel mask ${mask}`);
  if (mask === 0xc) dst.data.fill(0); // canvas "copy": everything outside the drawn area is cleared
  for (let r = 0; r < h; r++) {
    const ty = dy + r;
    const fy = sy + r;
    if (ty < 0 || ty >= dst.h || fy < 0 || fy >= src.h) continue;
    for (let c = 0; c < w; c++) {
      const tx = dx + c;
      const fx = sx + c;
      if (tx < 0 || tx >= dst.w || fx < 0 || fx >= src.w) continue;
      const si = (fy * src.w + fx) * 4;
      const di = (ty * dst.w + tx) * 4;
      const alpha = src.data[si + 3] as number;
      if (mask === 0xc || alpha === 255) {
        dst.data.set(src.data.subarray(si, si + 4), di);
      } else if (alpha > 0) {
        const da = (dst.data[di + 3] as number) / 255;
        const sa = alpha / 255;
        const oa = sa + da * (1 - sa);
        for (let k = 0; k < 3; k++) {
          const v = ((src.data[si + k] as number) * sa + (dst.data[di + k] as number) * da * (1 - sa)) / oa;
          dst.data[di + k] = Math.round(v);
        }
        dst.data[di + 3] = Math.round(oa * 255);
      }
    }
  }
}

/** A GuacSink feeding a SimClient, with a settable backlog to exercise backpressure. */
export class SimSink implements GuacSink {
  bufferedBytes = 0;
  highWaterMark = 1 << 20;
  written = 0;
  readonly texts: string[] = [];
  private drainCbs: Array<() => void> = [];

  constructor(readonly client: SimClient = new SimClient()) {}

  write(instructions: string): void {
    this.written += instructions.length;
    this.texts.push(instructions);
    this.client.feed(instructions);
  }

  onDrain(cb: () => void): void {
    this.drainCbs.push(cb);
  }

  /** Sets the backlog; falling to or below the high-water mark runs the drain callbacks. */
  setBuffered(bytes: number): void {
    this.bufferedBytes = bytes;
    if (bytes <= this.highWaterMark) {
      const cbs = this.drainCbs;
      this.drainCbs = [];
      for (const cb of cbs) cb();
    }
  }
}

/** Index of the first pixel where the client's layer 0 differs from fb (RGBA), or -1. */
export function firstDifference(
  layer: Layer,
  fb: { width: number; height: number; data: Uint8Array },
): number {
  if (layer.w !== fb.width || layer.h !== fb.height) return -2;
  for (let i = 0; i < fb.data.length; i++) if (layer.data[i] !== fb.data[i]) return i >> 2;
  return -1;
}

export const silent = { debug() {}, info() {}, warn() {}, error() {} };

export function client(image: string[]): ClientInfo {
  return { width: 1024, height: 768, dpi: 96, audio: [], video: [], image, protocolVersion: 'VERSION_1_5_0' };
}

export { rng } from './rng.js';
