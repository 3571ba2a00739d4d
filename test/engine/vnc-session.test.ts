// The VNC engine's failure handling, end to end through the guacd-compatible listener against scripted RFB
// servers: every failure reaches the Guacamole client as `error,<message>,<status>` with the right status,
// a log line, the upstream connection closed, and the listener keeps serving.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { STATUS } from '../../src/protocol/guacamole/status.js';
import { vncAuthResponse } from '../../src/protocol/rfb/des.js';
import { GuacTestClient } from '../helpers/guacd-client.js';
import { concat, fbUpdate, rawData, serverInit, str32, u16, u32 } from '../helpers/rfb-bytes.js';
import { handshakeScript, type ScriptStep } from '../helpers/rfb-script-server.js';
import {
  assertServesHealthySession,
  clientMessages,
  endLogLine,
  expectVncError,
  handshakeBytes,
  startBlackhole,
  target,
  type VncHarness,
  vncHarness,
  waitUntil,
} from '../helpers/vnc-engine-harness.js';

const T = { timeout: 15_000 };
/** Keeps the scripted connection open until the engine closes it (the outcome is then 'client closed'). */
const HOLD: ScriptStep = { expect: 1 << 30 };
const CHALLENGE = new Uint8Array(16).fill(0x5a);
const banner = (v: '3.3' | '3.7' | '3.8'): string => `RFB 003.00${v.slice(2)}\n`;
/** Everything up to and including a 64x48 ServerInit (3.8, None). */
const READY = handshakeScript({ version: '3.8', security: 'none', width: 64, height: 48 });

let h: VncHarness;
before(async () => {
  h = await vncHarness();
});
after(() => h.close());

interface FailureCase {
  name: string;
  script: ScriptStep[];
  status: number;
  message: RegExp;
  params?: Record<string, string>;
}

/**
 * Runs one failure: the client gets the error and is closed, the engine logged it with that status, the
 * scripted server saw its connection closed, no connection lingers, and the next session works.
 */
async function runFailure(c: FailureCase): Promise<void> {
  const s = await h.script([...c.script, HOLD]);
  const mark = h.logs.length;
  const base = process.memoryUsage().arrayBuffers;
  const client = await h.connect(target(s, c.params));
  await expectVncError(client, c.status, c.message);
  assert.match(endLogLine(h.logs, c.status, mark) ?? '(no vnc: warning with that status)', c.message);
  assert.equal(await s.outcomes[0], 'client closed');
  const grown = process.memoryUsage().arrayBuffers - base;
  assert.ok(grown < 32 << 20, `array buffers grew by ${grown} bytes`);
  await waitUntil('no open connection', () => h.server.connections === 0);
  await assertServesHealthySession(h);
}

describe('VNC engine: connecting', () => {
  it('a closed port: UPSTREAM_NOT_FOUND naming the address', T, async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const mark = h.logs.length;
    const client = await h.connect({ hostname: '127.0.0.1', port: String(port) });
    const message = new RegExp(
      `^Unable to connect to the VNC server at 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`,
    );
    await expectVncError(client, STATUS.UPSTREAM_NOT_FOUND, message);
    assert.match(endLogLine(h.logs, STATUS.UPSTREAM_NOT_FOUND, mark) ?? '', /ECONNREFUSED/);
    await assertServesHealthySession(h);
  });

  it('a host name that does not resolve: UPSTREAM_NOT_FOUND', T, async () => {
    const client = await h.connect({ hostname: 'no-such-host.invalid' });
    await expectVncError(
      client,
      STATUS.UPSTREAM_NOT_FOUND,
      /^Unable to connect to the VNC server at no-such-host\.invalid:5900/,
    );
  });

  it('a port whose SYNs go unanswered: UPSTREAM_NOT_FOUND after connectMs (1000 ms)', T, async (t) => {
    const hole = await startBlackhole();
    if (!hole) {
      t.skip('python3 not available');
      return;
    }
    try {
      const started = Date.now();
      const client = await h.connect({ hostname: '127.0.0.1', port: String(hole.port) });
      await expectVncError(
        client,
        STATUS.UPSTREAM_NOT_FOUND,
        new RegExp(
          `^Unable to connect to the VNC server at 127\\.0\\.0\\.1:${hole.port}: no answer within 1000 ms$`,
        ),
      );
      const took = Date.now() - started;
      assert.ok(took >= 900 && took < 3000, `ended after ${took} ms`);
    } finally {
      hole.close();
    }
  });

  it('a server that accepts but never sends its banner: UPSTREAM_TIMEOUT after handshakeMs', T, async () => {
    await runFailure({
      name: 'silent',
      script: [],
      status: STATUS.UPSTREAM_TIMEOUT,
      message: /^The VNC server at 127\.0\.0\.1:\d+ did not complete the handshake within 300 ms$/,
    });
  });

  it('a server that stalls mid-handshake (after the security list): UPSTREAM_TIMEOUT', T, async () => {
    await runFailure({
      name: 'stalled',
      script: [{ send: banner('3.8') }, { expect: 12 }, { send: Uint8Array.of(1, 2) }],
      status: STATUS.UPSTREAM_TIMEOUT,
      message: /did not complete the handshake within 300 ms$/,
    });
  });
});

