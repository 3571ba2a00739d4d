/** Recycled tile buffers: size classes, what is taken back, the bound on what is kept, Framebuffer.read
 * into a given buffer, and a DisplayEncoder with large tiles (recycled across frames while others encode)
 * still reproducing the framebuffer exactly on a simulated client. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DisplayEncoder } from '../../src/engine/display/display-encoder.js';
import { Framebuffer, type Rect } from '../../src/engine/display/framebuffer.js';
import { freeTileBytes, returnTileBuffer, takeTileBuffer } from '../../src/engine/display/tile-buffers.js';
import { client, firstDifference, rng, SimSink, silent } from '../helpers/display-sim.js';

describe('tile buffers', { timeout: 60_000 }, () => {
  test('exact lengths; mid-size buffers come from power-of-two classes and are reused', () => {
    const small = takeTileBuffer(1000);
    assert.equal(small.length, 1000);
    const a = takeTileBuffer(300_000);
    assert.equal(a.length, 300_000);
    assert.equal(a.buffer.byteLength, 512 * 1024);
    returnTileBuffer(a);
    const b = takeTileBuffer(400_000);
    assert.equal(b.buffer, a.buffer, 'same class → same buffer again');
    assert.equal(b.length, 400_000);
    const huge = takeTileBuffer((1 << 20) + 4);
    assert.equal(huge.length, (1 << 20) + 4);
    returnTileBuffer(b);
  });

  test('foreign and repeated returns are ignored; what is kept is bounded', () => {
    const before = freeTileBytes();
    returnTileBuffer(new Uint8Array(200_000));
    returnTileBuffer(takeTileBuffer(10)); // below the smallest class: a plain allocation
    assert.equal(freeTileBytes(), before);
    const t = takeTileBuffer(100_000);
    const base = freeTileBytes();
    returnTileBuffer(t);
    returnTileBuffer(t);
    assert.equal(freeTileBytes(), base + 128 * 1024);
    const many = Array.from({ length: 64 }, () => takeTileBuffer(1 << 20));
    for (const m of many) returnTileBuffer(m);
    assert.ok(freeTileBytes() <= 5 * (4 << 20), `kept ${freeTileBytes()} bytes`);
  });

  test('Framebuffer.read into a given buffer', () => {
    const fb = new Framebuffer(300, 200);
    fb.fill({ x: 10, y: 10, w: 100, h: 50 }, 0x123456);
    const r: Rect = { x: 5, y: 5, w: 150, h: 120 };
    const out = takeTileBuffer(150 * 120 * 4);
    assert.equal(fb.read(r, out), out);
    assert.deepEqual(out, fb.read(r));
    assert.throws(() => fb.read(r, new Uint8Array(8)), RangeError);
  });
});

describe('display encoder with recycled tiles', { timeout: 120_000 }, () => {
  function content(rand: () => number, w: number, h: number): Uint8Array {
    const px = new Uint8Array(w * h * 4);
    const kind = Math.floor(rand() * 3); // text-like (2 colours), 40 colours, noise
    const colors = Array.from({ length: 40 }, () =>
      [rand() * 256, rand() * 256, rand() * 256].map(Math.floor),
    );
    for (let i = 0; i < w * h; i++) {
      const c =
        kind === 0
          ? (colors[rand() < 0.3 ? 1 : 0] as number[])
          : kind === 1
            ? (colors[Math.floor(rand() * 40)] as number[])
            : [rand() * 256, rand() * 256, rand() * 256].map(Math.floor);
      px.set([...c, 255], i * 4);
    }
    return px;
  }

  test('random large damage over many frames: the client equals the framebuffer', async () => {
    for (let seed = 1; seed <= 4; seed++) {
      const rand = rng(seed);
      const fb = new Framebuffer(700, 420);
      const sink = new SimSink();
      const enc = new DisplayEncoder({
        sink,
        client: client(['image/png']),
        forceLossless: true,
        fb,
        log: silent,
      });
      enc.resize(fb.width, fb.height);
      for (let step = 0; step < 30; step++) {
        const w = 100 + Math.floor(rand() * 500);
        const h = 80 + Math.floor(rand() * 300);
        const r = { x: Math.floor(rand() * (fb.width - w)), y: Math.floor(rand() * (fb.height - h)), w, h };
        fb.put(r, content(rand, w, h));
        enc.damage(r);
        if (rand() < 0.2) {
          const c = { x: Math.floor(rand() * 200), y: Math.floor(rand() * 100), w: 300, h: 200 };
          const sx = Math.floor(rand() * 400);
          const sy = Math.floor(rand() * 220);
          fb.copy(sx, sy, c);
          enc.copy(sx, sy, c);
        }
        if (rand() < 0.6) enc.endFrame();
        if (rand() < 0.5) await new Promise((res) => setImmediate(res));
        const last = sink.client.syncs.at(-1);
        if (last) enc.clientSync(last.ts);
      }
      enc.endFrame();
      await enc.whenIdle();
      await sink.client.settled();
      assert.equal(firstDifference(sink.client.layer(0), fb), -1, `seed ${seed}`);
      assert.equal(enc.stats.failures, 0);
    }
  });
});
