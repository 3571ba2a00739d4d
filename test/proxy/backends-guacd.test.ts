// The guacd backend over real TCP against a scripted guacd (a server in this process): every protocol
// version, handshake failures and timeouts, instructions split anywhere (UTF-8 included), backpressure from
// the sink pausing the guacd socket, the session's ends, and what goes to guacd.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { encodeInstruction } from '../../src/protocol/guacamole/encoder.js';
import { STATUS } from '../../src/protocol/guacamole/status.js';
import {
  type GuacdSession,
  type GuacdSessionOptions,
  startGuacdSession,
} from '../../src/proxy/backends/guacd-backend.js';
import {
  CLIENT,
  type LogLine,
  type ScriptedGuacd,
  startScriptedGuacd,
  TestSink,
  testLog,
  within,
} from './backends-helpers.js';

const T = { timeout: 15_000 };
const NAMES = ['hostname', 'port', 'password'];
const PARAMS = { hostname: 'desk', port: '5901', password: 's3cret', 'not-asked': 'x' };

const servers: ScriptedGuacd[] = [];
const sessions: GuacdSession[] = [];

after(async () => {
  for (const s of sessions) s.close();
  await Promise.all(servers.map((g) => g.close()));
});

/** A session on a fresh scripted guacd (one per test, so no test sees another's connections). */
async function start(overrides: Partial<GuacdSessionOptions> = {}): Promise<{
  session: GuacdSession;
  sink: TestSink;
  lines: LogLine[];
  guacd: ScriptedGuacd;
}> {
  const guacd = await startScriptedGuacd();
  servers.push(guacd);
  const sink = new TestSink();
  const log = testLog();
  const session = startGuacdSession({
    address: guacd.address,
    protocol: 'vnc',
    params: PARAMS,
    client: CLIENT,
    sink,
    log,
    handshakeTimeoutMs: 2000,
    connectTimeoutMs: 2000,
    ...overrides,
  });
  sessions.push(session);
  return { session, sink, lines: log.lines, guacd };
}

/** A session through the handshake (server offering 1.5.0), with the server's side of it. */
async function established(overrides: Partial<GuacdSessionOptions> = {}) {
  const s = await start(overrides);
  const peer = await s.guacd.accept();
  await peer.handshake(NAMES);
  await within(
    (async () => {
      while (s.session.connectionId === undefined) await delay(2);
    })(),
    2000,
    'ready',
  );
  return { ...s, peer };
}

