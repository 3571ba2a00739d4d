/**
 * The load generator's sessions: lean Guacamole clients that behave like a browser that keeps up.
 *
 * - WsSession: the WebSocket tunnel as guacamole-common-js 1.5 uses it (subprotocol `guacamole`; an internal
 *   `0.,4.ping,<ms>;` every 500 ms, `nop` every 5 s), against Gatehouse's /tunnel or guacamole-lite.
 * - GuacdSession: the guacd protocol over TCP straight to `gatehouse engine`, with guacamole-client's
 *   handshake order (select → args → size, audio, video, image → connect VERSION_1_5_0 → ready): the
 *   no-tunnel baseline for latency.
 *
 * Both answer every `sync` at once (the engine paces frames on those answers), count what arrives into the
 * process's shared ClientStats, and tell the process about every drawing instruction (for the latency
 * probes' quiet periods) and every `sync` (for the probe's own session).
 */
import { connect, type Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import WebSocket from 'ws';
import { encodeInstruction } from '../../src/protocol/guacamole/encoder.js';
import { GuacamoleParser } from '../../src/protocol/guacamole/parser.js';
import { CLIENT_IMAGE_TYPES, type GuacTarget } from '../vnc/guac-session.js';
import { type ClientStats, pingInstruction } from './client-protocol.js';
import { scanInstructions } from './scan.js';

export { CLIENT_IMAGE_TYPES };

/** guacamole-common-js's WebSocketTunnel pings this often; Guacamole.Client sends `nop` every 5 s. */
const PING_MS = 500;
const NOP_MS = 5000;
const MAX_ERRORS = 50;
const CLOSE_WAIT_MS = 2000;
/** Largest incomplete instruction kept between reads (the proxy's own limit is far below). */
const MAX_CARRY = 8 << 20;

/** What every session of one process shares. */
export interface SessionHooks {
  stats: ClientStats;
  /** A drawing (non-internal, non-`nop`) instruction arrived, at performance.now() `at`. */
  onDraw(at: number): void;
}

export abstract class BenchSession {
  /** Resolves at the first `sync`; rejects if the session ends before. */
  readonly ready: Promise<void>;
  syncs = 0;
  ended = false;
  /** Called once at the next `sync` (performance.now() of its arrival), then cleared. */
  nextSync: ((at: number) => void) | null = null;
  /** When set, gets the text of every instruction received (the recorder). */
  onInstruction: ((text: string, opcode: string) => void) | null = null;
  private readonly decoder = new StringDecoder('utf8');
  private carry = '';
  private resolveReady: (() => void) | null = null;
  private rejectReady: (e: Error) => void = () => {};
  private readonly nopTimer: NodeJS.Timeout;

  constructor(protected readonly hooks: SessionHooks) {
    hooks.stats.sessions++;
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => {});
    this.nopTimer = setInterval(() => {
      if (this.running()) this.sendText(NOP);
    }, NOP_MS);
  }

  /** Sends text (whole instructions) to the server side. */
  protected abstract sendText(text: string): void;
  /** Whether the session is past its handshake and may send input. */
  protected abstract running(): boolean;
  /** Closes the transport; resolves when it is closed (bounded). */
  protected abstract closeTransport(): Promise<void>;
  /** An instruction before the session runs (the guacd handshake); true if it was consumed. */
  protected handshake(_opcode: string, _text: string): boolean {
    return false;
  }

  /** Presses and releases a key, as two messages (guacamole-common-js sends one instruction each). */
  pressKey(keysym: number): void {
    this.sendText(encodeInstruction('key', keysym, 1));
    this.sendText(encodeInstruction('key', keysym, 0));
  }

  async close(): Promise<void> {
    if (this.end()) await this.closeTransport();
  }

  protected stopTimers(): void {}

  /** Marks the session ended and stops its timers; false if it had ended already. */
  private end(): boolean {
    if (this.ended) return false;
    this.ended = true;
    clearInterval(this.nopTimer);
    this.stopTimers();
    return true;
  }

  /** Bytes from the server side: a WebSocket message or a TCP read. */
  protected receive(chunk: Buffer): void {
    const s = this.hooks.stats;
    const at = performance.now();
    s.bytes += chunk.length;
    s.messages++;
    const text = this.carry + this.decoder.write(chunk);
    let drew = false;
    let failure: string | null = null;
    const visit = (opcode: string, first: string | undefined, start: number, end: number): void => {
      if (failure !== null || this.ended) return;
      if (this.handshake(opcode, text.slice(start, end))) return;
      s.instructions++;
      s.opcodes[opcode] = (s.opcodes[opcode] ?? 0) + 1;
      this.onInstruction?.(text.slice(start, end), opcode);
      if (opcode === 'sync') {
        const ts = first ?? '';
        this.sendText(`4.sync,${ts.length}.${ts};`);
        s.frames++;
        this.syncs++;
        this.resolveReady?.();
        this.resolveReady = null;
        const cb = this.nextSync;
        this.nextSync = null;
        cb?.(at);
      } else if (opcode === 'error') {
        failure = `error from the server: ${argsOf(text.slice(start, end)).join(' ')}`;
      }
      if (opcode !== '' && opcode !== 'nop') drew = true;
    };
    try {
      this.carry = text.slice(scanInstructions(text, visit));
    } catch (err) {
      failure = `bad Guacamole data: ${(err as Error).message}`;
    }
    if (this.carry.length > MAX_CARRY) failure = `an instruction over ${MAX_CARRY} characters`;
    if (failure !== null) this.fail(failure);
    else if (drew) this.hooks.onDraw(at);
  }

  /** Ends the session with an error (counted once). */
  protected fail(message: string): void {
    if (!this.end()) return;
    const errors = this.hooks.stats.errors;
    if (errors.length < MAX_ERRORS) errors.push(message);
    this.rejectReady(new Error(message));
    void this.closeTransport();
  }
}

