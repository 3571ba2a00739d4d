/** Rectangle arithmetic for the display encoder (integer pixel rectangles, half-open on the right/bottom). */
import { contains, intersects, type Rect } from './framebuffer.js';

export { contains, intersects, type Rect };

export function area(r: Rect): number {
  return r.w * r.h;
}

export function isEmpty(r: Rect): boolean {
  return r.w <= 0 || r.h <= 0;
}

/** The overlap of a and b, or null when they do not overlap. */
export function intersection(a: Rect, b: Rect): Rect | null {
  const x = Math.max(a.x, b.x);
  const y = Math.max(a.y, b.y);
  const r = Math.min(a.x + a.w, b.x + b.w);
  const btm = Math.min(a.y + a.h, b.y + b.h);
  return r > x && btm > y ? { x, y, w: r - x, h: btm - y } : null;
}

/** The smallest rectangle containing both. */
export function bounds(a: Rect, b: Rect): Rect {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, w: Math.max(a.x + a.w, b.x + b.w) - x, h: Math.max(a.y + a.h, b.y + b.h) - y };
}

/** r clipped to [0, width) × [0, height), or null when nothing is left. */
export function clip(r: Rect, width: number, height: number): Rect | null {
  return intersection(r, { x: 0, y: 0, w: width, h: height });
}

/** The parts of a outside b: at most four disjoint rectangles (bands above and below, sides between). */
export function subtract(a: Rect, b: Rect): Rect[] {
  const i = intersection(a, b);
  if (!i) return [a];
  const out: Rect[] = [];
  const aBottom = a.y + a.h;
  const iBottom = i.y + i.h;
  if (i.y > a.y) out.push({ x: a.x, y: a.y, w: a.w, h: i.y - a.y });
  if (iBottom < aBottom) out.push({ x: a.x, y: iBottom, w: a.w, h: aBottom - iBottom });
  if (i.x > a.x) out.push({ x: a.x, y: i.y, w: i.x - a.x, h: i.h });
  const iRight = i.x + i.w;
  const aRight = a.x + a.w;
  if (iRight < aRight) out.push({ x: iRight, y: i.y, w: aRight - iRight, h: i.h });
  return out;
}

/** r moved by (dx, dy). */
export function translate(r: Rect, dx: number, dy: number): Rect {
  return { x: r.x + dx, y: r.y + dy, w: r.w, h: r.h };
}

/**
 * Splits r into tiles of at most maxSide × maxSide, as evenly as possible (a 600-wide rectangle with
 * maxSide 512 gives two 300-wide columns, not 512 + 88).
 */
export function splitTiles(r: Rect, maxSide: number): Rect[] {
  const cols = Math.ceil(r.w / maxSide);
  const rows = Math.ceil(r.h / maxSide);
  const out: Rect[] = [];
  for (let row = 0; row < rows; row++) {
    const y0 = r.y + Math.floor((row * r.h) / rows);
    const y1 = r.y + Math.floor(((row + 1) * r.h) / rows);
    for (let col = 0; col < cols; col++) {
      const x0 = r.x + Math.floor((col * r.w) / cols);
      const x1 = r.x + Math.floor(((col + 1) * r.w) / cols);
      out.push({ x: x0, y: y0, w: x1 - x0, h: y1 - y0 });
    }
  }
  return out;
}

/** Valid, finite, integer rectangle with non-negative size. */
export function isRect(r: Rect): boolean {
  return (
    Number.isSafeInteger(r.x) &&
    Number.isSafeInteger(r.y) &&
    Number.isSafeInteger(r.w) &&
    Number.isSafeInteger(r.h) &&
    r.w >= 0 &&
    r.h >= 0
  );
}
