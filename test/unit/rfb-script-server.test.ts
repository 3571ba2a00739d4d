import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import type { RfbClient } from '../../src/protocol/rfb/client.js';
import type { RfbEvent } from '../../src/protocol/rfb/events.js';
import { fbUpdate, px32, testClient } from '../helpers/rfb-bytes.js';
import { handshakeScript, type ScriptStep, startRfbScriptServer } from '../helpers/rfb-script-server.js';

/** Connects an RfbClient to the script server over TCP; resolves with its events when the socket closes. */
function runClient(port: number, client: RfbClient): Promise<RfbEvent[]> {
  return new Promise((resolve, reject) => {
    const events: RfbEvent[] = [];
    const socket = connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`client timed out; events so far: ${JSON.stringify(events.map((e) => e.type))}`));
    }, 5000);
    socket.on('data', (d: Buffer) => {
      const ev = client.feed(d);
      events.push(...ev);
      const out = client.takeOutput();
      if (out) socket.write(out);
      if (ev.some((e) => e.type === 'error')) socket.destroy();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(events);
    });
  });
}

async function withServer(script: ScriptStep[], fn: (port: number) => Promise<void>): Promise<void> {
  const server = await startRfbScriptServer(script);
  try {
    await fn(server.port);
    assert.equal(await server.outcomes[0], 'done');
  } finally {
    await server.close();
  }
}

describe('scripted RFB server', { timeout: 30_000 }, () => {
  test('plays a handshake and an update; the client decodes it', async () => {
    const script: ScriptStep[] = [
      ...handshakeScript({ version: '3.8', security: { accept: true }, width: 16, height: 8 }),
      { expect: 20 + 4 + 4 * 8 + 10 }, // SetPixelFormat, SetEncodings (8 encodings), FramebufferUpdateRequest
      { send: fbUpdate([{ x: 1, y: 1, w: 1, h: 1, encoding: 0, data: px32(0xff8000) }]) },
      { close: true },
    ];
    await withServer(script, async (port) => {
      const client = testClient({ password: 'pw' });
      const events = await runClient(port, client);
      assert.deepEqual(
        events.map((e) => e.type),
        ['ready', 'frame-start', 'update', 'frame-end'],
      );
      assert.equal(client.phase, 'connected');
    });
  });

  test('wrong password ends with CLIENT_UNAUTHORIZED', async () => {
    await withServer(handshakeScript({ version: '3.8', security: { accept: false } }), async (port) => {
      const events = await runClient(port, testClient({ password: 'bad' }));
      assert.deepEqual(events, [
        { type: 'error', status: 0x0301, message: 'VNC authentication failed: Authentication failed' },
      ]);
    });
  });

  test('a server closing mid-handshake leaves the client in a handshake phase', async () => {
    await withServer([{ send: 'RFB 003.008\n' }, { expect: 12 }, { close: true }], async (port) => {
      const client = testClient();
      assert.deepEqual(await runClient(port, client), []);
      assert.equal(client.phase, 'security');
    });
  });
});
