/**
 * Encryption at rest for secrets the webapp must give back in clear (server credentials): AES-256-GCM with
 * a random 12-byte nonce per value, bound to a context string (AAD; the server id for credentials) so a
 * sealed value copied to another row does not open. Text format: `v1.<nonce>.<ciphertext+tag>`, both
 * base64url without padding.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SECRET_KEY_BYTES = 32;
export const SECRET_KEY_FILE = 'secret.key';
const VERSION = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const B64URL = /^[A-Za-z0-9_-]*$/;

export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

export class SecretBox {
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== SECRET_KEY_BYTES) {
      throw new SecretBoxError(`the secret key must be ${SECRET_KEY_BYTES} bytes, not ${key.length}`);
    }
    this.key = Buffer.from(key);
  }

  /** Encrypts `plaintext` bound to `aad`; every call gives a different text. */
  seal(plaintext: string, aad: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}.${nonce.toString('base64url')}.${body.toString('base64url')}`;
  }

  /** Decrypts a sealed text; throws SecretBoxError when it is malformed, altered, or sealed under another key or aad. */
  open(text: string, aad: string): string {
    const parts = text.split('.');
    if (parts.length !== 3 || parts[0] !== VERSION) {
      throw new SecretBoxError(`sealed value is not in the ${VERSION} format`);
    }
    const [, nonceText, bodyText] = parts as [string, string, string];
    if (!B64URL.test(nonceText) || !B64URL.test(bodyText)) {
      throw new SecretBoxError('sealed value is not valid base64url');
    }
    const nonce = Buffer.from(nonceText, 'base64url');
    const body = Buffer.from(bodyText, 'base64url');
    if (nonce.length !== NONCE_BYTES || body.length < TAG_BYTES) {
      throw new SecretBoxError('sealed value is truncated');
    }
    const decipher = createDecipheriv('aes-256-gcm', this.key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    try {
      const plain = Buffer.concat([
        decipher.update(body.subarray(0, body.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return plain.toString('utf8');
    } catch {
      throw new SecretBoxError(
        'sealed value failed authentication: it was altered, or sealed under another key or for another record',
      );
    }
  }
}

function decodeKey(text: string, where: string): Buffer {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(trimmed) || trimmed.length % 4 !== 0) {
    throw new Error(
      `${where} must be ${SECRET_KEY_BYTES} bytes in base64 (e.g. from \`openssl rand -base64 32\`)`,
    );
  }
  const key = Buffer.from(trimmed, 'base64');
  if (key.length !== SECRET_KEY_BYTES) {
    throw new Error(`${where} must be ${SECRET_KEY_BYTES} bytes in base64, not ${key.length} bytes`);
  }
  return key;
}

/**
 * The key that seals server credentials: `webapp.secretKey` (base64 of 32 bytes) when set, else the key in
 * <dataDir>/secret.key, created once (mode 0600) when missing. Losing the key loses the stored credentials.
 */
export function loadOrCreateSecretKey(configValue: string, dataDir: string): Buffer {
  if (configValue !== '') return decodeKey(configValue, 'webapp.secretKey');
  const file = join(dataDir, SECRET_KEY_FILE);
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`cannot read the secret key ${file}: ${(err as Error).message}`, { cause: err });
    }
  }
  if (text === undefined) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const key = randomBytes(SECRET_KEY_BYTES);
    // Written whole to a temporary name, then linked into place: a concurrent reader never sees a partial
    // file, and when two processes race the first link wins and the other uses that key.
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      writeFileSync(tmp, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
      linkSync(tmp, file);
      return key;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new Error(`cannot create the secret key ${file}: ${(err as Error).message}`, { cause: err });
      }
      text = readFileSync(file, 'utf8');
    } finally {
      rmSync(tmp, { force: true });
    }
  }
  return decodeKey(text, `the secret key in ${file} (webapp.secretKey unset)`);
}
