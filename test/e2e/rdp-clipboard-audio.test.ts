// The native RDP engine's channel modules, driven directly as a guacd client (as rdp-native.test.ts does):
// clipboard (cliprdr) both ways against xrdp 0.9 (the session's X clipboard read and written with xclip),
// disable-copy / disable-paste / normalize-clipboard, refused and oversized client clipboards; audio
// (rdpsnd) as an audio/L16 stream against xrdp (PCM written into xrdp-chansrv's audio socket, as its
// PulseAudio sink module would), negotiation with freerdp-shadow-cli, and no audio with disable-audio or a
// client without audio/L16. GATEHOUSE_RDP_ENGINE runs another build (the ASan one).
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { STATUS } from '../../src/protocol/guacamole/status.js';
import { skipUnlessInstalled } from './helpers/binaries.js';
import { leftoverProcesses, pollUntil, registerTempDir, sleep } from './helpers/processes.js';
import {
  assertNoSanitizerReports,
  EngineProcess,
  engineSkipReason,
  type HandshakeOptions,
} from './helpers/rdp-engine-process.js';
import {
  rdpParams,
  type ShadowServer,
  startShadowServer,
  startXrdp,
  type XrdpServer,
  xrdpSkipReason,
} from './helpers/rdp-servers.js';
import { startXvfb, type XDisplay } from './helpers/x-display.js';

const engineWhy = engineSkipReason();
const XRDP_WHY = engineWhy ?? xrdpSkipReason() ?? skipUnlessInstalled(['xclip', 'xdpyinfo']);
const SHADOW_WHY = engineWhy ?? skipUnlessInstalled(['Xvfb', 'freerdp-shadow-cli']);
const T = { timeout: 60_000 };
const MAX_CLIPBOARD = 256 * 1024;

const engines: EngineProcess[] = [];
const engineTmp = mkdtempSync(join(tmpdir(), 'gatehouse-rdp-channels-test-'));
registerTempDir(engineTmp);

function engine(): EngineProcess {
  const e = new EngineProcess({ env: { ...process.env, TMPDIR: engineTmp } });
  engines.push(e);
  return e;
}

/** Connects and waits for `ready`. */
async function connect(
  e: EngineProcess,
  params: Record<string, string>,
  opts: HandshakeOptions = {},
): Promise<void> {
  await e.handshake(params, opts);
  const r = await e.waitFor((x) => x.opcode === 'ready' || x.opcode === 'error', 30_000, 0, 'ready');
  assert.equal(
    e.received[r]!.opcode,
    'ready',
    `expected ready, got ${e.summary()}\n${e.stderr.toString().slice(-3000)}`,
  );
}

function hasLog(e: EngineProcess, msg: string | RegExp): boolean {
  return e.logs().some((l) => (typeof msg === 'string' ? l.msg === msg : msg.test(String(l.msg))));
}

async function waitLog(e: EngineProcess, msg: string | RegExp, timeoutMs = 15_000): Promise<void> {
  await pollUntil(`the engine log "${msg}"`, () => (hasLog(e, msg) ? true : undefined), timeoutMs, 50);
}

/** Texts of the complete `clipboard` streams (text/plain) the engine sent, in order. */
function clipboards(e: EngineProcess): string[] {
  const open = new Map<string, string[]>();
  const done: string[] = [];
  for (const ins of e.received) {
    const [stream, data] = ins.args;
    if (ins.opcode === 'clipboard' && ins.args[1] === 'text/plain') open.set(stream!, []);
    else if (ins.opcode === 'blob' && open.has(stream!)) open.get(stream!)!.push(data!);
    else if (ins.opcode === 'end' && open.has(stream!)) {
      done.push(Buffer.concat(open.get(stream!)!.map((b) => Buffer.from(b, 'base64'))).toString('utf8'));
      open.delete(stream!);
    }
  }
  return done;
}

