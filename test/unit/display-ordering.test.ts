/**
 * Ordering property: random sequences of framebuffer changes (damage, fills, overlapping copies, Tight
 * JPEG rectangles, resizes, frame ends at random points, sync replies, ticks between changes so encoding
 * overlaps new changes) are fed to the DisplayEncoder in lossless mode; the instructions it writes are
 * replayed on a simulated client, whose layer must then equal the framebuffer pixel for pixel.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { DisplayEncoder, type DisplayEncoderOptions } from '../../src/engine/display/display-encoder.js';
import { Framebuffer, type Rect } from '../../src/engine/display/framebuffer.js';
import { client, firstDifference, rng, SimSink, silent } from '../helpers/display-sim.js';

/** JPEG data → its pixels as decoded by sharp (the same decoder the simulated client uses). */
const decoded = new Map<string, Uint8Array>();

async function makeJpeg(w: number, h: number, rand: () => number): Promise<Uint8Array> {
  const px = new Uint8Array(w * h * 4);
  const base = [rand() * 255, rand() * 255, rand() * 255];
  for (let i = 0; i < w * h; i++) {
    for (let k = 0; k < 3; k++) px[i * 4 + k] = ((base[k] as number) + ((i * (k + 3)) % 97)) & 255;
    px[i * 4 + 3] = 255;
  }
  const jpeg = await sharp(px, { raw: { width: w, height: h, channels: 4 } })
    .jpeg({ quality: 70 })
    .toBuffer();
  const raw = await sharp(jpeg).ensureAlpha().raw().toBuffer();
  decoded.set(jpeg.toString('base64'), new Uint8Array(raw));
  return new Uint8Array(jpeg);
}

function jpegDecoder(data: Uint8Array): Uint8Array {
  const px = decoded.get(Buffer.from(data).toString('base64'));
  if (!px) throw new Error('unknown JPEG in test');
  return px;
}

function randomRect(rand: () => number, fb: Framebuffer, maxSide: number): Rect {
  const w = 1 + Math.floor(rand() * Math.min(maxSide, fb.width));
  const h = 1 + Math.floor(rand() * Math.min(maxSide, fb.height));
  return { x: Math.floor(rand() * (fb.width - w + 1)), y: Math.floor(rand() * (fb.height - h + 1)), w, h };
}

function randomPixels(rand: () => number, w: number, h: number): Uint8Array {
  const px = new Uint8Array(w * h * 4);
  const kind = Math.floor(rand() * 3);
  const c = [rand() * 255, rand() * 255, rand() * 255].map(Math.floor);
  for (let i = 0; i < w * h; i++) {
    const x = i % w;
    const y = Math.floor(i / w);
    for (let k = 0; k < 3; k++) {
      const base = c[k] as number;
      px[i * 4 + k] =
        kind === 0 ? base : kind === 1 ? (base + x * (k + 1) + y) & 255 : Math.floor(rand() * 256);
    }
    px[i * 4 + 3] = 255;
  }
  return px;
}

interface RunOptions {
  seed: number;
  steps: number;
  image: string[];
  extra?: Partial<DisplayEncoderOptions>;
}

async function runSequence(o: RunOptions): Promise<{ sink: SimSink; fb: Framebuffer; enc: DisplayEncoder }> {
  const rand = rng(o.seed);
  let fb = new Framebuffer(96 + Math.floor(rand() * 80), 64 + Math.floor(rand() * 64), jpegDecoder);
  const sink = new SimSink();
  const enc = new DisplayEncoder({
    sink,
    client: client(o.image),
    forceLossless: true,
    fb,
    log: silent,
    tileSize: 40,
    fillMinArea: 64,
    ...o.extra,
  });
  enc.resize(fb.width, fb.height);
  for (let step = 0; step < o.steps; step++) {
    const p = rand();
    if (p < 0.3) {
      const r = randomRect(rand, fb, 60);
      fb.put(r, randomPixels(rand, r.w, r.h));
      enc.damage(r);
    } else if (p < 0.45) {
      const r = randomRect(rand, fb, 70);
      const rgb = Math.floor(rand() * 0xffffff);
      fb.fill(r, rgb);
      enc.fill(r, rgb);
    } else if (p < 0.65) {
      const r = randomRect(rand, fb, 70);
      const near = rand() < 0.6;
      const sx = near
        ? Math.min(fb.width - r.w, Math.max(0, r.x + Math.floor(rand() * 21) - 10))
        : Math.floor(rand() * (fb.width - r.w + 1));
      const sy = near
        ? Math.min(fb.height - r.h, Math.max(0, r.y + Math.floor(rand() * 21) - 10))
        : Math.floor(rand() * (fb.height - r.h + 1));
      fb.copy(sx, sy, r);
      enc.copy(sx, sy, r);
    } else if (p < 0.72) {
      const r = randomRect(rand, fb, 48);
      const data = await makeJpeg(r.w, r.h, rand);
      fb.addPendingJpeg(r, data);
      enc.jpeg(r, data);
    } else if (p < 0.74) {
      fb = resizeFb(fb, 64 + Math.floor(rand() * 96), 48 + Math.floor(rand() * 80));
      enc.resize(fb.width, fb.height);
    } else if (p < 0.76) {
      const w = Math.floor(rand() * 20);
      const h = Math.floor(rand() * 20);
      enc.cursor(Math.floor(rand() * 20), Math.floor(rand() * 20), w, h, randomPixels(rand, w, h));
    } else if (p < 0.9) {
      enc.endFrame();
    } else if (p < 0.95) {
      await new Promise((r) => setImmediate(r));
      const last = sink.client.syncs.at(-1);
      if (last) enc.clientSync(last.ts);
    } else {
      await new Promise((r) => setTimeout(r, 1));
    }
  }
  enc.endFrame();
  await enc.whenIdle();
  await sink.client.settled();
  return { sink, fb, enc };

  /** The framebuffer object is the encoder's; resize it in place as the RFB client does. */
  function resizeFb(f: Framebuffer, w: number, h: number): Framebuffer {
    f.resize(w, h);
    return f;
  }
}

