import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RfbClient, RfbClientOptions } from '../../src/protocol/rfb/client.js';
import type { RfbEvent } from '../../src/protocol/rfb/events.js';
import {
  concat,
  connectedClient,
  fbUpdate,
  feedSplit,
  pixelAt,
  px32,
  rawData,
  type TestRect,
  u16,
  u32,
} from '../helpers/rfb-bytes.js';

const W = 40;
const H = 24;

interface Outcome {
  events: RfbEvent[];
  pixels: Uint8Array;
}

/**
 * Feeds `bytes` to fresh clients whole, byte by byte, and split in two at every offset; every way must
 * give the same events and pixels. Returns the whole-feed outcome and its client.
 */
function decodeEverySplit(
  bytes: Uint8Array,
  opts: Partial<RfbClientOptions> = {},
  prelude?: Uint8Array,
): Outcome & { client: RfbClient } {
  const fresh = (): RfbClient => {
    const c = connectedClient(W, H, opts);
    if (prelude) c.feed(prelude);
    return c;
  };
  const client = fresh();
  const events = client.feed(bytes);
  const pixels = client.framebuffer.data.slice();
  const check = (cuts: number[], label: string): void => {
    const c = fresh();
    assert.deepEqual(feedSplit(c, bytes, cuts), events, `${label}: events`);
    assert.deepEqual(c.framebuffer.data, pixels, `${label}: pixels`);
  };
  check(
    Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
    'byte by byte',
  );
  for (let i = 1; i < bytes.length; i++) check([i], `split at ${i}`);
  return { events, pixels, client };
}

const pattern = (x: number, y: number): number =>
  (((x * 40) & 255) << 16) | (((y * 30) & 255) << 8) | (((x + y) * 5) & 255);

describe('Raw', { timeout: 60_000 }, () => {
  test('writes pixels and reports one update', () => {
    const rect: TestRect = { x: 3, y: 2, w: 5, h: 4, encoding: 0, data: rawData(5, 4, pattern) };
    const { events, client } = decodeEverySplit(fbUpdate([rect]));
    assert.deepEqual(events, [
      { type: 'frame-start' },
      { type: 'update', rect: { x: 3, y: 2, w: 5, h: 4 } },
      { type: 'frame-end' },
    ]);
    for (let y = 0; y < 4; y++)
      for (let x = 0; x < 5; x++) assert.equal(pixelAt(client, 3 + x, 2 + y), pattern(x, y));
    assert.equal(pixelAt(client, 2, 2), 0);
  });

  test('16 bpp (RGB565, little-endian) and 8 bpp (BGR233)', () => {
    const c16 = connectedClient(W, H, { colorDepth: 16 });
    c16.feed(fbUpdate([{ x: 0, y: 0, w: 3, h: 1, encoding: 0, data: [0x00, 0xf8, 0xe0, 0x07, 0x1f, 0x00] }]));
    assert.deepEqual(
      [0, 1, 2].map((x) => pixelAt(c16, x, 0)),
      [0xff0000, 0x00ff00, 0x0000ff],
    );
    const c8 = connectedClient(W, H, { colorDepth: 8 });
    c8.feed(fbUpdate([{ x: 0, y: 0, w: 3, h: 1, encoding: 0, data: [0x07, 0x38, 0xc0] }]));
    assert.deepEqual(
      [0, 1, 2].map((x) => pixelAt(c8, x, 0)),
      [0xff0000, 0x00ff00, 0x0000ff],
    );
  });

  test('swap-red-blue exchanges the channels when decoding', () => {
    const c = connectedClient(W, H, { swapRedBlue: true });
    c.feed(fbUpdate([{ x: 0, y: 0, w: 1, h: 1, encoding: 0, data: px32(0x112233) }]));
    assert.equal(pixelAt(c, 0, 0), 0x332211);
    const c8 = connectedClient(W, H, { swapRedBlue: true, colorDepth: 8 });
    c8.feed(fbUpdate([{ x: 0, y: 0, w: 2, h: 1, encoding: 0, data: [0x07, 0xc0] }]));
    assert.deepEqual([pixelAt(c8, 0, 0), pixelAt(c8, 1, 0)], [0x0000ff, 0xff0000]);
  });

  test('empty rectangles and empty updates', () => {
    const { events } = decodeEverySplit(
      concat(fbUpdate([{ x: 40, y: 24, w: 0, h: 0, encoding: 0 }]), fbUpdate([])),
    );
    assert.deepEqual(events, [
      { type: 'frame-start' },
      { type: 'frame-end' },
      { type: 'frame-start' },
      { type: 'frame-end' },
    ]);
  });

  test('LastRect ends an update with an open count', () => {
    const rect: TestRect = { x: 0, y: 0, w: 1, h: 1, encoding: 0, data: px32(0xabcdef) };
    const last: TestRect = { x: 0, y: 0, w: 0, h: 0, encoding: -224 };
    const { events } = decodeEverySplit(concat(fbUpdate([rect, last], 0xffff), fbUpdate([])));
    assert.deepEqual(
      events.map((e) => e.type),
      ['frame-start', 'update', 'frame-end', 'frame-start', 'frame-end'],
    );
  });
});

describe('CopyRect', { timeout: 60_000 }, () => {
  const prelude = fbUpdate([{ x: 0, y: 0, w: W, h: H, encoding: 0, data: rawData(W, H, pattern) }]);

  test('moves pixels and reports copy (overlapping, downwards)', () => {
    const { events, client } = decodeEverySplit(
      fbUpdate([{ x: 2, y: 3, w: 10, h: 8, encoding: 1, data: [...u16(1), ...u16(1)] }]),
      {},
      prelude,
    );
    assert.deepEqual(events, [
      { type: 'frame-start' },
      { type: 'copy', srcX: 1, srcY: 1, rect: { x: 2, y: 3, w: 10, h: 8 } },
      { type: 'frame-end' },
    ]);
    for (let y = 0; y < 8; y++)
      for (let x = 0; x < 10; x++) assert.equal(pixelAt(client, 2 + x, 3 + y), pattern(1 + x, 1 + y));
  });
});

