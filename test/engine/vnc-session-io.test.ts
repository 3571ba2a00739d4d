// The VNC engine's working path through the guacd-compatible listener against a hand-driven RFB server:
// the first frame, sync pacing of update requests, keys, mouse, clipboard both ways and the parameters
// that restrict them (disable-copy, disable-paste, read-only), server and client resizes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { constants, deflateSync, inflateSync } from 'node:zlib';
import type { Instruction } from '../../src/protocol/guacamole/parser.js';
import { STATUS } from '../../src/protocol/guacamole/status.js';
import type { GuacTestClient } from '../helpers/guacd-client.js';
import { concat, fbUpdate, rawData, u16, u32 } from '../helpers/rfb-bytes.js';
import {
  type ClientMessage,
  expectVncError,
  type RfbPeer,
  target,
  type VncHarness,
  vncHarness,
  waitUntil,
} from '../helpers/vnc-engine-harness.js';

const T = { timeout: 15_000 };
const KEY = 4;
const POINTER = 5;
const CUT_TEXT = 6;
const UPDATE_REQUEST = 3;

let h: VncHarness;
before(async () => {
  h = await vncHarness();
});
after(() => h.close());

const frame = (w: number, hgt: number, rgb = 0x336699): Uint8Array =>
  fbUpdate([{ x: 0, y: 0, w, h: hgt, encoding: 0, data: rawData(w, hgt, () => rgb) }]);
const serverCutText = (bytes: Uint8Array | number[]): Uint8Array =>
  concat([3, 0, 0, 0], u32(bytes.length), bytes);
const ofType = (p: RfbPeer, type: number): ClientMessage[] => p.messages().filter((m) => m.type === type);
/** Incremental FramebufferUpdateRequests received. */
const incremental = (p: RfbPeer): number => ofType(p, UPDATE_REQUEST).filter((m) => m.bytes[1] === 1).length;

/** Reads instructions up to and including the next `sync`; returns them (the sync last). */
async function untilSync(c: GuacTestClient): Promise<Instruction[]> {
  const seen: Instruction[] = [];
  for (;;) {
    const i = await c.nextNonNop();
    seen.push(i);
    assert.notEqual(i.opcode, 'error', JSON.stringify(i.args));
    if (i.opcode === 'sync') return seen;
  }
}

/** A session with a hand-driven server: connected, `name` received. */
async function session(params: Record<string, string> = {}): Promise<{ c: GuacTestClient; p: RfbPeer }> {
  const p = await h.peer();
  const c = await h.connect(target(p, params));
  assert.deepEqual((await c.expect('name')).args, ['peer']);
  return { c, p };
}

async function bye(c: GuacTestClient, p: RfbPeer): Promise<void> {
  c.send('disconnect');
  await c.waitClosed();
  await p.closed;
}

/** The text of the next clipboard stream the client receives (clipboard, blobs, end). */
async function clipboardText(c: GuacTestClient): Promise<string> {
  const open = await c.expect('clipboard');
  const [stream, mimetype] = open.args;
  assert.equal(mimetype, 'text/plain');
  const parts: Buffer[] = [];
  for (let i = await c.nextNonNop(); i.opcode !== 'end'; i = await c.nextNonNop()) {
    assert.deepEqual([i.opcode, i.args[0]], ['blob', stream]);
    parts.push(Buffer.from(i.args[1] ?? '', 'base64'));
  }
  return Buffer.concat(parts).toString('utf8');
}