describe('VNC engine: authentication', () => {
  for (const version of ['3.3', '3.7', '3.8'] as const) {
    it(`RFB ${version}, wrong password: CLIENT_UNAUTHORIZED`, T, async () => {
      const s = await h.script([...handshakeScript({ version, security: { accept: false } }), HOLD]);
      const mark = h.logs.length;
      const client = await h.connect(target(s, { password: 'wrong' }));
      const reason = version === '3.8' ? ': Authentication failed' : '';
      await expectVncError(
        client,
        STATUS.CLIENT_UNAUTHORIZED,
        new RegExp(`^VNC authentication failed${reason}$`),
      );
      assert.match(endLogLine(h.logs, STATUS.CLIENT_UNAUTHORIZED, mark) ?? '', /^VNC authentication failed/);
      // The DES response to the challenge went out (after the version and, from 3.7, the chosen type).
      const sent = s.received[0] as Uint8Array;
      const at = version === '3.3' ? 12 : 13;
      if (version !== '3.3') assert.equal(sent[12], 2);
      assert.deepEqual(sent.subarray(at, at + 16), vncAuthResponse('wrong', CHALLENGE));
      await assertServesHealthySession(h);
    });
  }

  it(
    'RFB 3.8, "too many attempts" style failure with a long reason: the reason is quoted, cut',
    T,
    async () => {
      await runFailure({
        name: 'long reason',
        script: [
          { send: banner('3.8') },
          { expect: 12 },
          { send: Uint8Array.of(1, 2) },
          { expect: 1 },
          { send: CHALLENGE },
          { expect: 16 },
          { send: concat(u32(1), str32(`Too many\u0007 failures ${'x'.repeat(400)}`)) },
        ],
        params: { password: 'pw' },
        status: STATUS.CLIENT_UNAUTHORIZED,
        message: /^VNC authentication failed: Too many {1,2}failures x{100,200}…$/,
      });
    },
  );

  it('a server that closes right after the auth response: CLIENT_UNAUTHORIZED', T, async () => {
    await runFailure({
      name: 'close after auth',
      script: [
        { send: banner('3.8') },
        { expect: 12 },
        { send: Uint8Array.of(1, 2) },
        { expect: 1 },
        { send: CHALLENGE },
        { expect: 16 },
        { close: true },
      ],
      params: { password: 'pw' },
      status: STATUS.CLIENT_UNAUTHORIZED,
      message: /^The VNC server closed the connection during authentication$/,
    });
  });
});

