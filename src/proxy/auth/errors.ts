// Why a token was not redeemed. The browser sees only the Guacamole status and a fixed, safe message; the
// reason (a short code for metrics) and the detail (for the log) never contain the token or its contents.
import { TunnelError } from '../types.js';

/** Short machine-readable reasons, one per way a redemption can fail (metrics label values). */
export type AuthFailureReason =
  // signed tokens
  | 'malformed'
  | 'encryption'
  | 'algorithm'
  | 'unknown-key'
  | 'signature'
  | 'expired'
  | 'not-yet-valid'
  | 'audience'
  | 'issuer'
  | 'lifetime'
  | 'claims'
  | 'reused'
  | 'registry-error'
  // webapp callback
  | 'refused'
  | 'unknown-target'
  | 'timeout'
  | 'unreachable'
  | 'bad-response'
  | 'proxy-unauthorized'
  | 'webapp-error';

export const AUTH_STATUS = {
  /** CLIENT_UNAUTHORIZED: invalid, expired or reused token. */
  REFUSED: 0x0301,
  /** UPSTREAM_NOT_FOUND: the webapp knows the token but not its target. */
  UNKNOWN_TARGET: 0x0207,
  /** UPSTREAM_TIMEOUT: the webapp did not answer within webapp.timeoutMs. */
  TIMEOUT: 0x0202,
  /** UPSTREAM_UNAVAILABLE: the webapp could not be reached (connection or TLS failure, 502/503/504). */
  UNAVAILABLE: 0x0208,
  /** SERVER_ERROR: a malformed or unexpected answer, or a fault on this side. */
  SERVER_ERROR: 0x0200,
} as const;

/** The message the browser sees for each status (never anything from the token). */
export const SAFE_MESSAGES: Readonly<Record<number, string>> = {
  [AUTH_STATUS.REFUSED]: 'Token invalid, expired or already used',
  [AUTH_STATUS.UNKNOWN_TARGET]: 'Unknown connection target',
  [AUTH_STATUS.TIMEOUT]: 'Authentication service did not answer in time',
  [AUTH_STATUS.UNAVAILABLE]: 'Authentication service unavailable',
  [AUTH_STATUS.SERVER_ERROR]: 'Authentication failed on the server',
};

/** A TunnelError with the reason and detail for the proxy's own log. */
export class AuthError extends TunnelError {
  constructor(
    status: number,
    readonly reason: AuthFailureReason,
    /** What went wrong, for the log: no token, no claim values other than kid, times and counts. */
    readonly detail: string,
  ) {
    super(status, SAFE_MESSAGES[status] ?? 'Authentication failed');
    this.name = 'AuthError';
  }
}

/** 0x0301 with a reason and detail. */
export const refused = (reason: AuthFailureReason, detail: string): AuthError =>
  new AuthError(AUTH_STATUS.REFUSED, reason, detail);
