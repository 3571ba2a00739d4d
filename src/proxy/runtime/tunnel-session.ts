/**
 * One Guacamole tunnel in a connection manager: the browser's WebSocket on one side, a backend (a built-in
 * engine or an external guacd) on the other, the token redeemed in between.
 *
 * The socket is abstract (TunnelSocket) so this is testable without uWebSockets.js; the manager adapts a
 * uWS WebSocket to it. Everything that can throw is caught here and ends this tunnel only.
 */
import { randomUUID } from 'node:crypto';
import type {
  ClientInfo,
  EngineSession,
  GuacSink,
  ProtocolEngine,
  SessionEnd,
  SessionLogger,
} from '../../engine/types.js';
import { encodeInstruction } from '../../protocol/guacamole/encoder.js';
import { GuacamoleParser, type Instruction } from '../../protocol/guacamole/parser.js';
import { STATUS, statusName, wsCloseCodeFor } from '../../protocol/guacamole/status.js';
import { startBackend } from '../backends/index.js';
import { BackendOutput, ClientInput } from '../tunnel/index.js';
import { type Policy, type SessionGrant, type TokenRedeemer, TunnelError } from '../types.js';

/** A logger that may make children with bindings (pino's does). */
export interface TunnelLogger extends SessionLogger {
  child?(bindings: Record<string, unknown>): TunnelLogger;
}

/** The browser's WebSocket as a tunnel sees it. */
export interface TunnelSocket {
  /** 1 sent, 0 sent but buffered (backpressure), 2 dropped. */
  send(message: string): number;
  readonly bufferedAmount: number;
  /** Closes with a WebSocket close code and reason. */
  end(code: number, reason: string): void;
  /** Runs fn with sends coalesced into one syscall. */
  cork(fn: () => void): void;
}

export interface TunnelOptions {
  socket: TunnelSocket;
  token: string;
  client: ClientInfo;
  remoteAddress: string;
  userAgent?: string | undefined;
  redeemer: TokenRedeemer;
  engines: readonly ProtocolEngine[];
  log: TunnelLogger;
  highWaterMark: number;
  batchBytes: number;
  /** Bytes accepted from the browser before the session is ready; more ends the tunnel with 0x030D. */
  maxEarlyBytes?: number;
  /** Called once output is pending, so the manager flushes it at the end of this turn. */
  scheduleFlush(session: TunnelSession): void;
  /** Called once when the tunnel has ended (after the browser was told). */
  onEnd(session: TunnelSession, end: SessionEnd, protocol: string): void;
  /** Called when the backend is started: from tunnel open to backend start, for the handshake histogram. */
  onReady?(session: TunnelSession, seconds: number, protocol: string): void;
  now?: () => number;
}

export interface TunnelCounters {
  bytesIn: number;
  bytesOut: number;
  instructionsIn: number;
  instructionsOut: number;
}

type State = 'authenticating' | 'running' | 'ended';

export class TunnelSession implements GuacSink {
  readonly id = `$${randomUUID()}`;
  readonly counters: TunnelCounters = { bytesIn: 0, bytesOut: 0, instructionsIn: 0, instructionsOut: 0 };
  lastReceived: number;
  lastSent: number;
  protocol = 'unknown';
  private state: State = 'authenticating';
  private readonly o: TunnelOptions;
  private readonly now: () => number;
  private log: TunnelLogger;
  private input: ClientInput | undefined;
  private output: BackendOutput | undefined;
  private backend: EngineSession | undefined;
  private early: Array<Uint8Array | string> = [];
  private earlyBytes = 0;
  private drainWaiters: Array<() => void> = [];
  private flushScheduled = false;
  private readonly started: number;

  constructor(options: TunnelOptions) {
    this.o = options;
    this.now = options.now ?? Date.now;
    this.started = this.now();
    this.lastReceived = this.started;
    this.lastSent = this.started;
    this.log = options.log.child?.({ tunnel: this.id }) ?? options.log;
    void this.authenticate();
  }

  get ended(): boolean {
    return this.state === 'ended';
  }

  // ---- GuacSink (the backend writes here) ----

  get highWaterMark(): number {
    return this.o.highWaterMark;
  }

  get bufferedBytes(): number {
    if (this.state === 'ended') return 0;
    return this.o.socket.bufferedAmount + (this.output?.pendingBytes ?? 0);
  }

  write(instructions: string): void {
    if (this.state !== 'running' || !this.output) return;
    this.output.push(instructions);
    if (this.output.failure !== null) {
      this.log.warn(`tunnel: the backend sent malformed instructions: ${this.output.failure}`);
      this.end({ status: STATUS.UPSTREAM_ERROR, message: 'The remote desktop sent malformed data' }, true);
      return;
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.o.scheduleFlush(this);
    }
  }

