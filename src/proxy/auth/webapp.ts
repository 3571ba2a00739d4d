// Webapp callback: the proxy redeems the browser's one-time token with the webapp over HTTPS, authenticated
// by its own bearer credential, and gets back the target, credentials and policy. The JSON contract (with
// schemas) is in docs/proxy-auth.md; the webapp issue implements the server side from it.
import type { RedeemContext, SessionGrant, TokenRedeemer } from '../types.js';
import { AUTH_STATUS, AuthError, type AuthFailureReason } from './errors.js';
import { JsonPoster, PostFailure, webappUrl } from './http-post.js';
import { checkRedeemResponse, LIMITS, policyFrom, redeemErrorSchema, targetFrom } from './schemas.js';

export const DEFAULT_WEBAPP_TIMEOUT_MS = 5000;
export const MAX_WEBAPP_RESPONSE_BYTES = 64 * 1024;

/** The `error` codes the webapp puts in a 401/403/404 body. */
export const WEBAPP_ERRORS = redeemErrorSchema.properties.error.enum;

export interface WebappRedeemerOptions {
  /** The webapp's redeem endpoint; https:// unless allowInsecureHttp. */
  url: string;
  /** This proxy's id at the webapp. */
  proxyId: string;
  /** Bearer credential that authenticates this proxy to the webapp. */
  proxyToken: string;
  /** Deadline for the whole exchange (connect, TLS, answer), ms; default 5000. */
  timeoutMs?: number;
  /** PEM CA certificate(s) trusted instead of the system store (a private CA). */
  ca?: string | undefined;
  /** Accept http:// (tests and development only). */
  allowInsecureHttp?: boolean;
  /** Longest accepted answer, bytes; default 64 KiB. */
  maxResponseBytes?: number;
  /** User-Agent header; default 'gatehouse-proxy'. */
  userAgent?: string;
}

/** What the webapp granted; `expiresAtMs` is when the session must end, if the webapp said so. */
export interface WebappGrant extends SessionGrant {
  expiresAtMs?: number;
}

/** The request body the proxy sends (see docs/proxy-auth.md). */
export interface RedeemRequest {
  token: string;
  proxy: { id: string };
  client: { remoteAddress: string; userAgent?: string };
}

const fail = (status: number, reason: AuthFailureReason, detail: string): AuthError =>
  new AuthError(status, reason, detail);

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The webapp's error code from a 4xx body, if it is one of WEBAPP_ERRORS. */
function errorCode(body: Buffer): string | undefined {
  const json = parseJson(body) as { error?: unknown } | undefined;
  const code = json?.error;
  return typeof code === 'string' && (WEBAPP_ERRORS as readonly string[]).includes(code) ? code : undefined;
}

export class WebappRedeemer implements TokenRedeemer {
  private readonly poster: JsonPoster;
  private readonly proxyId: string;
  private readonly authorization: string;
  private readonly timeoutMs: number;
  private readonly userAgent: string;

  constructor(options: WebappRedeemerOptions) {
    const url = webappUrl(options.url, options.allowInsecureHttp === true);
    if (!/^[\x21-\x7e]{1,256}$/.test(options.proxyId)) {
      throw new RangeError('proxyId must be 1-256 printable ASCII characters');
    }
    if (!/^[\x21-\x7e]{1,4096}$/.test(options.proxyToken)) {
      throw new RangeError('proxyToken must be 1-4096 printable ASCII characters');
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_WEBAPP_TIMEOUT_MS;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 600_000) {
      throw new RangeError(`timeoutMs must be an integer from 1 to 600000, not ${timeoutMs}`);
    }
    this.poster = new JsonPoster(url, {
      ca: options.ca,
      maxResponseBytes: options.maxResponseBytes ?? MAX_WEBAPP_RESPONSE_BYTES,
    });
    this.proxyId = options.proxyId;
    this.authorization = `Bearer ${options.proxyToken}`;
    this.timeoutMs = timeoutMs;
    this.userAgent = options.userAgent ?? 'gatehouse-proxy';
  }

