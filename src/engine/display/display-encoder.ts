/**
 * The display encoder: framebuffer changes in, Guacamole drawing instructions out.
 *
 * Changes accumulate in a FrameBuilder (see its comment for the ordering rule). At a frame end the plan
 * is taken — pixels read from the framebuffer right then — and encoded asynchronously (plan-encoder.ts:
 * indexed PNG or sharp, at most `maxConcurrentEncodes` images at once); plans are emitted strictly in order, each
 * followed by `sync`. At most `maxConcurrentFrames` plans are being encoded; a frame that ends while
 * they are busy stays in the builder, and later changes merge into it until one finishes. Only regions
 * are kept while waiting, never pixel copies, so memory stays bounded.
 *
 * Pacing: shouldRequestUpdate() tells the engine whether to ask the VNC server for the next update
 * (client not behind per FramePacer, sink below its high-water mark, encoder not saturated); whenReady()
 * calls back once it becomes true.
 */

import { availableParallelism } from 'node:os';
import type { GuacSink, SessionLogger } from '../types.js';
import { type CursorImage, cursorInstructions, validCursor } from './cursor.js';
import type { DisplayEncoderOptions, DisplayStats } from './display-options.js';
import { type ImageFormat, lossyQuality, MIMETYPES } from './format.js';
import { FrameBuilder } from './frame-builder.js';
import type { Framebuffer } from './framebuffer.js';
import { HeatMap } from './heat-map.js';
import { DEFAULT_LAYER, imageInstructions, MASK_OVER, StreamIds, syncInstruction } from './instructions.js';
import { Limiter } from './limiter.js';
import { FramePacer } from './pacing.js';
import { type EncodedItem, encodePlanItem, type PlanContext } from './plan-encoder.js';
import type { Rect } from './rects.js';

export type { DisplayEncoderOptions, DisplayStats };

/**
 * Images encoded at once per session: one per core, at most 4 (libuv's default pool size). More than the
 * cores only makes the encoder threads compete with the event loop (measured: p99 loop delay 5–13 ms at
 * 1–2 concurrent encodes vs 18–30 ms at 4 on 2 cores, for similar throughput).
 */
export const DEFAULT_CONCURRENT_ENCODES = Math.max(1, Math.min(4, availableParallelism()));

/** The sink gets a frame's text in pieces of about this many characters. */
const WRITE_CHUNK = 1 << 18;

interface Job {
  frames: number;
  ready: Promise<{ cursor: string; items: EncodedItem[] }>;
}