/** The engine's `ack`s for a client stream, as [message, status]. */
function acks(e: EngineProcess, stream: number): Array<[string, number]> {
  return e.received
    .filter((i) => i.opcode === 'ack' && i.args[0] === String(stream))
    .map((i) => [i.args[1]!, Number(i.args[2])]);
}

/** Sends `text` as a client clipboard stream in blobs of `chunk` bytes. */
function sendClipboard(
  e: EngineProcess,
  stream: number,
  text: string | Buffer,
  mimetype = 'text/plain',
  chunk = 4096,
) {
  const data = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  e.send('clipboard', stream, mimetype);
  for (let off = 0; off < data.length; off += chunk) {
    e.send('blob', stream, data.subarray(off, off + chunk).toString('base64'));
  }
  e.send('end', stream);
  return Math.ceil(data.length / chunk);
}

/** Ends an engine with `disconnect` and checks it exits cleanly. */
async function finish(e: EngineProcess): Promise<void> {
  e.send('disconnect');
  assert.deepEqual(await e.exit(15_000), { code: 0, signal: null });
  assert.equal(e.parseError, undefined, `output did not parse: ${e.parseError}`);
}

/** The `audio` streams the engine opened: mimetype and the PCM received on each. */
function audioStreams(e: EngineProcess): Array<{ mimetype: string; data: Buffer }> {
  const open = new Map<string, { mimetype: string; chunks: Buffer[] }>();
  const all: Array<{ mimetype: string; chunks: Buffer[] }> = [];
  for (const ins of e.received) {
    const [stream, arg] = ins.args;
    if (ins.opcode === 'audio') {
      const s = { mimetype: arg!, chunks: [] as Buffer[] };
      open.set(stream!, s);
      all.push(s);
    } else if (ins.opcode === 'blob' && open.has(stream!))
      open.get(stream!)!.chunks.push(Buffer.from(arg!, 'base64'));
    else if (ins.opcode === 'end') open.delete(stream!);
  }
  return all.map((s) => ({ mimetype: s.mimetype, data: Buffer.concat(s.chunks) }));
}

/** 16-bit stereo PCM at 44.1 kHz: a 440 Hz tone, `ms` long, whose right channel counts samples (recognizable). */
function tone(ms: number): Buffer {
  const frames = Math.round((44_100 * ms) / 1000);
  const b = Buffer.alloc(frames * 4);
  for (let i = 0; i < frames; i++) {
    b.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 440 * i) / 44_100) * 12_000), i * 4);
    b.writeInt16LE((i % 30_000) - 15_000, i * 4 + 2);
  }
  return b;
}

/** Plays PCM into xrdp-chansrv's audio output socket, as xrdp's PulseAudio sink module does. */
async function playIntoChansrv(socketPath: string, pcm: Buffer): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const sock = createConnection(socketPath);
    sock.once('error', reject);
    sock.once('connect', async () => {
      // Messages: int32 code (0 data, 1 close), int32 total bytes with this 8-byte header, then the data.
      for (let off = 0; off < pcm.length; off += 8192) {
        const part = pcm.subarray(off, off + 8192);
        const h = Buffer.alloc(8);
        h.writeInt32LE(0, 0);
        h.writeInt32LE(part.length + 8, 4);
        sock.write(Buffer.concat([h, part]));
        await sleep(40); // ~real time (8 KiB is 46 ms of audio)
      }
      const close = Buffer.alloc(8);
      close.writeInt32LE(1, 0);
      close.writeInt32LE(8, 4);
      sock.end(close, () => resolve());
    });
  });
}

after(() => {
  assert.deepEqual(leftoverProcesses(), [], 'processes left behind');
  assertNoSanitizerReports(engines);
  assert.deepEqual(readdirSync(engineTmp), [], 'engines left temporary directories behind');
});

