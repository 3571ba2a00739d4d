/**
 * A GuacSink writing to a TCP socket, with the socket's write queue as the backpressure signal: engines read
 * `bufferedBytes` (socket.writableLength: bytes, or UTF-16 units for queued text, not yet handed to the
 * kernel) and pause their backend above `highWaterMark`; onDrain callbacks run once the queue has emptied.
 */
import type { Socket } from 'node:net';
import type { GuacSink } from '../types.js';

/** Default high-water mark for an engine's output: 1 MiB queued. */
export const DEFAULT_SINK_HIGH_WATER_MARK = 1024 * 1024;
/** Default hard limit: an engine that ignores the high-water mark is stopped at 64 MiB queued. */
export const DEFAULT_SINK_MAX_QUEUED = 64 * 1024 * 1024;

export interface SocketSinkOptions {
  highWaterMark?: number;
  /** Called after every write (the connection tracks when it last sent something). */
  onWrite?: () => void;
  /** Called when an onDrain callback throws (the connection ends that session). */
  onCallbackError: (error: unknown) => void;
  /** Hard limit on queued output; above it onOverflow is called once and writes stop. */
  maxQueued?: number;
  onOverflow: (queued: number) => void;
}

export class SocketSink implements GuacSink {
  readonly highWaterMark: number;
  private readonly socket: Socket;
  private readonly onWrite: () => void;
  private readonly onCallbackError: (error: unknown) => void;
  private readonly maxQueued: number;
  private readonly onOverflow: (queued: number) => void;
  private waiting: (() => void)[] = [];
  private listening = false;
  private closed = false;

  constructor(socket: Socket, options: SocketSinkOptions) {
    this.socket = socket;
    this.highWaterMark = options.highWaterMark ?? DEFAULT_SINK_HIGH_WATER_MARK;
    this.onWrite = options.onWrite ?? (() => {});
    this.onCallbackError = options.onCallbackError;
    this.maxQueued = Math.max(options.maxQueued ?? DEFAULT_SINK_MAX_QUEUED, this.highWaterMark);
    this.onOverflow = options.onOverflow;
  }

  write(instructions: string): void {
    if (this.closed || !this.socket.writable || instructions.length === 0) return;
    this.socket.write(instructions);
    this.onWrite();
    const queued = this.socket.writableLength;
    if (queued > this.maxQueued) {
      this.close();
      this.onOverflow(queued);
    }
  }

  get bufferedBytes(): number {
    return this.closed ? 0 : this.socket.writableLength;
  }

  onDrain(cb: () => void): void {
    if (this.closed) return;
    this.waiting.push(cb);
    if (!this.socket.writableNeedDrain) {
      // Nothing is held back (less than the socket's own 16 KiB mark is queued): run it soon, not now,
      // so that an engine registering from inside a write loop is not re-entered.
      setImmediate(() => this.flush());
      return;
    }
    if (!this.listening) {
      this.listening = true;
      this.socket.once('drain', () => {
        this.listening = false;
        this.flush();
      });
    }
  }

  /** Stops writing and drops pending drain callbacks (the session is over). */
  close(): void {
    this.closed = true;
    this.waiting = [];
  }

  private flush(): void {
    if (this.closed) return;
    const callbacks = this.waiting;
    this.waiting = [];
    for (const cb of callbacks) {
      if (this.closed) return;
      try {
        cb();
      } catch (error) {
        this.onCallbackError(error);
        return;
      }
    }
  }
}
