// Random secrets and their stored digests: connect tokens, login cookies, proxy registration secrets. The
// text goes to its holder once; the database keeps SHA-256 (256-bit random input needs no slow hash).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 32 random bytes, base64url (43 characters). */
export const randomSecret = (): string => randomBytes(32).toString('base64url');

export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** Constant-time comparison of two hex digests of equal length. */
export function sameDigest(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** A token as it travels: base64url, bounded. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{20,128}$/;
