/** Format choice (guacd's rules), lossy quality from lag, pixel heuristics, encodeImage, and the
 * encoder picking JPEG/WebP for a hot photo-like region. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { DisplayEncoder } from '../../src/engine/display/display-encoder.js';
import { encodeImage } from '../../src/engine/display/encode-image.js';
import {
  chooseFormat,
  type FormatInputs,
  isPngUnfriendly,
  lossyQuality,
  uniformColor,
} from '../../src/engine/display/format.js';
import { Framebuffer } from '../../src/engine/display/framebuffer.js';
import { client, rng, SimSink, silent } from '../helpers/display-sim.js';

const PNG = 'image/png';
const JPEG = 'image/jpeg';
const WEBP = 'image/webp';

function noise(w: number, h: number, seed = 1): Uint8Array {
  const rand = rng(seed);
  const px = new Uint8Array(w * h * 4);
  for (let i = 0; i < px.length; i++) px[i] = i % 4 === 3 ? 255 : Math.floor(rand() * 256);
  return px;
}

function flat(w: number, h: number, rgb = 0x336699): Uint8Array {
  const px = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) px.set([rgb >> 16, (rgb >> 8) & 255, rgb & 255, 255], i * 4);
  return px;
}

describe('chooseFormat', { timeout: 60_000 }, () => {
  const hot: FormatInputs = {
    lossless: false,
    accepts: [PNG, JPEG],
    area: 10_000,
    fps: 10,
    pngUnfriendly: true,
  };
  const cases: Array<[string, Partial<FormatInputs>, string]> = [
    ['lossy pays → JPEG', {}, 'jpeg'],
    ['client takes WebP → WebP first', { accepts: [PNG, JPEG, WEBP] }, 'webp'],
    ['WebP without JPEG', { accepts: [PNG, WEBP] }, 'webp'],
    ['force-lossless → PNG', { lossless: true, accepts: [PNG, JPEG, WEBP] }, 'png'],
    ['client takes only PNG → PNG', { accepts: [PNG] }, 'png'],
    ['area exactly 4096 → PNG', { area: 4096 }, 'png'],
    ['area 4097 → JPEG', { area: 4097 }, 'jpeg'],
    ['below 3 fps → PNG', { fps: 2.9 }, 'png'],
    ['exactly 3 fps → JPEG', { fps: 3 }, 'jpeg'],
    ['PNG-friendly content → PNG', { pngUnfriendly: false, accepts: [PNG, JPEG, WEBP] }, 'png'],
  ];
  for (const [name, over, want] of cases) {
    test(name, () => assert.equal(chooseFormat({ ...hot, ...over }), want));
  }
});

describe('lossyQuality', { timeout: 60_000 }, () => {
  const cases: Array<[number, number]> = [
    [0, 90],
    [20, 90],
    [21, 89],
    [50, 60],
    [80, 30],
    [500, 30],
    [Number.NaN, 30],
  ];
  for (const [lag, q] of cases) test(`lag ${lag} ms → ${q}`, () => assert.equal(lossyQuality(lag), q));
});

describe('pixel heuristics', { timeout: 60_000 }, () => {
  test('noise is PNG-unfriendly; flat colour and text-like stripes are not', () => {
    assert.equal(isPngUnfriendly(noise(200, 100), 200, 100), true);
    assert.equal(isPngUnfriendly(flat(200, 100), 200, 100), false);
    const stripes = flat(200, 100);
    for (let x = 0; x < 200; x += 25)
      for (let y = 0; y < 100; y++) stripes.set([0, 0, 0, 255], (y * 200 + x) * 4);
    assert.equal(isPngUnfriendly(stripes, 200, 100), false);
  });

  test('at most 16 colours along the sampled rows is PNG-friendly, however they alternate', () => {
    const rand = rng(7);
    const mix = (colors: number) => {
      const px = new Uint8Array(200 * 100 * 4);
      let c = 0;
      for (let i = 0; i < 200 * 100; i++) {
        // Every pixel differs from its left neighbour: guacd's repeat test alone calls this unfriendly.
        c = (c + 1 + Math.floor(rand() * (colors - 1))) % colors;
        px.set([c * 8, 255 - c * 8, (c * 37) & 255, 255], i * 4);
      }
      return px;
    };
    assert.equal(isPngUnfriendly(mix(2), 200, 100), false);
    assert.equal(isPngUnfriendly(mix(16), 200, 100), false);
    assert.equal(isPngUnfriendly(mix(17), 200, 100), true);
    assert.equal(isPngUnfriendly(mix(40), 200, 100), true);
  });

  test('uniformColor', () => {
    assert.equal(uniformColor(flat(7, 5, 0x123456)), 0x123456);
    const px = flat(7, 5);
    px[4 * 34] = 0;
    assert.equal(uniformColor(px), -1);
    assert.equal(uniformColor(new Uint8Array(0)), -1);
  });
});

describe('encodeImage', { timeout: 60_000 }, () => {
  test('PNG round-trips exactly (opaque and with alpha)', async () => {
    const px = noise(61, 37, 3);
    const png = await encodeImage(px, 61, 37, 'png', 90, { opaque: true });
    assert.deepEqual(new Uint8Array(await sharp(png).ensureAlpha().raw().toBuffer()), px);
    const alpha = noise(20, 10, 4);
    for (let i = 3; i < alpha.length; i += 8) alpha[i] = 0;
    const png2 = await encodeImage(alpha, 20, 10, 'png', 90);
    assert.deepEqual(new Uint8Array(await sharp(png2).ensureAlpha().raw().toBuffer()), alpha);
  });

  test('JPEG and WebP: right size and type; quality changes the size', async () => {
    const px = noise(128, 64, 5);
    const hi = await encodeImage(px, 128, 64, 'jpeg', 90, { opaque: true });
    const lo = await encodeImage(px, 128, 64, 'jpeg', 30, { opaque: true });
    assert.ok(lo.length < hi.length);
    assert.deepEqual((await sharp(hi).metadata()).format, 'jpeg');
    const webp = await encodeImage(px, 128, 64, 'webp', 60);
    const meta = await sharp(webp).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['webp', 128, 64]);
  });

  test('bad sizes reject with RangeError', async () => {
    await assert.rejects(encodeImage(new Uint8Array(10), 2, 2, 'png', 90), RangeError);
    await assert.rejects(encodeImage(new Uint8Array(0), 0, 0, 'png', 90), RangeError);
  });
});

describe('encoder format selection', { timeout: 60_000 }, () => {
  async function animate(
    image: string[],
    forceLossless: boolean,
    side: number,
    content: (frame: number) => Uint8Array = (f) => noise(side, side, f + 10),
  ): Promise<SimSink> {
    let t = 1_000_000;
    const fb = new Framebuffer(256, 256);
    const sink = new SimSink();
    const enc = new DisplayEncoder({
      sink,
      client: client(image),
      forceLossless,
      fb,
      log: silent,
      now: () => t,
    });
    enc.resize(256, 256);
    enc.endFrame();
    await enc.whenIdle();
    const r = { x: 0, y: 0, w: side, h: side };
    for (let f = 0; f < 8; f++) {
      t += 100; // 10 frames/s
      fb.put(r, content(f));
      enc.damage(r);
      enc.endFrame();
      await enc.whenIdle();
      const last = sink.client.syncs.at(-1);
      if (last) enc.clientSync(last.ts);
    }
    await sink.client.settled();
    return sink;
  }

  test('a hot photo-like region goes lossy once its rate reaches 3 fps', { timeout: 30_000 }, async () => {
    const jpeg = await animate([PNG, JPEG], false, 128);
    const kinds = jpeg.client.mimetypes;
    assert.equal(kinds[0], PNG); // first paint: no history yet
    assert.equal(kinds.at(-1), JPEG);
    const webp = await animate([PNG, JPEG, WEBP], false, 128);
    assert.equal(webp.client.mimetypes.at(-1), WEBP);
  });

  test('a hot region of few-colour "text" stays PNG', { timeout: 30_000 }, async () => {
    const sink = await animate([PNG, JPEG, WEBP], false, 128, (f) => {
      const rand = rng(f + 40);
      const px = flat(128, 128, 0xffffff);
      for (let i = 0; i < 128 * 128; i++) if (rand() < 0.4) px.set([0, 0, 0, 255], i * 4);
      return px;
    });
    assert.ok(
      sink.client.mimetypes.every((m) => m === PNG),
      sink.client.mimetypes.join(),
    );
  });

  test('force-lossless, small regions and PNG-only clients stay PNG', { timeout: 30_000 }, async () => {
    for (const sink of [
      await animate([PNG, JPEG, WEBP], true, 128),
      await animate([PNG, JPEG], false, 60), // 3600 px ≤ 4096
      await animate([PNG], false, 128),
    ]) {
      assert.ok(
        sink.client.mimetypes.every((m) => m === PNG),
        sink.client.mimetypes.join(),
      );
    }
  });
});
