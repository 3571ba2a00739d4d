/**
 * Shared types of the proxy role: what a token grants (target, policy), how it is redeemed, and the errors
 * that end a tunnel before or during its session. See docs/proxy.md.
 */

/** What the browser may and may not do in a session; enforced by the proxy whatever the backend. */
export interface Policy {
  /** Remote clipboard text is not sent to the browser. */
  disableCopy: boolean;
  /** Browser clipboard streams are refused (ack 0x0303). */
  disablePaste: boolean;
  /** `file`/`pipe` streams from the remote side to the browser are refused. */
  disableDownload: boolean;
  /** `file`/`put` streams from the browser are refused (ack 0x0303). */
  disableUpload: boolean;
  /** key, mouse and touch from the browser are dropped. */
  readOnly: boolean;
}

export const DEFAULT_POLICY: Readonly<Policy> = Object.freeze({
  disableCopy: false,
  disablePaste: false,
  disableDownload: false,
  disableUpload: false,
  readOnly: false,
});

/** Where a session goes. */
export interface Target {
  /** guacd protocol name: 'vnc' (later 'rdp', 'ssh'). */
  protocol: string;
  /** Connection parameters by guacd name (hostname, port, password, ...). Secrets: never logged. */
  params: Record<string, string>;
  /**
   * An external guacd to use instead of the built-in engine, as `guacd://host:port`. Absent: the built-in
   * engine for `protocol` runs in the session's connection manager.
   */
  guacd?: string | undefined;
}

/** What a redeemed token grants: one session to one target under one policy. */
export interface SessionGrant {
  /** Unique id of the grant (a JWT's jti, or the webapp's id); single use. */
  id: string;
  /** Who the session is for, for logs and metrics only (a user name or id); may be empty. */
  user: string;
  target: Target;
  policy: Policy;
}

/** Why a token could not be redeemed (or a tunnel must end): a Guacamole status and a safe message. */
export class TunnelError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'TunnelError';
  }
}

/** Facts about the browser's connection given to a redeemer (for the webapp's own checks and logs). */
export interface RedeemContext {
  remoteAddress: string;
  userAgent?: string | undefined;
}

/**
 * Turns a token into a grant or throws TunnelError: 0x0301 for a token that is invalid, expired or used
 * already; 0x0207 for an unknown target; 0x0208/0x0202 when the webapp cannot be reached in time.
 */
export interface TokenRedeemer {
  redeem(token: string, context: RedeemContext): Promise<SessionGrant>;
}
