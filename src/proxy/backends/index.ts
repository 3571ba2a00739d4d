/**
 * The backend of one proxy session, chosen by the grant's target: an external guacd when `target.guacd` is
 * set, else the built-in engine serving `target.protocol`. Either way the proxy gets an EngineSession writing
 * whole instructions to its GuacSink.
 *
 * Configuration errors are thrown as BackendError (a TunnelError whose `detail` is for the log only; the
 * message is what the browser sees):
 * - no built-in engine for the protocol, or a guacd address that is not `guacd://host:port`:
 *   UPSTREAM_NOT_FOUND (0x0207);
 * - for a built-in engine, a parameter name it does not know, a value that is not a string, or a value its
 *   validateParams rejects: CLIENT_BAD_REQUEST (0x0300), message "The connection parameters are invalid", the
 *   names (and the engine's reasons, which never quote secrets) in `detail`. The grant comes from a trusted
 *   issuer, so this is the issuer's configuration error; the browser only learns the request cannot be served.
 * An external guacd validates its own parameters: only the names it asks for are sent (the others are logged
 * by name at debug), and it reports bad values with its own `error`.
 */

import type {
  ClientInfo,
  EngineSession,
  GuacSink,
  ParamIssue,
  ProtocolEngine,
  SessionLogger,
} from '../../engine/types.js';
import { STATUS } from '../../protocol/guacamole/status.js';
import type { Target } from '../types.js';
import { BackendError } from './guacd-address.js';
import { type GuacdSessionOptions, startGuacdSession } from './guacd-backend.js';

export { BackendError, DEFAULT_GUACD_PORT, type GuacdAddress, parseGuacdAddress } from './guacd-address.js';
export {
  GUACD_DEFAULTS,
  type GuacdSession,
  type GuacdSessionOptions,
  startGuacdSession,
} from './guacd-backend.js';
export {
  CLIENT_VERSION,
  type ClientHandshakeStep,
  GuacdClientHandshake,
  type GuacdReady,
} from './guacd-handshake.js';

/** Tuning for sessions on an external guacd (tests shorten the timeouts). */
export type GuacdTuning = Partial<
  Pick<
    GuacdSessionOptions,
    | 'connectTimeoutMs'
    | 'handshakeTimeoutMs'
    | 'idleTimeoutMs'
    | 'nopIntervalMs'
    | 'maxQueuedBytes'
    | 'framer'
    | 'closeGraceMs'
  >
>;

export interface BackendOptions {
  client: ClientInfo;
  sink: GuacSink;
  log: SessionLogger;
  guacd?: GuacdTuning;
}

export const INVALID_PARAMETERS = 'The connection parameters are invalid';
export const UNKNOWN_PROTOCOL = 'Unknown target protocol';

/**
 * Starts the session's backend. Throws BackendError for a target that cannot be served (see the module
 * comment); an engine's start() may throw too (an internal error).
 */
export function startBackend(
  target: Target,
  options: BackendOptions,
  engines: readonly ProtocolEngine[],
): EngineSession {
  const { client, sink, log } = options;
  const protocol = target.protocol;
  const params = target.params ?? {};
  if (typeof protocol !== 'string' || protocol === '') {
    throw new BackendError(STATUS.UPSTREAM_NOT_FOUND, UNKNOWN_PROTOCOL, 'the target names no protocol');
  }
  if (target.guacd !== undefined) {
    const nonString = Object.keys(params).filter((name) => typeof params[name] !== 'string');
    if (nonString.length > 0) {
      throw new BackendError(
        STATUS.CLIENT_BAD_REQUEST,
        INVALID_PARAMETERS,
        `parameter(s) ${nonString.join(', ')}: not a string`,
      );
    }
    return startGuacdSession({
      ...options.guacd,
      address: target.guacd,
      protocol,
      params,
      client,
      sink,
      log,
    });
  }

  const engine = engines.find((e) => e.protocol === protocol);
  if (engine === undefined) {
    const offered = engines.map((e) => e.protocol).join(', ') || 'none';
    throw new BackendError(
      STATUS.UPSTREAM_NOT_FOUND,
      UNKNOWN_PROTOCOL,
      `no built-in engine for protocol ${JSON.stringify(protocol.slice(0, 64))} (built in: ${offered})`,
    );
  }
  const issues = checkParams(engine, params);
  if (issues.length > 0) {
    const detail = issues.map((i) => `${JSON.stringify(i.name)}: ${i.message}`).join('; ');
    throw new BackendError(STATUS.CLIENT_BAD_REQUEST, INVALID_PARAMETERS, `${protocol} target: ${detail}`);
  }
  const full: Record<string, string> = {};
  for (const name of engine.argNames) full[name] = params[name] ?? '';
  return engine.start({ params: full, client, sink, log });
}

/** Unknown names, non-string values, then the engine's own checks (on every declared name, "" if unset). */
function checkParams(engine: ProtocolEngine, params: Readonly<Record<string, string>>): ParamIssue[] {
  const known = new Set(engine.argNames);
  const issues: ParamIssue[] = [];
  for (const name of Object.keys(params)) {
    if (!known.has(name)) issues.push({ name: name.slice(0, 64), message: 'unknown parameter' });
    else if (typeof params[name] !== 'string') issues.push({ name, message: 'not a string' });
  }
  if (issues.length > 0) return issues;
  const full: Record<string, string> = {};
  for (const name of engine.argNames) full[name] = params[name] ?? '';
  return engine.validateParams(full);
}
