// Test doubles and plumbing for the guacd listener tests: an "echo" protocol engine (a double for the
// listener, not a stand-in for any real engine), a capturing logger, and a listener harness.
import assert from 'node:assert/strict';
import {
  type GuacdLogger,
  type GuacdServer,
  type GuacdServerOptions,
  startGuacdServer,
} from '../../src/engine/guacd/server.js';
import type {
  EngineSession,
  EngineSessionOptions,
  ParamIssue,
  ProtocolEngine,
  SessionEnd,
} from '../../src/engine/types.js';
import { encodeInstruction } from '../../src/protocol/guacamole/encoder.js';
import type { Instruction } from '../../src/protocol/guacamole/parser.js';
import { STATUS } from '../../src/protocol/guacamole/status.js';
import { GuacTestClient, javaHandshake } from './guacd-client.js';

export interface EchoState {
  started: EngineSessionOptions[];
  received: Instruction[];
  closed: SessionEnd[];
  /** Largest sink.bufferedBytes seen right after a write while flooding. */
  maxBuffered: number;
  /** The flood has been written completely. */
  floodDone: boolean;
}

export const newEchoState = (): EchoState => ({
  started: [],
  received: [],
  closed: [],
  maxBuffered: 0,
  floodDone: false,
});

export const FLOOD_CHUNK = encodeInstruction('x', 'a'.repeat(8000));

/**
 * protocol "echo", parameters greeting and mode. On start it sends `name,<greeting>`. Client instructions:
 * key → echoed back; info → `info,<ClientInfo as JSON>`; boom → throws; quit,<status>,<message> → ends the
 * session; flood,<bytes> → writes that much, pausing above the sink's high-water mark, then `done`;
 * spew,<bytes> → writes that much ignoring the high-water mark.
 * mode "fail-start" makes start() throw; greeting "bad" fails validation.
 */
export function echoEngine(state: EchoState): ProtocolEngine {
  return {
    protocol: 'echo',
    argNames: ['greeting', 'mode'],
    validateParams(p) {
      const issues: ParamIssue[] = [];
      if (p.greeting === 'bad') issues.push({ name: 'greeting', message: 'must not be "bad"' });
      if (!['', 'normal', 'fail-start'].includes(p.mode ?? ''))
        issues.push({ name: 'mode', message: 'unknown mode' });
      return issues;
    },
    start(options): EngineSession {
      if (options.params.mode === 'fail-start') throw new Error('start failed on purpose');
      state.started.push(options);
      const { sink } = options;
      let finish!: (end: SessionEnd) => void;
      const ended = new Promise<SessionEnd>((resolve) => {
        finish = resolve;
      });
      let over = false;
      const end = (e: SessionEnd): void => {
        if (!over) {
          over = true;
          finish(e);
        }
      };
      sink.write(encodeInstruction('name', options.params.greeting || 'echo'));
      const flood = (remaining: number): void => {
        while (remaining > 0 && !over) {
          sink.write(FLOOD_CHUNK);
          remaining -= FLOOD_CHUNK.length;
          state.maxBuffered = Math.max(state.maxBuffered, sink.bufferedBytes);
          if (sink.bufferedBytes >= sink.highWaterMark) {
            const left = remaining;
            sink.onDrain(() => flood(left));
            return;
          }
        }
        state.floodDone = true;
        sink.write(encodeInstruction('done'));
      };
      return {
        handleInstruction(i) {
          state.received.push(i);
          switch (i.opcode) {
            case 'key':
              sink.write(encodeInstruction('key', ...i.args));
              break;
            case 'info':
              sink.write(encodeInstruction('info', JSON.stringify(options.client)));
              break;
            case 'boom':
              throw new Error('engine failure on purpose');
            case 'quit':
              end({ status: Number(i.args[0]), message: i.args[1] ?? '' });
              break;
            case 'flood':
              flood(Number(i.args[0]));
              break;
            case 'spew': // ignores backpressure
              for (let n = 0; n < Number(i.args[0]); n += FLOOD_CHUNK.length) sink.write(FLOOD_CHUNK);
              break;
          }
        },
        close(reason) {
          state.closed.push(reason ?? { status: -1, message: 'no reason' });
          end(reason ?? { status: STATUS.SUCCESS, message: 'closed' });
        },
        ended,
      };
    },
  };
}

export interface LogRecord {
  level: string;
  bindings: Record<string, unknown>;
  obj: unknown;
  msg: string;
}

export function captureLog(records: LogRecord[], bindings: Record<string, unknown> = {}): GuacdLogger {
  const at =
    (level: string) =>
    (obj: object | string, msg?: string): void => {
      records.push({ level, bindings, obj, msg: typeof obj === 'string' ? obj : (msg ?? '') });
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (b) => captureLog(records, { ...bindings, ...b }),
  };
}

export interface Harness {
  server: GuacdServer;
  state: EchoState;
  logs: LogRecord[];
  port: number;
  open(): Promise<GuacTestClient>;
  close(): Promise<void>;
}

export async function harness(options: Partial<GuacdServerOptions> = {}): Promise<Harness> {
  const state = newEchoState();
  const logs: LogRecord[] = [];
  const server = await startGuacdServer({
    host: '127.0.0.1',
    port: 0,
    engines: [echoEngine(state)],
    log: captureLog(logs),
    ...options,
  });
  const clients: GuacTestClient[] = [];
  return {
    server,
    state,
    logs,
    port: server.address.port,
    async open() {
      const c = await GuacTestClient.open(server.address.port);
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.destroy();
      await server.close();
    },
  };
}

export async function connectEcho(h: Harness, params: Record<string, string> = {}): Promise<GuacTestClient> {
  const c = await h.open();
  await javaHandshake(c, { protocol: 'echo', clientVersion: 'VERSION_1_5_0', params });
  await c.expect('name');
  return c;
}

/** The `error` the server sends, then the connection closes. */
export async function expectErrorAndClose(c: GuacTestClient, status: number, message: RegExp): Promise<void> {
  const error = await c.expect('error');
  assert.equal(error.args[1], String(status), JSON.stringify(error.args));
  assert.match(error.args[0] ?? '', message);
  await c.waitClosed();
}

/** Per-test time bound. */
export const TIMEOUT = { timeout: 20_000 };