describe('RRE', { timeout: 60_000 }, () => {
  test('background and subrectangles as fills', () => {
    const data = [
      ...u32(2),
      ...px32(0x102030),
      ...px32(0xff0000),
      ...[...u16(1), ...u16(1), ...u16(2), ...u16(3)],
      ...px32(0x00ff00),
      ...[...u16(4), ...u16(0), ...u16(1), ...u16(1)],
    ];
    const { events, client } = decodeEverySplit(fbUpdate([{ x: 10, y: 5, w: 6, h: 4, encoding: 2, data }]));
    assert.deepEqual(events, [
      { type: 'frame-start' },
      { type: 'fill', rect: { x: 10, y: 5, w: 6, h: 4 }, rgb: 0x102030 },
      { type: 'fill', rect: { x: 11, y: 6, w: 2, h: 3 }, rgb: 0xff0000 },
      { type: 'fill', rect: { x: 14, y: 5, w: 1, h: 1 }, rgb: 0x00ff00 },
      { type: 'frame-end' },
    ]);
    assert.equal(pixelAt(client, 10, 5), 0x102030);
    assert.equal(pixelAt(client, 12, 8), 0xff0000);
    assert.equal(pixelAt(client, 14, 5), 0x00ff00);
    assert.equal(pixelAt(client, 15, 8), 0x102030);
  });

  test('many subrectangles: one update', () => {
    const n = 40;
    const subs: number[] = [];
    for (let i = 0; i < n; i++) subs.push(...px32(i), ...u16(i % 8), ...u16(0), ...u16(1), ...u16(1));
    const data = [...u32(n), ...px32(0xffffff), ...subs];
    const c = connectedClient(W, H);
    const events = c.feed(fbUpdate([{ x: 0, y: 0, w: 8, h: 8, encoding: 2, data }]));
    assert.deepEqual(events, [
      { type: 'frame-start' },
      { type: 'update', rect: { x: 0, y: 0, w: 8, h: 8 } },
      { type: 'frame-end' },
    ]);
    assert.equal(pixelAt(c, 7, 0), n - 1);
    assert.equal(pixelAt(c, 7, 1), 0xffffff);
  });
});

describe('Hextile', { timeout: 60_000 }, () => {
  // A 36x18 rectangle at (2,3): tiles 16,16,4 wide and 16,2 high.
  const RX = 2;
  const RY = 3;
  const expected = new Map<string, number>();
  const paint = (x: number, y: number, w: number, h: number, rgb: number): void => {
    for (let j = y; j < y + h; j++) for (let i = x; i < x + w; i++) expected.set(`${RX + i},${RY + j}`, rgb);
  };
  const tiles: number[][] = [];
  // (0,0) solid, background specified.
  tiles.push([2, ...px32(0x0000aa)]);
  paint(0, 0, 16, 16, 0x0000aa);
  // (16,0) solid, inherited background: merges with the previous tile into one fill.
  tiles.push([0]);
  paint(16, 0, 16, 16, 0x0000aa);
  // (32,0) 4x16 raw.
  tiles.push([1, ...rawData(4, 16, (x, y) => pattern(x + 32, y))]);
  for (let y = 0; y < 16; y++) for (let x = 0; x < 4; x++) paint(32 + x, y, 1, 1, pattern(x + 32, y));
  // (0,16) 16x2: background + foreground + 2 monochrome subrects.
  tiles.push([2 | 4 | 8, ...px32(0x111111), ...px32(0xeeeeee), 2, 0x10, 0x10, 0x51, 0x00]);
  paint(0, 16, 16, 2, 0x111111);
  paint(1, 16, 2, 1, 0xeeeeee);
  paint(5, 17, 1, 1, 0xeeeeee);
  // (16,16) 16x2: coloured subrects on the inherited background.
  tiles.push([8 | 16, 1, ...px32(0x00ff00), 0x00, 0xf1]);
  paint(16, 16, 16, 2, 0x111111);
  paint(16, 16, 16, 2, 0x00ff00);
  // (32,16) 4x2 solid, new background.
  tiles.push([2, ...px32(0x123456)]);
  paint(32, 16, 4, 2, 0x123456);

  test('decodes tiles and merges events per tile row', () => {
    const rect: TestRect = { x: RX, y: RY, w: 36, h: 18, encoding: 5, data: tiles.flat() };
    const { events, client } = decodeEverySplit(fbUpdate([rect]));
    assert.deepEqual(events, [
      { type: 'frame-start' },
      { type: 'fill', rect: { x: 2, y: 3, w: 32, h: 16 }, rgb: 0x0000aa },
      { type: 'update', rect: { x: 34, y: 3, w: 4, h: 16 } },
      { type: 'update', rect: { x: 2, y: 19, w: 32, h: 2 } },
      { type: 'fill', rect: { x: 34, y: 19, w: 4, h: 2 }, rgb: 0x123456 },
      { type: 'frame-end' },
    ]);
    for (const [key, rgb] of expected) {
      const [x, y] = key.split(',').map(Number) as [number, number];
      assert.equal(pixelAt(client, x, y), rgb, `pixel ${key}`);
    }
    assert.equal(pixelAt(client, 1, 3), 0);
  });
});
