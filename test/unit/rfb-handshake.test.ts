import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RfbClientOptions } from '../../src/protocol/rfb/client.js';
import { vncAuthResponse } from '../../src/protocol/rfb/des.js';
import type { RfbEvent } from '../../src/protocol/rfb/events.js';
import { negotiateVersion } from '../../src/protocol/rfb/handshake.js';
import {
  encodeFramebufferUpdateRequest,
  encodeSetEncodings,
  encodeSetPixelFormat,
} from '../../src/protocol/rfb/messages.js';
import { pixelFormatForDepth } from '../../src/protocol/rfb/pixel-format.js';
import { ascii, concat, errorsOf, serverInit, str32, testClient, u32 } from '../helpers/rfb-bytes.js';

const CHALLENGE = Uint8Array.from({ length: 16 }, (_, i) => i * 7);
const INIT = serverInit(320, 200, 'Xvfb desktop');
const OPTS: Partial<RfbClientOptions> = { password: 'secret' };
const ENCODINGS = [5, 2, 1, 0, -239, -308, -223, -224]; // ZRLE (16) has no decoder in coreDecoders()

/** What the client sends after ServerInit for a 320x200 desktop with the test options. */
const AFTER_INIT = concat(
  encodeSetPixelFormat(pixelFormatForDepth(24)),
  encodeSetEncodings(ENCODINGS),
  encodeFramebufferUpdateRequest(false, 0, 0, 320, 200),
);

interface Run {
  events: RfbEvent[];
  output: Uint8Array;
}

/** Feeds `server` whole and byte by byte; both runs must agree. */
function run(server: Uint8Array, opts: Partial<RfbClientOptions> = OPTS): Run {
  const whole = testClient(opts);
  const events = whole.feed(server);
  const output = whole.takeOutput() ?? new Uint8Array(0);
  const split = testClient(opts);
  const splitEvents: RfbEvent[] = [];
  const splitOut: Uint8Array[] = [];
  for (let i = 0; i < server.length; i++) {
    splitEvents.push(...split.feed(server.subarray(i, i + 1)));
    const o = split.takeOutput();
    if (o) splitOut.push(o);
  }
  assert.deepEqual(splitEvents, events, 'byte-by-byte events differ');
  assert.deepEqual(concat(...splitOut), output, 'byte-by-byte output differs');
  return { events, output };
}

function assertReady(r: Run, expectedOutput: Uint8Array): void {
  assert.deepEqual(r.events, [{ type: 'ready', width: 320, height: 200, name: 'Xvfb desktop' }]);
  assert.deepEqual(r.output, expectedOutput);
}

function assertError(r: Run, status: number, includes: string): void {
  const errors = errorsOf(r.events);
  assert.equal(errors.length, 1, JSON.stringify(r.events));
  assert.equal(r.events.length, 1);
  assert.equal(errors[0]?.status, status, errors[0]?.message);
  assert.ok(errors[0]?.message.includes(includes), errors[0]?.message);
}

