/**
 * Signing .rdp files the way Windows' rdpsign.exe does, so mstsc shows a verified publisher, and checking
 * such signatures.
 *
 * What is signed (the layout mstsc re-derives when it checks a file):
 *   1. the signable settings present (./settings.ts), in the order of that list, each `name:type:value`
 *      followed by CRLF; `alternate full address` is added (= `full address`) when the file has none, so a
 *      line added later cannot redirect the client;
 *   2. then `signscope:s:<scope names, comma-separated, same order>` and CRLF;
 *   3. then one NUL character;
 *   all encoded as UTF-16LE (no BOM).
 * The signature is a detached CMS SignedData (SHA-256, RSA, no signed attributes, signer certificate
 * chain included) over those bytes, prefixed with a 12-byte header of three little-endian uint32 (0x00010001,
 * 0x00000001, length of the CMS blob), base64-encoded, and written as `signature:s:` with two spaces after
 * every 64 characters (as rdpsign.exe writes it; readers ignore the spaces). `signscope` and `signature` are
 * the last two lines of the file; settings outside the list stay unsigned.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import { CmsError, createDetachedSignedData, verifyDetachedSignedData } from '../pki/cms.js';
import { assertKeyMatches, parseCertificateChain, parsePrivateKey, thumbprint } from '../pki/pem.js';
import {
  formatLine,
  parseRdpText,
  type RdpLine,
  SIGNABLE_SETTINGS,
  type SignableSetting,
  signableByName,
  signableByScope,
} from './settings.js';

export interface RdpSigner {
  /** PEM certificate chain (signer first) and its PEM private key. */
  certPem: string;
  keyPem: string;
}

export interface RdpVerifyResult {
  valid: boolean;
  /** Subject of the signing certificate (when the signature could be read). */
  signer?: string;
  /** SHA-1 thumbprint of the signing certificate (what Windows' trusted-publisher policy lists). */
  sha1Thumbprint?: string;
  /** Why it is not valid. */
  reason?: string;
  /** The setting names the signature covers, in signing order. */
  signedSettings?: string[];
}

const HEADER_WORD_1 = 0x00010001;
const HEADER_WORD_2 = 0x00000001;
const MAX_SIGNATURE_B64 = 64 * 1024;

interface Prepared {
  chain: X509Certificate[];
  key: KeyObject;
}
const prepared = new Map<string, Prepared>();

function prepare(signer: RdpSigner): Prepared {
  const cacheKey = `${signer.certPem}\u0000${signer.keyPem}`;
  const hit = prepared.get(cacheKey);
  if (hit) return hit;
  const chain = parseCertificateChain(signer.certPem, 'rdp signing certificate');
  const key = parsePrivateKey(signer.keyPem, 'rdp signing key');
  assertKeyMatches(chain[0] as X509Certificate, key, 'rdp signing certificate', 'rdp signing key');
  if (prepared.size >= 4) prepared.clear();
  const entry = { chain, key };
  prepared.set(cacheKey, entry);
  return entry;
}

const isSignLine = (l: RdpLine): boolean => l.key === 'signscope' || l.key === 'signature';

/** The UTF-16LE bytes a signature covers: the signed lines, the signscope line, a NUL. */
function message(lines: readonly string[], scope: string): Buffer {
  const text = lines.map((l) => `${l}\r\n`).join('') + `signscope:s:${scope}\r\n\u0000`;
  return Buffer.from(text, 'utf16le');
}

function signatureValue(cms: Buffer): string {
  const header = Buffer.alloc(12);
  header.writeUInt32LE(HEADER_WORD_1, 0);
  header.writeUInt32LE(HEADER_WORD_2, 4);
  header.writeUInt32LE(cms.length, 8);
  const b64 = Buffer.concat([header, cms]).toString('base64');
  return (b64.match(/.{1,64}/g) ?? []).join('  ');
}

/**
 * Signs .rdp text: returns it with `signscope` and `signature` (replacing any earlier ones), CRLF line
 * ends. Throws when the text is not a well-formed .rdp file, a signable setting appears twice or with the
 * wrong type, there is no `full address`, or the key does not belong to the certificate.
 */
export function signRdpFile(text: string, signer: RdpSigner): string {
  const { chain, key } = prepare(signer);
  const lines = parseRdpText(text).filter((l) => !isSignLine(l));
  const present = new Map<string, RdpLine>();
  for (const line of lines) {
    const spec = signableByName(line.key);
    if (!spec) continue;
    if (present.has(spec.name)) throw new Error(`"${spec.name}" appears more than once`);
    if (line.type !== spec.type)
      throw new Error(`"${spec.name}" must have type ${spec.type}, not ${line.type}`);
    line.name = spec.name; // signed (and written) in its canonical lower-case spelling
    present.set(spec.name, line);
  }
  const full = present.get('full address');
  if (!full) throw new Error('an .rdp file without "full address" cannot be signed');
  if (!present.has('alternate full address')) {
    const alt: RdpLine = {
      name: 'alternate full address',
      key: 'alternate full address',
      type: 's',
      value: full.value,
    };
    lines.push(alt);
    present.set(alt.name, alt);
  }
  const signed = SIGNABLE_SETTINGS.filter((s) => present.has(s.name));
  const scope = signed.map((s) => s.scope).join(',');
  const signedLines = signed.map((s) => formatLine(s.name, s.type, (present.get(s.name) as RdpLine).value));
  const cms = createDetachedSignedData(message(signedLines, scope), chain, key);
  const out = lines.map((l) => formatLine(l.name, l.type, l.value));
  out.push(`signscope:s:${scope}`, `signature:s:${signatureValue(cms)}`);
  return `${out.join('\r\n')}\r\n`;
}

