/** Rectangle helpers, the dirty set (coverage, merging, bounded size) and the heat map. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DirtyRegion, disjoint, MAX_DIRTY_RECTS } from '../../src/engine/display/dirty-region.js';
import { HEAT_HISTORY, HeatMap } from '../../src/engine/display/heat-map.js';
import {
  area,
  bounds,
  intersection,
  type Rect,
  splitTiles,
  subtract,
} from '../../src/engine/display/rects.js';
import { rng } from '../helpers/display-sim.js';

function paint(bits: Uint8Array, w: number, r: Rect, v: number): void {
  for (let y = r.y; y < r.y + r.h; y++) bits.fill(v, y * w + r.x, y * w + r.x + r.w);
}

function coverage(rects: readonly Rect[], w: number, h: number): Uint8Array {
  const bits = new Uint8Array(w * h);
  for (const r of rects) paint(bits, w, r, 1);
  return bits;
}

describe('rects', { timeout: 60_000 }, () => {
  test('intersection, bounds, area', () => {
    assert.deepEqual(intersection({ x: 0, y: 0, w: 10, h: 10 }, { x: 5, y: 5, w: 10, h: 10 }), {
      x: 5,
      y: 5,
      w: 5,
      h: 5,
    });
    assert.equal(intersection({ x: 0, y: 0, w: 10, h: 10 }, { x: 10, y: 0, w: 5, h: 5 }), null);
    assert.deepEqual(bounds({ x: 0, y: 0, w: 2, h: 2 }, { x: 5, y: 6, w: 1, h: 1 }), {
      x: 0,
      y: 0,
      w: 6,
      h: 7,
    });
    assert.equal(area({ x: 3, y: 4, w: 5, h: 6 }), 30);
  });

  test('subtract gives disjoint pieces covering exactly a minus b', () => {
    const rand = rng(7);
    for (let i = 0; i < 500; i++) {
      const mk = (): Rect => ({
        x: Math.floor(rand() * 20),
        y: Math.floor(rand() * 20),
        w: 1 + Math.floor(rand() * 20),
        h: 1 + Math.floor(rand() * 20),
      });
      const a = mk();
      const b = mk();
      const pieces = subtract(a, b);
      assert.ok(pieces.length <= 4);
      const got = new Uint8Array(40 * 40);
      for (const p of pieces)
        for (let y = p.y; y < p.y + p.h; y++)
          for (let x = p.x; x < p.x + p.w; x++) got[y * 40 + x] = (got[y * 40 + x] ?? 0) + 1;
      const want = new Uint8Array(40 * 40);
      paint(want, 40, a, 1);
      paint(want, 40, b, 0);
      assert.deepEqual(got, want);
    }
  });

  test('splitTiles: tiles ≤ max side, even, exactly covering', () => {
    const tiles = splitTiles({ x: 3, y: 5, w: 600, h: 1030 }, 512);
    assert.equal(tiles.length, 2 * 3);
    assert.ok(tiles.every((t) => t.w <= 512 && t.h <= 512));
    assert.deepEqual(new Set(tiles.map((t) => t.w)), new Set([300]));
    assert.equal(
      tiles.reduce((n, t) => n + area(t), 0),
      600 * 1030,
    );
    assert.deepEqual(splitTiles({ x: 0, y: 0, w: 512, h: 512 }, 512), [{ x: 0, y: 0, w: 512, h: 512 }]);
  });

  test('disjoint keeps coverage and removes overlap', () => {
    const rects = [
      { x: 0, y: 0, w: 10, h: 10 },
      { x: 5, y: 5, w: 10, h: 10 },
      { x: 2, y: 2, w: 3, h: 3 },
    ];
    const out = disjoint(rects);
    assert.deepEqual(coverage(out, 20, 20), coverage(rects, 20, 20));
    assert.equal(
      out.reduce((n, r) => n + area(r), 0),
      coverage(rects, 20, 20).reduce((n, v) => n + v, 0),
    );
  });
});

describe('DirtyRegion', { timeout: 60_000 }, () => {
  test('random adds/subtracts: always covers what is dirty, clipped to the framebuffer, bounded', () => {
    const W = 300;
    const H = 200;
    for (let seed = 1; seed <= 30; seed++) {
      const rand = rng(seed);
      const d = new DirtyRegion(W, H);
      const truth = new Uint8Array(W * H);
      for (let i = 0; i < 400; i++) {
        const r = {
          x: Math.floor(rand() * (W + 40)) - 20,
          y: Math.floor(rand() * (H + 40)) - 20,
          w: 1 + Math.floor(rand() * 60),
          h: 1 + Math.floor(rand() * 60),
        };
        const c = intersection(r, { x: 0, y: 0, w: W, h: H });
        if (rand() < 0.7) {
          d.add(r);
          if (c) paint(truth, W, c, 1);
        } else {
          d.subtract(r);
          if (c) paint(truth, W, c, 0);
        }
        assert.ok(d.rects.length <= MAX_DIRTY_RECTS);
      }
      const cov = coverage(d.rects, W, H);
      for (let i = 0; i < truth.length; i++)
        if (truth[i]) assert.equal(cov[i], 1, `seed ${seed}: pixel ${i} lost`);
      for (const r of d.rects) assert.ok(r.x >= 0 && r.y >= 0 && r.x + r.w <= W && r.y + r.h <= H);
      const inter = d.intersections({ x: 50, y: 50, w: 100, h: 80 });
      const ic = coverage(inter, W, H);
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          const inside = x >= 50 && x < 150 && y >= 50 && y < 130;
          assert.equal(ic[y * W + x], inside ? cov[y * W + x] : 0);
        }
    }
  });

  test('merging: adjacent small rectangles merge, distant ones stay apart', () => {
    const d = new DirtyRegion(2000, 2000);
    for (let x = 0; x < 160; x += 16) d.add({ x, y: 0, w: 16, h: 16 }); // a hextile row
    assert.deepEqual(d.rects, [{ x: 0, y: 0, w: 160, h: 16 }]);
    d.add({ x: 1900, y: 1900, w: 10, h: 10 });
    assert.equal(d.rects.length, 2);
  });

  test('many scattered rectangles compact onto the grid', () => {
    const d = new DirtyRegion(4096, 4096);
    for (let i = 0; i < 2000; i++) d.add({ x: (i * 97) % 4000, y: (i * 61) % 4000, w: 2, h: 2 });
    assert.ok(d.rects.length <= MAX_DIRTY_RECTS);
    const cov = coverage(d.rects, 4096, 4096);
    for (let i = 0; i < 2000; i++) assert.equal(cov[((i * 61) % 4000) * 4096 + ((i * 97) % 4000)], 1);
  });
});

describe('HeatMap', { timeout: 60_000 }, () => {
  test('rate from the last frames, once per frame, cooling when idle', () => {
    const h = new HeatMap(256, 256);
    const r = { x: 0, y: 0, w: 64, h: 64 };
    for (let f = 0; f < HEAT_HISTORY; f++) {
      h.touch(r, f, f * 100);
      h.touch(r, f, f * 100 + 1); // same frame: ignored
    }
    assert.equal(h.fps(r, 400), 10);
    assert.equal(h.fps({ x: 64, y: 0, w: 64, h: 64 }, 400), 0);
    assert.equal(h.fps({ x: 0, y: 0, w: 128, h: 64 }, 400), 5); // mean over two cells
    assert.ok(h.fps(r, 4000) < 3); // stopped changing: cools down
    h.resize(256, 256);
    assert.equal(h.fps(r, 400), 0);
  });
});