describe('RFB handshake', { timeout: 30_000 }, () => {
  test('3.8, None', () => {
    const r = run(concat(ascii('RFB 003.008\n'), [1, 1], u32(0), INIT));
    assertReady(r, concat(ascii('RFB 003.008\n'), [1], [1], AFTER_INIT));
  });

  test('3.8, VNC Authentication', () => {
    const r = run(concat(ascii('RFB 003.008\n'), [1, 2], CHALLENGE, u32(0), INIT));
    assertReady(
      r,
      concat(ascii('RFB 003.008\n'), [2], vncAuthResponse('secret', CHALLENGE), [1], AFTER_INIT),
    );
  });

  test('3.8 picks the first supported type in the server order', () => {
    const a = run(concat(ascii('RFB 003.008\n'), [3, 19, 2, 1], CHALLENGE, u32(0), INIT));
    assert.equal(a.output[12], 2);
    const b = run(concat(ascii('RFB 003.008\n'), [3, 16, 1, 2], u32(0), INIT));
    assert.equal(b.output[12], 1);
    assert.equal(b.events[0]?.type, 'ready');
  });

  test('3.8 wrong password: CLIENT_UNAUTHORIZED with the reason', () => {
    const r = run(concat(ascii('RFB 003.008\n'), [1, 2], CHALLENGE, u32(1), str32('Authentication failure')));
    assertError(r, 0x0301, 'Authentication failure');
  });

  test('3.8 no supported security type: UNSUPPORTED naming the offered types', () => {
    const r = run(concat(ascii('RFB 003.008\n'), [2, 19, 16]));
    assertError(r, 0x0100, 'VeNCrypt (19), Tight (16)');
  });

  test('3.8 refusal at the security stage: UNSUPPORTED with the server reason', () => {
    const r = run(concat(ascii('RFB 003.008\n'), [0], str32('Too many security failures')));
    assertError(r, 0x0100, 'Too many security failures');
  });

  test('3.7, None: no SecurityResult', () => {
    const r = run(concat(ascii('RFB 003.007\n'), [1, 1], INIT));
    assertReady(r, concat(ascii('RFB 003.007\n'), [1], [1], AFTER_INIT));
  });

  test('3.7, VNC Authentication, and its failure (no reason in 3.7)', () => {
    const ok = run(concat(ascii('RFB 003.007\n'), [1, 2], CHALLENGE, u32(0), INIT));
    assertReady(
      ok,
      concat(ascii('RFB 003.007\n'), [2], vncAuthResponse('secret', CHALLENGE), [1], AFTER_INIT),
    );
    assertError(
      run(concat(ascii('RFB 003.007\n'), [1, 2], CHALLENGE, u32(1))),
      0x0301,
      'authentication failed',
    );
  });

  test('3.3, None (server-chosen type, no SecurityResult)', () => {
    const r = run(concat(ascii('RFB 003.003\n'), u32(1), INIT));
    assertReady(r, concat(ascii('RFB 003.003\n'), [1], AFTER_INIT));
  });

  test('3.3, VNC Authentication, failure and too-many-attempts', () => {
    const ok = run(concat(ascii('RFB 003.003\n'), u32(2), CHALLENGE, u32(0), INIT));
    assertReady(ok, concat(ascii('RFB 003.003\n'), vncAuthResponse('secret', CHALLENGE), [1], AFTER_INIT));
    assertError(
      run(concat(ascii('RFB 003.003\n'), u32(2), CHALLENGE, u32(1))),
      0x0301,
      'authentication failed',
    );
    assertError(run(concat(ascii('RFB 003.003\n'), u32(2), CHALLENGE, u32(2))), 0x0301, 'too many');
  });

  test('3.3 refusal (type 0 + reason) and unsupported server-chosen type', () => {
    assertError(run(concat(ascii('RFB 003.003\n'), u32(0), str32('go away'))), 0x0100, 'go away');
    assertError(run(concat(ascii('RFB 003.003\n'), u32(16))), 0x0100, 'Tight (16)');
  });

  test('version negotiation', () => {
    const v = (s: string) => negotiateVersion(ascii(s));
    assert.equal(v('RFB 003.003\n'), '3.3');
    assert.equal(v('RFB 003.005\n'), '3.3');
    assert.equal(v('RFB 003.006\n'), '3.3');
    assert.equal(v('RFB 003.007\n'), '3.7');
    assert.equal(v('RFB 003.008\n'), '3.8');
    assert.equal(v('RFB 003.889\n'), '3.8');
    assert.equal(v('RFB 004.001\n'), '3.8');
    const r = run(concat(ascii('RFB 003.889\n'), [1, 1], u32(0), INIT));
    assert.deepEqual(r.output.subarray(0, 12), ascii('RFB 003.008\n'));
  });

  test('not an RFB server, or a pre-3 version', () => {
    assertError(run(ascii('HTTP/1.1 400')), 0x0203, 'bad ProtocolVersion');
    assertError(run(ascii('RFB 003.8  \n')), 0x0203, 'bad ProtocolVersion');
    assertError(run(ascii('RFB 002.000\n')), 0x0100, 'unsupported RFB version');
  });

  test('ServerInit: absurd size, bad pixel format, overlong name → UPSTREAM_ERROR', () => {
    const pre = concat(ascii('RFB 003.008\n'), [1, 1], u32(0));
    assertError(run(concat(pre, serverInit(9000, 100))), 0x0203, '9000x100');
    const badPf = serverInit(10, 10);
    badPf[4] = 24;
    assertError(run(concat(pre, badPf)), 0x0203, 'pixel format');
    assertError(run(concat(pre, serverInit(10, 10).subarray(0, 20), u32(1 << 30))), 0x0203, 'desktop name');
    assertError(run(concat(ascii('RFB 003.008\n'), [0], u32(1 << 30))), 0x0203, 'failure reason');
  });

  test('phase progresses and a truncated handshake emits nothing', () => {
    const c = testClient(OPTS);
    assert.equal(c.phase, 'protocol-version');
    assert.deepEqual(c.feed(ascii('RFB 003.008\n')), []);
    assert.equal(c.phase, 'security');
    c.feed(Uint8Array.of(1, 2));
    assert.equal(c.phase, 'vnc-auth');
    c.feed(CHALLENGE);
    assert.equal(c.phase, 'security-result');
    c.feed(Uint8Array.from(u32(0)));
    assert.equal(c.phase, 'server-init');
    assert.deepEqual(c.feed(INIT.subarray(0, 30)), []);
    assert.equal(c.phase, 'server-init');
    assert.equal(c.feed(INIT.subarray(30))[0]?.type, 'ready');
    assert.equal(c.phase, 'connected');
    assert.equal(c.desktopName, 'Xvfb desktop');
    assert.equal(c.version, '3.8');
  });

  test('after an error the client is failed and ignores input', () => {
    const c = testClient();
    assert.equal(c.feed(ascii('SSH-2.0-OpenSSH\r\n')).length, 1);
    assert.equal(c.phase, 'failed');
    assert.deepEqual(c.feed(ascii('RFB 003.008\n')), []);
  });

  test('swap-red-blue still asks for the standard format; the pseudo-encoding list follows the options', () => {
    const r = run(concat(ascii('RFB 003.008\n'), [1, 1], u32(0), INIT), {
      swapRedBlue: true,
      encodings: [7, 16, 0, 99],
      cursor: false,
      qualityLevel: 6,
      compressLevel: 2,
      decoders: new Map([
        [0, () => ({ step: () => true })],
        [7, () => ({ step: () => true })],
        [16, () => ({ step: () => true })],
      ]),
    });
    assert.deepEqual(r.output.subarray(14, 14 + 20), encodeSetPixelFormat(pixelFormatForDepth(24)));
    assert.deepEqual(
      r.output.subarray(14 + 20, 14 + 20 + 4 + 4 * 8),
      encodeSetEncodings([7, 16, 0, -26, -254, -308, -223, -224]),
    );
  });
});
