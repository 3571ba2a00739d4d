/**
 * A session on an external guacd (`guacd://host:port`), behind the same EngineSession contract as the built-in
 * engines: the socket edge around GuacdClientHandshake (the handshake) and GuacdInbound (the byte stream).
 *
 * - Connect over TCP with TCP_NODELAY; refused / unreachable / unknown host (any connect error but
 *   ETIMEDOUT) → UPSTREAM_NOT_FOUND (0x0207); no connection within connectTimeoutMs → UPSTREAM_TIMEOUT (0x0202).
 * - Handshake: each step within handshakeTimeoutMs (0x0202); guacd's `error` → its status; a close or
 *   anything unexpected → UPSTREAM_ERROR (0x0203).
 * - Then guacd's whole instructions go to the sink as strings (`nop` and `sync` included, unchanged); its
 *   `error` ends the session with its status, `disconnect` with SUCCESS, a close without either with 0x0203.
 *   The browser is told by whoever carries the session (as for any engine), so those two are not relayed.
 * - Client instructions are re-encoded and written to guacd (tunnel-internal empty opcodes dropped); before
 *   `ready` they are queued. What is queued towards guacd is bounded (maxQueuedBytes → CLIENT_OVERRUN).
 * - Backpressure: reading from guacd pauses while sink.bufferedBytes is above sink.highWaterMark and resumes
 *   from sink.onDrain.
 * - Keep-alive: `nop` to guacd after nopIntervalMs without sending; guacd silent for idleTimeoutMs while we
 *   read (guacd itself sends `nop` every 5 s) → UPSTREAM_TIMEOUT.
 */
import { connect, type Socket } from 'node:net';
import type { EngineSession, SessionEnd } from '../../engine/types.js';
import { createFramer } from '../../native/select-framer.js';
import { encodeInstruction } from '../../protocol/guacamole/encoder.js';
import type { Instruction } from '../../protocol/guacamole/parser.js';
import { STATUS, statusName } from '../../protocol/guacamole/status.js';
import { DeadlineTimer } from '../../util/deadline-timer.js';
import { type GuacdAddress, parseGuacdAddress } from './guacd-address.js';
import { type ClientHandshakeStep, GuacdClientHandshake } from './guacd-handshake.js';
import { GuacdInbound, type InboundResult } from './guacd-inbound.js';
import { type GuacdLimits, type GuacdSessionOptions, resolveGuacdLimits } from './guacd-options.js';

export { GUACD_DEFAULTS, type GuacdLimits, type GuacdSessionOptions } from './guacd-options.js';

/** An EngineSession on guacd, with a few facts for logs, metrics and tests. */
export interface GuacdSession extends EngineSession {
  readonly address: GuacdAddress;
  /** guacd's connection id, once `ready` was received. */
  readonly connectionId: string | undefined;
  /** Reading from guacd is paused because the sink is above its high-water mark. */
  readonly paused: boolean;
}

const NOP = encodeInstruction('nop');
const DISCONNECT = encodeInstruction('disconnect');
const INTERNAL_ERROR: SessionEnd = { status: STATUS.SERVER_ERROR, message: 'Internal server error' };

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Starts a session on guacd. Throws BackendError (UPSTREAM_NOT_FOUND) synchronously when `address` is not a
 * guacd address; every later failure ends the session (`ended`) with a status.
 */
export function startGuacdSession(options: GuacdSessionOptions): GuacdSession {
  return new GuacdBackendSession(options);
}

type State = 'connecting' | 'handshake' | 'session' | 'ended';

class GuacdBackendSession implements GuacdSession {
  readonly address: GuacdAddress;
  readonly ended: Promise<SessionEnd>;
  private state: State = 'connecting';
  private readonly o: GuacdSessionOptions;
  private readonly limits: GuacdLimits;
  private readonly socket: Socket;
  private readonly handshake: GuacdClientHandshake;
  private readonly inbound: GuacdInbound;
  private id: string | undefined;
  private pausedNow = false;
  private early: string[] = [];
  private earlyBytes = 0;
  private socketError: NodeJS.ErrnoException | undefined;
  private connectDeadline: number;
  private lastReceived = Date.now();
  private lastSent = Date.now();
  private started = Date.now();
  private readonly deadline = new DeadlineTimer(() => this.guard('timer', () => this.tick()));
  private resolveEnded!: (end: SessionEnd) => void;

