// The native RDP engine (build/Release/gatehouse-rdp) on its own, driven as a guacd client over its stdin and
// stdout, against freerdp-shadow-cli sharing an Xvfb display (TLS, and NLA with a SAM file from winpr-hash):
// the handshake's shape, frames whose pixels match what the test drew on the X display, keys and mouse
// reaching the display, errors mapped to Guacamole statuses (wrong password 0x0301, unreachable 0x0207,
// bad parameters 0x0300), hostile input answered by a status or ignored (never a crash), exit on stdin EOF
// and on SIGTERM, and no process left behind. GATEHOUSE_RDP_ENGINE runs another build (the ASan one).
// NLA and the 1080p memory reading: rdp-native-nla.test.ts.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { STATUS } from '../../src/protocol/guacamole/status.js';
import { skipUnlessInstalled } from './helpers/binaries.js';
import { freePort, LOOPBACK } from './helpers/free-port.js';
import { diffRgba } from './helpers/pixels.js';
import { leftoverProcesses, pollUntil, sleep } from './helpers/processes.js';
import {
  assertNoSanitizerReports,
  type EngineProcess,
  engineSkipReason,
} from './helpers/rdp-engine-process.js';
import {
  ackSyncs,
  assertNoTempLeft,
  connectAndFirstFrame,
  engine,
  engines,
  expectError,
  privateKiB,
  rssKiB,
  waitForColor,
} from './helpers/rdp-native-rig.js';
import { type ShadowServer, startShadowServer } from './helpers/rdp-servers.js';
import { startXvfb, type XDisplay } from './helpers/x-display.js';

const why =
  engineSkipReason() ??
  skipUnlessInstalled(['Xvfb', 'freerdp-shadow-cli', 'winpr-hash', 'xsetroot', 'xdotool', 'xterm']);
const SKIP = why === undefined ? {} : { skip: why };
const T = { timeout: 60_000 };

const W = 1024;
const H = 768;
const ROOT = '#336699';

let display: XDisplay;
let tls: ShadowServer;

function tlsParams(extra: Record<string, string> = {}): Record<string, string> {
  return {
    hostname: tls.host,
    port: String(tls.port),
    username: tls.user,
    password: tls.password,
    security: 'tls',
    'ignore-cert': 'true',
    ...extra,
  };
}

/** A TCP server that accepts and never answers (for the connect timeout). */
function blackhole(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.on('error', () => {}));
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const a = server.address();
      resolve({ server, port: typeof a === 'object' && a ? a.port : 0 });
    });
  });
}