describe('gatehouse-rdp clipboard and audio against xrdp', {
  ...(XRDP_WHY ? { skip: XRDP_WHY } : {}),
  timeout: 400_000,
}, () => {
  let xrdp: XrdpServer;
  let session: XDisplay | undefined;

  before(async () => {
    xrdp = await startXrdp();
  });

  after(async () => {
    await Promise.all(engines.map((e) => e.stop()));
    await xrdp?.stop();
  });

  function params(extra: Record<string, string> = {}): Record<string, string> {
    return rdpParams(xrdp, { security: 'tls', ...extra });
  }

  /** An engine connected to the (one, reused) xrdp session with its clipboard channel up. */
  async function connected(
    extra: Record<string, string> = {},
    opts: HandshakeOptions = {},
  ): Promise<EngineProcess> {
    const e = engine();
    await connect(e, params(extra), opts);
    session ??= await xrdp.sessionDisplay(30_000);
    if (!(extra['disable-copy'] === 'true' && extra['disable-paste'] === 'true'))
      await waitLog(e, 'clipboard channel ready');
    return e;
  }

  it(
    'sends text copied in the session to the client as a clipboard stream (UTF-8, non-ASCII)',
    T,
    async () => {
      const e = await connected();
      // BMP only: xrdp 0.9.21's chansrv cannot convert characters outside it (its clipboard then hangs).
      const text = `Grüße aus der Sitzung — 世界 ✓ ${Date.now()}\nsecond line\ttab`;
      await session!.writeClipboard(text);
      await pollUntil(
        'the clipboard stream',
        () => (clipboards(e).includes(text) ? true : undefined),
        15_000,
        50,
      );
      // Blobs are at most 6048 bytes; the stream is text/plain.
      const big = `${'0123456789abcdef'.repeat(1500)}-${Date.now()}`; // 24 KiB: several blobs
      await session!.writeClipboard(big);
      await pollUntil(
        'the large clipboard stream',
        () => (clipboards(e).includes(big) ? true : undefined),
        15_000,
        50,
      );
      const blobs = e.received
        .filter((i) => i.opcode === 'blob')
        .map((i) => Buffer.from(i.args[1]!, 'base64').length);
      assert.ok(Math.max(...blobs) <= 6048, `a blob of ${Math.max(...blobs)} bytes`);
      await finish(e);
    },
  );

  it('puts a clipboard stream from the client into the session (each blob acked)', T, async () => {
    const e = await connected();
    const text = `vom Browser: ÄÖÜ ✓ 漢字 € ${Date.now()}`;
    const n = sendClipboard(e, 10, text, 'text/plain', 16);
    await pollUntil(
      'the session clipboard',
      async () => ((await session!.readClipboard()) === text ? true : undefined),
      15_000,
      100,
    );
    assert.deepEqual(
      acks(e, 10),
      Array.from({ length: n }, () => ['OK', 0]),
    );
    // Several blobs of a larger text, with a mimetype parameter. (Above ~16 KiB xrdp 0.9.21 hands the selection
    // over in INCR chunks and keeps CF_UNICODETEXT's terminating NUL: ignore one trailing NUL.)
    const big = `${'lorem ipsum dolor sit amet '.repeat(2000)}${Date.now()}`;
    sendClipboard(e, 12, big, 'text/plain;charset=utf-8', 6048);
    await pollUntil(
      'the large session clipboard',
      async () => ((await session!.readClipboard())?.replace(/\0$/, '') === big ? true : undefined),
      15_000,
      100,
    );
    await finish(e);
  });

  it('normalizes line endings as normalize-clipboard says', T, async () => {
    const e = await connected({ 'normalize-clipboard': 'windows' });
    const text = `one\ntwo\nthree ${Date.now()}`;
    await session!.writeClipboard(text);
    const want = text.replaceAll('\n', '\r\n');
    await pollUntil(
      'the CRLF clipboard',
      () => (clipboards(e).includes(want) ? true : undefined),
      15_000,
      50,
    );
    await finish(e);

    const u = await connected({ 'normalize-clipboard': 'unix' });
    const crlf = `alpha\r\nbeta\r\n${Date.now()}`;
    sendClipboard(u, 4, crlf);
    const lf = crlf.replaceAll('\r\n', '\n');
    await pollUntil(
      'the LF session clipboard',
      async () => ((await session!.readClipboard()) === lf ? true : undefined),
      15_000,
      100,
    );
    await finish(u);
  });

  it('refuses a bad normalize-clipboard value with 0x0300 naming it', T, async () => {
    const e = engine();
    await e.handshake(params({ 'normalize-clipboard': 'mac' }));
    const i = await e.waitFor((x) => x.opcode === 'error', 10_000, 0, 'error');
    assert.equal(Number(e.received[i]!.args[1]), STATUS.CLIENT_BAD_REQUEST);
    assert.match(e.received[i]!.args[0]!, /"normalize-clipboard"/);
    assert.notEqual(await e.exit(5000), 'timeout');
  });

  it(
    'honours disable-copy: nothing copied in the session reaches the client; paste still works',
    T,
    async () => {
      const e = await connected({ 'disable-copy': 'true' });
      const secret = `do-not-copy-${Date.now()}`;
      await session!.writeClipboard(secret);
      await sleep(2000);
      assert.deepEqual(clipboards(e), [], 'no clipboard stream with disable-copy');
      const pasted = `pasted-${Date.now()}`;
      sendClipboard(e, 6, pasted);
      await pollUntil(
        'the session clipboard',
        async () => ((await session!.readClipboard()) === pasted ? true : undefined),
        15_000,
        100,
      );
      await finish(e);
    },
  );

  it('honours disable-paste: the client clipboard is refused with 0x0303; copy still works', T, async () => {
    const e = await connected({ 'disable-paste': 'true' });
    const before = `before-${Date.now()}`;
    await session!.writeClipboard(before);
    await pollUntil('the copied text', () => (clipboards(e).includes(before) ? true : undefined), 15_000, 50);
    sendClipboard(e, 8, 'must not arrive', 'text/plain', 4);
    await e.waitFor((x) => x.opcode === 'ack' && x.args[0] === '8', 5000, 0, 'the ack');
    await sleep(1000);
    assert.deepEqual(acks(e, 8), [['Clipboard paste is disabled', STATUS.CLIENT_FORBIDDEN]]);
    assert.equal(await session!.readClipboard(), before, 'the session clipboard is unchanged');
    await finish(e);
  });

  it(
    'refuses other mimetypes (0x0100), bad base64 (0x0300) and clipboards over 256 KiB (0x030D) without harm',
    T,
    async () => {
      const e = await connected();
      sendClipboard(e, 20, Buffer.from([0x89, 0x50, 0x4e, 0x47]), 'image/png');
      e.send('clipboard', 22, 'text/plain');
      e.send('blob', 22, '!!not base64!!');
      e.send('end', 22);
      const huge = Buffer.alloc(MAX_CLIPBOARD + 50_000, 'x');
      const sent = sendClipboard(e, 24, huge, 'text/plain', 6048);
      await e.waitFor(
        (x) => x.opcode === 'ack' && x.args[0] === '24' && x.args[2] !== '0',
        10_000,
        0,
        'the overrun ack',
      );
      await sleep(500);
      assert.deepEqual(acks(e, 20), [['Unsupported clipboard type', STATUS.UNSUPPORTED]]);
      assert.deepEqual(acks(e, 22), [['Invalid clipboard data', STATUS.CLIENT_BAD_REQUEST]]);
      const a24 = acks(e, 24);
      const okCount = Math.floor(MAX_CLIPBOARD / 6048);
      assert.equal(a24.length, okCount + 1, `acks until the limit, then one error (of ${sent} blobs)`);
      assert.deepEqual(a24.at(-1), ['Clipboard data too large', STATUS.CLIENT_OVERRUN]);
      // The engine is fine and the next clipboard goes through.
      const text = `after the refusals ${Date.now()}`;
      sendClipboard(e, 26, text);
      await pollUntil(
        'the session clipboard',
        async () => ((await session!.readClipboard()) === text ? true : undefined),
        15_000,
        100,
      );
      await finish(e);
    },
  );

  it('plays the session audio to the client as an audio/L16 stream', T, async () => {
    const e = await connected();
    await waitLog(e, 'audio: the server announced its formats (rdpsnd negotiated, PCM only)');
    const n = /:(\d+)/.exec(session!.name)![1];
    const socketPath = join(xrdp.dir, 'run', 'sockdir', `xrdp_chansrv_audio_out_socket_${n}`);
    const pcm = tone(1500);
    await playIntoChansrv(socketPath, pcm);
    await pollUntil(
      'audio data',
      () => ((audioStreams(e)[0]?.data.length ?? 0) >= 44_100 ? true : undefined),
      15_000,
      100,
    );
    const [s] = audioStreams(e);
    assert.equal(s!.mimetype, 'audio/L16;rate=44100,channels=2');
    assert.equal(s!.data.length % 4, 0, 'whole stereo frames');
    // The samples arrive unchanged: a window from the middle of what arrived is in what was played.
    const mid = s!.data.subarray(
      Math.floor(s!.data.length / 8) * 4,
      Math.floor(s!.data.length / 8) * 4 + 4096,
    );
    assert.ok(pcm.indexOf(mid) >= 0, 'the PCM received is the PCM played');
    const blobs = e.received
      .filter((i) => i.opcode === 'blob')
      .map((i) => Buffer.from(i.args[1]!, 'base64').length);
    assert.ok(Math.max(...blobs) <= 6048);
    await finish(e);
  });

  it('opens no audio stream with disable-audio or for a client without audio/L16', T, async () => {
    for (const [extra, opts] of [
      [{ 'disable-audio': 'true' }, {}],
      [{}, { audio: ['audio/ogg'] }],
    ] as Array<[Record<string, string>, HandshakeOptions]>) {
      const e = await connected(extra, opts);
      await sleep(1000);
      const n = /:(\d+)/.exec(session!.name)![1];
      const socketPath = join(xrdp.dir, 'run', 'sockdir', `xrdp_chansrv_audio_out_socket_${n}`);
      // chansrv only listens while a client has audio: playing may fail, which is the point.
      await playIntoChansrv(socketPath, tone(300)).catch(() => {});
      await sleep(1000);
      assert.deepEqual(
        audioStreams(e),
        [],
        `no audio stream (${JSON.stringify(extra)} ${JSON.stringify(opts)})`,
      );
      assert.equal(hasLog(e, /^audio: the server announced/), false, 'rdpsnd not negotiated');
      await finish(e);
    }
  });
});