describe('guacd backend: handshake', () => {
  const versions: [string | undefined, string | undefined][] = [
    [undefined, undefined],
    ['VERSION_1_1_0', 'VERSION_1_1_0'],
    ['VERSION_1_3_0', 'VERSION_1_3_0'],
    ['VERSION_1_5_0', 'VERSION_1_5_0'],
    ['VERSION_1_6_0', 'VERSION_1_5_0'],
  ];
  for (const [offered, answered] of versions) {
    it(
      `guacd offering ${offered ?? 'no version (1.0.0)'}: we answer ${answered ?? 'without one'}`,
      T,
      async () => {
        const { session, sink, lines, guacd } = await start();
        const peer = await guacd.accept();
        const { select, info, connect } = await peer.handshake(NAMES, offered ?? null, '$abc-123');
        assert.deepEqual(select.args, ['vnc']);
        const v = answered ?? 'VERSION_1_0_0';
        const atLeast = (x: string): boolean => v >= x; // same-width strings: lexical order is version order
        assert.deepEqual(
          info.map((i) => [i.opcode, ...i.args]),
          [
            ['size', '800', '600', '96'],
            ['audio'],
            ['video'],
            ['image', 'image/png', 'image/jpeg'],
            ...(atLeast('VERSION_1_1_0') ? [['timezone', 'Europe/Paris']] : []),
            ...(atLeast('VERSION_1_5_0') ? [['name', 'alice']] : []),
          ],
        );
        assert.deepEqual(connect.args, [...(answered ? [answered] : []), 'desk', '5901', 's3cret']);
        peer.send('size', 0, 800, 600);
        peer.send('sync', 1, 1);
        await sink.until(() => sink.text.includes('4.sync'), 3000, 'the first sync');
        assert.equal(sink.text, encodeInstruction('size', 0, 800, 600) + encodeInstruction('sync', 1, 1));
        assert.equal(session.connectionId, '$abc-123');
        const debug = lines.find((l) => l.level === 'debug' && /not sent/.test(l.msg));
        assert.match(debug?.msg ?? '', /not-asked/);
        assert.ok(!JSON.stringify(lines).includes('s3cret'), 'no parameter value is logged');
        session.close();
        await peer.expect('disconnect');
        await within(peer.closed, 3000, 'the guacd socket closing');
        assert.deepEqual(await session.ended, { status: STATUS.SUCCESS, message: 'The session was closed' });
      },
    );
  }

  it("guacd's error during the handshake ends the session with its status", T, async () => {
    const { session, guacd } = await start();
    const peer = await guacd.accept();
    await peer.expect('select');
    peer.send('error', 'No such connection.', STATUS.RESOURCE_NOT_FOUND);
    const end = await within(session.ended, 3000);
    assert.equal(end.status, STATUS.RESOURCE_NOT_FOUND);
    assert.match(end.message, /No such connection/);
    await within(peer.closed, 3000);
  });

  it('guacd closing during the handshake → UPSTREAM_ERROR', T, async () => {
    const { session, guacd } = await start();
    const peer = await guacd.accept();
    await peer.expect('select');
    peer.send('args', 'VERSION_1_5_0', 'hostname');
    while ((await peer.next()).opcode !== 'connect') {}
    peer.socket.end();
    assert.equal((await within(session.ended, 3000)).status, STATUS.UPSTREAM_ERROR);
  });

  it('something unexpected, or malformed bytes, during the handshake → UPSTREAM_ERROR', T, async () => {
    for (const reply of [
      encodeInstruction('ready', '$early'),
      encodeInstruction('nop'),
      '3.args;',
      'HTTP/1.1 400',
    ]) {
      const { session, guacd } = await start();
      const peer = await guacd.accept();
      await peer.expect('select');
      peer.socket.write(reply);
      const end = await within(session.ended, 3000, reply);
      assert.equal(end.status, STATUS.UPSTREAM_ERROR, reply);
      await within(peer.closed, 3000);
    }
  });

  it('a silent guacd → UPSTREAM_TIMEOUT after the step timeout', T, async () => {
    const t0 = Date.now();
    const { session, guacd } = await start({ handshakeTimeoutMs: 300 });
    const peer = await guacd.accept();
    await peer.expect('select');
    const end = await within(session.ended, 3000);
    assert.equal(end.status, STATUS.UPSTREAM_TIMEOUT);
    const took = Date.now() - t0;
    assert.ok(took >= 290 && took < 2000, `timed out after ${took} ms`);
    await within(peer.closed, 3000);
  });

  it('a refused port → UPSTREAM_NOT_FOUND', T, async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const { session, lines } = await start({ address: `guacd://127.0.0.1:${port}` });
    const end = await within(session.ended, 3000);
    assert.equal(end.status, STATUS.UPSTREAM_NOT_FOUND);
    assert.ok(lines.some((l) => l.level === 'warn' && /ECONNREFUSED/.test(JSON.stringify(l.obj))));
  });

  it('an IPv6 guacd address in brackets', T, async (t) => {
    const v6 = await startScriptedGuacd('::1').catch(() => undefined);
    if (v6 === undefined) return t.skip('::1 cannot be bound here');
    servers.push(v6);
    assert.equal(v6.address, `guacd://[::1]:${v6.port}`);
    const { session } = await start({ address: v6.address });
    const peer = await v6.accept();
    await peer.handshake(NAMES);
    peer.send('disconnect');
    assert.equal((await within(session.ended, 3000)).status, STATUS.SUCCESS);
  });

  it('a guacd that never accepts the connection → UPSTREAM_TIMEOUT after connectTimeoutMs', T, async (t) => {
    // A listening socket that never accepts, its backlog filled: further SYNs go unanswered.
    const script =
      'import socket, time\ns = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)\n' +
      'print(s.getsockname()[1], flush=True)\ntime.sleep(20)\n';
    const child = spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    child.on('error', () => {});
    const fillers: Socket[] = [];
    try {
      const port = await within(
        new Promise<number>((resolve, reject) => {
          child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
          child.once('error', reject);
        }),
        5000,
        'the never-accepting listener',
      ).catch(() => undefined);
      if (port === undefined) return t.skip('python3 is not available');
      for (let i = 0; i < 4; i++) {
        const f = connect({ port, host: '127.0.0.1' });
        f.on('error', () => {});
        fillers.push(f);
      }
      await delay(200);
      const t0 = Date.now();
      const { session } = await start({ address: `guacd://127.0.0.1:${port}`, connectTimeoutMs: 300 });
      const end = await within(session.ended, 3000);
      assert.equal(end.status, STATUS.UPSTREAM_TIMEOUT);
      assert.ok(Date.now() - t0 >= 290);
    } finally {
      for (const f of fillers) f.destroy();
      child.kill('SIGKILL');
    }
  });

  it('instructions from the client before ready are held, then sent after it', T, async () => {
    const { session, guacd } = await start();
    session.handleInstruction({ opcode: 'size', args: ['1024', '768'] });
    session.handleInstruction({ opcode: '', args: ['ping', '1'] });
    session.handleInstruction({ opcode: 'key', args: ['65', '1'] });
    const peer = await guacd.accept();
    const { info } = await peer.handshake(NAMES);
    assert.ok(!info.some((i) => i.opcode === 'key'), 'nothing of the session goes into the handshake');
    assert.deepEqual(await peer.next(), { opcode: 'size', args: ['1024', '768'] });
    assert.deepEqual(await peer.next(), { opcode: 'key', args: ['65', '1'] });
    session.close();
  });

  it('too much held before ready → CLIENT_OVERRUN', T, async () => {
    const { session } = await start({ maxQueuedBytes: 10_000 });
    for (let i = 0; i < 1000; i++)
      session.handleInstruction({ opcode: 'mouse', args: ['1000', '1000', '0'] });
    assert.equal((await within(session.ended, 1000)).status, STATUS.CLIENT_OVERRUN);
  });
});

