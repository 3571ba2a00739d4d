/**
 * Frame pacing from the client's `sync` replies. Each frame we send ends with `sync,<ts>` (ts from our
 * millisecond clock, strictly increasing: guacamole-common-js answers a timestamp only when it differs
 * from the last one it answered). The client replies `sync,<ts>` once it has drawn that frame, so:
 * - lag = now − ts at the reply (guacd's "processing lag": transfer plus rendering);
 * - frames in flight = frames sent whose sync has not been answered (a reply answers all before it too).
 * The client is "behind" when too many frames are in flight, or when the last measured lag is high and
 * it has not caught up completely yet. While behind, the engine stops asking the VNC server for updates,
 * so the server coalesces damage instead of us queueing frames.
 */

export interface PacerOptions {
  now: () => number;
  /** At most this many frames unanswered before we wait (default 3). */
  maxFramesInFlight?: number;
  /** Above this lag (ms) we wait until every frame is answered (default 250). */
  maxLagMs?: number;
}

/** Unanswered timestamps kept (beyond this the oldest are forgotten; the count stays saturated). */
const MAX_TRACKED = 256;

export type AckResult = 'ok' | 'stale' | 'future';

export class FramePacer {
  private readonly now: () => number;
  readonly maxFramesInFlight: number;
  readonly maxLagMs: number;
  private lastSent = 0;
  private lastAcked = 0;
  private unanswered: number[] = [];
  private measuredLag = 0;

  constructor(options: PacerOptions) {
    this.now = options.now;
    this.maxFramesInFlight = Math.max(1, options.maxFramesInFlight ?? 3);
    this.maxLagMs = Math.max(0, options.maxLagMs ?? 250);
  }

  /** A timestamp for the next frame's sync, after every one given before; counts the frame in flight. */
  nextTimestamp(): number {
    const ts = Math.max(Math.floor(this.now()), this.lastSent + 1);
    this.lastSent = ts;
    this.unanswered.push(ts);
    if (this.unanswered.length > MAX_TRACKED) this.unanswered.shift();
    return ts;
  }

  /**
   * The client answered `sync,ts`. 'future' (a timestamp we never sent: guacd drops such users) and
   * 'stale' (not newer than the last answer) change nothing.
   */
  ack(ts: number): AckResult {
    if (!Number.isFinite(ts) || ts > this.lastSent) return 'future';
    if (ts <= this.lastAcked) return 'stale';
    this.lastAcked = ts;
    while (this.unanswered.length > 0 && (this.unanswered[0] as number) <= ts) this.unanswered.shift();
    this.measuredLag = Math.max(0, this.now() - ts);
    return 'ok';
  }

  /** The client's processing lag (ms) at its last answer. */
  get lag(): number {
    return this.measuredLag;
  }

  get framesInFlight(): number {
    return this.unanswered.length;
  }

  /** The timestamp of the last sync sent (0 before any). */
  get lastTimestamp(): number {
    return this.lastSent;
  }

  /** True while the engine should not ask for more frames. */
  get behind(): boolean {
    const n = this.unanswered.length;
    if (n === 0) return false;
    return n >= this.maxFramesInFlight || this.measuredLag > this.maxLagMs;
  }
}