  onDrain(cb: () => void): void {
    if (this.state === 'ended') return;
    this.drainWaiters.push(cb);
    if (this.bufferedBytes <= this.o.highWaterMark / 2) setImmediate(() => this.socketDrained());
  }

  // ---- events from the manager ----

  /** A WebSocket message from the browser. */
  onMessage(message: Uint8Array | string): void {
    this.lastReceived = this.now();
    if (this.state === 'ended') return;
    if (this.state === 'authenticating') {
      this.earlyBytes += typeof message === 'string' ? message.length : message.byteLength;
      if (this.earlyBytes > (this.o.maxEarlyBytes ?? 65_536)) {
        this.end(
          { status: STATUS.CLIENT_OVERRUN, message: 'Too much data before the session started' },
          true,
        );
        return;
      }
      this.early.push(typeof message === 'string' ? message : message.slice());
      return;
    }
    this.guard('message', () => this.process(message));
  }

  /** The manager's end-of-turn flush: pending output goes out as whole-instruction messages. */
  flush(): void {
    this.flushScheduled = false;
    if (this.state !== 'running' || !this.output) return;
    this.output.flush();
    const messages = this.output.take();
    const back = this.output.toBackend();
    if (back !== '' && this.backend) this.sendToBackend(back);
    if (messages.length === 0) return;
    this.o.socket.cork(() => {
      for (const m of messages) {
        if (this.state === 'ended') return;
        const r = this.o.socket.send(m);
        if (r === 2) {
          this.log.warn(
            { buffered: this.o.socket.bufferedAmount },
            'tunnel: message dropped by the WebSocket (over its limit); ending the session',
          );
          this.end({ status: STATUS.CLIENT_TIMEOUT, message: 'The browser is not reading its data' }, false);
          return;
        }
      }
    });
    this.lastSent = this.now();
  }

