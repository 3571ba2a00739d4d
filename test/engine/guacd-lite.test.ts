// guacamole-lite 1.2.0 (npm) in front of the guacd-compatible listener: a WebSocket client connects through
// it, gets the echo engine's output and closes.
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { encodeInstruction } from '../../src/protocol/guacamole/encoder.js';
import { GuacamoleParser, type Instruction } from '../../src/protocol/guacamole/parser.js';
import { STATUS } from '../../src/protocol/guacamole/status.js';
import { harness, TIMEOUT } from '../helpers/guacd-echo.js';

describe('guacd listener: guacamole-lite 1.2.0 in front of it', TIMEOUT, () => {
  it('a WebSocket client connects through guacamole-lite, gets the echo, and closes', TIMEOUT, async () => {
    const require = createRequire(import.meta.url);
    const litePath = require.resolve('guacamole-lite');
    const GuacamoleLite = require(litePath) as LiteServerConstructor;
    const WebSocket = createRequire(litePath)('ws') as WebSocketConstructor;
    const h = await harness();
    const key = 'gatehouse-test-key-0123456789abc'; // 32 bytes: AES-256-CBC
    const lite = new GuacamoleLite(
      { port: 0, host: '127.0.0.1' },
      { host: '127.0.0.1', port: h.port },
      {
        crypt: { cypher: 'AES-256-CBC', key },
        log: { level: 0, stdLog: () => {}, errorLog: () => {} },
        connectionDefaultSettings: {
          echo: {
            width: 1024,
            height: 768,
            dpi: 96,
            audio: [],
            video: null,
            image: ['image/png'],
            timezone: null,
          },
        },
        allowedUnencryptedConnectionSettings: { echo: ['width', 'height', 'dpi', 'timezone'] },
      },
    );
    const quietLog = console.log;
    console.log = () => {}; // guacamole-lite logs every new connection with console.log
    try {
      if (lite.webSocketServer.address() === null) {
        await new Promise<void>((resolve) => lite.webSocketServer.once('listening', resolve));
      }
      const wsPort = lite.webSocketServer.address()!.port;
      const token = liteToken(key, {
        connection: { type: 'echo', settings: { greeting: 'via-lite', mode: '' } },
      });
      const ws = new WebSocket(
        `ws://127.0.0.1:${wsPort}/?token=${encodeURIComponent(token)}&width=800&height=600&timezone=Asia/Tokyo`,
      );
      const parser = new GuacamoleParser();
      const inbox: Instruction[] = [];
      let wake: (() => void) | undefined;
      ws.on('message', (data: Buffer) => {
        inbox.push(...parser.feed(data));
        wake?.();
      });
      const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()));
      const next = async (opcode: string): Promise<Instruction> => {
        const deadline = Date.now() + 5000;
        for (;;) {
          const i = inbox.shift();
          if (i) {
            if (i.opcode === opcode) return i;
            if (i.opcode === 'nop') continue;
            throw new Error(`expected "${opcode}" from guacamole-lite, got "${i.opcode}"`);
          }
          if (Date.now() > deadline) throw new Error(`no "${opcode}" from guacamole-lite`);
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, 100);
          });
        }
      };
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      const id = await next(''); // guacamole-lite turns `ready` into the tunnel's `0.,<id>;`
      assert.match(id.args[0] ?? '', /^\$[0-9a-f-]{36}$/);
      assert.deepEqual((await next('name')).args, ['via-lite']);
      ws.send(encodeInstruction('key', 97, 1));
      assert.deepEqual((await next('key')).args, ['97', '1']);

      const started = h.state.started[0]!;
      assert.equal(started.client.protocolVersion, 'VERSION_1_1_0', 'guacamole-lite negotiates 1.1.0');
      assert.deepEqual(
        [started.client.width, started.client.height, started.client.timezone],
        [800, 600, 'Asia/Tokyo'],
      );
      assert.deepEqual(started.params, { greeting: 'via-lite', mode: '' });

      ws.close();
      await closed;
      const deadline = Date.now() + 5000;
      while (h.state.closed.length === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      assert.equal(h.state.closed[0]?.status, STATUS.SUCCESS);
    } finally {
      console.log = quietLog;
      lite.close();
      await h.close();
    }
  });
});

// --- guacamole-lite plumbing ------------------------------------------------------------------------------

interface LiteServer {
  webSocketServer: {
    address(): { port: number } | null;
    once(event: 'listening', cb: () => void): void;
  };
  close(): void;
}
type LiteServerConstructor = new (ws: object, guacd: object, client: object) => LiteServer;

interface WebSocketLike {
  on(event: 'message', cb: (data: Buffer) => void): void;
  on(event: 'close', cb: () => void): void;
  once(event: 'open' | 'error', cb: (arg?: unknown) => void): void;
  send(text: string): void;
  close(): void;
}
type WebSocketConstructor = new (url: string) => WebSocketLike;

/**
 * A token as guacamole-lite 1.2.0 decrypts it: base64 of JSON {iv, value}, AES-256-CBC. guacamole-lite decodes
 * the IV as 'ascii' (clearing each byte's high bit), so the IV used here has no high bits set.
 */
function liteToken(key: string, payload: object): string {
  const iv = randomBytes(16).map((b) => b & 0x7f);
  const cipher = createCipheriv('aes-256-cbc', Buffer.from(key, 'ascii'), iv);
  const value = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]);
  return Buffer.from(
    JSON.stringify({ iv: Buffer.from(iv).toString('base64'), value: value.toString('base64') }),
  ).toString('base64');
}
