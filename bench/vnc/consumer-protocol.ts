/**
 * The messages between the VNC benchmark (parent) and a consumer process (bench/vnc/consumer.ts): the
 * parent asks, the consumer answers the request with the same id. One consumer process holds any number
 * of sessions of one kind: `raw` (RFB straight to the VNC server, the decode floor) or `guac` (a lean
 * Guacamole client of the engine, answering every `sync`).
 */
import type { GuacTarget } from './guac-session.js';

export type ConsumerKind = 'raw' | 'guac';

export type ConsumerRequest =
  /** Opens `count` more sessions one after the other, each waited for until its first frame arrived. */
  | { id: number; op: 'open'; count: number }
  | { id: number; op: 'stats' }
  /** Closes every session. */
  | { id: number; op: 'close' };

export interface ConsumerStats {
  kind: ConsumerKind;
  sessions: number;
  /** Frames received: FramebufferUpdates (raw) or `sync`s (guac). */
  frames: number;
  /** VNC FramebufferUpdates behind those frames (guac: the sum of each sync's frame count). */
  serverFrames: number;
  /** Bytes received from the VNC server (raw) or the engine (guac). */
  bytesIn: number;
  /** Rectangle events decoded (raw): update/fill/copy/jpeg; pixels they covered. */
  rects: number;
  pixels: number;
  /** Drawing instructions received (guac), by opcode / image mimetype. */
  instructions: Record<string, number>;
  images: Record<string, number>;
  /** Image payload bytes (base64 characters of `blob`s) received (guac). */
  blobChars: number;
  /** Sessions that ended with an error, with the message. */
  errors: string[];
  /** This process's own view (for the JS heap, which /proc cannot show). */
  heapUsedBytes: number;
  rssBytes: number;
}

export type ConsumerReply =
  | { id: number; ok: true; stats?: ConsumerStats }
  | { id: number; ok: false; error: string };

/**
 * What a consumer watches. host:port is the VNC server (raw) or the engine's listener (guac); vncHost:vncPort
 * is the VNC server the engine connects to (guac).
 */
export interface ConsumerTarget extends GuacTarget {
  kind: ConsumerKind;
}

/** The consumer's command line: node consumer.js KIND HOST PORT VNCHOST VNCPORT WIDTH HEIGHT. */
export function targetArgs(t: ConsumerTarget): string[] {
  return [t.kind, t.host, String(t.port), t.vncHost, String(t.vncPort), String(t.width), String(t.height)];
}

export function parseTargetArgs(argv: readonly string[]): ConsumerTarget {
  const [kind, host, port, vncHost, vncPort, width, height] = argv;
  if (kind !== 'raw' && kind !== 'guac') throw new Error(`consumer kind must be raw or guac, got ${kind}`);
  const n = (s: string | undefined, what: string): number => {
    const v = Number(s);
    if (!Number.isInteger(v) || v <= 0) throw new Error(`bad ${what}: ${s}`);
    return v;
  };
  return {
    kind,
    host: host ?? '127.0.0.1',
    port: n(port, 'port'),
    vncHost: vncHost ?? '127.0.0.1',
    vncPort: n(vncPort, 'VNC port'),
    width: n(width, 'width'),
    height: n(height, 'height'),
  };
}

export function emptyStats(kind: ConsumerKind): ConsumerStats {
  return {
    kind,
    sessions: 0,
    frames: 0,
    serverFrames: 0,
    bytesIn: 0,
    rects: 0,
    pixels: 0,
    instructions: {},
    images: {},
    blobChars: 0,
    errors: [],
    heapUsedBytes: 0,
    rssBytes: 0,
  };
}
