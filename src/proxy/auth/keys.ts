// Keys for signed tokens: Ed25519 public keys (PEM, JWK or JWKS; inline text or a file) identified by kid,
// the Ed25519 private key that signs, and the optional 32-byte secret of the JWE layer.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

/** A public key that verifies tokens whose header names its kid. */
export interface VerificationKey {
  kid: string;
  key: KeyObject;
}

export class KeyError extends Error {
  override readonly name = 'KeyError';
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of an Ed25519 public key: the default kid. */
export function keyId(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' }) as { crv?: string; kty?: string; x?: string };
  // Members in lexicographic order, no whitespace (RFC 7638 section 3).
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x });
  return createHash('sha256').update(canonical).digest('base64url');
}

function requireEd25519(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new KeyError(`${what} is a ${key.asymmetricKeyType ?? key.type} key; Ed25519 is required`);
  }
  return key;
}

function publicFromJwk(jwk: unknown, what: string): VerificationKey {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk))
    throw new KeyError(`${what} is not a JWK`);
  const j = jwk as Record<string, unknown>;
  if ('d' in j) throw new KeyError(`${what} is a private key; configure the public key only`);
  if (j.kty !== 'OKP' || j.crv !== 'Ed25519' || typeof j.x !== 'string') {
    throw new KeyError(`${what} is not an Ed25519 public JWK (kty OKP, crv Ed25519)`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: j.x }, format: 'jwk' });
  } catch (err) {
    throw new KeyError(`${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (j.kid !== undefined && (typeof j.kid !== 'string' || j.kid === '')) {
    throw new KeyError(`${what}: kid must be a non-empty string`);
  }
  return { kid: (j.kid as string | undefined) ?? keyId(key), key };
}

/**
 * The public keys in a text: PEM (one or more `PUBLIC KEY` blocks), a JWK, or a JWK Set (`{"keys": [...]}`).
 * A JWK's kid is its `kid` member; otherwise (and for PEM) the kid is the key's RFC 7638 thumbprint.
 */
export function parsePublicKeys(text: string, origin: string): VerificationKey[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch {
      throw new KeyError(`${origin} is not valid JSON`);
    }
    const set = (json as { keys?: unknown }).keys;
    if (Array.isArray(set)) {
      if (set.length === 0) throw new KeyError(`${origin}: the JWK Set has no keys`);
      return set.map((k, i) => publicFromJwk(k, `${origin} keys[${i}]`));
    }
    return [publicFromJwk(json, origin)];
  }
  const blocks = [...trimmed.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) throw new KeyError(`${origin} holds no PEM block and is not a JWK`);
  return blocks.map((m, i) => {
    const what = blocks.length > 1 ? `${origin} (PEM block ${i + 1})` : origin;
    if (m[1] !== 'PUBLIC KEY') {
      throw new KeyError(`${what} is a ${m[1]} block; a "PUBLIC KEY" (SPKI) block is required`);
    }
    let key: KeyObject;
    try {
      key = createPublicKey({ key: m[0], format: 'pem' });
    } catch (err) {
      throw new KeyError(`${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
    requireEd25519(key, what);
    return { kid: keyId(key), key };
  });
}

const isInline = (entry: string): boolean => /^\s*(-----BEGIN |\{)/.test(entry);

/**
 * Keys from configuration entries: each is inline PEM or JSON (starts with `-----BEGIN ` or `{`), or else a
 * file path (relative to `cwd`) holding PEM or JSON. Duplicate kids are refused. Synchronous: start-up only.
 */
export function loadPublicKeys(
  entries: readonly string[],
  options: { cwd?: string; label?: string; read?: (path: string) => string } = {},
): VerificationKey[] {
  const label = options.label ?? 'publicKeys';
  const read = options.read ?? ((path: string) => readFileSync(path, 'utf8'));
  const out: VerificationKey[] = [];
  for (const [i, entry] of entries.entries()) {
    const where = `${label}[${i}]`;
    if (entry.trim() === '') throw new KeyError(`${where} is empty`);
    if (isInline(entry)) {
      out.push(...parsePublicKeys(entry, where));
      continue;
    }
    const path = isAbsolute(entry) ? entry : resolve(options.cwd ?? process.cwd(), entry);
    let text: string;
    try {
      text = read(path);
    } catch (err) {
      throw new KeyError(`${where}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
    out.push(...parsePublicKeys(text, `${where} (${path})`));
  }
  const seen = new Set<string>();
  for (const k of out) {
    if (seen.has(k.kid)) throw new KeyError(`${label}: two keys have the kid ${JSON.stringify(k.kid)}`);
    seen.add(k.kid);
  }
  return out;
}

/** The signing key: a PKCS#8 `PRIVATE KEY` PEM or a private Ed25519 JWK (its `kid` is kept). */
export function parsePrivateKey(text: string, origin: string): { key: KeyObject; kid: string } {
  const trimmed = text.trim();
  let key: KeyObject;
  let kid: string | undefined;
  try {
    if (trimmed.startsWith('{')) {
      const jwk = JSON.parse(trimmed) as Record<string, unknown>;
      if (typeof jwk.d !== 'string')
        throw new KeyError(`${origin} is a public JWK; a private key is required`);
      if (typeof jwk.kid === 'string' && jwk.kid !== '') kid = jwk.kid;
      key = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
    } else {
      if (!/-----BEGIN (ENCRYPTED )?PRIVATE KEY-----/.test(trimmed)) {
        throw new KeyError(`${origin} holds no PKCS#8 "PRIVATE KEY" PEM block and is not a JWK`);
      }
      if (trimmed.includes('ENCRYPTED PRIVATE KEY')) {
        throw new KeyError(`${origin} is encrypted; use an unencrypted PKCS#8 key`);
      }
      key = createPrivateKey({ key: trimmed, format: 'pem' });
    }
  } catch (err) {
    if (err instanceof KeyError) throw err;
    throw new KeyError(
      `${origin}: ${err instanceof SyntaxError ? 'not valid JSON' : (err as Error).message}`,
    );
  }
  requireEd25519(key, origin);
  return { key, kid: kid ?? keyId(createPublicKey(key)) };
}

/** The JWE secret: exactly 32 bytes, written as base64 or base64url (43 or 44 characters). */
export function parseEncryptionKey(text: string, origin: string): Uint8Array {
  const t = text.trim();
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) {
    throw new KeyError(`${origin} must be 32 bytes written as base64 or base64url (43 or 44 characters)`);
  }
  const bytes = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (bytes.length !== 32) throw new KeyError(`${origin} must decode to 32 bytes, not ${bytes.length}`);
  return new Uint8Array(bytes);
}

/** A new Ed25519 key pair as PEM (PKCS#8 private, SPKI public) and its kid. */
export function generateSigningKeyPair(): { privatePem: string; publicPem: string; kid: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    kid: keyId(publicKey),
  };
}