describe('VNC engine: display', () => {
  it('ServerInit 64x48 + a Raw update: size, the image, sync; update requests paced by sync', T, async () => {
    const { c, p } = await session();
    await waitUntil('the first, full update request', () =>
      ofType(p, UPDATE_REQUEST).some((m) => m.bytes.join() === [3, 0, 0, 0, 0, 0, 0, 64, 0, 48].join()),
    );
    assert.deepEqual(
      p.messages().map((m) => m.type),
      [0, 2, UPDATE_REQUEST],
      'SetPixelFormat, SetEncodings, FramebufferUpdateRequest',
    );
    p.send(frame(64, 48));
    const first = await untilSync(c);
    assert.deepEqual(first[0], { opcode: 'size', args: ['0', '64', '48'] });
    const ops = first.map((i) => i.opcode);
    assert.ok(
      ops.includes('img') || ops.includes('rect') || ops.includes('cfill'),
      `drawing instructions: ${ops.join(' ')}`,
    );
    // Four frames without answering sync: the fourth finds three in flight and no request follows it.
    const syncs: string[] = [first.at(-1)?.args[0] ?? ''];
    for (let n = 1; n <= 3; n++) {
      await waitUntil(`incremental request ${n}`, () => incremental(p) === n);
      p.send(frame(8, 8, 0x100 * n));
      syncs.push((await untilSync(c)).at(-1)?.args[0] ?? '');
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(incremental(p), 3, 'no request while the client is three frames behind');
    c.send('sync', syncs.at(-1) ?? '');
    await waitUntil('the request after sync', () => incremental(p) === 4);
    const last = ofType(p, UPDATE_REQUEST).at(-1);
    assert.deepEqual([...(last?.bytes ?? [])], [3, 1, 0, 0, 0, 0, 0, 64, 0, 48]);
    await bye(c, p);
  });

  it(
    'DesktopSize from the server: size follows; ExtendedDesktopSize makes client resizes reach it',
    T,
    async () => {
      const { c, p } = await session();
      p.send(fbUpdate([{ x: 0, y: 0, w: 32, h: 24, encoding: -223 }]));
      assert.deepEqual((await untilSync(c))[0], { opcode: 'size', args: ['0', '32', '24'] });
      // Without ExtendedDesktopSize a client resize is not forwarded.
      c.send('size', 100, 80);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(ofType(p, 251).length, 0);
      const screen = [...u32(7), ...u16(0), ...u16(0), ...u16(40), ...u16(30), ...u32(0)];
      p.send(fbUpdate([{ x: 0, y: 0, w: 40, h: 30, encoding: -308, data: [1, 0, 0, 0, ...screen] }]));
      assert.deepEqual((await untilSync(c))[0], { opcode: 'size', args: ['0', '40', '30'] });
      // A burst of sizes is debounced into one SetDesktopSize with the last one, keeping the screen id.
      for (const w of [200, 300, 320]) c.send('size', w, 200);
      await waitUntil('SetDesktopSize', () => ofType(p, 251).length > 0);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const sets = ofType(p, 251);
      assert.equal(sets.length, 1);
      assert.deepEqual(
        [...(sets[0]?.bytes ?? [])],
        [251, 0, ...u16(320), ...u16(200), 1, 0, ...u32(7), 0, 0, 0, 0, ...u16(320), ...u16(200), 0, 0, 0, 0],
      );
      await bye(c, p);
    },
  );
});

describe('VNC engine: the server going away mid-session', () => {
  it('a TCP reset: UPSTREAM_ERROR naming it', T, async () => {
    const { c, p } = await session();
    p.reset();
    await expectVncError(
      c,
      STATUS.UPSTREAM_ERROR,
      /^The connection to the VNC server failed: read ECONNRESET$/,
    );
  });

  it('a close between frames: UPSTREAM_ERROR', T, async () => {
    const { c, p } = await session();
    p.send(frame(64, 48));
    await untilSync(c);
    await p.close();
    await expectVncError(c, STATUS.UPSTREAM_ERROR, /^The VNC server closed the connection$/);
  });
});

describe('VNC engine: input', () => {
  it('key and mouse reach the server as KeyEvent and PointerEvent', T, async () => {
    const { c, p } = await session();
    c.send('key', 65, 1);
    c.send('mouse', 10, 20, 1);
    c.send('key', 65, 0);
    c.send('mouse', 500, -3, 0); // clamped to the 64x48 desktop
    await waitUntil('four input events', () => ofType(p, KEY).length + ofType(p, POINTER).length === 4);
    assert.deepEqual(
      ofType(p, KEY).map((m) => [...m.bytes]),
      [
        [4, 1, 0, 0, 0, 0, 0, 65],
        [4, 0, 0, 0, 0, 0, 0, 65],
      ],
    );
    assert.deepEqual(
      ofType(p, POINTER).map((m) => [...m.bytes]),
      [
        [5, 1, 0, 10, 0, 20],
        [5, 0, 0, 63, 0, 0],
      ],
    );
    await bye(c, p);
  });

  it('read-only=true: no KeyEvent, PointerEvent or ClientCutText is sent', T, async () => {
    const { c, p } = await session({ 'read-only': 'true' });
    p.send(frame(64, 48));
    await untilSync(c);
    await waitUntil('the first incremental request', () => incremental(p) === 1);
    const before = incremental(p);
    c.send('key', 65, 1);
    c.send('mouse', 10, 20, 1);
    c.send('clipboard', 3, 'text/plain');
    c.send('blob', 3, Buffer.from('x').toString('base64'));
    c.send('end', 3);
    // The acks show the instructions before them were handled; what they sent would be on its way by now.
    assert.deepEqual((await c.expect('ack')).args, [
      '3',
      'Clipboard paste is disabled',
      String(STATUS.CLIENT_FORBIDDEN),
    ]);
    c.send('clipboard', 4, 'text/plain');
    await c.expect('ack');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(incremental(p), before);
    assert.deepEqual(
      p.messages().filter((m) => [KEY, POINTER, CUT_TEXT].includes(m.type)),
      [],
    );
    await bye(c, p);
  });

  it('the listener survives instructions with nonsense arguments', T, async () => {
    const { c, p } = await session();
    c.send('key', 'x', 1);
    c.send('key', -1, 1);
    c.send('mouse', 'NaN', 1e12, 1);
    c.send('size', 0, -5);
    c.send('sync', 'soon');
    c.send('blob', 'abc', 'zzz');
    c.send('end', 99);
    c.send('file', 5, 'application/octet-stream', 'x.bin');
    assert.deepEqual((await c.expect('ack')).args, [
      '5',
      'file streams are not supported',
      String(STATUS.UNSUPPORTED),
    ]);
    c.send('key', 66, 1);
    await waitUntil('the valid key', () => ofType(p, KEY).length === 1);
    assert.equal(ofType(p, POINTER).length, 0);
    await bye(c, p);
  });
});

describe('VNC engine: clipboard', () => {
  it('client to server: acked, sent as ClientCutText in ISO 8859-1', T, async () => {
    const { c, p } = await session();
    c.send('clipboard', 1, 'text/plain');
    assert.deepEqual((await c.expect('ack')).args, ['1', 'OK', '0']);
    c.send('blob', 1, Buffer.from('héllo', 'utf8').toString('base64'));
    assert.deepEqual((await c.expect('ack')).args, ['1', 'OK', '0']);
    c.send('end', 1);
    await waitUntil('ClientCutText', () => ofType(p, CUT_TEXT).length === 1);
    assert.deepEqual(
      [...(ofType(p, CUT_TEXT)[0]?.bytes ?? [])],
      [6, 0, 0, 0, ...u32(5), 0x68, 0xe9, 0x6c, 0x6c, 0x6f],
    );
    await bye(c, p);
  });

  it('server to client: ServerCutText becomes a clipboard stream (UTF-8 text)', T, async () => {
    const { c, p } = await session();
    p.send(serverCutText([0x68, 0xe9, 0x6c, 0x6c, 0x6f]));
    assert.equal(await clipboardText(c), 'héllo');
    // Longer than 1 MiB: cut at 1 MiB, with a warning.
    const big = new Uint8Array((1 << 20) + 5000).fill(0x61);
    p.send(serverCutText(big));
    const text = await clipboardText(c);
    assert.equal(text.length, 1 << 20);
    assert.ok(h.logs.some((r) => r.level === 'warn' && /truncated to 1048576/.test(r.msg)));
    await bye(c, p);
  });

  it('extended clipboard (the server announces it): UTF-8 both ways', T, async () => {
    const { c, p } = await session();
    const Text = 1;
    const [Caps, Request, Peek, Notify, Provide] = [1 << 24, 1 << 25, 1 << 26, 1 << 27, 1 << 28];
    const extended = (payload: Uint8Array): Uint8Array => concat([3, 0, 0, 0], u32(-payload.length), payload);
    p.send(extended(concat(u32(Caps | Request | Peek | Notify | Provide | Text), u32(1 << 20))));
    await waitUntil('our caps', () => ofType(p, CUT_TEXT).length === 1);
    const caps = ofType(p, CUT_TEXT)[0]?.bytes ?? new Uint8Array(0);
    const capsView = new DataView(caps.buffer, caps.byteOffset, caps.byteLength);
    assert.equal(capsView.getInt32(4), -8);
    assert.equal(capsView.getUint32(8), (Caps | Request | Peek | Notify | Provide | Text) >>> 0);
    // Client to server: a provide message, zlib: u32 size, UTF-8 with CRLF line ends and a NUL.
    c.send('clipboard', 1, 'text/plain');
    c.send('blob', 1, Buffer.from('héllo ✓\nzwei', 'utf8').toString('base64'));
    c.send('end', 1);
    assert.deepEqual([(await c.expect('ack')).args[2], (await c.expect('ack')).args[2]], ['0', '0']);
    await waitUntil('the provide message', () => ofType(p, CUT_TEXT).length === 2);
    const provide = ofType(p, CUT_TEXT)[1]?.bytes ?? new Uint8Array(0);
    const view = new DataView(provide.buffer, provide.byteOffset, provide.byteLength);
    assert.equal(view.getUint32(8), (Provide | Text) >>> 0);
    // Finished or only sync-flushed (as libvncserver wants it): either inflates with a sync finish flush.
    const record = inflateSync(provide.subarray(12), { finishFlush: constants.Z_SYNC_FLUSH });
    const body = Buffer.from('héllo ✓\r\nzwei\0', 'utf8');
    assert.deepEqual(record, Buffer.concat([Buffer.from(u32(body.length)), body]));
    // Server to client.
    const text = Buffer.from('grüße ✓\r\n\0', 'utf8');
    p.send(
      extended(
        concat(u32(Provide | Text), deflateSync(Buffer.concat([Buffer.from(u32(text.length)), text]))),
      ),
    );
    assert.equal(await clipboardText(c), 'grüße ✓\n');
    await bye(c, p);
  });

  it('disable-copy=true: server clipboard text never reaches the client', T, async () => {
    const { c, p } = await session({ 'disable-copy': 'true' });
    p.send(serverCutText([0x61, 0x62]));
    p.send(frame(64, 48));
    const seen = await untilSync(c);
    assert.ok(!seen.some((i) => i.opcode === 'clipboard'), seen.map((i) => i.opcode).join(' '));
    await bye(c, p);
  });

  it('disable-paste=true: the stream is refused with 0x0303 and nothing is sent', T, async () => {
    const { c, p } = await session({ 'disable-paste': 'true' });
    c.send('clipboard', 1, 'text/plain');
    assert.deepEqual((await c.expect('ack')).args, [
      '1',
      'Clipboard paste is disabled',
      String(STATUS.CLIENT_FORBIDDEN),
    ]);
    c.send('blob', 1, Buffer.from('secret').toString('base64'));
    assert.equal((await c.expect('ack')).args[2], String(STATUS.CLIENT_BAD_REQUEST));
    c.send('end', 1);
    c.send('key', 65, 1);
    await waitUntil('the key sent after the clipboard', () => ofType(p, KEY).length === 1);
    assert.equal(ofType(p, CUT_TEXT).length, 0);
    await bye(c, p);
  });

  it('a VNC server that stops reading: pastes do not queue without bound', T, async () => {
    const { c, p } = await session();
    p.pauseReading();
    const blob = Buffer.alloc(6000, 0x61).toString('base64'); // within the codec's 8192-character element limit
    const base = process.memoryUsage().arrayBuffers;
    let error: Instruction | undefined;
    let n = 0;
    while (n < 48 && !error) {
      n++; // one paste of ~1 MiB: 176 acks (open + 175 blobs)
      c.send('clipboard', n, 'text/plain');
      for (let b = 0; b < 175; b++) c.send('blob', n, blob);
      c.send('end', n);
      for (let acks = 0; acks < 176 && !error; acks++) {
        const i = await c.nextNonNop();
        if (i.opcode === 'error') error = i;
        else assert.equal(i.opcode, 'ack');
      }
    }
    const grown = process.memoryUsage().arrayBuffers - base;
    assert.deepEqual(error?.args[1], String(STATUS.UPSTREAM_TIMEOUT));
    assert.match(error?.args[0] ?? '', /^The VNC server is not reading its data/);
    await c.waitClosed();
    assert.ok(grown < 64 << 20, `array buffers grew by ${grown} bytes`);
  });
});
