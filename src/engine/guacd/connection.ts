/**
 * One client connection of the guacd-compatible listener: the socket edge around GuacdHandshake and, after
 * `ready`, the engine session. Everything that can throw (the codec, the engine, its callbacks) is caught
 * here and ends this connection only.
 *
 * Time: one timer, re-armed lazily (it fires at the earliest deadline and re-computes; data events only
 * record a timestamp). During the handshake the deadline is the handshake's; afterwards a client silent for
 * clientTimeoutMs is dropped with CLIENT_TIMEOUT, and `nop` is sent when nothing was sent for nopIntervalMs.
 */
import type { Socket } from 'node:net';
import { encodeInstruction } from '../../protocol/guacamole/encoder.js';
import { GuacamoleParser, type Instruction } from '../../protocol/guacamole/parser.js';
import { STATUS, statusName } from '../../protocol/guacamole/status.js';
import { DeadlineTimer } from '../../util/deadline-timer.js';
import type { EngineSession, ProtocolEngine, SessionEnd, SessionLogger } from '../types.js';
import { GuacdHandshake, type HandshakeReady, type HandshakeStep } from './handshake.js';
import { SocketSink } from './socket-sink.js';

/** A logger that may make children with bindings (pino's does). */
export interface GuacdLogger extends SessionLogger {
  child?(bindings: Record<string, unknown>): GuacdLogger;
}

export interface GuacdTimeouts {
  /** `select` and each later handshake instruction (guacd: 15000). */
  handshakeMs: number;
  /** Silence from the client after `ready` before CLIENT_TIMEOUT (guacd: 15000). */
  clientTimeoutMs: number;
  /** Send `nop` when nothing was sent for this long (guacd: 5000). */
  nopIntervalMs: number;
  /** After the last instruction is sent, how long the peer has to close before the socket is destroyed. */
  closeGraceMs: number;
}

export const DEFAULT_TIMEOUTS: Readonly<GuacdTimeouts> = Object.freeze({
  handshakeMs: 15_000,
  clientTimeoutMs: 15_000,
  nopIntervalMs: 5_000,
  closeGraceMs: 5_000,
});

export interface GuacdConnectionOptions {
  engines: readonly ProtocolEngine[];
  timeouts: GuacdTimeouts;
  log: GuacdLogger;
  highWaterMark?: number;
  /** Output queued above this ends the session and drops the connection (default 64 MiB). */
  maxQueuedBytes?: number;
  newConnectionId?: () => string;
}

const NOP = encodeInstruction('nop');
const DISCONNECT = encodeInstruction('disconnect');
/** What the client is told when the engine failed internally (details go to the log only). */
const INTERNAL_ERROR = 'Internal server error';

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

function childOf(log: GuacdLogger, bindings: Record<string, unknown>): GuacdLogger {
  return typeof log.child === 'function' ? log.child(bindings) : log;
}

export class GuacdConnection {
  /** Resolves when the socket has closed and the session (if any) was told to close. */
  readonly closed: Promise<void>;
  private state: 'handshake' | 'session' | 'closing' | 'closed' = 'handshake';
  private readonly socket: Socket;
  private readonly options: GuacdConnectionOptions;
  private log: GuacdLogger;
  private readonly parser = new GuacamoleParser();
  private readonly handshake: GuacdHandshake;
  private session: EngineSession | undefined;
  private sink: SocketSink | undefined;
  private lastReceived = Date.now();
  private lastSent = Date.now();
  private readonly deadline = new DeadlineTimer(() => this.guard('timer', () => this.tick()));
  private graceTimer: NodeJS.Timeout | undefined;
  private socketError: Error | undefined;
  private started = 0;
  private resolveClosed!: () => void;