describe('VNC engine: security negotiation and broken handshakes', () => {
  const cases: FailureCase[] = [
    {
      name: 'only VeNCrypt offered',
      script: [{ send: banner('3.8') }, { expect: 12 }, { send: Uint8Array.of(1, 19) }],
      status: STATUS.UNSUPPORTED,
      message:
        /^VNC server offers no supported security type \(offered: VeNCrypt \(19\); supported: None, VNC Authentication\)$/,
    },
    {
      name: 'Tight and VeNCrypt offered',
      script: [{ send: banner('3.7') }, { expect: 12 }, { send: Uint8Array.of(2, 16, 19) }],
      status: STATUS.UNSUPPORTED,
      message: /offered: Tight \(16\), VeNCrypt \(19\)/,
    },
    {
      name: 'RFB 3.3 server choosing Tight',
      script: [{ send: banner('3.3') }, { expect: 12 }, { send: Uint8Array.from(u32(16)) }],
      status: STATUS.UNSUPPORTED,
      message: /^VNC server requires an unsupported security type Tight \(16\)$/,
    },
    {
      name: 'zero security types, with a reason',
      script: [{ send: banner('3.8') }, { expect: 12 }, { send: concat([0], str32('Too many connections')) }],
      status: STATUS.UNSUPPORTED,
      message: /^VNC server refused the connection: Too many connections$/,
    },
    {
      name: 'RFB 3.3 security type 0, with a reason',
      script: [{ send: banner('3.3') }, { expect: 12 }, { send: concat(u32(0), str32('go away')) }],
      status: STATUS.UNSUPPORTED,
      message: /^VNC server refused the connection: go away$/,
    },
    {
      name: 'failure reason longer than the limit',
      script: [{ send: banner('3.8') }, { expect: 12 }, { send: concat([0], u32(0x7fffffff)) }],
      status: STATUS.UPSTREAM_ERROR,
      message: /^RFB failure reason of 2147483647 bytes exceeds 4096$/,
    },
    {
      name: 'close after the banner',
      script: [{ send: banner('3.8') }, { expect: 12 }, { close: true }],
      status: STATUS.UPSTREAM_ERROR,
      message: /^The VNC server closed the connection during the handshake \(security\)$/,
    },
    {
      name: 'close after security (3.7, None), before ServerInit',
      script: [
        { send: banner('3.7') },
        { expect: 12 },
        { send: Uint8Array.of(1, 1) },
        { expect: 2 },
        { close: true },
      ],
      status: STATUS.UPSTREAM_ERROR,
      message: /^The VNC server closed the connection during the handshake \(server-init\)$/,
    },
    {
      name: 'close before the SecurityResult of None (3.8): not an authentication failure',
      script: [
        { send: banner('3.8') },
        { expect: 12 },
        { send: Uint8Array.of(1, 1) },
        { expect: 1 },
        { close: true },
      ],
      status: STATUS.UPSTREAM_ERROR,
      message: /during the handshake \(security-result\)$/,
    },
    {
      name: 'close in the middle of ServerInit',
      script: [...READY.slice(0, -1), { send: serverInit(64, 48).subarray(0, 10) }, { close: true }],
      status: STATUS.UPSTREAM_ERROR,
      message: /during the handshake \(server-init\)$/,
    },
    {
      name: 'socket destroyed mid-security list',
      script: [{ send: banner('3.7') }, { expect: 12 }, { send: Uint8Array.of(3, 1) }, { destroy: true }],
      status: STATUS.UPSTREAM_ERROR,
      message: /^The VNC server closed the connection during the handshake \(security\)$/,
    },
    {
      name: 'an HTTP server',
      script: [{ send: 'HTTP/1.1 400 Bad Request\r\n\r\n' }],
      status: STATUS.UPSTREAM_ERROR,
      message: /^not an RFB server: bad ProtocolVersion "HTTP\/1.1 400"$/,
    },
    {
      name: 'RFB 2.0',
      script: [{ send: 'RFB 002.000\n' }],
      status: STATUS.UNSUPPORTED,
      message: /^unsupported RFB version 2\.0$/,
    },
    {
      name: 'ServerInit of 65535x65535',
      script: [...READY.slice(0, -1), { send: serverInit(65535, 65535) }],
      status: STATUS.UPSTREAM_ERROR,
      message: /^VNC desktop 65535x65535 exceeds the limit 8192x8192$/,
    },
    {
      name: 'ServerInit with 24 bits per pixel',
      script: [
        ...READY.slice(0, -1),
        { send: concat(serverInit(64, 48).subarray(0, 4), [24], serverInit(64, 48).subarray(5)) },
      ],
      status: STATUS.UPSTREAM_ERROR,
      message: /^ServerInit has an invalid pixel format/,
    },
  ];
  for (const c of cases) it(c.name, T, () => runFailure(c));
});