function check(sink: SimSink, fb: Framebuffer, label: string): void {
  fb.materialize({ x: 0, y: 0, w: fb.width, h: fb.height }); // pending JPEGs into fb.data
  const diff = firstDifference(sink.client.layer(0), fb);
  if (diff !== -1) {
    const l = sink.client.layer(0);
    const at = diff >= 0 ? ` at pixel (${diff % fb.width}, ${Math.floor(diff / fb.width)})` : '';
    assert.fail(`${label}: client ${l.w}x${l.h} differs from framebuffer ${fb.width}x${fb.height}${at}`);
  }
}

/** Sequences per case (DISPLAY_PROPERTY_RUNS raises it for a longer soak). */
const RUNS = Math.max(1, Number(process.env.DISPLAY_PROPERTY_RUNS ?? 40));
const SCALE = Math.max(1, RUNS / 40);

describe('display encoder ordering (lossless, simulated client)', { timeout: 360_000 * SCALE }, () => {
  test('random sequences, client accepts png+jpeg (JPEG passthrough)', {
    timeout: 120_000 * SCALE,
  }, async () => {
    for (let seed = 1; seed <= RUNS * 1.5; seed++) {
      const { sink, fb, enc } = await runSequence({ seed, steps: 60, image: ['image/png', 'image/jpeg'] });
      check(sink, fb, `seed ${seed}`);
      assert.equal(enc.stats.failures, 0);
    }
  });

  test('random sequences, client accepts png only (JPEG decoded and re-sent as PNG)', {
    timeout: 120_000 * SCALE,
  }, async () => {
    for (let seed = 100_001; seed <= 100_000 + RUNS; seed++) {
      const { sink, fb, enc } = await runSequence({ seed, steps: 60, image: ['image/png'] });
      check(sink, fb, `seed ${seed}`);
      assert.ok(
        sink.client.mimetypes.every((m) => m === 'image/png'),
        'only PNG sent',
      );
      assert.equal(enc.stats.passthroughJpeg, 0);
    }
  });

  test('tiny capture budget: copies over stale areas degrade to repaints', {
    timeout: 120_000 * SCALE,
  }, async () => {
    for (let seed = 200_001; seed <= 200_000 + RUNS * 0.75; seed++) {
      const { sink, fb } = await runSequence({
        seed,
        steps: 50,
        image: ['image/png', 'image/jpeg'],
        extra: { captureBudget: 256, maxConcurrentFrames: 1 },
      });
      check(sink, fb, `seed ${seed}`);
    }
  });

  test('frames in one long plan: more than MAX_ITEMS fills collapse to a full repaint', {
    timeout: 60_000,
  }, async () => {
    const fb = new Framebuffer(120, 80);
    const sink = new SimSink();
    const enc = new DisplayEncoder({
      sink,
      client: client(['image/png']),
      forceLossless: true,
      fb,
      log: silent,
      fillMinArea: 1,
    });
    enc.resize(fb.width, fb.height);
    for (let i = 0; i < 5000; i++) {
      const r = { x: i % 120, y: (i * 7) % 80, w: 1, h: 1 };
      fb.fill(r, i * 2654435761);
      enc.fill(r, i * 2654435761);
    }
    enc.endFrame();
    await enc.whenIdle();
    await sink.client.settled();
    check(sink, fb, 'collapse');
    assert.ok(sink.client.instructions.filter((i) => i.opcode === 'cfill').length < 5000);
  });
});
