/**
 * The client side of a conversation with a guacd-protocol server over any byte channel, behind the
 * EngineSession contract: the TCP socket to an external guacd (guacd-backend.ts) and the stdio of a built-in
 * engine that runs as its own process (engine/rdp). The edge owns the channel (connecting it, closing it) and
 * feeds this its events; this runs GuacdClientHandshake and GuacdInbound over them:
 *
 * - start(): the channel is up, `select` goes out; each handshake step within handshakeTimeoutMs (0x0202); the
 *   server's `error` → its status; anything unexpected, malformed, or closed() → UPSTREAM_ERROR (0x0203).
 * - Then the server's whole instructions go to the sink as strings; its `error` ends the session with its
 *   status, `disconnect` with SUCCESS (neither relayed: whoever carries the session tells the browser).
 * - Client instructions are re-encoded and written (tunnel-internal empty opcodes dropped); before `ready`
 *   they are queued. What is queued towards the server is bounded (maxQueuedBytes → CLIENT_OVERRUN).
 * - Backpressure: the channel is paused while sink.bufferedBytes is above sink.highWaterMark, resumed from
 *   sink.onDrain.
 * - Keep-alive (each optional): `nop` after nopIntervalMs without sending; a server silent for idleTimeoutMs
 *   while we read → UPSTREAM_TIMEOUT.
 * - end(): once. When we end an established session (`toPeer`), the server is sent `disconnect` and the edge
 *   is told to close gracefully; otherwise to tear the channel down now.
 */
import type { ClientInfo, GuacSink, SessionEnd, SessionLogger } from '../../engine/types.js';
import { createFramer, type FramerImplChoice } from '../../native/select-framer.js';
import { encodeInstruction } from '../../protocol/guacamole/encoder.js';
import type { Instruction } from '../../protocol/guacamole/parser.js';
import { STATUS, statusName } from '../../protocol/guacamole/status.js';
import { DeadlineTimer } from '../../util/deadline-timer.js';
import { type ClientHandshakeStep, GuacdClientHandshake } from './guacd-handshake.js';
import { GuacdInbound, type InboundResult } from './guacd-inbound.js';

/** The byte channel as the link sees it (a net.Socket fits; so do a child's stdin and stdout together). */
export interface LinkChannel {
  /** Queues text for the server. */
  write(text: string): void;
  /** Bytes (or UTF-16 units) queued and not yet handed to the kernel. */
  readonly writableLength: number;
  readonly writable: boolean;
  cork(): void;
  uncork(): void;
  /** Stops and restarts reading. */
  pause(): void;
  resume(): void;
}

export interface GuacdLinkOptions {
  protocol: string;
  params: Readonly<Record<string, string>>;
  client: ClientInfo;
  sink: GuacSink;
  log: SessionLogger;
  channel: LinkChannel;
  framer?: FramerImplChoice | undefined;
  handshakeTimeoutMs: number;
  /** Infinity: no idle limit. */
  idleTimeoutMs: number;
  /** Infinity: no keep-alive `nop`. */
  nopIntervalMs: number;
  maxQueuedBytes: number;
  /** The server in messages: 'guacd', 'RDP engine'. */
  peer: string;
  /** Prefix of log messages: 'guacd backend', 'rdp engine'. */
  logPrefix: string;
  /** See ClientHandshakeOptions.rejectUnrequested and plainErrors. */
  rejectUnrequested?: boolean;
  plainErrors?: boolean;
  /** Fields added to the link's log lines (the guacd address, the engine's pid). */
  logFields?: Record<string, unknown>;
  /**
   * Called once when the link ends, before `ended` resolves. `graceful`: we ended an established session and
   * the server was sent `disconnect`, so the edge closes its side and gives the server a grace period; else
   * the edge tears the channel down now. `wasSession`: `ready` had been received.
   */
  onEnd(end: SessionEnd, info: { graceful: boolean; wasSession: boolean; durationMs: number }): void;
}

export type LinkState = 'idle' | 'handshake' | 'session' | 'ended';

const NOP = encodeInstruction('nop');
const DISCONNECT = encodeInstruction('disconnect');
const INTERNAL_ERROR: SessionEnd = { status: STATUS.SERVER_ERROR, message: 'Internal server error' };

