/** The exact instructions the display encoder writes: size, copy, rect+cfill, img streams, cursor, sync. */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { DisplayEncoder } from '../../src/engine/display/display-encoder.js';
import { Framebuffer } from '../../src/engine/display/framebuffer.js';
import { MASK_OVER, MASK_SRC, StreamIds } from '../../src/engine/display/instructions.js';
import { MAX_BLOB_BYTES } from '../../src/protocol/guacamole/encoder.js';
import { GuacamoleParser, type Instruction } from '../../src/protocol/guacamole/parser.js';
import { client, rng, SimSink, silent } from '../helpers/display-sim.js';

function setup(image = ['image/png', 'image/jpeg'], w = 320, h = 200) {
  let t = 50_000;
  const fb = new Framebuffer(w, h);
  const sink = new SimSink();
  const enc = new DisplayEncoder({
    sink,
    client: client(image),
    forceLossless: false,
    fb,
    log: silent,
    now: () => t++,
  });
  return { fb, sink, enc };
}

async function frame(enc: DisplayEncoder, sink: SimSink): Promise<Instruction[]> {
  const before = sink.client.instructions.length;
  enc.endFrame();
  await enc.whenIdle();
  await sink.client.settled();
  return sink.client.instructions.slice(before);
}

const ops = (list: Instruction[]) => list.map((i) => i.opcode);

