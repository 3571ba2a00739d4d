// The guacd-compatible listener (src/engine/guacd/server.ts) over real TCP: the handshake as guacamole-client
// performs it at every protocol version, and bad clients and timeouts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeInstruction } from '../../src/protocol/guacamole/encoder.js';
import { STATUS } from '../../src/protocol/guacamole/status.js';
import { CLIENT_VERSIONS, javaHandshake } from '../helpers/guacd-client.js';
import { connectEcho, expectErrorAndClose, harness, TIMEOUT } from '../helpers/guacd-echo.js';

describe(
  'guacd listener: handshake as guacamole-client (ConfiguredGuacamoleSocket) performs it',
  TIMEOUT,
  () => {
    for (const clientVersion of CLIENT_VERSIONS) {
      it(`a ${clientVersion} client connects, is echoed, and disconnects`, TIMEOUT, async () => {
        const h = await harness();
        try {
          const c = await h.open();
          const result = await javaHandshake(c, {
            protocol: 'echo',
            clientVersion,
            params: { greeting: 'hello', mode: 'normal' },
            width: 1600,
            height: 900,
            dpi: 192,
            audio: ['audio/L16'],
            image: ['image/png', 'image/jpeg', 'image/webp'],
            timezone: 'Europe/Berlin',
            name: 'Grace',
          });
          assert.equal(result.serverVersion, 'VERSION_1_5_0');
          assert.match(result.connectionId, /^\$[0-9a-f-]{36}$/);
          assert.deepEqual((await c.expect('name')).args, ['hello']);

          c.send('info');
          const client = JSON.parse((await c.expect('info')).args[0]!) as Record<string, unknown>;
          assert.deepEqual(client, {
            width: 1600,
            height: 900,
            dpi: 192,
            audio: ['audio/L16'],
            video: [],
            image: ['image/png', 'image/jpeg', 'image/webp'],
            protocolVersion: clientVersion,
            ...(clientVersion !== 'VERSION_1_0_0' ? { timezone: 'Europe/Berlin' } : {}),
            ...(clientVersion === 'VERSION_1_5_0' ? { name: 'Grace' } : {}),
          });
          assert.deepEqual(h.state.started[0]?.params, { greeting: 'hello', mode: 'normal' });

          c.send('key', 65307, 1);
          assert.deepEqual((await c.expect('key')).args, ['65307', '1']);

          c.send('nop');
          c.sendRaw('0.,4.ping,13.1700000000000;');
          c.send('disconnect');
          await c.expect('disconnect');
          await c.waitClosed();
          assert.deepEqual(
            h.state.received.map((i) => i.opcode),
            ['info', 'key'],
            'nop, internal and disconnect instructions are not passed to the engine',
          );
          assert.deepEqual(h.state.closed, [{ status: STATUS.SUCCESS, message: 'The client disconnected' }]);
        } finally {
          await h.close();
        }
      });
    }

    it('instructions pipelined right after connect reach the session', TIMEOUT, async () => {
      const h = await harness();
      try {
        const c = await h.open();
        c.send('select', 'echo');
        await c.expect('args');
        c.sendRaw(encodeInstruction('connect', 'VERSION_1_5_0', 'hi', '') + encodeInstruction('key', 1, 1));
        await c.expect('ready');
        await c.expect('name');
        assert.deepEqual((await c.expect('key')).args, ['1', '1']);
      } finally {
        await h.close();
      }
    });

    it(
      'invalid parameter values: error 0x0300 naming the parameter, before ready, then close',
      TIMEOUT,
      async () => {
        const h = await harness();
        try {
          const c = await h.open();
          c.send('select', 'echo');
          await c.expect('args');
          c.send('connect', 'VERSION_1_5_0', 'bad', 'weird');
          await expectErrorAndClose(
            c,
            STATUS.CLIENT_BAD_REQUEST,
            /^Invalid parameters "greeting": must not be "bad"; "mode": unknown mode$/,
          );
          assert.equal(h.state.started.length, 0);
        } finally {
          await h.close();
        }
      },
    );

    it('unknown protocol and joins are refused with an error, then close', TIMEOUT, async () => {
      const h = await harness();
      try {
        const unknown = await h.open();
        unknown.send('select', 'vnc');
        await expectErrorAndClose(
          unknown,
          STATUS.CLIENT_BAD_REQUEST,
          /No such protocol "vnc" \(this server provides echo\)/,
        );
        const join = await h.open();
        join.send('select', '$7d3c1d5e-0c7a-4ad8-9f0e-6f2d1b7e2c11');
        await expectErrorAndClose(
          join,
          STATUS.RESOURCE_NOT_FOUND,
          /joining an existing connection is not supported yet/,
        );
      } finally {
        await h.close();
      }
    });
  },
);

