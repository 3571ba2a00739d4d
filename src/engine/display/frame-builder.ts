/**
 * Turns the changes of one frame (or several merged ones) into an ordered plan the client can replay to
 * reach exactly what the framebuffer holds. Every change is reported *after* it was applied to the
 * framebuffer F. Write Q for the client's layer after the plan so far.
 *
 * Invariant: outside the dirty set, Q equals F (after each change, between any two changes).
 *
 * Rules, each keeping the invariant:
 * - damage(r): F changed in r → add r to the dirty set (no pixels are read now).
 * - fill(r, rgb): large → append rect+cfill, and r is clean (Q = F = rgb there); small → damage.
 * - jpeg(r, data): client takes image/jpeg → append the JPEG as is, r is clean; else → damage.
 * - copy(src → dst): the client copies from Q, so Q must equal the *pre-copy* F on src first. The dirty
 *   parts of src are therefore painted before the copy, from pixels read right now: since the copy has
 *   already moved the pre-copy src pixels to dst, the pre-copy pixel at p is F(p + (dst − src)) — valid
 *   even when src and dst overlap. Then the copy is appended; src and dst are clean afterwards (src was
 *   painted and F changed only in dst; dst now matches the copied pixels). When those captured pixels
 *   would exceed the frame's budget, the copy is instead turned into damage of dst (always correct).
 * - resize: everything before it is moot → the plan restarts with `size`, and the whole screen is dirty.
 * - take() (the frame is handed to the encoder): the dirty set is read from F now, cut into tiles, and
 *   appended last; then Q = F everywhere. Reading happens synchronously, so later writes cannot race.
 * If a plan would grow beyond MAX_ITEMS, it collapses to (size +) a full repaint: the invariant holds
 * trivially with everything dirty, so this is correct at any point, and it bounds memory.
 */
import { DirtyRegion } from './dirty-region.js';
import type { Framebuffer } from './framebuffer.js';
import { area, clip, isRect, type Rect, splitTiles, translate } from './rects.js';
import { takeTileBuffer } from './tile-buffers.js';

export type PlanItem =
  | { kind: 'size'; w: number; h: number }
  | { kind: 'copy'; sx: number; sy: number; rect: Rect }
  | { kind: 'fill'; rect: Rect; rgb: number }
  | { kind: 'jpeg'; rect: Rect; data: Uint8Array }
  /**
   * Pixels read from the framebuffer (a tile ≤ tileSize), to be sent as rect+cfill or an image; rgba may
   * be a recycled buffer (tile-buffers.ts) that encodePlanItem gives back.
   */
  | { kind: 'pixels'; rect: Rect; rgba: Uint8Array };

export interface FramePlan {
  items: PlanItem[];
  /** Server frames (endFrame calls) merged into this plan. */
  frames: number;
}

export interface FrameBuilderOptions {
  /** Send Tight JPEG rectangles to the client as they are. */
  passJpeg: boolean;
  /** Tile side for images (default 512). */
  tileSize?: number;
  /** Fills at least this large become rect+cfill; smaller ones are damage (default 4096 px). */
  fillMinArea?: number;
  /** Bytes of captured pixels and JPEG data a plan may hold (default: one full framebuffer, ≥ 1 MiB). */
  captureBudget?: number;
}

export const MAX_ITEMS = 4096;

export class FrameBuilder {
  readonly dirty: DirtyRegion;
  private items: PlanItem[] = [];
  private held = 0;
  private resized = false;
  private ended = 0;
  private open = false;
  private readonly tileSize: number;
  private readonly fillMinArea: number;

  constructor(
    private readonly fb: Framebuffer,
    private readonly options: FrameBuilderOptions,
  ) {
    this.dirty = new DirtyRegion(fb.width, fb.height);
    this.tileSize = Math.max(16, options.tileSize ?? 512);
    this.fillMinArea = options.fillMinArea ?? 4096;
  }

  /** Changes since the last endFrame (a frame is being received). */
  get midFrame(): boolean {
    return this.open;
  }

  /** Completed frames waiting to be taken. */
  get endedFrames(): number {
    return this.ended;
  }

  get isEmpty(): boolean {
    return this.items.length === 0 && this.dirty.isEmpty;
  }

  damage(r: Rect): void {
    this.open = true;
    this.dirty.add(r);
  }

  fill(r: Rect, rgb: number): void {
    this.open = true;
    const c = this.clipped(r);
    if (!c) return;
    if (area(c) < this.fillMinArea) {
      this.dirty.add(c);
      return;
    }
    if (!this.room(1)) return;
    this.items.push({ kind: 'fill', rect: c, rgb: rgb & 0xffffff });
    this.dirty.subtract(c);
  }