export class DisplayEncoder {
  private readonly sink: GuacSink;
  private readonly fb: Framebuffer;
  private readonly log: SessionLogger;
  private readonly now: () => number;
  private readonly builder: FrameBuilder;
  private readonly heat: HeatMap;
  private readonly pacer: FramePacer;
  private readonly streams: StreamIds;
  private readonly limiter: Limiter;
  private readonly lossless: boolean;
  private readonly accepts: readonly string[];
  private readonly maxConcurrentFrames: number;
  private readonly jobs: Job[] = [];
  private pumping = false;
  private closed = false;
  private frameNo = 0;
  private cursorImage: CursorImage | null = null;
  private readyWaiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];
  private drainHooked = false;
  /** Stream indices held by images encoded but not yet written. */
  private readonly heldStreams = new Set<number>();
  private futureSyncLogged = false;
  readonly stats: DisplayStats = {
    frames: 0,
    bytes: 0,
    png: 0,
    jpeg: 0,
    webp: 0,
    passthroughJpeg: 0,
    fills: 0,
    failures: 0,
  };

  constructor(options: DisplayEncoderOptions) {
    this.sink = options.sink;
    this.fb = options.fb;
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.lossless = options.forceLossless;
    this.accepts = [...options.client.image];
    this.maxConcurrentFrames = Math.max(1, options.maxConcurrentFrames ?? 2);
    this.limiter = new Limiter(Math.max(1, options.maxConcurrentEncodes ?? DEFAULT_CONCURRENT_ENCODES));
    this.streams = options.streams ?? new StreamIds();
    this.heat = new HeatMap(this.fb.width, this.fb.height);
    this.pacer = new FramePacer({
      now: this.now,
      maxFramesInFlight: options.maxFramesInFlight,
      maxLagMs: options.maxLagMs,
    });
    this.builder = new FrameBuilder(this.fb, {
      passJpeg: this.accepts.includes(MIMETYPES.jpeg),
      tileSize: options.tileSize,
      fillMinArea: options.fillMinArea,
      captureBudget: options.captureBudget,
    });
  }

  // ---- changes (each already applied to the framebuffer) ----

  /** Pixels in rect changed. */
  damage(rect: Rect): void {
    if (this.closed) return;
    this.heat.touch(rect, this.frameNo, this.now());
    this.builder.damage(rect);
  }

  /** rect was filled with 0xRRGGBB. */
  fill(rect: Rect, rgb: number): void {
    if (this.closed) return;
    this.heat.touch(rect, this.frameNo, this.now());
    this.builder.fill(rect, rgb);
  }

  /** The w×h area at (srcX, srcY) was copied to rect (CopyRect). */
  copy(srcX: number, srcY: number, rect: Rect): void {
    if (this.closed) return;
    this.builder.copy(srcX, srcY, rect);
  }

  /** A JPEG rectangle (Tight): passed through as image/jpeg when the client takes it, else repainted. */
  jpeg(rect: Rect, data: Uint8Array): void {
    if (this.closed) return;
    this.heat.touch(rect, this.frameNo, this.now());
    this.builder.jpeg(rect, data);
  }

  /** The framebuffer was resized (and cleared); also call once at the start to size the client's layer. */
  resize(width: number, height: number): void {
    if (this.closed) return;
    if (width !== this.fb.width || height !== this.fb.height) {
      this.log.warn(
        { width, height, fb: [this.fb.width, this.fb.height] },
        'display resize differs from framebuffer',
      );
    }
    this.heat.resize(this.fb.width, this.fb.height);
    this.builder.resize(this.fb.width, this.fb.height);
  }

  /** A new cursor image (RGBA w×h, hotspot); sent with the next frame. 0×0 hides the cursor. */
  cursor(hotX: number, hotY: number, width: number, height: number, rgba: Uint8Array): void {
    if (this.closed) return;
    const c = validCursor(hotX, hotY, width, height, rgba);
    if (c) this.cursorImage = c;
    else this.log.warn({ width, height, bytes: rgba.length }, 'cursor image ignored: bad size');
  }

  /** The server's frame ended: the accumulated changes become a frame as soon as the pipeline has room. */
  endFrame(): void {
    if (this.closed) return;
    this.builder.endFrame();
    this.frameNo++;
    this.trySnapshot();
    this.checkReady();
  }

  // ---- pacing ----

  /** The client answered `sync,ts`. */
  clientSync(ts: number): void {
    if (this.closed) return;
    const r = this.pacer.ack(ts);
    if (r === 'future' && !this.futureSyncLogged) {
      this.futureSyncLogged = true;
      this.log.warn({ ts, lastSent: this.pacer.lastTimestamp }, 'client sync for a timestamp never sent');
    }
    this.checkReady();
  }

  /** The client's processing lag (ms) at its last sync reply. */
  get lag(): number {
    return this.pacer.lag;
  }

  get framesInFlight(): number {
    return this.pacer.framesInFlight;
  }

  /** Whether the engine should ask the VNC server for the next update now. */
  shouldRequestUpdate(): boolean {
    return (
      !this.closed &&
      !this.pacer.behind &&
      this.sink.bufferedBytes <= this.sink.highWaterMark &&
      this.jobs.length < this.maxConcurrentFrames &&
      this.builder.endedFrames === 0
    );
  }

  /** Calls cb once shouldRequestUpdate() is true: right away if it is, else when it becomes so. */
  whenReady(cb: () => void): void {
    if (this.closed) return;
    if (this.shouldRequestUpdate()) {
      cb();
      return;
    }
    this.readyWaiters.push(cb);
    this.hookDrain();
  }

  /** Resolves when every ended frame has been written (or the encoder is closed). */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops all further output; frames being encoded are dropped. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.readyWaiters = [];
    this.cursorImage = null;
    this.builder.discard();
    for (const stream of this.heldStreams) this.streams.free(stream);
    this.heldStreams.clear();
    this.settleIdle();
  }

  // ---- pipeline ----

  private isIdle(): boolean {
    return this.closed || (this.jobs.length === 0 && this.builder.endedFrames === 0);
  }

  private trySnapshot(): void {
    if (this.closed || this.builder.endedFrames === 0 || this.builder.midFrame) return;
    if (this.jobs.length >= this.maxConcurrentFrames) return;
    const plan = this.builder.take();
    const ctx: PlanContext = {
      lossless: this.lossless,
      accepts: this.accepts,
      heat: this.heat,
      now: this.now(),
      quality: lossyQuality(this.pacer.lag),
      limiter: this.limiter,
      onImage: (format) => this.count(format),
    };
    const cursor = this.encodeCursor();
    const items = plan.items.map((item) => {
      const out = encodePlanItem(ctx, item);
      return out instanceof Promise ? out.then((o) => this.prepare(o)) : this.prepare(out);
    });
    const ready = Promise.all([cursor, Promise.all(items)]).then(([c, i]) => ({ cursor: c, items: i }));
    this.jobs.push({ frames: plan.frames, ready });
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.jobs.length > 0 && !this.closed) {
        const job = this.jobs[0] as Job;
        const out = await job.ready;
        if (this.closed) break;
        this.emit(job, out.cursor, out.items);
        this.jobs.shift();
        this.trySnapshot();
        this.checkReady();
      }
    } catch (err) {
      this.log.error({ err }, 'display encoder failed');
      this.jobs.length = 0;
    } finally {
      this.pumping = false;
      this.settleIdle();
    }
  }

  /**
   * Turns an encoded image into its instruction text as soon as it is ready (holding a stream index until
   * it is written), so base64 and string work is spread over the encodes' completions instead of piling
   * up in emit(). Falls back to doing it at emission if no stream index is free.
   */
  private prepare(item: EncodedItem): EncodedItem {
    if (item.kind !== 'image' || this.closed) return item;
    let stream: number;
    try {
      stream = this.streams.alloc();
    } catch {
      return item;
    }
    this.heldStreams.add(stream);
    const { rect, mimetype, data } = item;
    return {
      kind: 'text',
      text: imageInstructions(stream, MASK_OVER, DEFAULT_LAYER, mimetype, rect.x, rect.y, data),
      stream,
    };
  }

  private release(stream: number | undefined): void {
    if (stream === undefined) return;
    this.heldStreams.delete(stream);
    this.streams.free(stream);
  }

  private emit(job: Job, cursor: string, items: EncodedItem[]): void {
    let text = cursor;
    let failed = 0;
    for (const item of items) {
      if (item.kind === 'text') {
        if (item.text.length >= WRITE_CHUNK) {
          this.write(text);
          text = '';
          this.write(item.text);
        } else {
          text += item.text;
        }
        this.release(item.stream);
      } else if (item.kind === 'image') {
        text += this.image(MASK_OVER, DEFAULT_LAYER, item.mimetype, item.rect, item.data);
      } else {
        failed++;
        if (failed === 1)
          this.log.error({ err: item.error, rect: item.rect }, 'image encoding failed; repainting');
      }
      if (text.length >= WRITE_CHUNK) {
        this.write(text);
        text = '';
      }
    }
    if (failed > 0) {
      this.stats.failures += failed;
      this.builder.damageAll();
    }
    this.write(text + syncInstruction(this.pacer.nextTimestamp(), Math.max(1, job.frames)));
    this.stats.frames++;
  }

  private image(mask: number, layer: number, mimetype: string, r: Rect, data: Uint8Array): string {
    const stream = this.streams.alloc();
    try {
      return imageInstructions(stream, mask, layer, mimetype, r.x, r.y, data);
    } finally {
      this.streams.free(stream);
    }
  }

  private write(text: string): void {
    if (text.length === 0) return;
    this.stats.bytes += text.length;
    this.sink.write(text);
  }

  private encodeCursor(): Promise<string> {
    const c = this.cursorImage;
    this.cursorImage = null;
    if (!c) return Promise.resolve('');
    return cursorInstructions(c, this.streams).catch((err: unknown) => {
      this.log.warn({ err }, 'cursor image encoding failed');
      return '';
    });
  }

  private count(format: ImageFormat | 'passthrough-jpeg' | 'fill'): void {
    if (format === 'passthrough-jpeg') this.stats.passthroughJpeg++;
    else if (format === 'fill') this.stats.fills++;
    else this.stats[format]++;
  }

  private checkReady(): void {
    if (this.readyWaiters.length === 0) return;
    if (!this.shouldRequestUpdate()) {
      this.hookDrain();
      return;
    }
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const cb of waiters) cb();
  }

  private hookDrain(): void {
    if (this.drainHooked || this.sink.bufferedBytes <= this.sink.highWaterMark) return;
    this.drainHooked = true;
    this.sink.onDrain(() => {
      this.drainHooked = false;
      this.checkReady();
    });
  }

  private settleIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const cb of waiters) cb();
  }
}
