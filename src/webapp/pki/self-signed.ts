/**
 * Self-signed certificates for the single-server default: the webapp's HTTPS certificate and the key that
 * signs .rdp files. Keys are RSA 2048 from node:crypto; the certificate is assembled with node-forge.
 *
 * `loadOrCreateCertificate` is what startup calls for each pair: configured PEM files when given (both, or
 * neither), else a pair made once in the data directory and reused on later starts (made anew only when the
 * generated certificate has expired, or, for TLS, does not name one of the requested hosts). In every case
 * the key is checked against the certificate.
 */
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { assertKeyMatches, parseCertificateChain, parsePrivateKey, thumbprint } from './pem.js';

export type CertificateUsage = 'tls-server' | 'code-signing';

export interface SelfSignedOptions {
  commonName: string;
  /** DNS names and IP addresses for subjectAltName (tls-server adds localhost, 127.0.0.1, ::1, hostname). */
  hosts?: string[] | undefined;
  /** Validity in days (default 825 for tls-server, 1825 for code-signing). */
  days?: number | undefined;
  usage: CertificateUsage;
}

export interface SelfSignedCertificate {
  certPem: string;
  keyPem: string;
  /** SHA-1 of the certificate DER, upper-case hex without separators (Windows' "thumbprint"). */
  sha1Thumbprint: string;
  /** SHA-256 of the certificate DER, upper-case hex without separators. */
  sha256Fingerprint: string;
}

const MAX_HOSTS = 100;
const DNS_NAME =
  /^(\*\.)?[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/** Network-order bytes of an IPv4 or IPv6 address (as a forge binary string). */
function ipBytes(ip: string): string {
  if (isIP(ip) === 4) return String.fromCharCode(...ip.split('.').map(Number));
  let text = ip.replace(/%.*$/, '');
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (v4) {
    const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number];
    text = text.slice(0, -v4.length) + ((a << 8) | b).toString(16) + ':' + ((c << 8) | d).toString(16);
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups =
    tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return groups
    .map((g) => String.fromCharCode(Number.parseInt(g, 16) >> 8, Number.parseInt(g, 16) & 0xff))
    .join('');
}

function checkHost(host: string): void {
  if (isIP(host.replace(/%.*$/, ''))) return;
  if (host.length > 253 || !DNS_NAME.test(host))
    throw new Error(`"${host}" is neither an IP address nor a DNS name`);
}

function subjectAltNames(
  usage: CertificateUsage,
  hosts: readonly string[],
): { type: number; value: string }[] {
  const all = usage === 'tls-server' ? ['localhost', '127.0.0.1', '::1', hostname(), ...hosts] : [...hosts];
  const seen = new Set<string>();
  const out: { type: number; value: string }[] = [];
  for (const raw of all) {
    const host = raw.trim();
    if (host === '' || seen.has(host.toLowerCase())) continue;
    seen.add(host.toLowerCase());
    if (isIP(host.replace(/%.*$/, ''))) out.push({ type: 7, value: ipBytes(host) });
    else if (DNS_NAME.test(host) && host.length <= 253) out.push({ type: 2, value: host.replace(/\.$/, '') });
  }
  return out;
}

/** A new RSA-2048 key and a self-signed SHA-256 certificate for it. */
export function createSelfSignedCertificate(opts: SelfSignedOptions): SelfSignedCertificate {
  const commonName = opts.commonName.trim();
  if (commonName.length === 0 || commonName.length > 64 || /[\p{Cc}\u2028\u2029]/u.test(commonName)) {
    throw new Error('commonName must be 1-64 characters without control characters');
  }
  const hosts = opts.hosts ?? [];
  if (hosts.length > MAX_HOSTS) throw new Error(`at most ${MAX_HOSTS} hosts`);
  for (const host of hosts) checkHost(host.trim());
  const days = opts.days ?? (opts.usage === 'tls-server' ? 825 : 1825);
  if (!Number.isInteger(days) || days < 1 || days > 36_500)
    throw new Error('days must be an integer 1..36500');

  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  const serial = randomBytes(16);
  serial[0] = ((serial[0] as number) & 0x7f) | 0x01; // positive, no leading zero byte
  cert.serialNumber = serial.toString('hex');
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 5 * 60_000); // tolerate small clock differences
  cert.validity.notAfter = new Date(now + days * 86_400_000);
  const name = [{ name: 'commonName', value: commonName }];
  cert.setSubject(name);
  cert.setIssuer(name);
  const extensions: object[] = [
    { name: 'basicConstraints', cA: false, critical: true },
    opts.usage === 'tls-server'
      ? { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true }
      : { name: 'keyUsage', digitalSignature: true, critical: true },
    // Code signing for .rdp publishers; server authentication too, which some Windows versions look for.
    opts.usage === 'tls-server'
      ? { name: 'extKeyUsage', serverAuth: true }
      : { name: 'extKeyUsage', codeSigning: true, serverAuth: true },
    { name: 'subjectKeyIdentifier' },
  ];
  const altNames = subjectAltNames(opts.usage, hosts);
  if (altNames.length > 0) extensions.push({ name: 'subjectAltName', altNames });
  cert.setExtensions(extensions);
  cert.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  const [x509] = parseCertificateChain(certPem, 'generated certificate');
  if (!x509) throw new Error('generated certificate could not be read back');
  return {
    certPem,
    keyPem: privateKey,
    sha1Thumbprint: thumbprint(x509, 'sha1'),
    sha256Fingerprint: thumbprint(x509, 'sha256'),
  };
}