  constructor(socket: Socket, options: GuacdConnectionOptions) {
    this.socket = socket;
    this.options = options;
    this.log = options.log;
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    this.handshake = new GuacdHandshake({
      engines: options.engines,
      now: Date.now(),
      stepTimeoutMs: options.timeouts.handshakeMs,
      ...(options.newConnectionId ? { newConnectionId: options.newConnectionId } : {}),
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.guard('data', () => this.onData(chunk)));
    socket.on('error', (err) => {
      this.socketError = err;
      this.log.debug({ err }, `guacd connection: socket error: ${err.message}`);
    });
    socket.on('close', () => this.guard('close', () => this.onClose()));
    this.arm(this.handshake.deadline);
  }

  /** Ends the connection from outside (server shutdown): the client gets `error` with `end`. */
  shutdown(end: SessionEnd): void {
    this.guard('shutdown', () => this.finish(end, true));
  }

  /** Runs `fn`, turning an exception into the end of this connection. */
  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err }, `guacd connection: internal error in ${what}: ${errorMessage(err)}`);
      try {
        this.finish({ status: STATUS.SERVER_ERROR, message: INTERNAL_ERROR }, true);
      } catch {
        this.socket.destroy();
      }
    }
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.lastReceived = Date.now();
    let instructions: Instruction[];
    try {
      instructions = this.parser.feed(chunk);
    } catch (err) {
      if (this.state === 'handshake') this.apply(this.handshake.malformed(err as Error));
      else {
        this.log.warn(
          { err },
          `guacd connection: malformed instruction from the client: ${errorMessage(err)}`,
        );
        this.finish(
          { status: STATUS.CLIENT_BAD_REQUEST, message: `Malformed instruction: ${errorMessage(err)}` },
          true,
        );
      }
      return;
    }
    for (const instruction of instructions) {
      if (this.state === 'handshake') this.apply(this.handshake.receive(instruction, this.lastReceived));
      else if (this.state === 'session') this.dispatch(instruction);
      else return;
    }
  }

  private apply(step: HandshakeStep): void {
    if (step.send !== '') this.send(step.send);
    if (step.failure) {
      this.log.warn(
        { status: step.failure.status, statusName: statusName(step.failure.status) },
        `guacd handshake failed: ${step.failure.message}`,
      );
      this.finish(step.failure, false);
    } else if (step.ready) {
      this.startSession(step.ready);
    }
  }

  private startSession(ready: HandshakeReady): void {
    const { connectionId, engine, params, client } = ready;
    this.log = childOf(this.log, { connectionId, protocol: engine.protocol });
    this.state = 'session';
    this.started = Date.now();
    this.sink = new SocketSink(this.socket, {
      ...(this.options.highWaterMark !== undefined ? { highWaterMark: this.options.highWaterMark } : {}),
      onWrite: () => {
        this.lastSent = Date.now();
      },
      ...(this.options.maxQueuedBytes !== undefined ? { maxQueued: this.options.maxQueuedBytes } : {}),
      onCallbackError: (err) => this.engineFailed('a drain callback', err),
      onOverflow: (queued) => this.overflow(queued),
    });
    this.log.info(
      {
        version: client.protocolVersion,
        versionAnswer: ready.versionAnswer,
        size: [client.width, client.height, client.dpi],
        image: client.image,
      },
      `guacd session ${connectionId} started (${engine.protocol}, ${client.protocolVersion})`,
    );
    let session: EngineSession;
    try {
      session = engine.start({ params, client, sink: this.sink, log: this.log });
    } catch (err) {
      this.engineFailed('start()', err);
      return;
    }
    this.session = session;
    Promise.resolve(session.ended).then(
      (end) => this.guard('session end', () => this.onSessionEnded(end)),
      (err) => this.engineFailed('the ended promise', err),
    );
    this.arm(this.nextSessionDeadline());
  }

  private dispatch(instruction: Instruction): void {
    const { opcode } = instruction;
    if (opcode === '' || opcode === 'nop') return;
    if (opcode === 'disconnect') {
      this.finish({ status: STATUS.SUCCESS, message: 'The client disconnected' }, true);
      return;
    }
    try {
      this.session!.handleInstruction(instruction);
    } catch (err) {
      this.engineFailed(`handleInstruction("${opcode.slice(0, 32)}")`, err);
    }
  }

  private onSessionEnded(end: SessionEnd): void {
    if (this.state !== 'session') return;
    const valid =
      typeof end === 'object' &&
      end !== null &&
      Number.isInteger(end.status) &&
      typeof end.message === 'string';
    if (!valid) {
      this.engineFailed(
        'the ended promise',
        new TypeError(`session ended with an invalid reason: ${String(end)}`),
      );
      return;
    }
    this.finish(end, true);
  }

  /** The client does not read and the engine kept writing: nothing more can be sent, so drop it. */
  private overflow(queued: number): void {
    if (this.state !== 'session') return;
    this.log.warn(
      { queued },
      `guacd session: ${queued} bytes queued for a client that is not reading; dropping the connection`,
    );
    this.finish({ status: STATUS.CLIENT_TIMEOUT, message: 'The client is not reading its data' }, false);
    this.socket.destroy();
  }

  private engineFailed(where: string, err: unknown): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.log.error({ err }, `guacd session: the engine threw in ${where}: ${errorMessage(err)}`);
    this.finish({ status: STATUS.SERVER_ERROR, message: INTERNAL_ERROR }, true);
  }

  /**
   * Ends the connection once: closes the session with `end`, tells the client (`disconnect` for SUCCESS,
   * else `error`) when `notify`, and closes the socket (destroyed if the peer lingers).
   */
  private finish(end: SessionEnd, notify: boolean): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    const hadSession = this.state === 'session';
    this.state = 'closing';
    this.disarm();
    this.sink?.close();
    if (this.session) {
      try {
        this.session.close(end);
      } catch (err) {
        this.log.error({ err }, `guacd session: the engine threw in close(): ${errorMessage(err)}`);
      }
    }
    if (notify && this.socket.writable) {
      this.socket.write(
        end.status === STATUS.SUCCESS ? DISCONNECT : encodeInstruction('error', end.message, end.status),
      );
    }
    if (hadSession) {
      this.log.info(
        {
          status: end.status,
          statusName: statusName(end.status),
          durationMs: Date.now() - this.started,
          bytesRead: this.socket.bytesRead,
          bytesWritten: this.socket.bytesWritten,
        },
        `guacd session ended: ${end.message}`,
      );
    }
    this.socket.end();
    this.graceTimer = setTimeout(() => this.socket.destroy(), this.options.timeouts.closeGraceMs);
    this.graceTimer.unref();
  }

  private onClose(): void {
    if (this.state !== 'closing' && this.state !== 'closed') {
      const message = this.socketError
        ? `The client connection failed: ${this.socketError.message}`
        : 'The client closed the connection';
      this.finish({ status: STATUS.SUCCESS, message }, false);
    }
    this.state = 'closed';
    this.disarm();
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.resolveClosed();
  }

  private send(text: string): void {
    if (!this.socket.writable) return;
    this.socket.write(text);
    this.lastSent = Date.now();
  }

  // --- time -------------------------------------------------------------------------------------------

  private nextSessionDeadline(): number {
    const { clientTimeoutMs, nopIntervalMs } = this.options.timeouts;
    return Math.min(this.lastReceived + clientTimeoutMs, this.lastSent + nopIntervalMs);
  }

  private arm(at: number): void {
    this.deadline.arm(at);
  }

  private disarm(): void {
    this.deadline.disarm();
  }

  private tick(): void {
    const now = Date.now();
    if (this.state === 'handshake') {
      const step = this.handshake.timeout(now);
      if (step.failure) this.apply(step);
      else this.arm(this.handshake.deadline);
      return;
    }
    if (this.state !== 'session') return;
    const { clientTimeoutMs, nopIntervalMs } = this.options.timeouts;
    if (now - this.lastReceived >= clientTimeoutMs) {
      this.log.info(`guacd session: no data from the client for ${now - this.lastReceived} ms`);
      this.finish({ status: STATUS.CLIENT_TIMEOUT, message: 'User is not responding.' }, true);
      return;
    }
    if (now - this.lastSent >= nopIntervalMs) this.send(NOP);
    this.arm(this.nextSessionDeadline());
  }
}