export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class GuacdLink {
  readonly ended: Promise<SessionEnd>;
  private stateNow: LinkState = 'idle';
  private readonly o: GuacdLinkOptions;
  private readonly handshake: GuacdClientHandshake;
  private readonly inbound: GuacdInbound;
  private id: string | undefined;
  private pausedNow = false;
  private corked = false;
  private early: string[] = [];
  private earlyBytes = 0;
  private lastReceived = Date.now();
  private lastSent = Date.now();
  private started = Date.now();
  private readonly deadline = new DeadlineTimer(() => this.guard('timer', () => this.tick()));
  private resolveEnded!: (end: SessionEnd) => void;

  constructor(options: GuacdLinkOptions) {
    this.o = options;
    this.inbound = new GuacdInbound(createFramer(options.framer ? { impl: options.framer } : {}));
    this.ended = new Promise((resolve) => {
      this.resolveEnded = resolve;
    });
    this.handshake = new GuacdClientHandshake({
      protocol: options.protocol,
      params: options.params,
      client: options.client,
      now: Date.now(),
      stepTimeoutMs: options.handshakeTimeoutMs,
      peer: options.peer,
      rejectUnrequested: options.rejectUnrequested ?? false,
      plainErrors: options.plainErrors ?? false,
    });
  }

  get state(): LinkState {
    return this.stateNow;
  }

  /** The server's id for the connection, once `ready` was received. */
  get connectionId(): string | undefined {
    return this.id;
  }

  /** Reading is paused because the sink is above its high-water mark. */
  get paused(): boolean {
    return this.pausedNow;
  }

  /** The channel is up: sends `select` and starts the handshake's clock. */
  start(): void {
    if (this.stateNow !== 'idle') return;
    this.stateNow = 'handshake';
    const now = Date.now();
    this.lastReceived = now;
    this.apply(this.handshake.start(now));
    if (this.stateNow === 'handshake') this.deadline.arm(this.handshake.deadline);
  }

  /** Bytes from the server. */
  data(chunk: Buffer): void {
    if (this.stateNow !== 'handshake' && this.stateNow !== 'session') return;
    const now = Date.now();
    this.lastReceived = now;
    let result: InboundResult;
    try {
      result = this.inbound.push(chunk);
    } catch (err) {
      if (this.stateNow === 'handshake') this.apply(this.handshake.malformed(err as Error));
      else
        this.end(
          {
            status: STATUS.UPSTREAM_ERROR,
            message: `${this.o.peer} sent malformed data: ${errorMessage(err)}`,
          },
          false,
        );
      return;
    }
    for (const instruction of result.handshake) {
      if (this.stateNow !== 'handshake') return;
      this.apply(this.handshake.receive(instruction, now));
    }
    if (this.stateNow !== 'session') return;
    if (result.relay !== '') {
      this.o.sink.write(result.relay);
      if (this.stateNow !== 'session') return;
    }
    if (result.end) {
      this.end(result.end, false);
      return;
    }
    this.checkBackpressure();
  }

  /** The channel closed (or failed) by itself; `reason` is the error, when there was one. */
  closed(reason?: string): void {
    if (this.stateNow === 'handshake') this.apply(this.handshake.closed(reason));
    else if (this.stateNow === 'session')
      this.end(
        {
          status: STATUS.UPSTREAM_ERROR,
          message: reason
            ? `The connection to ${this.o.peer} failed: ${reason}`
            : `${this.o.peer} closed the connection`,
        },
        false,
      );
    else this.end({ status: STATUS.UPSTREAM_ERROR, message: `${this.o.peer} closed the connection` }, false);
  }

  /** An instruction from the Guacamole client. */
  handleInstruction(instruction: Instruction): void {
    if (this.stateNow === 'ended') return;
    const { opcode, args } = instruction;
    if (opcode === '') return; // tunnel-internal: never for the server
    if (opcode === 'disconnect') {
      this.end({ status: STATUS.SUCCESS, message: 'The client disconnected' }, true);
      return;
    }
    const text = encodeInstruction(opcode, ...args);
    if (this.stateNow === 'session') {
      this.write(text);
      return;
    }
    this.early.push(text);
    this.earlyBytes += text.length;
    if (this.earlyBytes > this.o.maxQueuedBytes) this.overrun(this.earlyBytes);
  }

  /**
   * Ends the link once with `end`. `toPeer`: we are the ones ending it, so an established session is told
   * `disconnect` (and the edge closes gracefully).
   */
  end(end: SessionEnd, toPeer = true): void {
    if (this.stateNow === 'ended') return;
    const wasSession = this.stateNow === 'session';
    this.stateNow = 'ended';
    this.deadline.disarm();
    this.early = [];
    const graceful = wasSession && toPeer && this.o.channel.writable;
    if (graceful) this.o.channel.write(DISCONNECT);
    try {
      this.o.onEnd(end, { graceful, wasSession, durationMs: Date.now() - this.started });
    } finally {
      this.resolveEnded(end);
    }
  }

  /** Runs an event handler; an exception ends the session with SERVER_ERROR (and is logged). */
  guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.o.log.error({ err }, `${this.o.logPrefix}: internal error in ${what}: ${errorMessage(err)}`);
      this.end(INTERNAL_ERROR);
    }
  }

  // --- handshake ----------------------------------------------------------------------------------------

  private apply(step: ClientHandshakeStep): void {
    if (step.send !== '') this.write(step.send, false);
    if (step.failure) {
      this.o.log.warn(
        { ...this.o.logFields, status: step.failure.status, statusName: statusName(step.failure.status) },
        `${this.o.logPrefix}: handshake failed: ${step.failure.message}`,
      );
      this.end(step.failure, false);
      return;
    }
    if (!step.ready) {
      if (this.stateNow === 'handshake') this.deadline.arm(this.handshake.deadline);
      return;
    }
    const ready = step.ready;
    this.id = ready.connectionId;
    this.stateNow = 'session';
    this.started = Date.now();
    this.o.log.info(
      {
        ...this.o.logFields,
        connectionId: ready.connectionId,
        version: ready.version,
        serverVersion: ready.serverVersion,
      },
      `${this.o.logPrefix}: session ${ready.connectionId} ready (${this.o.protocol}, ${ready.version})`,
    );
    if (ready.unrequested.length > 0) {
      this.o.log.debug(
        { unrequested: ready.unrequested },
        `${this.o.logPrefix}: ${this.o.peer} did not ask for ${ready.unrequested.length} parameter(s); not sent: ${ready.unrequested.join(', ')}`,
      );
    }
    const early = this.early;
    this.early = [];
    this.earlyBytes = 0;
    if (early.length > 0) this.write(early.join(''));
    if (this.stateNow === 'session') this.deadline.arm(this.sessionDeadline());
  }

  // --- output to the server, backpressure --------------------------------------------------------------

  private write(text: string, count = true): void {
    const { channel } = this.o;
    if (!channel.writable) return;
    // Instructions written in one event-loop turn (one browser message often carries several) go out in one
    // syscall: cork now, uncork at the end of the turn.
    if (!this.corked) {
      this.corked = true;
      channel.cork();
      process.nextTick(() => {
        this.corked = false;
        channel.uncork();
      });
    }
    channel.write(text);
    this.lastSent = Date.now();
    if (count && channel.writableLength > this.o.maxQueuedBytes) this.overrun(channel.writableLength);
  }

  private overrun(queued: number): void {
    this.o.log.warn(
      { queued },
      `${this.o.logPrefix}: ${queued} bytes queued for ${this.o.peer}; ending the session`,
    );
    this.end({ status: STATUS.CLIENT_OVERRUN, message: 'Too much data sent to the remote desktop' });
  }

  private checkBackpressure(): void {
    const { sink } = this.o;
    if (this.pausedNow || sink.bufferedBytes <= sink.highWaterMark) return;
    this.pausedNow = true;
    this.o.channel.pause();
    sink.onDrain(() => this.guard('drain', () => this.resume()));
  }

  private resume(): void {
    if (this.stateNow !== 'session' || !this.pausedNow) return;
    this.pausedNow = false;
    this.lastReceived = Date.now(); // the silence while paused was ours
    this.o.channel.resume();
    this.checkBackpressure();
  }

  // --- time -------------------------------------------------------------------------------------------

  private sessionDeadline(): number {
    const idle = this.pausedNow ? Number.POSITIVE_INFINITY : this.lastReceived + this.o.idleTimeoutMs;
    return Math.min(idle, this.lastSent + this.o.nopIntervalMs);
  }

  private tick(): void {
    const now = Date.now();
    if (this.stateNow === 'handshake') {
      const step = this.handshake.timeout(now);
      if (step.failure) this.apply(step);
      else this.deadline.arm(this.handshake.deadline);
    } else if (this.stateNow === 'session') {
      if (!this.pausedNow && now - this.lastReceived >= this.o.idleTimeoutMs) {
        this.o.log.warn(`${this.o.logPrefix}: nothing from ${this.o.peer} for ${now - this.lastReceived} ms`);
        this.end({
          status: STATUS.UPSTREAM_TIMEOUT,
          message: 'The remote desktop server is not responding',
        });
        return;
      }
      if (now - this.lastSent >= this.o.nopIntervalMs) this.write(NOP);
      this.deadline.arm(this.sessionDeadline());
    }
  }
}