class Unsigned extends Error {}

/** Re-derives what a signed file's signature covers, and the CMS blob; throws `Unsigned` with the reason. */
function extract(text: string): { content: Buffer; cms: Buffer; signed: SignableSetting[] } {
  let lines: RdpLine[];
  try {
    lines = parseRdpText(text);
  } catch (err) {
    throw new Unsigned((err as Error).message);
  }
  const scopes = lines.filter((l) => l.key === 'signscope');
  const sigs = lines.filter((l) => l.key === 'signature');
  if (scopes.length === 0 || sigs.length === 0) throw new Unsigned('the file is not signed');
  if (scopes.length > 1 || sigs.length > 1) throw new Unsigned('more than one signscope or signature line');
  const scopeValue = (scopes[0] as RdpLine).value;
  const signed: SignableSetting[] = [];
  for (const name of scopeValue.split(',')) {
    const spec = signableByScope(name);
    if (!spec) throw new Unsigned(`signscope names an unknown setting "${name}"`);
    if (signed.includes(spec)) throw new Unsigned(`signscope names "${name}" twice`);
    signed.push(spec);
  }
  const signedLines: string[] = [];
  for (const spec of signed) {
    const matches = lines.filter((l) => l.key === spec.name);
    if (matches.length !== 1)
      throw new Unsigned(`signed setting "${spec.name}" appears ${matches.length} times`);
    const line = matches[0] as RdpLine;
    if (line.type !== spec.type) throw new Unsigned(`signed setting "${spec.name}" has the wrong type`);
    signedLines.push(formatLine(spec.name, spec.type, line.value));
  }
  for (const line of lines) {
    const spec = signableByName(line.key);
    if (spec && !signed.includes(spec)) throw new Unsigned(`"${spec.name}" is not covered by the signature`);
  }
  const b64 = (sigs[0] as RdpLine).value.replace(/[ \t]/g, '');
  if (b64.length > MAX_SIGNATURE_B64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) {
    throw new Unsigned('the signature is not base64');
  }
  const blob = Buffer.from(b64, 'base64');
  if (blob.length < 12 || blob.readUInt32LE(0) !== HEADER_WORD_1 || blob.readUInt32LE(4) !== HEADER_WORD_2) {
    throw new Unsigned('the signature header is not the rdpsign header');
  }
  if (blob.readUInt32LE(8) !== blob.length - 12) throw new Unsigned('the signature length field is wrong');
  return { content: message(signedLines, scopeValue), cms: blob.subarray(12), signed };
}

/** The exact bytes a signed .rdp file's signature covers (UTF-16LE), re-derived from its lines. */
export function rdpSignedContent(text: string): Buffer {
  return extract(text).content;
}

/** The DER CMS SignedData inside a signed .rdp file's `signature` line (without the 12-byte header). */
export function rdpSignatureCms(text: string): Buffer {
  return extract(text).cms;
}

function trusted(signer: X509Certificate, pool: X509Certificate[], anchors: X509Certificate[]): boolean {
  let current = signer;
  for (let depth = 0; depth < 8; depth++) {
    if (anchors.some((a) => a.raw.equals(current.raw))) return true;
    const issuedBy = (c: X509Certificate): boolean =>
      c.ca && current.checkIssued(c) && current.verify(c.publicKey);
    if (anchors.some(issuedBy)) return true;
    const next = pool.find((c) => !c.raw.equals(current.raw) && issuedBy(c));
    if (!next) return false;
    current = next;
  }
  return false;
}

/**
 * Checks a signed .rdp file: every signable setting is covered, the signature matches the re-derived
 * content, the signer's certificate is within its validity period, and (with `trustedCertPem`) the signer
 * is one of those certificates or chains up to one of them through CA certificates. Never throws.
 */
export function verifyRdpFile(text: string, trustedCertPem?: string): RdpVerifyResult {
  let signerCert: X509Certificate | undefined;
  try {
    const { content, cms, signed } = extract(text);
    const signedSettings = signed.map((s) => s.name);
    const { signer, certificates } = verifyDetachedSignedData(cms, content);
    signerCert = signer;
    const who = { signer: signer.subject.replace(/\n/g, ', '), sha1Thumbprint: thumbprint(signer, 'sha1') };
    const now = Date.now();
    if (now < Date.parse(signer.validFrom) || now > Date.parse(signer.validTo)) {
      return {
        valid: false,
        ...who,
        signedSettings,
        reason: 'the signing certificate is expired or not yet valid',
      };
    }
    if (trustedCertPem !== undefined) {
      const anchors = parseCertificateChain(trustedCertPem, 'trusted certificate');
      if (!trusted(signer, certificates, anchors)) {
        return { valid: false, ...who, signedSettings, reason: 'the signer is not a trusted certificate' };
      }
    }
    return { valid: true, ...who, signedSettings };
  } catch (err) {
    const reason =
      err instanceof Unsigned || err instanceof CmsError
        ? err.message
        : `cannot verify: ${(err as Error).message}`;
    const who = signerCert ? { signer: signerCert.subject.replace(/\n/g, ', ') } : {};
    return { valid: false, ...who, reason };
  }
}
