/**
 * Update frequency per 64×64 cell of the screen (as guacd does): each cell keeps the times of its last
 * HISTORY frames that changed it. A cell's rate is (HISTORY − 1) updates over the time from its oldest
 * kept update to now, so a region that stopped changing cools down instead of keeping its old rate.
 * A cell is touched at most once per frame, however many rectangles of that frame hit it.
 */
import type { Rect } from './rects.js';

export const HEAT_CELL = 64;
export const HEAT_HISTORY = 5;

export class HeatMap {
  private cols = 0;
  private rows = 0;
  private times = new Float64Array(0);
  private counts = new Uint8Array(0);
  private next = new Uint8Array(0);
  private lastFrame = new Int32Array(0);

  constructor(width: number, height: number) {
    this.resize(width, height);
  }

  /** Forgets all history. */
  resize(width: number, height: number): void {
    this.cols = Math.ceil(width / HEAT_CELL);
    this.rows = Math.ceil(height / HEAT_CELL);
    const n = this.cols * this.rows;
    this.times = new Float64Array(n * HEAT_HISTORY);
    this.counts = new Uint8Array(n);
    this.next = new Uint8Array(n);
    this.lastFrame = new Int32Array(n).fill(-1);
  }

  /** Records that frame `frame` (a counter) changed r at time `now` (ms). */
  touch(r: Rect, frame: number, now: number): void {
    this.forCells(r, (cell) => {
      if (this.lastFrame[cell] === frame) return;
      this.lastFrame[cell] = frame;
      const slot = this.next[cell] as number;
      this.times[cell * HEAT_HISTORY + slot] = now;
      this.next[cell] = (slot + 1) % HEAT_HISTORY;
      if ((this.counts[cell] as number) < HEAT_HISTORY) this.counts[cell] = (this.counts[cell] as number) + 1;
    });
  }

  /** Mean update rate (frames/s) over the cells r covers; cells with too little history count as 0. */
  fps(r: Rect, now: number): number {
    let sum = 0;
    let n = 0;
    this.forCells(r, (cell) => {
      n++;
      if ((this.counts[cell] as number) < HEAT_HISTORY) return;
      const oldest = this.times[cell * HEAT_HISTORY + (this.next[cell] as number)] as number;
      const elapsed = now - oldest;
      sum += elapsed > 0 ? ((HEAT_HISTORY - 1) * 1000) / elapsed : 0;
    });
    return n === 0 ? 0 : sum / n;
  }

  private forCells(r: Rect, fn: (cell: number) => void): void {
    if (r.w <= 0 || r.h <= 0) return;
    const c0 = Math.max(0, Math.floor(r.x / HEAT_CELL));
    const c1 = Math.min(this.cols, Math.ceil((r.x + r.w) / HEAT_CELL));
    const r0 = Math.max(0, Math.floor(r.y / HEAT_CELL));
    const r1 = Math.min(this.rows, Math.ceil((r.y + r.h) / HEAT_CELL));
    for (let row = r0; row < r1; row++) {
      for (let col = c0; col < c1; col++) fn(row * this.cols + col);
    }
  }
}
