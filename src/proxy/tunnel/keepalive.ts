/**
 * Keep-alive clock of one tunnel, sans I/O: from the time of the last message received from the browser and
 * the last message sent to it, says when to send `nop` (nothing sent for nopIntervalMs) and when the browser
 * has been silent too long (clientTimeoutMs → CLIENT_TIMEOUT, 0x0308). Times are milliseconds from any
 * monotonic clock the caller picks (performance.now(), Date.now()); the clock never reads one itself.
 *
 * Two forms: pure functions over (now, lastReceived, lastSent), for an edge that keeps those times itself,
 * and the Keepalive class that keeps them.
 */
import { encodeInstruction } from '../../protocol/guacamole/encoder.js';
import { STATUS } from '../../protocol/guacamole/status.js';

export interface KeepaliveOptions {
  /** Send `nop` after this long without sending anything (default 5000 ms). */
  nopIntervalMs?: number;
  /** End the tunnel after this long without receiving anything (default 15000 ms; Infinity: never). */
  clientTimeoutMs?: number;
}

export interface KeepaliveSettings {
  nopIntervalMs: number;
  clientTimeoutMs: number;
}

export type KeepaliveAction =
  | { kind: 'none' }
  | { kind: 'nop' }
  | { kind: 'timeout'; status: number; message: string };

export const DEFAULT_NOP_INTERVAL_MS = 5000;
export const DEFAULT_CLIENT_TIMEOUT_MS = 15000;
export const CLIENT_TIMEOUT_MESSAGE = 'User is not responding.';
/** The keep-alive instruction, `3.nop;`. */
export const NOP = encodeInstruction('nop');

const NONE: KeepaliveAction = Object.freeze({ kind: 'none' });
const SEND_NOP: KeepaliveAction = Object.freeze({ kind: 'nop' });
const TIMED_OUT: KeepaliveAction = Object.freeze({
  kind: 'timeout',
  status: STATUS.CLIENT_TIMEOUT,
  message: CLIENT_TIMEOUT_MESSAGE,
});

/** Fills defaults; throws RangeError unless each is a positive number (clientTimeoutMs may be Infinity). */
export function keepaliveSettings(options: KeepaliveOptions = {}): Readonly<KeepaliveSettings> {
  const nopIntervalMs = options.nopIntervalMs ?? DEFAULT_NOP_INTERVAL_MS;
  const clientTimeoutMs = options.clientTimeoutMs ?? DEFAULT_CLIENT_TIMEOUT_MS;
  if (!Number.isFinite(nopIntervalMs) || nopIntervalMs <= 0) {
    throw new RangeError(`nopIntervalMs must be a positive number, got ${String(nopIntervalMs)}`);
  }
  if (Number.isNaN(clientTimeoutMs) || clientTimeoutMs <= 0) {
    throw new RangeError(
      `clientTimeoutMs must be a positive number or Infinity, got ${String(clientTimeoutMs)}`,
    );
  }
  return Object.freeze({ nopIntervalMs, clientTimeoutMs });
}

/**
 * What to do at `now`: 'timeout' when nothing was received for clientTimeoutMs (it wins over 'nop'), 'nop'
 * when nothing was sent for nopIntervalMs, else 'none'. Deadlines are inclusive.
 */
export function keepaliveAction(
  now: number,
  lastReceived: number,
  lastSent: number,
  settings: Readonly<KeepaliveSettings>,
): KeepaliveAction {
  if (now - lastReceived >= settings.clientTimeoutMs) return TIMED_OUT;
  if (now - lastSent >= settings.nopIntervalMs) return SEND_NOP;
  return NONE;
}

/** The earliest time keepaliveAction can stop answering 'none' (a timer set for it is never early). */
export function keepaliveDeadline(
  lastReceived: number,
  lastSent: number,
  settings: Readonly<KeepaliveSettings>,
): number {
  return Math.min(lastSent + settings.nopIntervalMs, lastReceived + settings.clientTimeoutMs);
}

/** The keep-alive clock of one tunnel, keeping its own last-received and last-sent times. */
export class Keepalive {
  readonly settings: Readonly<KeepaliveSettings>;
  private lastIn: number;
  private lastOut: number;
  private expired = false;

  /** `now`: when the tunnel opened (counts as both received and sent). */
  constructor(now: number, options: KeepaliveOptions = {}) {
    this.settings = keepaliveSettings(options);
    this.lastIn = now;
    this.lastOut = now;
  }

  get lastReceived(): number {
    return this.lastIn;
  }

  get lastSent(): number {
    return this.lastOut;
  }

  /** True once check() has answered 'timeout'. */
  get timedOut(): boolean {
    return this.expired;
  }

  /** A message came from the browser at `now` (a clock going backwards is ignored). */
  received(now: number): void {
    if (now > this.lastIn) this.lastIn = now;
  }

  /** Something was sent to the browser at `now`. */
  sent(now: number): void {
    if (now > this.lastOut) this.lastOut = now;
  }

  /**
   * What to do at `now`. On 'nop' the caller must send NOP: it is recorded as sent at `now`. After
   * 'timeout', every later call answers 'timeout' again.
   */
  check(now: number): KeepaliveAction {
    if (this.expired) return TIMED_OUT;
    const action = keepaliveAction(now, this.lastIn, this.lastOut, this.settings);
    if (action.kind === 'timeout') this.expired = true;
    else if (action.kind === 'nop') this.sent(now);
    return action;
  }

  /** When to call check() next (absolute, same clock); Infinity once timed out. */
  nextDeadline(): number {
    if (this.expired) return Number.POSITIVE_INFINITY;
    return keepaliveDeadline(this.lastIn, this.lastOut, this.settings);
  }
}