describe('gatehouse-rdp (native engine) against freerdp-shadow-cli', SKIP, () => {
  before(async () => {
    display = await startXvfb({ width: W, height: H });
    await display.setRootColor(ROOT);
    tls = await startShadowServer({ display, security: 'tls' });
  });

  after(async () => {
    await Promise.all(engines.map((e) => e.stop()));
    await tls?.stop();
    await display?.stop();
    const left = leftoverProcesses();
    assert.deepEqual(left, [], `processes left behind: ${left.join('; ')}`);
    assertNoSanitizerReports(engines);
    assertNoTempLeft();
  });

  it('answers select with args: VERSION_1_5_0 and guacd parameter names', T, async () => {
    const e = engine();
    e.send('select', 'rdp');
    const i = await e.waitFor((x) => x.opcode === 'args', 5000);
    const args = e.received[i]!.args;
    assert.equal(args[0], 'VERSION_1_5_0');
    for (const name of [
      'hostname',
      'port',
      'username',
      'password',
      'security',
      'ignore-cert',
      'disable-gfx',
    ]) {
      assert.ok(args.includes(name), `args lacks ${name}: ${args.join(',')}`);
    }
    assert.equal(new Set(args).size, args.length, 'parameter names are unique');
    e.closeInput();
    assert.deepEqual(await e.exit(5000), { code: 0, signal: null });
  });

  it('refuses a protocol other than rdp with 0x0300', T, async () => {
    const e = engine();
    e.send('select', 'vnc');
    const [message, status] = await expectError(e);
    assert.equal(status, STATUS.CLIENT_BAD_REQUEST);
    assert.match(message, /vnc/);
  });

  it('refuses invalid parameter values with 0x0300 naming the parameter', T, async () => {
    for (const [name, value] of [
      ['security', 'bogus'],
      ['port', '70000'],
      ['color-depth', '12'],
      ['resize-method', 'sideways'],
      ['server-layout', 'xx-klingon'],
      ['server-layout', 'base'], // an internal keymap (the parent of the layouts), not a layout
      ['cert-fingerprints', 'sha256:nothex'],
      ['ignore-cert', 'maybe'],
    ] as const) {
      const e = engine();
      await e.handshake(tlsParams({ [name]: value }));
      const [message, status] = await expectError(e);
      assert.equal(status, STATUS.CLIENT_BAD_REQUEST, `${name}=${value}`);
      assert.match(message, new RegExp(`"${name}"`), `${name}=${value}: ${message}`);
    }
  });

  it('connects over TLS and draws the remote display; updates follow the X display', T, async () => {
    const e = engine();
    const t = await connectAndFirstFrame(e, tlsParams());
    await waitForColor(e, [0, 0, W, H], ROOT, 15_000, 10);
    const shownMs = Date.now() - t.connectAt;
    assert.equal(e.layer.width, W);
    assert.equal(e.layer.height, H);
    const rss = rssKiB(e.pid);
    console.log(
      `1024x768 TLS: connect->ready ${t.readyMs} ms, connect->first sync ${t.firstSyncMs} ms, ` +
        `connect->screen shown ${shownMs} ms, ` +
        `RSS ${rss} KiB (private ${privateKiB(e.pid)} KiB)`,
    );
    // A new root colour, then a window with its own background in a known place.
    await display.setRootColor('#aa3311');
    await waitForColor(e, [0, 0, W, H], '#aa3311');
    const xterm = await display.startXterm({
      geometry: '40x10+200+150',
      args: ['-bg', '#22cc44', '-fg', '#22cc44'],
    });
    try {
      // The window exists before xterm has sized it: wait for its final geometry.
      const [x, y, w, h] = await pollUntil(
        'the xterm geometry',
        async () => {
          const geo = await display.xdotool('getwindowgeometry', '--shell', xterm.windowId);
          const num = (k: string): number => Number(new RegExp(`^${k}=(\\d+)`, 'm').exec(geo)?.[1]);
          const g = [num('X'), num('Y'), num('WIDTH'), num('HEIGHT')] as const;
          return g[2] > 100 && g[3] > 50 ? g : undefined;
        },
        10_000,
      );
      await waitForColor(e, [x + 4, y + 4, w - 8, h - 8], '#22cc44');
      await waitForColor(e, [0, 0, 150, 100], '#aa3311');
      await xterm.stop();
      await waitForColor(e, [x, y, w, h], '#aa3311');
    } finally {
      await xterm.stop();
      await display.setRootColor(ROOT);
    }
    e.send('disconnect');
    assert.deepEqual(await e.exit(10_000), { code: 0, signal: null });
    assert.equal(e.parseError, undefined, `output did not parse: ${e.parseError}`);
  });

  it(
    'resize-method=reconnect: a size from the client reconnects the session, which goes on drawing',
    T,
    async () => {
      const e = engine();
      await connectAndFirstFrame(e, tlsParams({ 'resize-method': 'reconnect' }));
      await waitForColor(e, [0, 0, W, H], ROOT);
      e.send('size', '800', '600');
      await pollUntil(
        'the reconnect',
        () => (e.logs().some((r) => r.msg === 'reconnected') ? true : undefined),
        15_000,
      );
      // The shadow server shares a fixed screen: it answers with its own size, and the session goes on.
      await display.setRootColor('#5522aa');
      try {
        await waitForColor(e, [0, 0, W, H], '#5522aa');
      } finally {
        await display.setRootColor(ROOT);
      }
      assert.equal(e.layer.width, W);
      e.closeInput();
      assert.deepEqual(await e.exit(10_000), { code: 0, signal: null });
    },
  );

  it('draws with the GFX pipeline off (disable-gfx) too', T, async () => {
    const e = engine();
    await connectAndFirstFrame(e, tlsParams({ 'disable-gfx': 'true' }));
    await waitForColor(e, [0, 0, W, H], ROOT);
    e.closeInput();
    assert.deepEqual(await e.exit(10_000), { code: 0, signal: null });
  });

  it('uses H.264 (AVC) only with enable-h264, decoded by FreeRDP through libavcodec', T, async (t) => {
    const codecs = (e: EngineProcess): string[] =>
      e
        .logs()
        .filter((r) => r.msg === 'GFX codec in use')
        .map((r) => String(r.codec));
    // Text on screen: a solid screen could travel as SolidFill, which names no codec. (Without AVC the
    // shadow server falls back to surface bits outside GFX, so the plain session names none either.)
    const xterm = await display.startXterm({ geometry: '40x5+0+0' });
    t.after(() => xterm.stop());
    const plain = engine();
    await connectAndFirstFrame(plain, tlsParams());
    await waitForColor(plain, [0, H - 100, W, 100], ROOT);
    plain.closeInput();
    assert.deepEqual(await plain.exit(10_000), { code: 0, signal: null });
    assert.ok(!codecs(plain).some((c) => c.startsWith('avc')), `AVC without enable-h264: ${codecs(plain)}`);

    const e = engine();
    await connectAndFirstFrame(e, tlsParams({ 'enable-h264': 'true' }));
    await waitForColor(e, [0, H - 100, W, 100], ROOT);
    // The shadow server encodes with x264 through libavcodec; a change still arrives (P-frames decode).
    await display.setRootColor('#3366cc');
    try {
      await waitForColor(e, [0, H - 100, W, 100], '#3366cc');
    } finally {
      await display.setRootColor(ROOT);
    }
    e.closeInput();
    assert.deepEqual(await e.exit(10_000), { code: 0, signal: null });
    assert.ok(
      codecs(e).some((c) => c.startsWith('avc')),
      `no AVC codec with enable-h264: ${codecs(e)}`,
    );
  });

  it('draws text exactly as the X display shows it (lossless path, palettized PNG)', T, async () => {
    const xterm = await display.startXterm({
      geometry: '60x12+40+60',
      args: ['-bg', '#fdf6e3', '-fg', '#073642', '-e', 'sh', '-c', 'ls -l /usr/bin | head -12; sleep 60'],
    });
    try {
      await sleep(800);
      const e = engine();
      await connectAndFirstFrame(e, tlsParams({ 'disable-gfx': 'true' }));
      const region = { x: 0, y: 0, width: 600, height: 320 };
      const expected = (await display.screenshot(region)).data;
      const d = await pollUntil(
        'the text region to match the X display',
        async () => {
          ackSyncs(e);
          await e.drawn();
          if (e.layer.width === 0) return undefined;
          const diff = diffRgba(e.layer.crop(region.x, region.y, region.width, region.height), expected, 0);
          return diff.mismatched === 0 ? diff : undefined;
        },
        15_000,
        200,
      );
      assert.equal(d.mismatched, 0);
      const pngs = e.received.filter((i) => i.opcode === 'img' && i.args[3] === 'image/png').length;
      assert.ok(pngs > 0, 'text arrives as PNG');
      e.closeInput();
      assert.deepEqual(await e.exit(10_000), { code: 0, signal: null });
    } finally {
      await xterm.stop();
    }
  });

  it('sends keys and mouse to the remote display', T, async (t) => {
    const e = engine();
    await connectAndFirstFrame(e, tlsParams());
    e.send('mouse', 300, 200, 0);
    await pollUntil(
      'the X pointer at 300,200',
      async () => ((await display.xdotool('getmouselocation')).startsWith('x:300 y:200') ? true : undefined),
      10_000,
    );
    // An xterm under the pointer (no window manager: focus follows the pointer) writes a typed line to a file.
    const out = `/tmp/gatehouse-rdp-keys-${process.pid}-${Date.now()}`;
    t.after(() => rmSync(out, { force: true }));
    const xterm = await display.startXterm({
      geometry: '40x10+250+150',
      args: ['-e', 'sh', '-c', `read line; printf %s "$line" > ${out}`],
    });
    e.send('mouse', 320, 220, 0);
    await sleep(300);
    const text = 'Hi there, RDP! 42';
    for (const ch of text) {
      const keysym = ch.codePointAt(0)!;
      e.send('key', keysym, 1);
      e.send('key', keysym, 0);
    }
    e.send('key', 0xff0d, 1);
    e.send('key', 0xff0d, 0);
    const typed = await pollUntil(
      'the typed line',
      () => {
        try {
          return readFileSync(out, 'utf8');
        } catch {
          return undefined;
        }
      },
      10_000,
    );
    assert.equal(typed, text);
    await xterm.stop();
    // Buttons: a right click and wheel turns are accepted without disturbing the session.
    e.send('mouse', 100, 100, 4);
    e.send('mouse', 100, 100, 0);
    e.send('mouse', 100, 100, 8);
    e.send('mouse', 100, 100, 0);
    e.send('mouse', 100, 100, 16);
    e.send('mouse', 100, 100, 0);
    await pollUntil(
      'the X pointer at 100,100',
      async () => ((await display.xdotool('getmouselocation')).startsWith('x:100 y:100') ? true : undefined),
      10_000,
    );
    e.closeInput();
    assert.deepEqual(await e.exit(10_000), { code: 0, signal: null });
  });

  it('ignores input when read-only', T, async () => {
    await display.xdotool('mousemove', '10', '10');
    const e = engine();
    await connectAndFirstFrame(e, tlsParams({ 'read-only': 'true' }));
    e.send('mouse', 400, 300, 0);
    await sleep(500);
    assert.match(await display.xdotool('getmouselocation'), /^x:10 y:10/);
    e.closeInput();
    assert.deepEqual(await e.exit(10_000), { code: 0, signal: null });
  });

  it('survives hostile input: huge sizes, absurd keysyms and coordinates are ignored', T, async () => {
    const e = engine();
    await connectAndFirstFrame(e, tlsParams({ 'resize-method': 'display-update' }));
    const hostile: Array<[string, ...Array<string | number>]> = [
      ['size', 99999999, 99999999],
      ['size', -5, 'abc'],
      ['size'],
      ['key', 4294967295, 1],
      ['key', -1, 1],
      ['key', 'abc', 1],
      ['key', 0x1234567, 1],
      ['key', 0xfffff, 7],
      ['key'],
      ['mouse', 1e12, -1e12, 999],
      ['mouse', 'x', 'y', 'z'],
      ['mouse'],
      ['sync', 'not-a-number'],
      ['sync', '99999999999999999999'],
      ['clipboard', 3, 'text/plain'],
      ['blob', 3, 'AAAA'],
      ['end', 3],
      ['file', 5, 'text/plain', 'x.txt'],
      ['whatever', 'a', 'b'],
      ['nop'],
    ];
    for (const [op, ...args] of hostile) e.send(op, ...args);
    // Still alive and drawing.
    await display.setRootColor('#010203');
    await waitForColor(e, [0, 0, W, H], '#010203');
    await display.setRootColor(ROOT);
    await waitForColor(e, [0, 0, W, H], ROOT);
    // The clipboard module takes the clipboard stream (its blob is acked); a file stream nobody claims is refused.
    const ack = e.received.find((i) => i.opcode === 'ack' && i.args[0] === '3');
    assert.deepEqual(ack?.args.slice(1), ['OK', '0'], 'the clipboard blob is acked');
    const fileAck = e.received.find((i) => i.opcode === 'ack' && i.args[0] === '5');
    assert.equal(fileAck?.args[2], String(STATUS.UNSUPPORTED), 'an unclaimed file stream is refused');
    // Garbage bytes: a protocol error ends the session with 0x0300.
    e.sendRaw('this is not a guacamole instruction;');
    const [, status] = await expectError(e);
    assert.equal(status, STATUS.CLIENT_BAD_REQUEST);
  });

  it('answers garbage during the handshake with an error or a clean exit, never a crash', T, async () => {
    let seed = 0x2545f491;
    const rand = (n: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const prefixes = [
      '',
      '6.select,3.rdp;',
      '6.select,3.rdp;4.size,4.1024,3.768;',
      '6.select,3.rdp;7.connect,',
    ];
    const pieces = [
      '1.',
      '9999999999.',
      ',',
      ';',
      '.',
      '0.;',
      '4.size,',
      '\u00ff',
      'é',
      '\x00',
      '12.',
      'abc',
    ];
    for (let round = 0; round < 16; round++) {
      const e = engine(['--log-level', 'warn']);
      let garbage = prefixes[round % prefixes.length]!;
      for (let i = 0; i < 40; i++) garbage += pieces[rand(pieces.length)]!;
      if (round % 4 === 3) garbage += 'x'.repeat(40_000); // longer than any instruction may be
      e.sendRaw(Buffer.from(garbage, 'utf8'));
      e.closeInput();
      const exit = await e.exit(10_000);
      assert.notEqual(exit, 'timeout', `round ${round}: no exit`);
      if (exit !== 'timeout') {
        assert.equal(exit.signal, null, `round ${round}: killed by ${exit.signal}`);
        assert.ok(exit.code === 0 || exit.code === 1, `round ${round}: exit ${exit.code}`);
        if (exit.code === 1)
          assert.ok(
            e.received.some((i) => i.opcode === 'error'),
            `round ${round}: exit 1 without error`,
          );
      }
    }
  });

  it('exits on stdin EOF and on SIGTERM, during the handshake and during a session', T, async () => {
    const a = engine();
    a.send('select', 'rdp');
    await a.waitFor((x) => x.opcode === 'args', 5000);
    a.closeInput();
    assert.deepEqual(await a.exit(5000), { code: 0, signal: null });

    const b = engine();
    await connectAndFirstFrame(b, tlsParams());
    b.closeInput();
    assert.deepEqual(await b.exit(5000), { code: 0, signal: null });

    const c = engine();
    await connectAndFirstFrame(c, tlsParams());
    process.kill(c.pid, 'SIGTERM');
    assert.deepEqual(await c.exit(5000), { code: 0, signal: null });
  });

  it('maps an unreachable port to 0x0207 and a silent server to 0x0202', T, async () => {
    const e = engine();
    await e.handshake(tlsParams({ port: String(await freePort()) }));
    const [, status] = await expectError(e);
    assert.equal(status, STATUS.UPSTREAM_NOT_FOUND);

    const hole = await blackhole();
    try {
      const f = engine();
      const started = Date.now();
      await f.handshake(tlsParams({ port: String(hole.port), timeout: '2' }));
      const [message, st] = await expectError(f, 15_000);
      assert.equal(st, STATUS.UPSTREAM_TIMEOUT, message);
      assert.ok(Date.now() - started < 8000, `timed out after ${Date.now() - started} ms`);
    } finally {
      hole.server.close();
    }
  });

  it(
    'refuses an untrusted certificate unless ignore-cert or a matching cert-fingerprints pin',
    T,
    async () => {
      const e = engine();
      await e.handshake(tlsParams({ 'ignore-cert': '' }));
      const [message, status] = await expectError(e);
      assert.equal(status, STATUS.UPSTREAM_NOT_FOUND);
      assert.match(message, /certificate is not trusted/i);

      const wrongPin = `sha256:${'ab'.repeat(32)}`;
      const f = engine();
      await f.handshake(tlsParams({ 'ignore-cert': '', 'cert-fingerprints': wrongPin }));
      const [m2] = await expectError(f);
      assert.match(m2, /cert-fingerprints/);
      const logged = f.logs().find((l) => l.msg === 'server certificate does not match cert-fingerprints');
      const actual = String(logged?.sha256 ?? '');
      assert.match(actual, /^[0-9a-f]{2}(:[0-9a-f]{2}){31}$/);

      const g = engine();
      await connectAndFirstFrame(
        g,
        tlsParams({ 'ignore-cert': '', 'cert-fingerprints': `${wrongPin},sha256:${actual}` }),
      );
      g.closeInput();
      assert.deepEqual(await g.exit(5000), { code: 0, signal: null });
    },
  );

  it('runs under --memory-limit-mb, and fails cleanly when the limit is too small', T, async () => {
    const e = engine(['--memory-limit-mb', '256', '--log-level', 'debug']);
    await connectAndFirstFrame(e, tlsParams());
    await waitForColor(e, [0, 0, W, H], ROOT);
    e.closeInput();
    assert.deepEqual(await e.exit(10_000), { code: 0, signal: null });

    const f = engine(['--memory-limit-mb', '16', '--log-level', 'debug']);
    await f.handshake(tlsParams());
    const i = await f.waitFor((x) => x.opcode === 'error' || x.opcode === 'sync', 20_000, 0, 'error or sync');
    const sanitizer = f.logs().some((l) => String(l.msg).includes('sanitizer build'));
    if (!sanitizer) assert.equal(f.received[i]!.opcode, 'error', 'a 16 MiB budget cannot hold a session');
    f.closeInput();
    const exit = await f.exit(10_000);
    assert.notEqual(exit, 'timeout');
    if (exit !== 'timeout') assert.equal(exit.signal, null, 'no crash');
  });

  it('never logs the password', T, async () => {
    const e = engine();
    await connectAndFirstFrame(e, tlsParams());
    e.closeInput();
    await e.exit(5000);
    assert.ok(!e.stderr.toString().includes(tls.password), 'the password appears in the log');
  });
});
