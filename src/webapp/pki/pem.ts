/**
 * PEM certificate chains and private keys, parsed with node:crypto, with errors that name where the text
 * came from (a config key or a file) so an operator knows what to fix.
 */
import { createHash, createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const MAX_CHAIN = 10;

/** Every certificate of a PEM chain, in file order (the leaf first). `what` names the source in errors. */
export function parseCertificateChain(pem: string, what: string): X509Certificate[] {
  const blocks = pem.match(CERT_BLOCK) ?? [];
  if (blocks.length === 0) throw new Error(`${what}: no PEM certificate (-----BEGIN CERTIFICATE-----) found`);
  if (blocks.length > MAX_CHAIN) throw new Error(`${what}: more than ${MAX_CHAIN} certificates`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new Error(`${what}: certificate ${i + 1} cannot be parsed (${(err as Error).message})`);
    }
  });
}

/** An unencrypted PEM private key (PKCS#8, PKCS#1 or SEC1). */
export function parsePrivateKey(pem: string, what: string): KeyObject {
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new Error(`${what}: no PEM private key (-----BEGIN PRIVATE KEY-----) found`);
  }
  if (pem.includes('ENCRYPTED'))
    throw new Error(`${what}: the private key is encrypted; give an unencrypted key`);
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new Error(`${what}: the private key cannot be parsed (${(err as Error).message})`);
  }
}

/** Throws unless `key` is the private half of `cert`'s public key. */
export function assertKeyMatches(
  cert: X509Certificate,
  key: KeyObject,
  certWhat: string,
  keyWhat: string,
): void {
  let ok = false;
  try {
    ok = cert.checkPrivateKey(key);
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new Error(
      `${keyWhat} does not belong to the certificate in ${certWhat} (subject ${cert.subject.replace(/\n/g, ', ')}); ` +
        'give the key the certificate was issued for',
    );
  }
}

/** Upper-case hex digest of the certificate's DER, without separators (the form Windows policies take). */
export function thumbprint(cert: X509Certificate, algorithm: 'sha1' | 'sha256'): string {
  return createHash(algorithm).update(cert.raw).digest('hex').toUpperCase();
}
