/**
 * The contract between a protocol engine (VNC, later SSH and RDP) and whatever carries its Guacamole
 * stream: the guacd-compatible listener (`gatehouse engine`) or a proxy connection manager.
 */
import type { Instruction } from '../protocol/guacamole/parser.js';

/** What the Guacamole client told us during the handshake (size/audio/video/image/timezone/name). */
export interface ClientInfo {
  width: number;
  height: number;
  dpi: number;
  audio: string[];
  video: string[];
  /** Image mimetypes the client accepts, e.g. image/png, image/jpeg, image/webp. */
  image: string[];
  timezone?: string;
  name?: string;
  /** Negotiated protocol version, e.g. 'VERSION_1_5_0'. */
  protocolVersion: string;
}

/** Where an engine writes Guacamole instructions. */
export interface GuacSink {
  /** Queues one or more whole, encoded instructions. Never drops. */
  write(instructions: string): void;
  /** Bytes written but not yet flushed to the peer; engines pause their backend above highWaterMark. */
  readonly bufferedBytes: number;
  readonly highWaterMark: number;
  /** Registers a callback run once when bufferedBytes falls below the low-water mark. */
  onDrain(cb: () => void): void;
}

/** Why a session ended: a Guacamole status (see protocol/guacamole/status.ts) and a human message. */
export interface SessionEnd {
  status: number;
  message: string;
}

export interface SessionLogger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

export interface EngineSessionOptions {
  /** Connection parameters by guacd name (already validated by the engine's validateParams). */
  params: Readonly<Record<string, string>>;
  client: ClientInfo;
  sink: GuacSink;
  log: SessionLogger;
}

export interface EngineSession {
  /** An instruction from the Guacamole client (key, mouse, size, clipboard, blob, end, sync, disconnect...). */
  handleInstruction(instruction: Instruction): void;
  /** Ends the session from outside (client left, shutdown). Idempotent. */
  close(reason?: SessionEnd): void;
  /** Resolves once when the session has ended for any reason, with why. */
  readonly ended: Promise<SessionEnd>;
}

export interface ParamIssue {
  name: string;
  message: string;
}

export interface ProtocolEngine {
  /** guacd protocol name used by `select`, e.g. 'vnc'. */
  readonly protocol: string;
  /** Parameter names in the order sent in `args` (guacd's names). */
  readonly argNames: readonly string[];
  /** Checks values given by name; unknown names are rejected by the caller before this. */
  validateParams(params: Readonly<Record<string, string>>): ParamIssue[];
  start(options: EngineSessionOptions): EngineSession;
}
