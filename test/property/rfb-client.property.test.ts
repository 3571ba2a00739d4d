import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { Rect } from '../../src/engine/display/framebuffer.js';
import type { RfbClient, RfbClientOptions } from '../../src/protocol/rfb/client.js';
import type { RfbEvent } from '../../src/protocol/rfb/events.js';
import {
  ascii,
  concat,
  fbUpdate,
  handshake38,
  rawData,
  serverInit,
  type TestRect,
  testClient,
  u16,
  u32,
} from '../helpers/rfb-bytes.js';

const RUNS = 300;
const LIMITS = {
  maxWidth: 256,
  maxHeight: 256,
  maxNameLength: 64,
  maxCutTextBytes: 512,
  maxRectBytes: 32 * 1024,
};
/** Reader capacity can reach twice (one unit + one 64 KiB feed slice) before it is trimmed. */
const MAX_BUFFERED = 2 * (LIMITS.maxRectBytes + 64 * 1024) + 4096;

const OPTIONS: Partial<RfbClientOptions> = {
  limits: LIMITS,
  password: 'pw',
  extendedClipboard: {
    active: true,
    legacyFallback: false,
    handleServerPayload: (p) => ({ text: String(p.length), replies: [p.subarray(0, 4)] }),
    sendText: () => [],
  },
};

const encodingArb = fc.constantFrom(0, 1, 2, 5, -239, -223, -308, -224, 16, 7, -240, 0x7fffffff);

// Mostly inside the 32x24 desktop, sometimes not.
const rectArb: fc.Arbitrary<TestRect> = fc.record({
  x: fc.integer({ min: 0, max: 28 }),
  y: fc.integer({ min: 0, max: 20 }),
  w: fc.integer({ min: 0, max: 12 }),
  h: fc.integer({ min: 0, max: 12 }),
  encoding: encodingArb,
  data: fc.uint8Array({ maxLength: 200 }),
});

/** A Raw rectangle with exactly the right amount of data (so decoding goes on past it). */
const goodRawArb: fc.Arbitrary<TestRect> = fc
  .record({
    x: fc.nat(31),
    y: fc.nat(23),
    w: fc.integer({ min: 1, max: 8 }),
    h: fc.integer({ min: 1, max: 8 }),
  })
  .map((r) => ({ ...r, encoding: 0, data: rawData(r.w, r.h, (x, y) => x * 7 + y) }));

/** A well-formed Hextile rectangle with pseudo-random tiles (raw, solid, subrectangles). */
const goodHextileArb: fc.Arbitrary<TestRect> = fc
  .record({ w: fc.integer({ min: 1, max: 32 }), h: fc.integer({ min: 1, max: 24 }), seed: fc.nat() })
  .map(({ w, h, seed }) => {
    let state = seed | 1;
    const rnd = (n: number): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return (state >>> 8) % n;
    };
    const data: number[] = [];
    for (let ty = 0; ty < h; ty += 16) {
      for (let tx = 0; tx < w; tx += 16) {
        const tw = Math.min(16, w - tx);
        const th = Math.min(16, h - ty);
        const kind = rnd(3);
        if (kind === 0) data.push(1, ...rawData(tw, th, () => rnd(0x1000000)));
        else if (kind === 1) data.push(2, ...rawData(1, 1, () => rnd(0x1000000)));
        else {
          const n = rnd(6);
          data.push(2 | 8 | 16, ...rawData(1, 1, () => rnd(0x1000000)), n);
          for (let i = 0; i < n; i++) {
            const sx = rnd(tw);
            const sy = rnd(th);
            const sw = 1 + rnd(tw - sx);
            const sh = 1 + rnd(th - sy);
            data.push(...rawData(1, 1, () => rnd(0x1000000)), (sx << 4) | sy, ((sw - 1) << 4) | (sh - 1));
          }
        }
      }
    }
    return { x: 32 - w, y: 24 - h, w, h, encoding: 5, data };
  });

const messageArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.array(fc.oneof(rectArb, goodRawArb, goodHextileArb), { maxLength: 4 }).map((rects) => fbUpdate(rects)),
  fc.tuple(fc.array(rectArb, { maxLength: 3 }), fc.nat(0xffff)).map(([rects, n]) => fbUpdate(rects, n)),
  fc.constant(Uint8Array.of(2)),
  fc
    .tuple(fc.integer({ min: -2000, max: 2000 }), fc.uint8Array({ maxLength: 100 }))
    .map(([len, data]) => concat([3, 0, 0, 0], u32(len >>> 0), data)),
  fc
    .tuple(fc.nat(0xffff), fc.nat(40), fc.uint8Array({ maxLength: 60 }))
    .map(([first, n, data]) => concat([1, 0], u16(first), u16(n), data)),
  fc.uint8Array({ maxLength: 24 }),
);

const prefixArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.constant(handshake38(32, 24)),
  fc.constant(concat(ascii('RFB 003.003\n'), u32(1), serverInit(32, 24))),
  fc.constant(concat(ascii('RFB 003.007\n'), [1, 2], new Uint8Array(16), u32(0), serverInit(32, 24))),
  fc.uint8Array({ maxLength: 40 }),
);

function chunked(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

/** Feeds chunks and checks the client's invariants; returns all events. */
function drive(client: RfbClient, chunks: Uint8Array[]): RfbEvent[] {
  const all: RfbEvent[] = [];
  let size = { w: 0, h: 0 };
  let inFrame = false;
  for (const chunk of chunks) {
    const events = client.feed(chunk); // must not throw
    client.takeOutput();
    assert.ok(client.bufferedBytes <= MAX_BUFFERED, `buffered ${client.bufferedBytes}`);
    for (const e of events) {
      const inside = (r: Rect) => r.x >= 0 && r.y >= 0 && r.x + r.w <= size.w && r.y + r.h <= size.h;
      if (e.type === 'ready') size = { w: e.width, h: e.height };
      if (e.type === 'resize') size = { w: e.width, h: e.height };
      if (e.type === 'update' || e.type === 'fill' || e.type === 'copy')
        assert.ok(inside(e.rect), JSON.stringify(e));
      if (e.type === 'copy') assert.ok(inside({ x: e.srcX, y: e.srcY, w: e.rect.w, h: e.rect.h }));
      if (e.type === 'frame-start') {
        assert.equal(inFrame, false);
        inFrame = true;
      }
      if (e.type === 'frame-end') {
        assert.equal(inFrame, true);
        inFrame = false;
      }
    }
    all.push(...events);
  }
  const errors = all.filter((e) => e.type === 'error');
  assert.ok(errors.length <= 1, 'at most one error');
  if (errors.length === 1) {
    assert.equal(all.at(-1)?.type, 'error', 'nothing after the error');
    assert.equal(client.phase, 'failed');
  }
  assert.ok(client.framebuffer.width <= LIMITS.maxWidth && client.framebuffer.height <= LIMITS.maxHeight);
  return all;
}

describe('RfbClient on arbitrary input', { timeout: 120_000 }, () => {
  test('any bytes: never throws, bounded buffering, at most one error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
        drive(testClient(OPTIONS), chunked(bytes, cuts));
      }),
      { numRuns: RUNS },
    );
  });

  test('a handshake then arbitrary server messages, arbitrarily chunked', () => {
    fc.assert(
      fc.property(
        prefixArb,
        fc.array(messageArb, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (prefix, messages, cuts) => {
          const bytes = concat(prefix, ...messages);
          const whole = drive(testClient(OPTIONS), [bytes]);
          const split = drive(testClient(OPTIONS), chunked(bytes, cuts));
          assert.deepEqual(split, whole, 'chunking does not change the events');
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('large claimed lengths stay bounded', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(
          concat([3, 0, 0, 0], u32(0x7fffffff)),
          concat([3, 0, 0, 0], u32(0x80000000)),
          fbUpdate([{ x: 0, y: 0, w: 32, h: 24, encoding: 0 }]),
          fbUpdate([{ x: 0, y: 0, w: 255, h: 255, encoding: -239 }]),
          fbUpdate([{ x: 0, y: 0, w: 32, h: 24, encoding: 2, data: u32(0xffffffff) }]),
        ),
        fc.integer({ min: 1, max: 200_000 }),
        (head, tail) => {
          drive(testClient(OPTIONS), [handshake38(32, 24), head, new Uint8Array(tail)]);
        },
      ),
      { numRuns: 60 },
    );
  });
});
