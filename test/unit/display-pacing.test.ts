/** Frame pacing: sync timestamps, lag, frames in flight, backpressure, readiness callbacks. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DisplayEncoder } from '../../src/engine/display/display-encoder.js';
import { Framebuffer } from '../../src/engine/display/framebuffer.js';
import { FramePacer } from '../../src/engine/display/pacing.js';
import { client, SimSink, silent } from '../helpers/display-sim.js';

describe('FramePacer', { timeout: 60_000 }, () => {
  test('timestamps strictly increase even when the clock stands still or goes back', () => {
    let t = 5000;
    const p = new FramePacer({ now: () => t });
    const a = p.nextTimestamp();
    const b = p.nextTimestamp();
    t = 4000;
    const c = p.nextTimestamp();
    assert.deepEqual([a, b, c], [5000, 5001, 5002]);
    assert.equal(p.framesInFlight, 3);
  });

  test('lag = now − answered ts; an answer covers earlier frames; stale and future answers ignored', () => {
    let t = 1000;
    const p = new FramePacer({ now: () => t, maxFramesInFlight: 3, maxLagMs: 250 });
    const a = p.nextTimestamp();
    t = 1010;
    const b = p.nextTimestamp();
    t = 1050;
    assert.equal(p.ack(b), 'ok');
    assert.equal(p.lag, 40);
    assert.equal(p.framesInFlight, 0);
    assert.equal(p.ack(a), 'stale');
    assert.equal(p.ack(b + 1000), 'future');
    assert.equal(p.lag, 40);
  });

  test('behind: too many frames in flight, or high lag until fully caught up', () => {
    let t = 0;
    const p = new FramePacer({ now: () => t, maxFramesInFlight: 2, maxLagMs: 100 });
    assert.equal(p.behind, false);
    p.nextTimestamp();
    assert.equal(p.behind, false);
    const second = p.nextTimestamp();
    assert.equal(p.behind, true); // 2 in flight
    t = 300;
    p.ack(second); // lag 299 ms, but nothing in flight
    assert.equal(p.behind, false);
    p.nextTimestamp();
    assert.equal(p.behind, true); // slow client: one frame at a time
  });
});

describe('DisplayEncoder pacing', { timeout: 60_000 }, () => {
  function setup(over: { maxFramesInFlight?: number; maxLagMs?: number } = {}) {
    let t = 10_000;
    const fb = new Framebuffer(64, 64);
    const sink = new SimSink();
    const enc = new DisplayEncoder({
      sink,
      client: client(['image/png']),
      forceLossless: false,
      fb,
      log: silent,
      now: () => t,
      ...over,
    });
    return { fb, sink, enc, advance: (ms: number) => (t += ms) };
  }

  test('each frame ends with sync; the client reply sets lag; in-flight frames stop update requests', async () => {
    const { sink, enc, advance } = setup({ maxFramesInFlight: 2, maxLagMs: 1000 });
    enc.resize(64, 64);
    assert.equal(enc.shouldRequestUpdate(), true);
    enc.endFrame();
    await enc.whenIdle();
    await sink.client.settled();
    enc.damage({ x: 0, y: 0, w: 8, h: 8 });
    enc.endFrame();
    await enc.whenIdle();
    await sink.client.settled();
    assert.equal(sink.client.syncs.length, 2);
    assert.equal(enc.framesInFlight, 2);
    assert.equal(enc.shouldRequestUpdate(), false);
    let called = 0;
    enc.whenReady(() => called++);
    assert.equal(called, 0);
    const now = advance(35);
    const ts = sink.client.syncs[1]!.ts;
    assert.ok(ts > sink.client.syncs[0]!.ts);
    enc.clientSync(ts);
    assert.equal(called, 1);
    assert.equal(enc.lag, now - ts);
    assert.equal(enc.framesInFlight, 0);
    enc.whenReady(() => called++); // ready now: runs at once
    assert.equal(called, 2);
  });

  test('high lag: wait until the client has answered every frame', async () => {
    const { sink, enc, advance } = setup({ maxFramesInFlight: 5, maxLagMs: 100 });
    enc.resize(64, 64);
    enc.endFrame();
    await enc.whenIdle();
    await sink.client.settled();
    advance(400);
    enc.clientSync(sink.client.syncs[0]!.ts);
    assert.equal(enc.lag, 400);
    assert.equal(enc.shouldRequestUpdate(), true);
    enc.damage({ x: 0, y: 0, w: 4, h: 4 });
    enc.endFrame();
    await enc.whenIdle();
    await sink.client.settled();
    assert.equal(enc.shouldRequestUpdate(), false);
    advance(10);
    enc.clientSync(sink.client.syncs[1]!.ts);
    assert.equal(enc.shouldRequestUpdate(), true);
  });

  test('sink backpressure: wait for drain', async () => {
    const { sink, enc } = setup();
    sink.setBuffered(sink.highWaterMark + 1);
    assert.equal(enc.shouldRequestUpdate(), false);
    let called = 0;
    enc.whenReady(() => called++);
    assert.equal(called, 0);
    sink.setBuffered(0);
    assert.equal(called, 1);
  });

  test('frames that end while the pipeline is busy merge into one', async () => {
    const { fb, sink, enc } = setup();
    enc.resize(64, 64);
    enc.endFrame();
    // maxConcurrentFrames is 2: the third and fourth frames wait and merge.
    for (let i = 0; i < 4; i++) {
      fb.fill({ x: i * 8, y: 0, w: 8, h: 8 }, 0xff0000 + i);
      enc.damage({ x: i * 8, y: 0, w: 8, h: 8 });
      enc.endFrame();
      if (i >= 1) assert.equal(enc.shouldRequestUpdate(), false);
    }
    await enc.whenIdle();
    await sink.client.settled();
    assert.ok(sink.client.syncs.length < 5, `${sink.client.syncs.length} syncs`);
    assert.equal(
      sink.client.syncs.reduce((n, s) => n + s.frames, 0),
      5,
    );
  });

  test('close stops output and drops waiters', async () => {
    const { sink, enc } = setup();
    enc.resize(64, 64);
    enc.endFrame();
    enc.close();
    await enc.whenIdle();
    const n = sink.texts.length;
    enc.damage({ x: 0, y: 0, w: 4, h: 4 });
    enc.endFrame();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(sink.texts.length, n);
    assert.equal(enc.shouldRequestUpdate(), false);
  });
});