describe('guacd listener: bad clients and timeouts', TIMEOUT, () => {
  it('garbage instead of select: error 0x0300, then close', TIMEOUT, async () => {
    const h = await harness();
    try {
      const http = await h.open();
      http.sendRaw('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await expectErrorAndClose(
        http,
        STATUS.CLIENT_BAD_REQUEST,
        /^Malformed Guacamole instruction during handshake: /,
      );
      const other = await h.open();
      other.send('connect', 'VERSION_1_5_0');
      await expectErrorAndClose(
        other,
        STATUS.CLIENT_BAD_REQUEST,
        /^Expected "select" but received "connect"$/,
      );
      assert.ok(h.logs.some((r) => r.level === 'warn' && /guacd handshake failed/.test(r.msg)));
    } finally {
      await h.close();
    }
  });

  it('silence during the handshake: CLIENT_TIMEOUT after the step timeout, then close', TIMEOUT, async () => {
    const h = await harness({ timeouts: { handshakeMs: 300 } });
    try {
      const silent = await h.open();
      const t0 = Date.now();
      await expectErrorAndClose(silent, STATUS.CLIENT_TIMEOUT, /waiting for "select"/);
      assert.ok(Date.now() - t0 >= 280, `timed out after ${Date.now() - t0} ms`);
      const stalled = await h.open();
      stalled.send('select', 'echo');
      await stalled.expect('args');
      await expectErrorAndClose(stalled, STATUS.CLIENT_TIMEOUT, /"connect" not received/);
    } finally {
      await h.close();
    }
  });

  it('silence after ready: nop keep-alives, then CLIENT_TIMEOUT', TIMEOUT, async () => {
    const h = await harness({ timeouts: { clientTimeoutMs: 700, nopIntervalMs: 150 } });
    try {
      const c = await connectEcho(h);
      assert.equal((await c.next(1000)).opcode, 'nop');
      assert.equal((await c.next(1000)).opcode, 'nop');
      await expectErrorAndClose(c, STATUS.CLIENT_TIMEOUT, /^User is not responding\.$/);
      assert.deepEqual(h.state.closed, [
        { status: STATUS.CLIENT_TIMEOUT, message: 'User is not responding.' },
      ]);
    } finally {
      await h.close();
    }
  });

  it('a client that keeps talking is not timed out', TIMEOUT, async () => {
    const h = await harness({ timeouts: { clientTimeoutMs: 1000, nopIntervalMs: 100 } });
    try {
      const c = await connectEcho(h);
      for (let i = 0; i < 15; i++) {
        c.send('nop');
        await new Promise((r) => setTimeout(r, 100));
      }
      c.send('key', 1, 0);
      assert.deepEqual((await c.expect('key')).args, ['1', '0']);
    } finally {
      await h.close();
    }
  });

  it('malformed data after ready: error 0x0300, session closed', TIMEOUT, async () => {
    const h = await harness();
    try {
      const c = await connectEcho(h);
      c.sendRaw('3.key,1.1,1.1;');
      assert.deepEqual((await c.expect('key')).args, ['1', '1']);
      c.sendRaw('3.key,1.1,x');
      await expectErrorAndClose(c, STATUS.CLIENT_BAD_REQUEST, /^Malformed instruction: /);
      assert.equal(h.state.closed[0]?.status, STATUS.CLIENT_BAD_REQUEST);
    } finally {
      await h.close();
    }
  });
});