  jpeg(r: Rect, data: Uint8Array): void {
    this.open = true;
    const c = this.clipped(r);
    if (!c) return;
    const fits = c.w === r.w && c.h === r.h;
    if (!this.options.passJpeg || !fits || !this.reserve(data.length)) {
      this.dirty.add(c);
      return;
    }
    if (!this.room(1)) return;
    this.items.push({ kind: 'jpeg', rect: c, data: data.slice() });
    this.dirty.subtract(c);
  }

  copy(sx: number, sy: number, r: Rect): void {
    this.open = true;
    const dst = this.clipped(r);
    if (!dst) return;
    const src: Rect = { x: sx, y: sy, w: r.w, h: r.h };
    if (dst.w !== r.w || dst.h !== r.h || !isRect(src) || !this.fb.inBounds(src)) {
      this.dirty.add(dst); // malformed: the framebuffer is right, repaint the destination
      return;
    }
    const dx = dst.x - sx;
    const dy = dst.y - sy;
    const stale = this.dirty.intersections(src).flatMap((s) => splitTiles(s, this.tileSize));
    const staleBytes = stale.reduce((n, s) => n + area(s) * 4, 0);
    if (staleBytes > 0 && !this.reserve(staleBytes)) {
      this.dirty.add(dst);
      return;
    }
    if (!this.room(stale.length + 1)) return;
    for (const t of stale) {
      this.items.push({ kind: 'pixels', rect: t, rgba: this.readTile(translate(t, dx, dy)) });
    }
    this.items.push({ kind: 'copy', sx, sy, rect: dst });
    this.dirty.subtract(src);
    this.dirty.subtract(dst);
  }

  /** The framebuffer now has this size (contents cleared): restart the plan with `size`. */
  resize(w: number, h: number): void {
    this.open = true;
    this.items = [{ kind: 'size', w, h }];
    this.held = 0;
    this.resized = true;
    this.dirty.reset(w, h);
    this.dirty.add({ x: 0, y: 0, w, h });
  }

  endFrame(): void {
    this.open = false;
    this.ended++;
  }

  /** Hands over the plan: the items in order, then the dirty set read from the framebuffer now. */
  take(): FramePlan {
    const items = this.items;
    for (const r of this.dirty.disjointRects()) {
      const c = this.clipped(r);
      if (!c) continue;
      for (const t of splitTiles(c, this.tileSize))
        items.push({ kind: 'pixels', rect: t, rgba: this.readTile(t) });
    }
    const plan = { items, frames: this.ended };
    this.items = [];
    this.held = 0;
    this.resized = false;
    this.ended = 0;
    this.dirty.clear();
    return plan;
  }

  /** Drops everything pending without reading pixels (the encoder is closing). */
  discard(): void {
    this.items = [];
    this.held = 0;
    this.resized = false;
    this.ended = 0;
    this.open = false;
    this.dirty.clear();
  }

  /** Marks the whole screen dirty (e.g. after an encoding failure left the client unsure). */
  damageAll(): void {
    this.dirty.add({ x: 0, y: 0, w: this.fb.width, h: this.fb.height });
  }

  /** The tile's pixels, in a recycled buffer (the plan encoder gives it back once encoded). */
  private readTile(r: Rect): Uint8Array {
    return this.fb.read(r, takeTileBuffer(area(r) * 4));
  }

  private clipped(r: Rect): Rect | null {
    if (!isRect(r)) return null;
    return clip(r, this.fb.width, this.fb.height);
  }

  private reserve(bytes: number): boolean {
    const budget = this.options.captureBudget ?? Math.max(this.fb.width * this.fb.height * 4, 1 << 20);
    if (this.held + bytes > budget) return false;
    this.held += bytes;
    return true;
  }

  /**
   * Whether n more items fit; if not, the plan collapses (the whole screen becomes dirty, which also
   * covers whatever the caller was about to append) and the caller must append nothing.
   */
  private room(n: number): boolean {
    if (this.items.length + n <= MAX_ITEMS) return true;
    this.collapse();
    return false;
  }

  /** Drops the plan for a full repaint (keeping `size` first if the frame resized). */
  private collapse(): void {
    this.items = this.resized ? [{ kind: 'size', w: this.fb.width, h: this.fb.height }] : [];
    this.held = 0;
    this.damageAll();
  }
}
