/**
 * The set of framebuffer areas whose pixels the client does not have yet: rectangles only, never pixels,
 * so its memory is bounded by MAX_DIRTY_RECTS whatever the server sends.
 *
 * Merging rule (cost model): every image costs a fixed overhead (instruction, image header, a decode on
 * the client) worth about MERGE_BASE_COST pixels, plus its area. A new rectangle is merged with an
 * existing one when their bounding box costs no more than the two apart, i.e. when the pixels the box
 * adds that neither had are at most MERGE_BASE_COST. Merging repeats while the grown rectangle meets
 * another. Past MAX_DIRTY_RECTS the set is compacted onto a 64×64 grid (a superset: always correct).
 */
import { area, bounds, clip, intersection, type Rect, subtract } from './rects.js';

export const MERGE_BASE_COST = 4096;
export const MAX_DIRTY_RECTS = 256;
const GRID = 64;

export class DirtyRegion {
  private list: Rect[] = [];

  constructor(
    private width: number,
    private height: number,
  ) {}

  /** Empties the set and sets the framebuffer bounds rectangles are clipped to. */
  reset(width: number, height: number): void {
    this.width = width;
    this.height = height;
    this.list = [];
  }

  get rects(): readonly Rect[] {
    return this.list;
  }

  get isEmpty(): boolean {
    return this.list.length === 0;
  }

  clear(): void {
    this.list = [];
  }

  /** Marks r dirty (clipped to the framebuffer), merging per the cost rule. */
  add(r: Rect): void {
    let cur = clip(r, this.width, this.height);
    if (!cur) return;
    for (let merged = true; merged; ) {
      merged = false;
      for (let i = 0; i < this.list.length; i++) {
        const e = this.list[i] as Rect;
        const box = bounds(e, cur);
        if (area(box) <= area(e) + area(cur) + MERGE_BASE_COST) {
          this.list[i] = this.list[this.list.length - 1] as Rect;
          this.list.pop();
          cur = box;
          merged = true;
          break;
        }
      }
    }
    this.list.push(cur);
    if (this.list.length > MAX_DIRTY_RECTS) this.compact();
  }

  /** Marks r clean: the client's pixels there are now right. */
  subtract(r: Rect): void {
    if (this.list.length === 0) return;
    const out: Rect[] = [];
    for (const e of this.list) {
      if (intersection(e, r)) out.push(...subtract(e, r));
      else out.push(e);
    }
    this.list = out;
    if (this.list.length > MAX_DIRTY_RECTS) this.compact();
  }

  /** The dirty parts of r, pairwise disjoint. */
  intersections(r: Rect): Rect[] {
    const parts: Rect[] = [];
    for (const e of this.list) {
      const i = intersection(e, r);
      if (i) parts.push(i);
    }
    return disjoint(parts);
  }

  /** The dirty rectangles made pairwise disjoint (when that does not fragment them too much). */
  disjointRects(): Rect[] {
    return disjoint(this.list);
  }

  /** Replaces the set by grid cells covering it: runs of cells per grid row, stacked when equal. */
  private compact(): void {
    const cols = Math.ceil(this.width / GRID);
    const rows = Math.ceil(this.height / GRID);
    const cells = new Uint8Array(cols * rows);
    for (const r of this.list) {
      const c0 = Math.floor(r.x / GRID);
      const c1 = Math.ceil((r.x + r.w) / GRID);
      for (let row = Math.floor(r.y / GRID); row < Math.ceil((r.y + r.h) / GRID); row++) {
        cells.fill(1, row * cols + c0, row * cols + c1);
      }
    }
    let runs = cellRuns(cells, cols, rows, false);
    if (runs.length > MAX_DIRTY_RECTS / 2) runs = cellRuns(cells, cols, rows, true);
    const out: Rect[] = [];
    for (const run of runs) {
      const r = clip(
        { x: run.x * GRID, y: run.y * GRID, w: run.w * GRID, h: run.h * GRID },
        this.width,
        this.height,
      );
      if (r) out.push(r);
    }
    this.list = out;
  }
}

/** Runs of set cells per grid row (or one span per row when `coarse`), stacked vertically when equal. */
function cellRuns(cells: Uint8Array, cols: number, rows: number, coarse: boolean): Rect[] {
  const out: Rect[] = [];
  let open = new Map<string, Rect>();
  for (let row = 0; row < rows; row++) {
    const next = new Map<string, Rect>();
    const spans: Array<[number, number]> = [];
    for (let c = 0; c < cols; ) {
      if (!cells[row * cols + c]) {
        c++;
        continue;
      }
      const start = c;
      while (c < cols && cells[row * cols + c]) c++;
      spans.push([start, c]);
    }
    if (coarse && spans.length > 1)
      spans.splice(0, spans.length, [spans[0]![0], spans[spans.length - 1]![1]]);
    for (const [a, b] of spans) {
      const key = `${a}:${b}`;
      const prev = open.get(key);
      if (prev) {
        prev.h++;
        open.delete(key);
        next.set(key, prev);
      } else {
        next.set(key, { x: a, y: row, w: b - a, h: 1 });
      }
    }
    for (const r of open.values()) out.push(r);
    open = next;
  }
  for (const r of open.values()) out.push(r);
  return out;
}

/** Pairwise disjoint pieces covering the same pixels; the input itself if that would split it too much. */
export function disjoint(rects: readonly Rect[]): Rect[] {
  const out: Rect[] = [];
  const limit = Math.max(16, rects.length * 4);
  for (const r of rects) {
    let pieces = [r];
    for (const o of out) {
      if (pieces.length === 0) break;
      pieces = pieces.flatMap((p) => (intersection(p, o) ? subtract(p, o) : [p]));
    }
    out.push(...pieces);
    if (out.length > limit) return [...rects];
  }
  return out;
}