/** A FramebufferUpdate with one rectangle header and these bytes after it. */
const oneRect = (
  x: number,
  y: number,
  w: number,
  h: number,
  encoding: number,
  data: Uint8Array | number[] = [],
): Uint8Array => fbUpdate([{ x, y, w, h, encoding, data }]);

describe('VNC engine: malformed data after ServerInit (UPSTREAM_ERROR)', () => {
  const malformed = (name: string, send: Uint8Array, message: RegExp): FailureCase => ({
    name,
    script: [...READY, { send }],
    status: STATUS.UPSTREAM_ERROR,
    message,
  });
  const cases: FailureCase[] = [
    malformed(
      'a rectangle outside the framebuffer',
      oneRect(60, 40, 10, 10, 0, new Uint8Array(400)),
      /^rectangle 10x10\+60\+40 \(raw\) lies outside the 64x48 framebuffer$/,
    ),
    malformed(
      'an absurd rectangle (65535x65535)',
      oneRect(0, 0, 65535, 65535, 0),
      /^rectangle 65535x65535\+0\+0 \(raw\) lies outside/,
    ),
    malformed(
      'a ZRLE length beyond the rectangle limit',
      oneRect(0, 0, 8, 8, 16, u32(0xffffffff)),
      /^ZRLE rectangle of 4294967295 bytes exceeds the limit of \d+$/,
    ),
    malformed(
      'an unknown encoding number',
      oneRect(0, 0, 8, 8, 12345),
      /^VNC server sent a rectangle in encoding 12345, which was not requested$/,
    ),
    malformed(
      'a pseudo-encoding as a rectangle (QualityLevel)',
      oneRect(0, 0, 8, 8, -25),
      /QualityLevel7, which was not requested/,
    ),
    malformed(
      'ZRLE with garbage zlib data',
      oneRect(0, 0, 8, 8, 16, [...u32(8), 1, 2, 3, 4, 5, 6, 7, 8]),
      /^ZRLE/,
    ),
    malformed(
      'Tight with a bad compression control byte',
      oneRect(0, 0, 8, 8, 7, [0xa0]),
      /^Tight compression control 0xa0 is invalid$/,
    ),
    malformed(
      'an unknown server message type',
      Uint8Array.of(0x7f),
      /^VNC server sent an unknown message type 127$/,
    ),
    malformed(
      'DesktopSize to 65535x65535',
      oneRect(0, 0, 65535, 65535, -223),
      /^VNC server resized the desktop to 65535x65535, beyond the limit 8192x8192$/,
    ),
    malformed(
      'ExtendedDesktopSize to 9000x100',
      oneRect(
        0,
        0,
        9000,
        100,
        -308,
        concat([1, 0, 0, 0], u32(0), u16(0), u16(0), u16(9000), u16(100), u32(0)),
      ),
      /resized the desktop to 9000x100, beyond the limit/,
    ),
    malformed(
      'a cursor beyond the limits',
      oneRect(0, 0, 9000, 9000, -239),
      /^cursor of 9000x9000 exceeds the limits$/,
    ),
    malformed(
      'a rectangle cut short by the server closing',
      oneRect(0, 0, 8, 8, 0, [1, 2, 3]),
      /^The VNC server closed the connection$/,
    ),
  ];
  // The last case closes instead of holding the connection.
  cases.at(-1)?.script.push({ close: true });
  for (const c of cases) it(c.name, T, () => runFailure(c));

  it('ServerCutText with an absurd length: not allocated, skipped as it arrives', T, async () => {
    const base = process.memoryUsage().arrayBuffers;
    const chunk = new Uint8Array(1 << 20).fill(0x61);
    const flood: ScriptStep[] = Array.from({ length: 8 }, () => ({ send: chunk }));
    const s = await h.script([
      ...READY,
      { send: concat([3, 0, 0, 0], u32(0x7fffffff)) },
      ...flood,
      { wait: 100 },
      { close: true },
    ]);
    const client = await h.connect(target(s));
    await expectVncError(client, STATUS.UPSTREAM_ERROR, /^The VNC server closed the connection$/);
    const grown = process.memoryUsage().arrayBuffers - base;
    assert.ok(grown < 64 << 20, `array buffers grew by ${grown} bytes`);
    assert.ok(!h.logs.some((r) => r.level === 'error'), 'no internal error');
    await assertServesHealthySession(h);
  });
});

