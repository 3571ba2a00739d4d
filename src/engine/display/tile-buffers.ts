/**
 * Reusable pixel buffers for the tiles a frame plan reads from the framebuffer. Each tile's pixels live
 * only from the snapshot until its image is encoded, and a busy session reads tens of MB of them per
 * second; as fresh ArrayBuffers (zero-filled, outside V8's heap) they drive frequent major garbage
 * collections (measured: a quarter of the engine's CPU went to GC marking threads). So buffers are
 * recycled here: size classes of powers of two from 64 KiB to 1 MiB (so a buffer holds at most twice
 * the bytes it is used for), a bounded number kept free, shared by all sessions of the process (the event
 * loop is single-threaded). Tiles smaller than the smallest class are plain allocations.
 *
 * Only buffers handed out here are taken back, and a buffer must be given back at most once, after its
 * last use.
 */

const MIN_CLASS_BITS = 16; // 64 KiB
const MAX_CLASS_BITS = 20; // 1 MiB: a 512×512 RGBA tile
/** Free bytes kept per size class. */
const KEEP_BYTES_PER_CLASS = 4 << 20;

const free: ArrayBuffer[][] = Array.from({ length: MAX_CLASS_BITS - MIN_CLASS_BITS + 1 }, () => []);
const ours = new WeakSet<ArrayBuffer>();

function classOf(bytes: number): number {
  const bits = Math.max(MIN_CLASS_BITS, 32 - Math.clz32(bytes - 1));
  return bits - MIN_CLASS_BITS;
}

/** A buffer of exactly `bytes` bytes (contents undefined). */
export function takeTileBuffer(bytes: number): Uint8Array {
  if (bytes < 1 << MIN_CLASS_BITS || bytes > 1 << MAX_CLASS_BITS) return new Uint8Array(bytes);
  const c = classOf(bytes);
  let buf = free[c]?.pop();
  if (!buf) {
    buf = new ArrayBuffer(1 << (c + MIN_CLASS_BITS));
    ours.add(buf);
  }
  return new Uint8Array(buf, 0, bytes);
}

/** Gives a buffer from takeTileBuffer back for reuse (anything else is ignored). */
export function returnTileBuffer(view: Uint8Array): void {
  const buf = view.buffer;
  if (!(buf instanceof ArrayBuffer) || !ours.has(buf)) return;
  const list = free[classOf(buf.byteLength)];
  if (!list || (list.length + 1) * buf.byteLength > KEEP_BYTES_PER_CLASS || list.includes(buf)) return;
  list.push(buf);
}

/** Free buffers kept, in bytes (for tests). */
export function freeTileBytes(): number {
  return free.reduce((n, list) => n + list.reduce((m, b) => m + b.byteLength, 0), 0);
}
