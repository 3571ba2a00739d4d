/**
 * A session on an external guacd (`guacd://host:port`), behind the same EngineSession contract as the built-in
 * engines: the TCP socket edge around GuacdLink (the handshake, the byte stream, keep-alive, backpressure).
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
import type { Instruction } from '../../protocol/guacamole/parser.js';
import { STATUS, statusName } from '../../protocol/guacamole/status.js';
import { DeadlineTimer } from '../../util/deadline-timer.js';
import { type GuacdAddress, parseGuacdAddress } from './guacd-address.js';
import { GuacdLink } from './guacd-link.js';
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

/**
 * Starts a session on guacd. Throws BackendError (UPSTREAM_NOT_FOUND) synchronously when `address` is not a
 * guacd address; every later failure ends the session (`ended`) with a status.
 */
export function startGuacdSession(options: GuacdSessionOptions): GuacdSession {
  return new GuacdBackendSession(options);
}

class GuacdBackendSession implements GuacdSession {
  readonly address: GuacdAddress;
  readonly ended: Promise<SessionEnd>;
  private readonly o: GuacdSessionOptions;
  private readonly limits: GuacdLimits;
  private readonly socket: Socket;
  private readonly link: GuacdLink;
  private connecting = true;
  private socketError: NodeJS.ErrnoException | undefined;
  private readonly connectTimer: DeadlineTimer;

  constructor(options: GuacdSessionOptions) {
    this.o = options;
    this.address = parseGuacdAddress(options.address);
    this.limits = resolveGuacdLimits(options);
    const { host, port } = this.address;
    this.socket = connect({ host, port, noDelay: true });
    this.link = new GuacdLink({
      protocol: options.protocol,
      params: options.params,
      client: options.client,
      sink: options.sink,
      log: options.log,
      channel: this.socket,
      framer: options.framer,
      handshakeTimeoutMs: this.limits.handshakeTimeoutMs,
      idleTimeoutMs: this.limits.idleTimeoutMs,
      nopIntervalMs: this.limits.nopIntervalMs,
      maxQueuedBytes: this.limits.maxQueuedBytes,
      peer: 'guacd',
      logPrefix: 'guacd backend',
      logFields: { address: options.address },
      onEnd: (end, info) => this.onEnd(end, info),
    });
    this.ended = this.link.ended;
    const guard = (what: string, fn: () => void): void => this.link.guard(what, fn);
    this.socket.on('connect', () => guard('connect', () => this.onConnect()));
    this.socket.on('data', (chunk: Buffer) => guard('data', () => this.link.data(chunk)));
    this.socket.on('error', (err: NodeJS.ErrnoException) => {
      this.socketError ??= err;
    });
    this.socket.on('close', () => guard('close', () => this.onClose()));
    this.connectTimer = new DeadlineTimer(() => guard('timer', () => this.connectTimedOut()));
    this.connectTimer.arm(Date.now() + this.limits.connectTimeoutMs);
  }

  get connectionId(): string | undefined {
    return this.link.connectionId;
  }

  get paused(): boolean {
    return this.link.paused;
  }

  handleInstruction(instruction: Instruction): void {
    this.link.handleInstruction(instruction);
  }

  close(reason?: SessionEnd): void {
    this.link.end(reason ?? { status: STATUS.SUCCESS, message: 'The session was closed' });
  }

  // --- socket events ------------------------------------------------------------------------------------

  private onConnect(): void {
    if (!this.connecting || this.link.state === 'ended') return;
    this.connecting = false;
    this.connectTimer.disarm();
    this.socket.setNoDelay(true);
    this.link.start();
  }

  private onClose(): void {
    this.connectTimer.disarm();
    if (this.link.state === 'ended') return;
    const err = this.socketError;
    if (!this.connecting) {
      this.link.closed(err?.message);
      return;
    }
    const code = err?.code ?? '';
    this.o.log.warn(
      { address: this.o.address, code, err: err?.message },
      `guacd backend: cannot connect to guacd: ${err?.message ?? 'connection closed'}`,
    );
    this.link.end(
      code === 'ETIMEDOUT'
        ? { status: STATUS.UPSTREAM_TIMEOUT, message: 'Timed out connecting to the remote desktop server' }
        : { status: STATUS.UPSTREAM_NOT_FOUND, message: 'The remote desktop server cannot be reached' },
      false,
    );
  }

  private connectTimedOut(): void {
    if (!this.connecting || this.link.state === 'ended') return;
    this.o.log.warn(
      { address: this.o.address },
      `guacd backend: no connection to guacd within ${this.limits.connectTimeoutMs} ms`,
    );
    this.link.end(
      { status: STATUS.UPSTREAM_TIMEOUT, message: 'Timed out connecting to the remote desktop server' },
      false,
    );
  }

  // --- end --------------------------------------------------------------------------------------------

  /** The link ended: close the socket (gracefully after `disconnect`, within closeGraceMs) and log. */
  private onEnd(end: SessionEnd, info: { graceful: boolean; wasSession: boolean; durationMs: number }): void {
    this.connectTimer.disarm();
    if (info.graceful) {
      this.socket.end();
      const grace = setTimeout(() => this.socket.destroy(), this.limits.closeGraceMs);
      grace.unref();
      this.socket.once('close', () => clearTimeout(grace));
    } else {
      this.socket.destroy();
    }
    if (!info.wasSession) return;
    this.o.log.info(
      {
        status: end.status,
        statusName: statusName(end.status),
        durationMs: info.durationMs,
        bytesRead: this.socket.bytesRead,
        bytesWritten: this.socket.bytesWritten,
      },
      `guacd backend: session ended: ${end.message}`,
    );
  }
}