  constructor(options: GuacdSessionOptions) {
    this.o = options;
    this.address = parseGuacdAddress(options.address);
    this.limits = resolveGuacdLimits(options);
    this.inbound = new GuacdInbound(createFramer(options.framer ? { impl: options.framer } : {}));
    this.ended = new Promise((resolve) => {
      this.resolveEnded = resolve;
    });
    const now = Date.now();
    this.handshake = new GuacdClientHandshake({
      protocol: options.protocol,
      params: options.params,
      client: options.client,
      now,
      stepTimeoutMs: this.limits.handshakeTimeoutMs,
    });
    this.connectDeadline = now + this.limits.connectTimeoutMs;
    const { host, port } = this.address;
    this.socket = connect({ host, port, noDelay: true });
    this.socket.on('connect', () => this.guard('connect', () => this.onConnect()));
    this.socket.on('data', (chunk: Buffer) => this.guard('data', () => this.onData(chunk)));
    this.socket.on('error', (err: NodeJS.ErrnoException) => {
      this.socketError ??= err;
    });
    this.socket.on('close', () => this.guard('close', () => this.onClose()));
    this.arm(this.connectDeadline);
  }

  get connectionId(): string | undefined {
    return this.id;
  }

  get paused(): boolean {
    return this.pausedNow;
  }

  private corked = false;

  handleInstruction(instruction: Instruction): void {
    if (this.state === 'ended') return;
    const { opcode, args } = instruction;
    if (opcode === '') return; // tunnel-internal: never for guacd
    if (opcode === 'disconnect') {
      this.finish({ status: STATUS.SUCCESS, message: 'The client disconnected' });
      return;
    }
    const text = encodeInstruction(opcode, ...args);
    if (this.state === 'session') {
      this.write(text);
      return;
    }
    this.early.push(text);
    this.earlyBytes += text.length;
    if (this.earlyBytes > this.limits.maxQueuedBytes) this.overrun(this.earlyBytes);
  }

  close(reason?: SessionEnd): void {
    this.finish(reason ?? { status: STATUS.SUCCESS, message: 'The session was closed' });
  }

  // --- socket events ------------------------------------------------------------------------------------

  private onConnect(): void {
    if (this.state !== 'connecting') return;
    this.socket.setNoDelay(true);
    this.state = 'handshake';
    const now = Date.now();
    this.lastReceived = now;
    this.apply(this.handshake.start(now));
    this.arm(this.handshake.deadline);
  }

  private onData(chunk: Buffer): void {
    if (this.state !== 'handshake' && this.state !== 'session') return;
    const now = Date.now();
    this.lastReceived = now;
    let result: InboundResult;
    try {
      result = this.inbound.push(chunk);
    } catch (err) {
      if (this.state === 'handshake') this.apply(this.handshake.malformed(err as Error));
      else
        this.finish({
          status: STATUS.UPSTREAM_ERROR,
          message: `guacd sent malformed data: ${errorMessage(err)}`,
        });
      return;
    }
    for (const instruction of result.handshake) {
      if (this.state !== 'handshake') return;
      this.apply(this.handshake.receive(instruction, now));
    }
    if (this.state !== 'session') return;
    if (result.relay !== '') {
      this.o.sink.write(result.relay);
      if (this.state !== 'session') return;
    }
    if (result.end) {
      this.finish(result.end, false);
      return;
    }
    this.checkBackpressure();
  }

  private onClose(): void {
    const err = this.socketError;
    switch (this.state) {
      case 'connecting': {
        const code = err?.code ?? '';
        const timedOut = code === 'ETIMEDOUT';
        this.o.log.warn(
          { address: this.o.address, code, err: err?.message },
          `guacd backend: cannot connect to guacd: ${err?.message ?? 'connection closed'}`,
        );
        this.finish(
          timedOut
            ? {
                status: STATUS.UPSTREAM_TIMEOUT,
                message: 'Timed out connecting to the remote desktop server',
              }
            : { status: STATUS.UPSTREAM_NOT_FOUND, message: 'The remote desktop server cannot be reached' },
          false,
        );
        return;
      }
      case 'handshake':
        this.apply(this.handshake.closed(err?.message));
        return;
      case 'session':
        this.finish(
          {
            status: STATUS.UPSTREAM_ERROR,
            message: err ? `The connection to guacd failed: ${err.message}` : 'guacd closed the connection',
          },
          false,
        );
        return;
      case 'ended':
        this.disarm();
        return;
    }
  }

  // --- handshake ----------------------------------------------------------------------------------------

  private apply(step: ClientHandshakeStep): void {
    if (step.send !== '') this.write(step.send, false);
    if (step.failure) {
      this.o.log.warn(
        { address: this.o.address, status: step.failure.status, statusName: statusName(step.failure.status) },
        `guacd backend: handshake failed: ${step.failure.message}`,
      );
      this.finish(step.failure, false);
      return;
    }
    if (!step.ready) return;
    const ready = step.ready;
    this.id = ready.connectionId;
    this.state = 'session';
    this.started = Date.now();
    this.o.log.info(
      {
        address: this.o.address,
        connectionId: ready.connectionId,
        version: ready.version,
        serverVersion: ready.serverVersion,
      },
      `guacd backend: session ${ready.connectionId} ready (${this.o.protocol}, ${ready.version})`,
    );
    if (ready.unrequested.length > 0) {
      this.o.log.debug(
        { unrequested: ready.unrequested },
        `guacd backend: guacd did not ask for ${ready.unrequested.length} parameter(s); not sent: ${ready.unrequested.join(', ')}`,
      );
    }
    const early = this.early;
    this.early = [];
    this.earlyBytes = 0;
    if (early.length > 0) this.write(early.join(''));
    this.arm(this.sessionDeadline());
  }

