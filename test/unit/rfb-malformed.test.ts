import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RfbClientOptions } from '../../src/protocol/rfb/client.js';
import { coreDecoders } from '../../src/protocol/rfb/decoders/core.js';
import type { DecoderFactory } from '../../src/protocol/rfb/decoders/types.js';
import type { RfbEvent } from '../../src/protocol/rfb/events.js';
import {
  concat,
  connectedClient,
  errorsOf,
  fbUpdate,
  px32,
  rawData,
  type TestRect,
  u16,
  u32,
} from '../helpers/rfb-bytes.js';

const W = 64;
const H = 48;

/** Feeds bytes (whole, then byte by byte on a fresh client) and expects exactly one UPSTREAM_ERROR. */
function expectUpstreamError(
  bytes: Uint8Array,
  includes: string,
  opts: Partial<RfbClientOptions> = {},
): void {
  for (const byteByByte of [false, true]) {
    const c = connectedClient(W, H, opts);
    const events: RfbEvent[] = [];
    if (byteByByte) for (let i = 0; i < bytes.length; i++) events.push(...c.feed(bytes.subarray(i, i + 1)));
    else events.push(...c.feed(bytes));
    events.push(...c.feed(fbUpdate([]))); // anything after the error is ignored
    const errors = errorsOf(events);
    assert.equal(errors.length, 1, `${includes}: ${JSON.stringify(events.map((e) => e.type))}`);
    assert.equal(errors[0]?.status, 0x0203);
    assert.ok(errors[0]?.message.includes(includes), errors[0]?.message);
    assert.equal(events.at(-1)?.type, 'error');
    assert.equal(c.phase, 'failed');
  }
}

const rect = (r: Partial<TestRect> & { encoding: number }): TestRect => ({ x: 0, y: 0, w: 1, h: 1, ...r });

describe('malformed server data → one UPSTREAM_ERROR', { timeout: 60_000 }, () => {
  test('unknown server message types', () => {
    for (const type of [4, 150, 248, 255])
      expectUpstreamError(Uint8Array.of(type), `unknown message type ${type}`);
  });

  test('rectangle outside the framebuffer', () => {
    expectUpstreamError(
      fbUpdate([rect({ x: 60, w: 5, encoding: 0, data: rawData(5, 1, () => 0) })]),
      'outside',
    );
    expectUpstreamError(fbUpdate([rect({ y: 65535, h: 2, encoding: 5 })]), 'outside the 64x48 framebuffer');
  });

  test('rectangle in an encoding that was not requested', () => {
    expectUpstreamError(fbUpdate([rect({ encoding: 16 })]), 'zrle, which was not requested');
    expectUpstreamError(fbUpdate([rect({ encoding: -240 })]), 'not requested');
  });

  test('CopyRect source outside the framebuffer', () => {
    expectUpstreamError(
      fbUpdate([rect({ w: 10, h: 10, encoding: 1, data: [...u16(60), ...u16(0)] })]),
      'CopyRect source',
    );
  });

  test('RRE: too many subrectangles, subrectangle outside', () => {
    expectUpstreamError(
      fbUpdate([rect({ w: 2, h: 2, encoding: 2, data: [...u32(5), ...px32(0)] })]),
      'claims 5',
    );
    const sub = [...px32(1), ...u16(1), ...u16(0), ...u16(2), ...u16(1)];
    expectUpstreamError(
      fbUpdate([rect({ w: 2, h: 2, encoding: 2, data: [...u32(1), ...px32(0), ...sub] })]),
      'RRE subrectangle',
    );
  });

  test('Hextile: subrectangle outside its tile, unknown subencoding bits', () => {
    // A 4x4 tile; the subrect at (2,2) of 4x1 overflows.
    expectUpstreamError(
      fbUpdate([rect({ w: 4, h: 4, encoding: 5, data: [8 | 16, 1, ...px32(1), 0x22, 0x30] })]),
      'Hextile subrectangle',
    );
    expectUpstreamError(fbUpdate([rect({ w: 4, h: 4, encoding: 5, data: [0x40] })]), 'unknown subencoding');
  });

  test('absurd sizes: DesktopSize, ExtendedDesktopSize, Cursor', () => {
    expectUpstreamError(fbUpdate([rect({ w: 9000, h: 10, encoding: -223 })]), '9000x10');
    expectUpstreamError(
      fbUpdate([rect({ w: 10, h: 60000, encoding: -308, data: [0, 0, 0, 0] })]),
      '10x60000',
    );
    expectUpstreamError(fbUpdate([rect({ w: 9000, h: 1, encoding: -239 })]), 'cursor');
    expectUpstreamError(fbUpdate([rect({ w: 4096, h: 4096, encoding: -239 })]), 'cursor');
    expectUpstreamError(fbUpdate([rect({ w: 64, h: 64, encoding: -239 })]), 'cursor', {
      limits: { maxRectBytes: 1000 },
    });
  });

  test('a decoder throwing anything becomes UPSTREAM_ERROR', () => {
    const decoders = coreDecoders();
    decoders.set(16, () => ({
      step(): boolean {
        throw new Error('invalid stored block lengths');
      },
    }));
    expectUpstreamError(fbUpdate([rect({ encoding: 16 })]), 'invalid stored block lengths', {
      decoders,
      encodings: [16, 0],
    });
  });

  test('a decoder waiting for more than maxRectBytes', () => {
    const decoders = new Map<number, DecoderFactory>(coreDecoders());
    decoders.set(16, () => ({ step: (r) => r.has(1 << 30) }));
    const bytes = concat(fbUpdate([rect({ encoding: 16 })]), new Uint8Array(5000));
    expectUpstreamError(bytes, 'without completing a rectangle', {
      decoders,
      encodings: [16, 0],
      limits: { maxRectBytes: 4096 },
    });
  });
});

