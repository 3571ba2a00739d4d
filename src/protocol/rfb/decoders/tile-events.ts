/**
 * Coalesces per-tile results of a tiled encoding (ZRLE) into few events: horizontally adjacent tiles of
 * the same kind in a tile row merge (solid tiles only when of the same colour), and full-width rows of
 * the same kind merge vertically. A solid-colour rectangle thus becomes one 'fill', a photo one 'update'.
 */
import type { Rect } from '../../../engine/display/framebuffer.js';
import type { RfbEvent } from '../events.js';

/** rgb of a segment: 0xRRGGBB for a fill, -1 for pixels written ('update'). */
interface Segment {
  rect: Rect;
  rgb: number;
}

export const UPDATE = -1;

export class TileEvents {
  private row: Segment[] = [];
  private pending: Segment | null = null;

  constructor(
    private readonly area: Rect,
    private readonly emit: (e: RfbEvent) => void,
  ) {}

  /** A tile at (x, y) of w×h: filled with `rgb`, or UPDATE when its pixels were written. */
  add(x: number, y: number, w: number, h: number, rgb: number): void {
    const last = this.row[this.row.length - 1];
    if (last && last.rgb === rgb && last.rect.y === y && last.rect.x + last.rect.w === x) {
      last.rect.w += w;
      return;
    }
    this.row.push({ rect: { x, y, w, h }, rgb });
  }

  /** Ends a tile row. */
  endRow(): void {
    const row = this.row;
    this.row = [];
    const only = row.length === 1 ? row[0] : undefined;
    if (only && only.rect.x === this.area.x && only.rect.w === this.area.w) {
      const p = this.pending;
      if (p && p.rgb === only.rgb && p.rect.y + p.rect.h === only.rect.y) {
        p.rect.h += only.rect.h;
        return;
      }
      this.flushPending();
      this.pending = only;
      return;
    }
    this.flushPending();
    for (const s of row) this.send(s);
  }

  finish(): void {
    if (this.row.length > 0) this.endRow();
    this.flushPending();
  }

  private flushPending(): void {
    if (this.pending) this.send(this.pending);
    this.pending = null;
  }

  private send(s: Segment): void {
    this.emit(
      s.rgb === UPDATE ? { type: 'update', rect: s.rect } : { type: 'fill', rect: s.rect, rgb: s.rgb },
    );
  }
}
