// Signed tokens: an Ed25519 JWT (EdDSA) minted by an embedding portal or `gatehouse token`, optionally
// wrapped in a JWE (dir + A256GCM, shared 32-byte secret) so the browser cannot read the target's
// credentials. Checked: signature by kid, aud, iss (if configured), exp/nbf/iat with 30 s skew, lifetime,
// claim shapes; then the jti is claimed once. See docs/proxy-auth.md.
import type { KeyObject } from 'node:crypto';
import { compactDecrypt, decodeProtectedHeader, errors, type JWTPayload, jwtVerify } from 'jose';
import type { RedeemContext, SessionGrant, TokenRedeemer } from '../types.js';
import { AUTH_STATUS, AuthError, refused } from './errors.js';
import type { VerificationKey } from './keys.js';
import { checkClaims, LIMITS, policyFrom, targetFrom } from './schemas.js';

export const DEFAULT_AUDIENCE = 'gatehouse-proxy';
export const DEFAULT_MAX_LIFETIME_SECONDS = 300;
export const DEFAULT_CLOCK_SKEW_SECONDS = 30;
/** JWS algorithms accepted: EdDSA, and its fully-specified name Ed25519 (same key, same signature). */
export const SIGNED_ALGORITHMS = ['EdDSA', 'Ed25519'] as const;

export interface SignedTokenRedeemerOptions {
  /** Keys that verify tokens, by kid; more than one while keys rotate. */
  publicKeys: readonly VerificationKey[];
  /** Required `aud` (default 'gatehouse-proxy'). */
  audience?: string;
  /** Required `iss`, when set. */
  issuer?: string | undefined;
  /** Longest accepted exp − iat, in seconds (default 300). */
  maxLifetimeSeconds?: number;
  /** Clock skew tolerated on exp, nbf and iat, in seconds (default 30). */
  clockSkewSeconds?: number;
  /**
   * Records a jti as used; resolves true the first time, false on reuse. Shared by every connection
   * manager (the main thread's JtiRegistry), so a token is good for one session in the whole proxy.
   */
  claimOnce: (jti: string, expiresAtMs: number) => Promise<boolean>;
  /** When set, tokens must be JWE (dir, A256GCM) around the signed JWT, with this 32-byte secret. */
  encryptionKey?: Uint8Array | undefined;
  /** The clock, in ms (tests). */
  now?: () => number;
}

const COMPACT = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]*)+$/;

