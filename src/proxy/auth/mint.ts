// Minting signed tokens (what `gatehouse token` and tests do; an embedding portal does the same with any JOSE
// library): an EdDSA JWT with the target and policy, optionally inside a JWE (dir, A256GCM).
import { type KeyObject, randomUUID } from 'node:crypto';
import { CompactEncrypt, SignJWT } from 'jose';
import type { Policy, Target } from '../types.js';
import { checkClaims } from './schemas.js';
import { DEFAULT_AUDIENCE } from './signed.js';

export interface MintOptions {
  /** Ed25519 private key. */
  privateKey: KeyObject;
  /** kid header: the public key's id at the proxy (keys.ts keyId() by default there). */
  kid: string;
  target: Target;
  policy?: Partial<Policy>;
  /** `sub`: the user, for the proxy's logs. */
  user?: string;
  /** Seconds from now to exp. */
  ttlSeconds: number;
  audience?: string;
  issuer?: string;
  /** Defaults to a random UUID. */
  jti?: string;
  /** When set, the JWT is wrapped in a JWE (dir, A256GCM) with this 32-byte secret. */
  encryptionKey?: Uint8Array;
  /** The clock, in ms. */
  now?: () => number;
}

/** The compact token. Throws TypeError when the claims would not pass the proxy's shape check. */
export async function mintToken(options: MintOptions): Promise<string> {
  const iat = Math.floor((options.now ?? Date.now)() / 1000);
  const claims: Record<string, unknown> = {
    aud: options.audience ?? DEFAULT_AUDIENCE,
    iat,
    exp: iat + options.ttlSeconds,
    jti: options.jti ?? randomUUID(),
    target: options.target,
  };
  if (options.policy !== undefined && Object.keys(options.policy).length > 0) claims.policy = options.policy;
  if (options.user) claims.sub = options.user;
  if (options.issuer) claims.iss = options.issuer;
  const checked = checkClaims(claims);
  if (!checked.ok) throw new TypeError(`token claims are invalid: ${checked.error}`);

  const jws = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: options.kid })
    .sign(options.privateKey);
  if (options.encryptionKey === undefined) return jws;
  return new CompactEncrypt(new TextEncoder().encode(jws))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', cty: 'JWT' })
    .encrypt(options.encryptionKey);
}