describe('VNC engine: bad parameters are refused before ready', () => {
  async function refused(params: Record<string, string>, message: RegExp): Promise<void> {
    const c = await GuacTestClient.open(h.port);
    try {
      c.send('select', 'vnc');
      const names = (await c.expect('args')).args;
      c.send('connect', ...names.map((n, i) => (i === 0 ? 'VERSION_1_5_0' : (params[n] ?? ''))));
      const error = await c.expect('error');
      assert.equal(error.args[1], String(STATUS.CLIENT_BAD_REQUEST));
      assert.match(error.args[0] ?? '', message);
      await c.waitClosed();
    } finally {
      c.destroy();
    }
  }

  it('color-depth=7, port=99999, an unknown encoding, no hostname', T, async () => {
    await refused(
      { hostname: 'h', 'color-depth': '7' },
      /^Invalid parameter "color-depth": invalid value for 'color-depth': '7' is not 8, 16, 24 or 32$/,
    );
    await refused(
      { hostname: 'h', port: '99999' },
      /^Invalid parameter "port": .*99999 is not in 1\.\.65535$/,
    );
    await refused(
      { hostname: 'h', encodings: 'zrle h264 raw' },
      /^Invalid parameter "encodings": .*unknown encoding\(s\) h264$/,
    );
    await refused({}, /^Invalid parameter "hostname": invalid value for 'hostname': required$/);
    await refused(
      { hostname: 'bad host!', 'read-only': 'yes' },
      /^Invalid parameters "hostname": .*; "read-only": invalid value for 'read-only': 'yes' is not true, false or empty$/,
    );
    assert.ok(
      h.logs.some((r) => r.level === 'warn' && /guacd handshake failed: Invalid parameter/.test(r.msg)),
    );
    await assertServesHealthySession(h);
  });
});

describe('VNC engine: client misbehaviour', () => {
  it(
    'malformed Guacamole data after ready: CLIENT_BAD_REQUEST, the VNC connection is closed',
    T,
    async () => {
      const s = await h.script([...READY, HOLD]);
      const client = await h.connect(target(s));
      await client.expect('name');
      client.sendRaw('4.key,xyz;');
      await expectVncError(client, STATUS.CLIENT_BAD_REQUEST, /^Malformed instruction: /);
      assert.equal(await s.outcomes[0], 'client closed');
    },
  );

  it('a client that disconnects mid-handshake: the VNC connection is closed too', T, async () => {
    const s = await h.script([{ send: banner('3.8') }, { expect: 12 }, HOLD]);
    const client = await h.connect(target(s));
    await waitUntil('the engine to answer the banner', () => (s.received[0]?.length ?? 0) >= 12);
    client.destroy();
    assert.equal(await s.outcomes[0], 'client closed');
    await waitUntil('no open connection', () => h.server.connections === 0);
  });
});

describe('VNC engine: isolation', () => {
  it('a session fed bad data ends alone; a concurrent healthy one keeps working', T, async () => {
    const good = await h.script([
      ...READY,
      { send: fbUpdate([{ x: 0, y: 0, w: 4, h: 4, encoding: 0, data: rawData(4, 4, () => 0x00ff00) }]) },
      HOLD,
    ]);
    const bad = await h.script([...READY, { send: Uint8Array.of(0xff) }, HOLD]);
    const g = await h.connect(target(good));
    const b = await h.connect(target(bad));
    await g.expect('name');
    await expectVncError(b, STATUS.UPSTREAM_ERROR, /unknown message type 255/);
    // The healthy session: a frame, then input still reaches its server.
    for (let i = await g.nextNonNop(); i.opcode !== 'sync'; i = await g.nextNonNop()) {
      assert.notEqual(i.opcode, 'error');
    }
    g.send('key', 66, 1);
    await waitUntil('the key at the healthy server', () =>
      clientMessages(good.received[0] as Uint8Array, handshakeBytes(false)).some(
        (m) => m.type === 4 && m.bytes.join() === [4, 1, 0, 0, 0, 0, 0, 66].join(),
      ),
    );
    assert.equal(h.server.connections, 1);
    g.send('disconnect');
    await g.waitClosed();
  });
});