describe('guacd backend: session', () => {
  it(
    'relays instructions split at every byte boundary, UTF-8 included, as whole instructions',
    T,
    async () => {
      const { session, sink, peer } = await established();
      const payload =
        encodeInstruction('name', 'héllo wörld') +
        encodeInstruction('clipboard', 1, 'text/plain') +
        encodeInstruction('blob', 1, '€ 日本語 😀 𝄞') +
        encodeInstruction('nop') +
        encodeInstruction('sync', 42, 1);
      const bytes = Buffer.from(payload, 'utf8');
      let expected = '';
      for (let k = 1; k < bytes.length; k++) {
        peer.socket.write(bytes.subarray(0, k));
        await delay(3);
        peer.socket.write(bytes.subarray(k));
        expected += payload;
        await sink.until(() => sink.text === expected, 2000, `split at ${k}`);
      }
      // Every write was whole instructions.
      assert.ok(sink.text.endsWith(';'));
      const opcodes = sink.instructions().map((i) => i.opcode);
      assert.equal(opcodes.length, 5 * (bytes.length - 1));
      assert.equal(sink.instructions()[2]?.args[1], '€ 日本語 😀 𝄞');
      // One byte per TCP write.
      sink.text = '';
      for (const b of bytes) {
        peer.socket.write(Buffer.from([b]));
        await delay(1);
      }
      await sink.until(() => sink.text === payload, 3000, 'the byte-by-byte payload');
      session.close();
    },
  );

  it('passes sync through unchanged both ways; drops tunnel-internal instructions', T, async () => {
    const { session, sink, peer } = await established();
    peer.socket.write('4.sync,13.1700000000000,1.1;');
    await sink.until(() => sink.text.length > 0);
    assert.equal(sink.text, '4.sync,13.1700000000000,1.1;');
    const before = peer.raw.length;
    session.handleInstruction({ opcode: '', args: ['ping', '123'] });
    session.handleInstruction({ opcode: 'sync', args: ['1700000000000'] });
    session.handleInstruction({ opcode: 'mouse', args: ['10', '20', '1'] });
    await peer.expect('sync');
    await peer.expect('mouse');
    assert.equal(peer.raw.slice(before), '4.sync,13.1700000000000;5.mouse,2.10,2.20,1.1;');
    session.close();
  });

  it("guacd's error ends the session with its status (not relayed); what came before is", T, async () => {
    const { session, sink, peer } = await established();
    peer.send('size', 0, 10, 10);
    peer.send('error', 'Server disconnected', STATUS.UPSTREAM_UNAVAILABLE);
    peer.send('disconnect');
    assert.deepEqual(await within(session.ended, 3000), {
      status: STATUS.UPSTREAM_UNAVAILABLE,
      message: 'Server disconnected',
    });
    assert.equal(sink.text, encodeInstruction('size', 0, 10, 10));
    await within(peer.closed, 3000);
  });

  it("guacd's disconnect → SUCCESS; a close without a word → UPSTREAM_ERROR", T, async () => {
    const a = await established();
    a.peer.send('disconnect');
    assert.equal((await within(a.session.ended, 3000)).status, STATUS.SUCCESS);
    const b = await established();
    b.peer.socket.end();
    assert.deepEqual(await within(b.session.ended, 3000), {
      status: STATUS.UPSTREAM_ERROR,
      message: 'guacd closed the connection',
    });
  });

  it('malformed bytes from guacd mid-session → UPSTREAM_ERROR', T, async () => {
    const { session, peer } = await established();
    peer.socket.write('4.size,1.0;garbage');
    assert.equal((await within(session.ended, 3000)).status, STATUS.UPSTREAM_ERROR);
  });

  it('the client disconnecting ends the session and tells guacd', T, async () => {
    const { session, peer } = await established();
    session.handleInstruction({ opcode: 'disconnect', args: [] });
    await peer.expect('disconnect');
    assert.equal((await session.ended).status, STATUS.SUCCESS);
    await within(peer.closed, 3000);
    session.handleInstruction({ opcode: 'key', args: ['1', '1'] }); // ignored after the end
  });

  it('keeps guacd alive with nop; a silent guacd → UPSTREAM_TIMEOUT', T, async () => {
    const { session, peer } = await established({ nopIntervalMs: 100, idleTimeoutMs: 600 });
    await peer.expect('nop', 1000);
    await peer.expect('nop', 1000);
    const end = await within(session.ended, 3000);
    assert.equal(end.status, STATUS.UPSTREAM_TIMEOUT);
  });

  it('a full sink pauses reading from guacd, which stalls; drain resumes it', T, async (t) => {
    const { session, sink, peer } = await established({ idleTimeoutMs: 400 });
    sink.keep = false;
    const blob = encodeInstruction('blob', 1, 'A'.repeat(8000));
    const total = 24 * 1024 * 1024;
    let sent = 0;
    let flooding = true;
    const flood = async (): Promise<void> => {
      while (sent < total && !peer.socket.destroyed) {
        sent += blob.length;
        if (!peer.socket.write(blob)) await new Promise((resolve) => peer.socket.once('drain', resolve));
      }
      peer.send('done');
      flooding = false;
    };
    sink.full = true;
    const flooded = flood();
    await sink.until(() => sink.bytes > 0, 3000, 'the first bytes');
    await within(
      (async () => {
        while (!session.paused) await delay(5);
      })(),
      2000,
      'the pause',
    );
    await delay(200);
    const stalled = sink.bytes;
    await delay(600); // longer than idleTimeoutMs: a paused session does not time out
    assert.equal(sink.bytes, stalled, 'nothing read while paused');
    assert.ok(flooding, `guacd is held back by TCP (sent ${sent}, read ${stalled})`);
    assert.ok(peer.socket.writableLength > 0);
    assert.equal(sink.pendingDrains, 1);
    t.diagnostic(`paused: read ${stalled} bytes, guacd had written ${sent} of ${total}`);
    sink.drain();
    await within(flooded, 10_000, 'the flood');
    sink.keep = true;
    await sink.until(() => sink.text.includes('4.done;'), 5000, 'the end of the flood');
    assert.equal(sink.bytes, sent + '4.done;'.length);
    assert.equal(session.paused, false);
    session.close();
    assert.equal((await session.ended).status, STATUS.SUCCESS);
  });

  it('bounds what is queued towards a guacd that does not read', T, async () => {
    const { session, peer } = await established({ maxQueuedBytes: 256 * 1024 });
    peer.socket.pause();
    const big = 'x'.repeat(8000);
    let over = false;
    void session.ended.then(() => {
      over = true;
    });
    for (let i = 0; i < 2000 && !over; i++) {
      session.handleInstruction({ opcode: 'clipboard-text', args: [big] });
      if (i % 16 === 0) await delay(1);
    }
    assert.equal((await within(session.ended, 3000)).status, STATUS.CLIENT_OVERRUN);
  });
});