describe('display instructions', { timeout: 60_000 }, () => {
  test('resize: size,0,w,h then the cleared screen as rect+cfill; sync ends the frame', async () => {
    const { sink, enc } = setup();
    enc.resize(320, 200);
    const out = await frame(enc, sink);
    assert.deepEqual(out[0], { opcode: 'size', args: ['0', '320', '200'] });
    assert.ok(out.filter((i) => i.opcode === 'rect').length >= 1);
    for (const c of out.filter((i) => i.opcode === 'cfill'))
      assert.deepEqual(c.args, [String(MASK_OVER), '0', '0', '0', '0', '255']);
    assert.equal(out.at(-1)?.opcode, 'sync');
    assert.equal(out.at(-1)?.args.length, 2);
  });

  test('copy: copy,0,sx,sy,w,h,14,0,dx,dy (OVER: replaces opaque pixels only where drawn)', async () => {
    const { fb, sink, enc } = setup();
    enc.resize(320, 200);
    await frame(enc, sink);
    fb.copy(10, 20, { x: 30, y: 40, w: 50, h: 60 });
    enc.copy(10, 20, { x: 30, y: 40, w: 50, h: 60 });
    const out = await frame(enc, sink);
    assert.deepEqual(ops(out), ['copy', 'sync']);
    assert.deepEqual(out[0]?.args, ['0', '10', '20', '50', '60', '14', '0', '30', '40']);
  });

  test('large fills map to rect + cfill directly', async () => {
    const { fb, sink, enc } = setup();
    enc.resize(320, 200);
    await frame(enc, sink);
    fb.fill({ x: 0, y: 0, w: 100, h: 100 }, 0x102030);
    enc.fill({ x: 0, y: 0, w: 100, h: 100 }, 0x102030);
    const out = await frame(enc, sink);
    assert.deepEqual(out.slice(0, 2), [
      { opcode: 'rect', args: ['0', '0', '0', '100', '100'] },
      { opcode: 'cfill', args: ['14', '0', '16', '32', '48', '255'] },
    ]);
  });

  test('images: img,stream,14,0,mimetype,x,y + blobs ≤ 6048 bytes + end; streams reused', async () => {
    const { fb, sink, enc } = setup(['image/png'], 800, 600);
    enc.resize(800, 600);
    await frame(enc, sink);
    const rand = rng(3);
    const px = new Uint8Array(700 * 500 * 4).map((_, i) => (i % 4 === 3 ? 255 : Math.floor(rand() * 256)));
    fb.put({ x: 50, y: 60, w: 700, h: 500 }, px);
    enc.damage({ x: 50, y: 60, w: 700, h: 500 });
    const out = await frame(enc, sink);
    const imgs = out.filter((i) => i.opcode === 'img');
    assert.equal(imgs.length, 2); // 700×500 → two 350×500 tiles (≤ 512 a side)
    const streams = new Set(imgs.map((i) => i.args[0]));
    fb.put(
      { x: 50, y: 60, w: 700, h: 500 },
      px.map((v, i) => (i % 4 === 3 ? 255 : 255 - v)),
    );
    enc.damage({ x: 50, y: 60, w: 700, h: 500 });
    const again = (await frame(enc, sink)).filter((i) => i.opcode === 'img').map((i) => i.args[0]);
    assert.deepEqual(new Set(again), streams, 'stream indices are given back after end and reused');
    for (const i of imgs) assert.deepEqual(i.args.slice(1, 4), ['14', '0', 'image/png']);
    let open: string | null = null;
    let blobs = 0;
    for (const i of out) {
      if (i.opcode === 'img') open = i.args[0]!;
      if (i.opcode === 'blob') {
        assert.equal(i.args[0], open);
        assert.ok(Buffer.from(i.args[1]!, 'base64').length <= MAX_BLOB_BYTES);
        blobs++;
      }
      if (i.opcode === 'end') {
        assert.equal(i.args[0], open);
        open = null;
      }
    }
    assert.ok(blobs > 4, 'noise needs several blobs per image');
  });

  test('Tight JPEG data passes through unchanged as image/jpeg', async () => {
    const { fb, sink, enc } = setup();
    enc.resize(320, 200);
    await frame(enc, sink);
    const jpeg = new Uint8Array(
      await sharp({ create: { width: 32, height: 16, channels: 3, background: '#808000' } })
        .jpeg()
        .toBuffer(),
    );
    fb.addPendingJpeg({ x: 5, y: 6, w: 32, h: 16 }, jpeg);
    enc.jpeg({ x: 5, y: 6, w: 32, h: 16 }, jpeg);
    const out = await frame(enc, sink);
    assert.deepEqual(out[0]?.args.slice(1), ['14', '0', 'image/jpeg', '5', '6']);
    const data = Buffer.concat(
      out.filter((i) => i.opcode === 'blob').map((i) => Buffer.from(i.args[1]!, 'base64')),
    );
    assert.deepEqual(new Uint8Array(data), jpeg);
    assert.equal(fb.pendingJpegs, 1, 'passthrough does not decode the JPEG');
  });

  test('cursor: size,-1,w,h + img SRC onto -1 + cursor,hx,hy,-1,0,0,w,h; 0×0 hides it', async () => {
    const { sink, enc } = setup();
    enc.resize(320, 200);
    const rgba = new Uint8Array(12 * 20 * 4);
    for (let i = 0; i < 12 * 20; i++) rgba.set(i % 3 === 0 ? [255, 255, 255, 255] : [0, 0, 0, 0], i * 4);
    enc.cursor(3, 4, 12, 20, rgba);
    const out = await frame(enc, sink);
    assert.deepEqual(out[0], { opcode: 'size', args: ['-1', '12', '20'] });
    assert.deepEqual(out[1]?.args.slice(1), [String(MASK_SRC), '-1', 'image/png', '0', '0']);
    const cur = out.find((i) => i.opcode === 'cursor');
    assert.deepEqual(cur?.args, ['3', '4', '-1', '0', '0', '12', '20']);
    assert.deepEqual(sink.client.cursor?.rgba, rgba);
    enc.cursor(0, 0, 0, 0, new Uint8Array(0));
    const hidden = await frame(enc, sink);
    assert.deepEqual(ops(hidden), ['size', 'rect', 'cfill', 'cursor', 'sync']);
    assert.deepEqual(sink.client.cursor?.rgba, new Uint8Array(4));
  });

  test('bad cursor sizes are ignored', async () => {
    const { sink, enc } = setup();
    enc.resize(320, 200);
    enc.cursor(0, 0, 4, 4, new Uint8Array(10));
    enc.cursor(0, 0, 1000, 1, new Uint8Array(4000));
    const out = await frame(enc, sink);
    assert.equal(out.filter((i) => i.opcode === 'cursor').length, 0);
  });

  test('sync timestamps strictly increase; every instruction written parses', async () => {
    const { fb, sink, enc } = setup();
    enc.resize(320, 200);
    for (let i = 0; i < 10; i++) {
      fb.fill({ x: i, y: i, w: 3, h: 3 }, i * 1000);
      enc.damage({ x: i, y: i, w: 3, h: 3 });
      await frame(enc, sink);
    }
    const ts = sink.client.syncs.map((s) => s.ts);
    for (let i = 1; i < ts.length; i++) assert.ok(ts[i]! > ts[i - 1]!);
    const parser = new GuacamoleParser();
    const all = parser.feed(Buffer.from(sink.texts.join(''), 'utf8'));
    assert.equal(all.length, sink.client.instructions.length);
  });
});

describe('StreamIds', { timeout: 60_000 }, () => {
  test('lowest free index, reused after free, bounded', () => {
    const s = new StreamIds(1, 3);
    assert.deepEqual([s.alloc(), s.alloc(), s.alloc()], [1, 2, 3]);
    assert.throws(() => s.alloc());
    s.free(2);
    assert.equal(s.alloc(), 2);
  });
});