export interface LoadOrCreateOptions {
  /** Configured PEM files ('' = not configured). Both or neither. */
  certFile: string;
  keyFile: string;
  /** Where a generated pair lives: <dir>/<baseName>.crt and <dir>/<baseName>.key. */
  dir: string;
  baseName: string;
  commonName: string;
  hosts?: string[] | undefined;
  usage: CertificateUsage;
  /** The config section named in errors, e.g. 'webapp.tls' ('webapp.tls.certFile is set but ...'). */
  configKey?: string | undefined;
}

export interface LoadedCertificate {
  /** The PEM chain as read (leaf first) and the key. */
  certPem: string;
  keyPem: string;
  certFile: string;
  keyFile: string;
  /** True when the pair was generated by this call. */
  created: boolean;
  sha1Thumbprint: string;
  notAfter: Date;
}

function readPem(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(
      `${what}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
}

/** Reads a pair, checks it, and describes it; errors name `certWhat` / `keyWhat`. */
function loadPair(
  certFile: string,
  keyFile: string,
  certWhat: string,
  keyWhat: string,
  created: boolean,
): LoadedCertificate {
  const certPem = readPem(certFile, certWhat);
  const keyPem = readPem(keyFile, keyWhat);
  const [leaf] = parseCertificateChain(certPem, `${certWhat} (${certFile})`);
  if (!leaf) throw new Error(`${certWhat} (${certFile}): no certificate`);
  const key = parsePrivateKey(keyPem, `${keyWhat} (${keyFile})`);
  assertKeyMatches(leaf, key, `${certWhat} (${certFile})`, `${keyWhat} (${keyFile})`);
  return {
    certPem,
    keyPem,
    certFile,
    keyFile,
    created,
    sha1Thumbprint: thumbprint(leaf, 'sha1'),
    notAfter: new Date(leaf.validTo),
  };
}

/** Whether a certificate names every one of `hosts` (wildcard entries are not checked). */
function coversHosts(certPem: string, hosts: readonly string[]): boolean {
  const cert = new X509Certificate(certPem);
  return hosts.every((raw) => {
    const host = raw.trim().replace(/%.*$/, '');
    if (host === '' || host.startsWith('*.')) return true;
    return (isIP(host) ? cert.checkIP(host) : cert.checkHost(host)) !== undefined;
  });
}

/** Writes `data` to `file` via a temp file + rename, so a reader never sees half a file. */
function writeAtomically(file: string, data: string, mode: number): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, data, { mode, flag: 'wx' });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * The configured certificate and key, or the generated pair in `dir` (made on first use, key mode 0600;
 * made anew when expired or, for 'tls-server', when it does not name every host in `hosts`).
 * Throws with a message naming the config key or file when only one of the two is configured, a file
 * cannot be read or parsed, or the key does not belong to the certificate.
 */
export function loadOrCreateCertificate(opts: LoadOrCreateOptions): LoadedCertificate {
  const prefix = opts.configKey ? `${opts.configKey}.` : '';
  const certKey = `${prefix}certFile`;
  const keyKey = `${prefix}keyFile`;
  const certFile = opts.certFile.trim();
  const keyFile = opts.keyFile.trim();
  if (certFile !== '' || keyFile !== '') {
    if (certFile === '')
      throw new Error(`${keyKey} is set but ${certKey} is empty: give both files, or neither`);
    if (keyFile === '')
      throw new Error(`${certKey} is set but ${keyKey} is empty: give both files, or neither`);
    return loadPair(certFile, keyFile, certKey, keyKey, false);
  }
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(opts.baseName))
    throw new Error(`bad certificate base name "${opts.baseName}"`);
  const genCert = join(opts.dir, `${opts.baseName}.crt`);
  const genKey = join(opts.dir, `${opts.baseName}.key`);
  const what = `generated certificate for ${certKey} (delete both files to make a new pair)`;
  const hasCert = existsSync(genCert);
  const hasKey = existsSync(genKey);
  if (hasCert !== hasKey) {
    throw new Error(
      `${hasCert ? genKey : genCert} is missing while ${hasCert ? genCert : genKey} exists: ${what}`,
    );
  }
  if (hasCert) {
    const loaded = loadPair(genCert, genKey, what, what, false);
    const fresh = loaded.notAfter.getTime() > Date.now();
    // A generated TLS certificate is made anew when it does not name a host now asked for (a new publicUrl).
    if (fresh && (opts.usage !== 'tls-server' || coversHosts(loaded.certPem, opts.hosts ?? [])))
      return loaded;
  }
  mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  const made = createSelfSignedCertificate({
    commonName: opts.commonName,
    hosts: opts.hosts,
    usage: opts.usage,
  });
  writeAtomically(genKey, made.keyPem, 0o600);
  writeAtomically(genCert, made.certPem, 0o644);
  return { ...loadPair(genCert, genKey, what, what, true), created: true };
}