  /** The WebSocket's send buffer drained (uWS `drain`). */
  socketDrained(): void {
    if (this.state === 'ended' || this.drainWaiters.length === 0) return;
    if (this.bufferedBytes > this.o.highWaterMark / 2) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const cb of waiters) {
      this.guard('drain', cb);
      if (this.isEnded()) return;
    }
  }

  /** Sends `nop` (keep-alive) when nothing was sent for a while. */
  sendNop(): void {
    if (this.state === 'ended') return;
    this.o.socket.send(NOP);
    this.lastSent = this.now();
  }

  /** The browser's WebSocket closed. */
  onClose(code: number): void {
    if (this.state === 'ended') return;
    this.end({ status: STATUS.SUCCESS, message: `The browser closed the tunnel (${code})` }, false, true);
  }

  /** Ends the tunnel from outside (timeout, shutdown): the browser is told why. */
  close(end: SessionEnd): void {
    this.end(end, true);
  }

  // ---- internals ----

  private async authenticate(): Promise<void> {
    let grant: SessionGrant;
    try {
      grant = await this.o.redeemer.redeem(this.o.token, {
        remoteAddress: this.o.remoteAddress,
        userAgent: this.o.userAgent,
      });
    } catch (err) {
      if (this.state === 'ended') return;
      const e = err instanceof TunnelError ? err : undefined;
      const detail = (err as { detail?: string }).detail;
      this.log.warn(
        { status: e?.status ?? STATUS.SERVER_ERROR, detail: detail ?? (e ? undefined : String(err)) },
        `tunnel: token refused: ${e ? e.message : 'internal error'}`,
      );
      this.end(
        e
          ? { status: e.status, message: e.message }
          : { status: STATUS.SERVER_ERROR, message: 'Internal server error' },
        true,
      );
      return;
    }
    if (this.state === 'ended') return;
    this.guard('start', () => this.start(grant));
  }

  private start(grant: SessionGrant): void {
    this.protocol = grant.target.protocol;
    this.log =
      this.log.child?.({ grant: grant.id, user: grant.user, protocol: grant.target.protocol }) ?? this.log;
    this.input = new ClientInput({ policy: grant.policy });
    this.output = new BackendOutput({
      policy: grant.policy,
      batchBytes: this.o.batchBytes,
      countInstructions: true,
    });
    this.state = 'running';
    const params = withPolicyParams(grant.target, grant.policy, this.o.engines);
    const backend = startBackend(
      { ...grant.target, params },
      { client: this.o.client, sink: this, log: this.log },
      this.o.engines,
    );
    this.backend = backend;
    backend.ended.then(
      (end) => this.guard('backend end', () => this.end(end, true)),
      (err) =>
        this.guard('backend end', () => {
          throw err;
        }),
    );
    this.log.info(
      { target: grant.target.guacd ?? 'built-in', client: [this.o.client.width, this.o.client.height] },
      `tunnel: session started (${grant.target.protocol})`,
    );
    this.o.onReady?.(this, (this.now() - this.started) / 1000, this.protocol);
    // guacamole-common-js takes the first instruction, `0.,<id>;`, as the tunnel's UUID.
    this.o.socket.send(encodeInstruction('', this.id));
    const early = this.early;
    this.early = [];
    for (const m of early) {
      if (this.state !== 'running') return;
      this.process(m);
    }
  }

  private process(message: Uint8Array | string): void {
    const input = this.input as ClientInput;
    const r = input.push(message);
    this.counters.bytesIn += typeof message === 'string' ? Buffer.byteLength(message) : message.byteLength;
    if (r.toClient !== '') this.o.socket.send(r.toClient);
    for (const i of r.toBackend) {
      if (this.state !== 'running') return;
      this.toBackend(i);
    }
    if (r.error) {
      this.log.warn({ status: r.error.status }, `tunnel: bad input from the browser: ${r.error.message}`);
      this.end(r.error, true);
    }
  }

  private toBackend(i: Instruction): void {
    this.counters.instructionsIn++;
    if (i.opcode === 'disconnect') {
      this.end({ status: STATUS.SUCCESS, message: 'The browser disconnected' }, true);
      return;
    }
    this.backend?.handleInstruction(i);
  }

  private sendToBackend(text: string): void {
    // Replies the policy generates for the backend (acks refusing a download) are whole instructions.
    const parsed = parseWhole(text);
    for (const i of parsed) this.backend?.handleInstruction(i);
  }

  /**
   * Ends once: closes the backend with `end`, tells the browser (`error` or `disconnect`) when notify, and
   * closes the WebSocket with the status's close code and the status as the reason.
   */
  private end(end: SessionEnd, notify: boolean, socketGone = false): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.drainWaiters = [];
    this.early = [];
    if (this.backend) {
      try {
        this.backend.close(end);
      } catch (err) {
        this.log.error({ err }, 'tunnel: the backend threw in close()');
      }
    }
    if (this.output) {
      this.counters.bytesOut = this.output.bytesOut;
      this.counters.instructionsOut = this.output.instructionsOut;
    }
    if (!socketGone) {
      try {
        if (notify) {
          this.o.socket.send(
            end.status === STATUS.SUCCESS ? DISCONNECT : encodeInstruction('error', end.message, end.status),
          );
        }
        this.o.socket.end(wsCloseCodeFor(end.status), String(end.status));
      } catch {
        // the socket closed meanwhile
      }
    }
    const level = end.status === STATUS.SUCCESS ? 'info' : 'warn';
    this.log[level](
      {
        status: end.status,
        statusName: statusName(end.status),
        durationMs: this.now() - this.started,
        ...this.counters,
      },
      `tunnel: session ended: ${end.message}`,
    );
    this.o.onEnd(this, end, this.protocol);
  }

  private isEnded(): boolean {
    return this.state === 'ended';
  }

  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (err instanceof TunnelError) {
        this.log.warn(
          { status: err.status, detail: (err as { detail?: string }).detail },
          `tunnel: ${err.message}`,
        );
        this.end({ status: err.status, message: err.message }, true);
        return;
      }
      this.log.error(
        { err },
        `tunnel: internal error in ${what}: ${err instanceof Error ? err.message : String(err)}`,
      );
      this.end({ status: STATUS.SERVER_ERROR, message: 'Internal server error' }, true);
    }
  }
}

const NOP = encodeInstruction('nop');
const DISCONNECT = encodeInstruction('disconnect');

/**
 * The policy also set as guacd-named parameters where the backend understands them (the built-in engine's
 * argNames; an external guacd receives only the names it asks for), so the remote side enforces it too.
 */
function withPolicyParams(
  target: SessionGrant['target'],
  policy: Policy,
  engines: readonly ProtocolEngine[],
): Record<string, string> {
  const out = { ...target.params };
  const known = target.guacd
    ? undefined
    : new Set(engines.find((e) => e.protocol === target.protocol)?.argNames ?? []);
  const set = (name: string, on: boolean): void => {
    if (on && (known === undefined || known.has(name))) out[name] = 'true';
  };
  set('disable-copy', policy.disableCopy);
  set('disable-paste', policy.disablePaste);
  set('read-only', policy.readOnly);
  return out;
}

function parseWhole(text: string): Instruction[] {
  return new GuacamoleParser().feed(Buffer.from(text, 'utf8'));
}