describe('gatehouse-rdp audio negotiation with freerdp-shadow-cli', {
  ...(SHADOW_WHY ? { skip: SHADOW_WHY } : {}),
  timeout: 120_000,
}, () => {
  let display: XDisplay;
  let shadow: ShadowServer;

  before(async () => {
    display = await startXvfb({ width: 800, height: 600 });
    shadow = await startShadowServer({ display, security: 'tls' });
  });

  after(async () => {
    await Promise.all(engines.map((e) => e.stop()));
    await shadow?.stop();
    await display?.stop();
  });

  function params(extra: Record<string, string> = {}): Record<string, string> {
    return rdpParams(shadow, { security: 'tls', ...extra });
  }

  it('negotiates rdpsnd (PCM) through the in-process device', T, async () => {
    const e = engine();
    await connect(e, params(), { size: [800, 600, 96] });
    await waitLog(e, 'audio: the server announced its formats (rdpsnd negotiated, PCM only)');
    assert.ok(hasLog(e, /Loaded gatehouse backend for rdpsnd/), 'FreeRDP loaded our device');
    await finish(e);
  });

  it('does not load rdpsnd with disable-audio=true', T, async () => {
    const e = engine();
    await connect(e, params({ 'disable-audio': 'true' }), { size: [800, 600, 96] });
    await sleep(1500);
    assert.ok(hasLog(e, 'audio disabled (disable-audio)'));
    assert.equal(hasLog(e, /rdpsnd/), false, 'no rdpsnd channel');
    assert.deepEqual(audioStreams(e), []);
    await finish(e);
  });
});