describe('truncated streams: no event, bounded memory', { timeout: 60_000 }, () => {
  test('a large Raw rectangle that never completes', () => {
    const c = connectedClient(1024, 768);
    const events = c.feed(fbUpdate([rect({ w: 1024, h: 768, encoding: 0 })]));
    assert.deepEqual(events, [{ type: 'frame-start' }]);
    const chunk = new Uint8Array(100_001);
    for (let i = 0; i < 30; i++) assert.deepEqual(c.feed(chunk), []);
    assert.ok(c.bufferedBytes <= 256 * 1024, `buffered ${c.bufferedBytes}`);
  });

  test('ServerCutText claiming 2 GiB keeps at most maxCutTextBytes', () => {
    const c = connectedClient(W, H, { limits: { maxCutTextBytes: 1000 } });
    assert.deepEqual(c.feed(Uint8Array.from([3, 0, 0, 0, ...u32(0x7fffffff)])), []);
    const chunk = new Uint8Array(1 << 20).fill(0x41);
    for (let i = 0; i < 8; i++) assert.deepEqual(c.feed(chunk), []);
    assert.ok(c.bufferedBytes <= 256 * 1024, `buffered ${c.bufferedBytes}`);
  });

  test('an extended-clipboard message without a handler is skipped as it arrives', () => {
    const c = connectedClient(W, H);
    const payload = new Uint8Array(300_000);
    const msg = concat([3, 0, 0, 0], u32(-payload.length >>> 0), payload);
    assert.deepEqual(c.feed(msg.subarray(0, 200_000)), []);
    assert.ok(c.bufferedBytes <= 256 * 1024);
    assert.deepEqual(c.feed(concat(msg.subarray(200_000), [2])), [{ type: 'bell' }]);
  });

  test('a Hextile rectangle cut mid-tile', () => {
    const c = connectedClient(W, H);
    const tiles = [2, ...px32(5), 1, ...rawData(16, 16, () => 7)];
    const events = c.feed(fbUpdate([rect({ w: 48, h: 16, encoding: 5, data: tiles.slice(0, 500) })]));
    assert.deepEqual(events, [{ type: 'frame-start' }]);
    assert.ok(c.bufferedBytes <= 64 * 1024);
  });
});
