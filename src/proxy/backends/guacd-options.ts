/** Options of a session on an external guacd, and their defaults. */
import type { EngineSessionOptions } from '../../engine/types.js';
import type { FramerImplChoice } from '../../native/select-framer.js';
import { DEFAULT_STEP_TIMEOUT_MS } from './guacd-handshake.js';

export interface GuacdSessionOptions extends EngineSessionOptions {
  /** `guacd://host:port` (IPv6 in brackets). */
  address: string;
  /** The protocol guacd is asked to `select` ('vnc', 'rdp', 'ssh', ...). */
  protocol: string;
  /** Default 15000. */
  connectTimeoutMs?: number;
  /** Each handshake step; default 15000 (guacd's and guacamole-client's). */
  handshakeTimeoutMs?: number;
  /** guacd silent this long (while we read) ends the session with UPSTREAM_TIMEOUT; default 15000. */
  idleTimeoutMs?: number;
  /** Send `nop` to guacd when nothing was sent for this long; default 5000. */
  nopIntervalMs?: number;
  /** Most bytes queued towards guacd (before `ready`, or unsent); default 4 MiB. */
  maxQueuedBytes?: number;
  /** Which Guacamole framer cuts guacd's stream (default: GATEHOUSE_CODEC_IMPL, else the C++ one if built). */
  framer?: FramerImplChoice;
  /** After we end the session, how long guacd has to close before the socket is destroyed; default 2000. */
  closeGraceMs?: number;
}

export type GuacdLimits = Required<
  Pick<
    GuacdSessionOptions,
    | 'connectTimeoutMs'
    | 'handshakeTimeoutMs'
    | 'idleTimeoutMs'
    | 'nopIntervalMs'
    | 'maxQueuedBytes'
    | 'closeGraceMs'
  >
>;

export const GUACD_DEFAULTS: Readonly<GuacdLimits> = Object.freeze({
  connectTimeoutMs: 15_000,
  handshakeTimeoutMs: DEFAULT_STEP_TIMEOUT_MS,
  idleTimeoutMs: 15_000,
  nopIntervalMs: 5_000,
  maxQueuedBytes: 4 * 1024 * 1024,
  closeGraceMs: 2_000,
});

/** The options' limits with defaults filled in; RangeError for one that is not a positive number. */
export function resolveGuacdLimits(options: Partial<GuacdLimits>): GuacdLimits {
  const limits: GuacdLimits = {
    connectTimeoutMs: options.connectTimeoutMs ?? GUACD_DEFAULTS.connectTimeoutMs,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? GUACD_DEFAULTS.handshakeTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs ?? GUACD_DEFAULTS.idleTimeoutMs,
    nopIntervalMs: options.nopIntervalMs ?? GUACD_DEFAULTS.nopIntervalMs,
    maxQueuedBytes: options.maxQueuedBytes ?? GUACD_DEFAULTS.maxQueuedBytes,
    closeGraceMs: options.closeGraceMs ?? GUACD_DEFAULTS.closeGraceMs,
  };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new RangeError(`guacd backend option ${name} must be a positive number, got ${String(value)}`);
    }
  }
  return limits;
}
