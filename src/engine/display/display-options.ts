/** Options and statistics of the DisplayEncoder. */
import type { ClientInfo, GuacSink, SessionLogger } from '../types.js';
import type { Framebuffer } from './framebuffer.js';
import type { StreamIds } from './instructions.js';

export interface DisplayEncoderOptions {
  sink: GuacSink;
  client: ClientInfo;
  /** guacd's force-lossless: never JPEG/WebP-encode (Tight JPEG rectangles still pass through). */
  forceLossless: boolean;
  fb: Framebuffer;
  log: SessionLogger;
  /** Millisecond clock for sync timestamps, lag and the heat map (default Date.now). */
  now?: () => number;
  /** Largest image tile side (default 512). */
  tileSize?: number;
  /** Frames being encoded at once (default 2). */
  maxConcurrentFrames?: number;
  /** Images being encoded at once (default: one per core, at most 4). */
  maxConcurrentEncodes?: number;
  /** Unanswered frames before waiting (default 3). */
  maxFramesInFlight?: number;
  /** Lag (ms) above which we wait for the client to catch up (default 250). */
  maxLagMs?: number;
  /** Stream index allocator to share with the rest of the session. */
  streams?: StreamIds;
  /** Passed to FrameBuilder. */
  fillMinArea?: number;
  captureBudget?: number;
}

export interface DisplayStats {
  frames: number;
  bytes: number;
  png: number;
  jpeg: number;
  webp: number;
  passthroughJpeg: number;
  fills: number;
  failures: number;
}
