// The guacd-compatible listener's sessions over real TCP: isolation between sessions, how sessions end,
// backpressure, and shutdown.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { startGuacdServer } from '../../src/engine/guacd/server.js';
import { STATUS } from '../../src/protocol/guacamole/status.js';
import { ClosedError, GuacTestClient } from '../helpers/guacd-client.js';
import {
  captureLog,
  connectEcho,
  echoEngine,
  expectErrorAndClose,
  FLOOD_CHUNK,
  harness,
  newEchoState,
  TIMEOUT,
} from '../helpers/guacd-echo.js';

describe('guacd listener: sessions', TIMEOUT, () => {
  it('an engine that throws ends only its own session (SERVER_ERROR + a log line)', TIMEOUT, async () => {
    const h = await harness();
    try {
      const a = await connectEcho(h, { greeting: 'a' });
      const b = await connectEcho(h, { greeting: 'b' });
      a.send('boom');
      await expectErrorAndClose(a, STATUS.SERVER_ERROR, /^Internal server error$/);
      const line = h.logs.find((r) => r.level === 'error');
      assert.match(
        line?.msg ?? '',
        /the engine threw in handleInstruction\("boom"\): engine failure on purpose/,
      );
      assert.match(String(line?.bindings.connectionId), /^\$/);
      b.send('key', 2, 1);
      assert.deepEqual((await b.expect('key')).args, ['2', '1']);
      const c = await connectEcho(h, { greeting: 'c' });
      c.send('key', 3, 1);
      assert.deepEqual((await c.expect('key')).args, ['3', '1']);
    } finally {
      await h.close();
    }
  });

  it(
    'an engine whose start() throws: SERVER_ERROR after ready, other sessions unaffected',
    TIMEOUT,
    async () => {
      const h = await harness();
      try {
        const ok = await connectEcho(h);
        const c = await h.open();
        c.send('select', 'echo');
        await c.expect('args');
        c.send('connect', 'VERSION_1_5_0', '', 'fail-start');
        await c.expect('ready');
        await expectErrorAndClose(c, STATUS.SERVER_ERROR, /^Internal server error$/);
        assert.ok(
          h.logs.some((r) => r.level === 'error' && /start\(\): start failed on purpose/.test(r.msg)),
        );
        ok.send('key', 9, 1);
        await ok.expect('key');
      } finally {
        await h.close();
      }
    },
  );

  it('the session ends: error with its status and message, or disconnect for SUCCESS', TIMEOUT, async () => {
    const h = await harness();
    try {
      const failed = await connectEcho(h);
      failed.send('quit', STATUS.UPSTREAM_NOT_FOUND, 'The VNC server could not be reached');
      await expectErrorAndClose(failed, STATUS.UPSTREAM_NOT_FOUND, /^The VNC server could not be reached$/);
      const done = await connectEcho(h);
      done.send('quit', STATUS.SUCCESS, 'bye');
      await done.expect('disconnect');
      await done.waitClosed();
      assert.ok(h.logs.some((r) => r.level === 'info' && r.msg === 'guacd session ended: bye'));
    } finally {
      await h.close();
    }
  });

  it('a client that goes away closes its session', TIMEOUT, async () => {
    const h = await harness();
    try {
      const c = await connectEcho(h);
      c.destroy();
      const deadline = Date.now() + 5000;
      while (h.state.closed.length === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      assert.equal(h.state.closed[0]?.status, STATUS.SUCCESS);
      assert.match(h.state.closed[0]?.message ?? '', /^The client (closed the connection|connection failed)/);
      while (h.server.connections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(h.server.connections, 0);
    } finally {
      await h.close();
    }
  });

  it(
    'backpressure: a client that stops reading stalls the engine at the high-water mark',
    TIMEOUT,
    async (t) => {
      const highWaterMark = 64 * 1024;
      const h = await harness({ highWaterMark });
      try {
        const c = await connectEcho(h);
        const total = 48 * 1024 * 1024; // far more than the loopback socket buffers hold
        c.socket.pause();
        c.send('flood', total);
        await new Promise((r) => setTimeout(r, 400));
        const queuedWhilePaused = h.state.maxBuffered;
        assert.equal(h.state.floodDone, false, 'the engine is held back while the client does not read');
        assert.ok(queuedWhilePaused >= highWaterMark, `queue reached ${queuedWhilePaused}`);
        assert.ok(
          queuedWhilePaused < highWaterMark + 2 * FLOOD_CHUNK.length,
          `queue bounded: ${queuedWhilePaused}`,
        );
        const t0 = Date.now();
        c.socket.resume();
        let chunks = 0;
        for (;;) {
          const i = await c.nextNonNop(10_000);
          if (i.opcode === 'done') break;
          assert.equal(i.opcode, 'x');
          chunks++;
        }
        assert.equal(chunks, Math.ceil(total / FLOOD_CHUNK.length));
        assert.ok(
          h.state.maxBuffered < highWaterMark + 2 * FLOOD_CHUNK.length,
          `max buffered ${h.state.maxBuffered}`,
        );
        t.diagnostic(
          `${total / 2 ** 20} MiB in ${Date.now() - t0} ms after resume; max queued ${h.state.maxBuffered} B`,
        );
      } finally {
        await h.close();
      }
    },
  );

  it(
    'an engine that ignores backpressure is stopped at maxQueuedBytes; the client is dropped',
    TIMEOUT,
    async () => {
      const h = await harness({ maxQueuedBytes: 1024 * 1024 });
      try {
        const c = await connectEcho(h);
        const other = await connectEcho(h);
        c.socket.pause();
        c.send('spew', 16 * 1024 * 1024);
        const deadline = Date.now() + 5000;
        while (h.state.closed.length === 0 && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 10));
        c.socket.resume(); // what reached the kernel is still delivered, then the connection ends
        await c.waitClosed();
        assert.deepEqual(h.state.closed, [
          { status: STATUS.CLIENT_TIMEOUT, message: 'The client is not reading its data' },
        ]);
        assert.ok(
          h.logs.some((r) => r.level === 'warn' && /not reading; dropping the connection/.test(r.msg)),
        );
        other.send('key', 5, 1);
        assert.deepEqual((await other.expect('key')).args, ['5', '1']);
      } finally {
        await h.close();
      }
    },
  );

  it('close(): clients get error SESSION_CLOSED, sessions close, the listener stops', TIMEOUT, async () => {
    const h = await harness();
    const a = await connectEcho(h);
    const pending = await h.open(); // still in the handshake
    assert.equal(h.server.connections, 2);
    await h.server.close();
    await expectErrorAndClose(a, STATUS.SESSION_CLOSED, /^The server is shutting down$/);
    await expectErrorAndClose(pending, STATUS.SESSION_CLOSED, /shutting down/);
    assert.deepEqual(h.state.closed, [
      { status: STATUS.SESSION_CLOSED, message: 'The server is shutting down' },
    ]);
    await assert.rejects(GuacTestClient.open(h.port), /ECONNREFUSED/);
    await assert.rejects(a.next(100), ClosedError);
  });

  it('startGuacdServer rejects a busy port and duplicate protocols', TIMEOUT, async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const state = newEchoState();
      await assert.rejects(
        startGuacdServer({ host: '127.0.0.1', port, engines: [echoEngine(state)], log: captureLog([]) }),
        /EADDRINUSE/,
      );
      await assert.rejects(
        startGuacdServer({ port: 0, engines: [echoEngine(state), echoEngine(state)], log: captureLog([]) }),
        /two engines serve protocol "echo"/,
      );
    } finally {
      blocker.close();
    }
  });
});