  // --- output to guacd, backpressure ----------------------------------------------------------------

  private write(text: string, count = true): void {
    if (!this.socket.writable) return;
    // Instructions written in one event-loop turn (one browser message often carries several) go to guacd in
    // one syscall: cork now, uncork at the end of the turn.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(text);
    this.lastSent = Date.now();
    if (count && this.socket.writableLength > this.limits.maxQueuedBytes)
      this.overrun(this.socket.writableLength);
  }

  private overrun(queued: number): void {
    this.o.log.warn({ queued }, `guacd backend: ${queued} bytes queued for guacd; ending the session`);
    this.finish({ status: STATUS.CLIENT_OVERRUN, message: 'Too much data sent to the remote desktop' });
  }

  private checkBackpressure(): void {
    const { sink } = this.o;
    if (this.pausedNow || sink.bufferedBytes <= sink.highWaterMark) return;
    this.pausedNow = true;
    this.socket.pause();
    sink.onDrain(() => this.guard('drain', () => this.resume()));
  }

  private resume(): void {
    if (this.state !== 'session' || !this.pausedNow) return;
    this.pausedNow = false;
    this.lastReceived = Date.now(); // the silence while paused was ours
    this.socket.resume();
    this.checkBackpressure();
  }

  // --- end --------------------------------------------------------------------------------------------

  /**
   * Ends the session once with `end`. `toGuacd`: we are the ones ending it, so an established session is
   * told `disconnect` and the socket closed gracefully (destroyed after closeGraceMs).
   */
  private finish(end: SessionEnd, toGuacd = true): void {
    if (this.state === 'ended') return;
    const wasSession = this.state === 'session';
    this.state = 'ended';
    this.disarm();
    this.early = [];
    if (wasSession && toGuacd && this.socket.writable) {
      this.socket.write(DISCONNECT);
      this.socket.end();
      const grace = setTimeout(() => this.socket.destroy(), this.limits.closeGraceMs);
      grace.unref();
      this.socket.once('close', () => clearTimeout(grace));
    } else {
      this.socket.destroy();
    }
    if (wasSession) {
      this.o.log.info(
        {
          status: end.status,
          statusName: statusName(end.status),
          durationMs: Date.now() - this.started,
          bytesRead: this.socket.bytesRead,
          bytesWritten: this.socket.bytesWritten,
        },
        `guacd backend: session ended: ${end.message}`,
      );
    }
    this.resolveEnded(end);
  }

  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.o.log.error({ err }, `guacd backend: internal error in ${what}: ${errorMessage(err)}`);
      this.finish(INTERNAL_ERROR);
    }
  }

  // --- time -------------------------------------------------------------------------------------------

  private sessionDeadline(): number {
    const idle = this.pausedNow ? Number.POSITIVE_INFINITY : this.lastReceived + this.limits.idleTimeoutMs;
    return Math.min(idle, this.lastSent + this.limits.nopIntervalMs);
  }

  private arm(at: number): void {
    this.deadline.arm(at);
  }

  private disarm(): void {
    this.deadline.disarm();
  }

  private tick(): void {
    const now = Date.now();
    if (this.state === 'connecting') {
      if (now < this.connectDeadline) {
        this.arm(this.connectDeadline);
        return;
      }
      this.o.log.warn(
        { address: this.o.address },
        `guacd backend: no connection to guacd within ${this.limits.connectTimeoutMs} ms`,
      );
      this.finish(
        { status: STATUS.UPSTREAM_TIMEOUT, message: 'Timed out connecting to the remote desktop server' },
        false,
      );
    } else if (this.state === 'handshake') {
      const step = this.handshake.timeout(now);
      if (step.failure) this.apply(step);
      else this.arm(this.handshake.deadline);
    } else if (this.state === 'session') {
      if (!this.pausedNow && now - this.lastReceived >= this.limits.idleTimeoutMs) {
        this.o.log.warn(`guacd backend: nothing from guacd for ${now - this.lastReceived} ms`);
        this.finish({
          status: STATUS.UPSTREAM_TIMEOUT,
          message: 'The remote desktop server is not responding',
        });
        return;
      }
      if (now - this.lastSent >= this.limits.nopIntervalMs) this.write(NOP);
      this.arm(this.sessionDeadline());
    }
  }
}