  async redeem(token: string, context: RedeemContext): Promise<WebappGrant> {
    if (typeof token !== 'string' || token.length === 0 || token.length > LIMITS.tokenChars) {
      throw fail(AUTH_STATUS.REFUSED, 'malformed', 'no token, or a token over the length limit');
    }
    const request: RedeemRequest = {
      token,
      proxy: { id: this.proxyId },
      client: {
        remoteAddress: context.remoteAddress,
        ...(context.userAgent !== undefined ? { userAgent: context.userAgent } : {}),
      },
    };
    let result: Awaited<ReturnType<JsonPoster['post']>>;
    try {
      result = await this.poster.post(
        JSON.stringify(request),
        { authorization: this.authorization, accept: 'application/json', 'user-agent': this.userAgent },
        this.timeoutMs,
      );
    } catch (err) {
      if (!(err instanceof PostFailure)) throw err;
      if (err.kind === 'timeout') throw fail(AUTH_STATUS.TIMEOUT, 'timeout', `webapp: ${err.message}`);
      if (err.kind === 'oversize')
        throw fail(AUTH_STATUS.SERVER_ERROR, 'bad-response', `webapp: ${err.message}`);
      throw fail(AUTH_STATUS.UNAVAILABLE, 'unreachable', `webapp: ${err.message}`);
    }
    return this.interpret(result.status, result.contentType, result.body);
  }

  private interpret(status: number, contentType: string | undefined, body: Buffer): WebappGrant {
    if (status === 200) return this.grantFrom(contentType, body);
    if (status === 401 || status === 403 || status === 404) {
      const code = errorCode(body);
      if (code === 'proxy-unauthorized') {
        throw fail(
          AUTH_STATUS.SERVER_ERROR,
          'proxy-unauthorized',
          `webapp answered ${status} proxy-unauthorized: it does not accept this proxy's id/token`,
        );
      }
      if (code === 'unknown-target') {
        throw fail(AUTH_STATUS.UNKNOWN_TARGET, 'unknown-target', `webapp answered ${status} unknown-target`);
      }
      if (status !== 404 || code !== undefined) {
        throw fail(
          AUTH_STATUS.REFUSED,
          'refused',
          `webapp refused the token (${status} ${code ?? 'no code'})`,
        );
      }
      throw fail(
        AUTH_STATUS.SERVER_ERROR,
        'webapp-error',
        'webapp answered 404 without an error code (check url)',
      );
    }
    if (status === 429 || status === 502 || status === 503 || status === 504) {
      throw fail(AUTH_STATUS.UNAVAILABLE, 'unreachable', `webapp answered ${status}`);
    }
    throw fail(AUTH_STATUS.SERVER_ERROR, 'webapp-error', `webapp answered ${status}`);
  }

  private grantFrom(contentType: string | undefined, body: Buffer): WebappGrant {
    if (!/^application\/([a-z0-9.+-]*\+)?json\b/i.test(contentType ?? '')) {
      throw fail(AUTH_STATUS.SERVER_ERROR, 'bad-response', 'webapp answered 200 without a JSON content type');
    }
    const json = parseJson(body);
    if (json === undefined)
      throw fail(AUTH_STATUS.SERVER_ERROR, 'bad-response', 'webapp answered invalid JSON');
    const checked = checkRedeemResponse(json);
    if (!checked.ok) {
      throw fail(
        AUTH_STATUS.SERVER_ERROR,
        'bad-response',
        `webapp answer does not fit the schema: ${checked.error}`,
      );
    }
    const r = checked.value;
    const grant: WebappGrant = {
      id: r.id,
      user: r.user,
      target: targetFrom(r.target),
      policy: policyFrom(r.policy),
    };
    if (r.expiresAt !== undefined) {
      const ms = Date.parse(r.expiresAt);
      if (!Number.isFinite(ms))
        throw fail(AUTH_STATUS.SERVER_ERROR, 'bad-response', 'webapp expiresAt is not a date');
      grant.expiresAtMs = ms;
    }
    return grant;
  }

  /** Closes the kept-alive connections to the webapp. */
  close(): void {
    this.poster.close();
  }
}