/** Maps jose's errors to a reason and a log detail without any token content. */
function joseFailure(err: unknown): AuthError {
  if (err instanceof AuthError) return err;
  if (err instanceof errors.JWTExpired)
    return refused('expired', 'token expired (exp is past, skew included)');
  if (err instanceof errors.JWTClaimValidationFailed) {
    const claim = err.claim;
    if (claim === 'nbf' && err.reason === 'check_failed')
      return refused('not-yet-valid', 'token not yet valid (nbf is in the future, skew included)');
    if (claim === 'iat' && err.reason === 'check_failed')
      return refused('not-yet-valid', 'token issued in the future (iat, skew included)');
    if (claim === 'aud') return refused('audience', `aud ${err.reason}: not the configured audience`);
    if (claim === 'iss') return refused('issuer', `iss ${err.reason}: not the configured issuer`);
    return refused('claims', `claim ${claim} ${err.reason}`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return refused('algorithm', 'algorithm not allowed');
  if (err instanceof errors.JWSSignatureVerificationFailed) return refused('signature', 'bad signature');
  if (err instanceof errors.JWEDecryptionFailed) return refused('encryption', 'JWE decryption failed');
  if (err instanceof errors.JOSENotSupported) return refused('algorithm', 'unsupported JOSE header');
  if (err instanceof errors.JOSEError) return refused('malformed', `malformed token (${err.code})`);
  return new AuthError(AUTH_STATUS.SERVER_ERROR, 'malformed', 'unexpected error verifying the token');
}

export class SignedTokenRedeemer implements TokenRedeemer {
  private readonly keys: ReadonlyMap<string, KeyObject>;
  private readonly audience: string;
  private readonly issuer: string | undefined;
  private readonly maxLifetime: number;
  private readonly skew: number;
  private readonly claimOnce: SignedTokenRedeemerOptions['claimOnce'];
  private readonly encryptionKey: Uint8Array | undefined;
  private readonly now: () => number;

  constructor(options: SignedTokenRedeemerOptions) {
    if (options.publicKeys.length === 0)
      throw new RangeError('SignedTokenRedeemer needs at least one public key');
    const keys = new Map<string, KeyObject>();
    for (const k of options.publicKeys) {
      if (keys.has(k.kid)) throw new RangeError(`two public keys have the kid ${JSON.stringify(k.kid)}`);
      if (k.key.type !== 'public' || k.key.asymmetricKeyType !== 'ed25519') {
        throw new RangeError(`public key ${JSON.stringify(k.kid)} is not an Ed25519 public key`);
      }
      keys.set(k.kid, k.key);
    }
    if (options.encryptionKey !== undefined && options.encryptionKey.length !== 32) {
      throw new RangeError('encryptionKey must be 32 bytes');
    }
    this.keys = keys;
    this.audience = options.audience ?? DEFAULT_AUDIENCE;
    this.issuer = options.issuer || undefined;
    this.maxLifetime = options.maxLifetimeSeconds ?? DEFAULT_MAX_LIFETIME_SECONDS;
    this.skew = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
    this.claimOnce = options.claimOnce;
    this.encryptionKey = options.encryptionKey;
    this.now = options.now ?? Date.now;
  }

  async redeem(token: string, _context: RedeemContext): Promise<SessionGrant> {
    const jws = await this.unwrap(token);
    const nowMs = this.now();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(jws, (header) => this.keyFor(header.kid), {
        algorithms: [...SIGNED_ALGORITHMS],
        audience: this.audience,
        ...(this.issuer !== undefined ? { issuer: this.issuer } : {}),
        clockTolerance: this.skew,
        currentDate: new Date(nowMs),
        requiredClaims: ['exp', 'iat', 'jti', 'aud'],
      }));
    } catch (err) {
      throw joseFailure(err);
    }
    const checked = checkClaims(payload);
    if (!checked.ok) throw refused('claims', `claims: ${checked.error}`);
    const claims = checked.value;
    const nowS = nowMs / 1000;
    if (claims.iat > nowS + this.skew) throw refused('not-yet-valid', 'token issued in the future (iat)');
    const lifetime = claims.exp - claims.iat;
    if (lifetime > this.maxLifetime) {
      throw refused(
        'lifetime',
        `lifetime ${lifetime} s (exp - iat) is over the maximum ${this.maxLifetime} s`,
      );
    }
    // Last: only a token that is good in every other way uses up its jti.
    let first: boolean;
    try {
      first = await this.claimOnce(claims.jti, Math.ceil((claims.exp + this.skew) * 1000));
    } catch (err) {
      throw new AuthError(
        AUTH_STATUS.SERVER_ERROR,
        'registry-error',
        `single-use registry unavailable: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    if (!first) throw refused('reused', 'jti already used (or the single-use registry is full)');
    return {
      id: claims.jti,
      user: claims.sub ?? '',
      target: targetFrom(claims.target),
      policy: policyFrom(claims.policy),
    };
  }

  /** The compact JWS inside `token`: the token itself, or the plaintext of its JWE layer. */
  private async unwrap(token: string): Promise<string> {
    if (typeof token !== 'string' || token.length === 0) throw refused('malformed', 'no token');
    if (token.length > LIMITS.tokenChars) {
      throw refused('malformed', `token of ${token.length} characters (max ${LIMITS.tokenChars})`);
    }
    if (!COMPACT.test(token)) throw refused('malformed', 'not a compact JWS/JWE');
    const parts = token.split('.').length;
    if (this.encryptionKey === undefined) {
      if (parts === 3) return token;
      throw refused(
        'encryption',
        parts === 5 ? 'encrypted token, but no encryption key is configured' : `${parts} parts`,
      );
    }
    if (parts !== 5) {
      throw refused(
        'encryption',
        parts === 3 ? 'unencrypted token; encryption is required' : `${parts} parts`,
      );
    }
    let plaintext: Uint8Array;
    let cty: string | undefined;
    try {
      const header = decodeProtectedHeader(token);
      if (header.zip !== undefined) throw refused('encryption', 'compressed JWE (zip) is not accepted');
      const result = await compactDecrypt(token, this.encryptionKey, {
        keyManagementAlgorithms: ['dir'],
        contentEncryptionAlgorithms: ['A256GCM'],
      });
      plaintext = result.plaintext;
      cty = result.protectedHeader.cty;
    } catch (err) {
      throw joseFailure(err);
    }
    if (cty?.toUpperCase() !== 'JWT') throw refused('encryption', 'JWE content type (cty) is not JWT');
    const inner = new TextDecoder().decode(plaintext);
    if (inner.split('.').length !== 3 || !COMPACT.test(inner)) {
      throw refused('malformed', 'JWE content is not a compact JWS');
    }
    return inner;
  }

  private keyFor(kid: string | undefined): KeyObject {
    if (kid === undefined) {
      if (this.keys.size === 1) return this.keys.values().next().value as KeyObject;
      throw refused('unknown-key', `token has no kid and ${this.keys.size} keys are configured`);
    }
    const key = this.keys.get(kid);
    if (key === undefined) {
      throw refused('unknown-key', `no public key with kid ${JSON.stringify(kid.slice(0, 64))}`);
    }
    return key;
  }
}