/** The arguments of one whole instruction (for the rare ones whose arguments matter: error, args). */
export function argsOf(instruction: string): string[] {
  return new GuacamoleParser().feed(Buffer.from(instruction, 'utf8'))[0]?.args ?? [];
}

const NOP = encodeInstruction('nop');

// ---- WebSocket tunnel ----

/** Extras of a WebSocket session (bench/webapp's relay: the sign-in cookie, the webapp's certificate). */
export interface WsSessionOptions {
  /** Request headers of the upgrade. */
  headers?: Record<string, string>;
  /** PEM CA trusted for wss:// (or null). */
  ca?: string | null;
}

export class WsSession extends BenchSession {
  private readonly ws: WebSocket;
  private readonly closed: Promise<void>;
  private readonly pingTimer: NodeJS.Timeout;

  constructor(url: string, hooks: SessionHooks, o: WsSessionOptions = {}) {
    super(hooks);
    this.ws = new WebSocket(url, 'guacamole', {
      perMessageDeflate: false,
      ...(o.headers ? { headers: o.headers } : {}),
      ...(o.ca ? { ca: o.ca } : {}),
    });
    this.closed = new Promise((resolve) => this.ws.once('close', () => resolve()));
    this.ws.on('message', (data: Buffer) => this.receive(data));
    this.ws.on('error', (err: Error) => this.fail(`WebSocket error: ${err.message}`));
    this.ws.on('unexpected-response', (_req, res) =>
      this.fail(`the server refused the WebSocket upgrade (HTTP ${res.statusCode ?? '?'})`),
    );
    this.ws.on('close', (code: number, reason: Buffer) => {
      if (!this.ended) this.fail(`the tunnel closed (${code} ${reason.toString()})`);
    });
    this.pingTimer = setInterval(() => this.sendText(pingInstruction(String(Date.now()))), PING_MS);
  }

  protected sendText(text: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
  }

  protected running(): boolean {
    return !this.ended && this.ws.readyState === WebSocket.OPEN;
  }

  protected override stopTimers(): void {
    clearInterval(this.pingTimer);
  }

  protected async closeTransport(): Promise<void> {
    try {
      this.ws.close();
    } catch {
      // not open yet: terminate below
    }
    const timer = setTimeout(() => this.ws.terminate(), CLOSE_WAIT_MS);
    await this.closed;
    clearTimeout(timer);
  }
}

// ---- guacd protocol straight to the engine ----

/** A guacd-compatible listener and the VNC server to ask it for (the same target as bench/vnc's client). */
export type GuacdTarget = GuacTarget;

export class GuacdSession extends BenchSession {
  private readonly socket: Socket;
  private phase: 'args' | 'ready' | 'running' = 'args';
  private readonly closed: Promise<void>;

  constructor(
    private readonly t: GuacdTarget,
    hooks: SessionHooks,
  ) {
    super(hooks);
    this.socket = connect({ host: t.host, port: t.port, noDelay: true });
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
    this.socket.on('connect', () => this.socket.write(encodeInstruction('select', 'vnc')));
    this.socket.on('data', (chunk: Buffer) => this.receive(chunk));
    this.socket.on('error', (err) => this.fail(`socket error: ${err.message}`));
    this.socket.on('close', () => this.fail('the engine closed the connection'));
  }

  protected sendText(text: string): void {
    if (!this.ended && this.phase === 'running') this.socket.write(text);
  }

  protected running(): boolean {
    return !this.ended && this.phase === 'running';
  }

  protected async closeTransport(): Promise<void> {
    this.socket.destroy();
    await this.closed;
  }

  protected override handshake(opcode: string, text: string): boolean {
    if (this.phase === 'running') return false;
    if (opcode === 'error') return false;
    if (this.phase === 'args' && opcode === 'args') this.answerArgs(argsOf(text));
    else if (this.phase === 'ready' && opcode === 'ready') this.phase = 'running';
    return true;
  }

  private answerArgs(names: string[]): void {
    const params: Record<string, string> = { hostname: this.t.vncHost, port: String(this.t.vncPort) };
    const values = names.map((name, i) =>
      i === 0 && name.startsWith('VERSION_') ? 'VERSION_1_5_0' : (params[name] ?? ''),
    );
    this.socket.write(
      encodeInstruction('size', this.t.width, this.t.height, 96) +
        encodeInstruction('audio') +
        encodeInstruction('video') +
        encodeInstruction('image', ...CLIENT_IMAGE_TYPES) +
        encodeInstruction('connect', ...values),
    );
    this.phase = 'ready';
  }
}
