/**
 * CMS (RFC 5652) SignedData with detached content: made and checked with node:crypto over a small DER
 * codec (./der.ts). Signing writes what `openssl cms -sign -binary -noattr -md sha256` writes: SHA-256, the
 * signer identified by issuer and serial number, no signed attributes, the certificate chain included.
 * Checking also accepts signed attributes (content type + message digest), SHA-1/384/512 and ECDSA, so
 * signatures made by other tools can be verified. Trust (which certificate is acceptable) is the caller's
 * business: `verifyDetachedSignedData` proves only that the content was signed by the key of the returned
 * certificate.
 */
import { createHash, verify as cryptoVerify, type KeyObject, sign, X509Certificate } from 'node:crypto';
import {
  children,
  ctx,
  DerError,
  type DerNode,
  decodeOid,
  der,
  expect,
  NULL,
  octets,
  oid,
  parseDer,
  seq,
  setOf,
  smallInt,
  TAG,
} from './der.js';

export class CmsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CmsError';
  }
}

const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsaPss: '1.2.840.113549.1.1.10',
} as const;

const DIGESTS: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
/** Signature algorithm OIDs accepted in a SignerInfo: key type, and the digest they imply (if any). */
const SIGNATURE_ALGS: Record<string, { key: 'rsa' | 'ec'; digest?: string }> = {
  [OID.rsaEncryption]: { key: 'rsa' },
  '1.2.840.113549.1.1.5': { key: 'rsa', digest: 'sha1' },
  '1.2.840.113549.1.1.11': { key: 'rsa', digest: 'sha256' },
  '1.2.840.113549.1.1.12': { key: 'rsa', digest: 'sha384' },
  '1.2.840.113549.1.1.13': { key: 'rsa', digest: 'sha512' },
  '1.2.840.10045.4.1': { key: 'ec', digest: 'sha1' },
  '1.2.840.10045.4.3.2': { key: 'ec', digest: 'sha256' },
  '1.2.840.10045.4.3.3': { key: 'ec', digest: 'sha384' },
  '1.2.840.10045.4.3.4': { key: 'ec', digest: 'sha512' },
};
const SHA256_OID = '2.16.840.1.101.3.4.2.1';
const ECDSA_SHA256_OID = '1.2.840.10045.4.3.2';

/** issuer Name (raw DER) and serialNumber (raw DER INTEGER) of a certificate. */
export function issuerAndSerial(cert: X509Certificate): { issuer: Buffer; serial: Buffer } {
  const top = children(parseDer(cert.raw));
  const tbs = children(expect(top[0], TAG.SEQUENCE, 'tbsCertificate'));
  const start = tbs[0]?.tag === ctx(0) ? 1 : 0; // [0] version is optional
  const serial = expect(tbs[start], TAG.INTEGER, 'serialNumber');
  const issuer = expect(tbs[start + 2], TAG.SEQUENCE, 'issuer');
  return { issuer: issuer.raw, serial: serial.raw };
}

/**
 * A detached SignedData over `content`, signed by `key` whose certificate is `chain[0]`; every certificate
 * of `chain` is included (the signer first in the chain; DER sorts the SET).
 */
export function createDetachedSignedData(
  content: Buffer,
  chain: readonly X509Certificate[],
  key: KeyObject,
): Buffer {
  const signer = chain[0];
  if (!signer) throw new CmsError('no signing certificate');
  const keyType = key.asymmetricKeyType;
  let sigAlg: Buffer;
  if (keyType === 'rsa') sigAlg = seq(oid(OID.rsaEncryption), NULL);
  else if (keyType === 'ec') sigAlg = seq(oid(ECDSA_SHA256_OID));
  else throw new CmsError(`signing key type ${keyType ?? 'unknown'} is not supported (use RSA or EC)`);
  const digestAlg = seq(oid(SHA256_OID), NULL);
  const { issuer, serial } = issuerAndSerial(signer);
  const signature = sign('sha256', content, key);
  const signerInfo = seq(smallInt(1), seq(issuer, serial), digestAlg, sigAlg, octets(signature));
  const signedData = seq(
    smallInt(1),
    setOf([digestAlg]),
    seq(oid(OID.data)), // encapContentInfo without eContent: detached
    setOf(
      chain.map((c) => c.raw),
      ctx(0),
    ),
    setOf([signerInfo]),
  );
  return seq(oid(OID.signedData), der(ctx(0), [signedData]));
}

export interface CmsVerified {
  signer: X509Certificate;
  /** Every certificate in the SignedData (the signer among them). */
  certificates: X509Certificate[];
  digest: string;
}

function oidOf(node: DerNode | undefined, what: string): string {
  return decodeOid(expect(node, TAG.OID, what).content);
}

/** The certificate named by a SignerInfo's issuerAndSerialNumber. */
function findSigner(certs: X509Certificate[], sid: DerNode): X509Certificate {
  if (sid.tag !== TAG.SEQUENCE)
    throw new CmsError('only issuerAndSerialNumber signer identifiers are supported');
  const [issuer, serial] = children(sid);
  if (!issuer || !serial) throw new CmsError('malformed issuerAndSerialNumber');
  for (const cert of certs) {
    const ids = issuerAndSerial(cert);
    if (ids.issuer.equals(issuer.raw) && ids.serial.equals(serial.raw)) return cert;
  }
  throw new CmsError('the signer certificate is not included in the signature');
}

/** What the SignerInfo's signature covers: the content, or the DER SET of its signed attributes. */
function signedBytes(attrs: DerNode | undefined, content: Buffer, digest: string): Buffer {
  if (!attrs) return content;
  let type: string | undefined;
  let md: Buffer | undefined;
  for (const attr of children(attrs)) {
    const [attrType, values] = children(expect(attr, TAG.SEQUENCE, 'attribute'));
    const name = oidOf(attrType, 'attribute type');
    const first = children(expect(values, TAG.SET, 'attribute values'))[0];
    if (name === OID.contentType) type = oidOf(first, 'content type');
    if (name === OID.messageDigest) md = expect(first, TAG.OCTET_STRING, 'message digest').content;
  }
  if (type !== OID.data) throw new CmsError('signed attributes lack content type "data"');
  if (!md?.equals(createHash(digest).update(content).digest())) {
    throw new CmsError('message digest does not match the content');
  }
  // The signature covers the attributes re-tagged as a SET (RFC 5652 5.4).
  return Buffer.concat([Buffer.from([TAG.SET]), attrs.raw.subarray(1)]);
}

/**
 * Checks a detached SignedData (DER) against `content`: structure, the signer's certificate, and its
 * signature. Throws `CmsError` with the reason when anything is wrong.
 */
export function verifyDetachedSignedData(cms: Buffer, content: Buffer): CmsVerified {
  try {
    const [type, wrapped] = children(expect(parseDer(cms), TAG.SEQUENCE, 'ContentInfo'));
    if (oidOf(type, 'content type') !== OID.signedData) throw new CmsError('not a CMS SignedData');
    const sd = children(expect(children(expect(wrapped, ctx(0), 'content'))[0], TAG.SEQUENCE, 'SignedData'));
    const encap = children(expect(sd[2], TAG.SEQUENCE, 'encapContentInfo'));
    if (oidOf(encap[0], 'eContentType') !== OID.data) throw new CmsError('signed content type is not "data"');
    if (encap.length > 1)
      throw new CmsError('the signature embeds content; a detached signature is expected');
    let at = 3;
    const certs: X509Certificate[] = [];
    if (sd[at]?.tag === ctx(0)) {
      for (const c of children(sd[at] as DerNode)) {
        if (c.tag === TAG.SEQUENCE) certs.push(new X509Certificate(c.raw));
      }
      at++;
    }
    if (sd[at]?.tag === ctx(1)) at++; // CRLs: ignored
    const signerInfos = children(expect(sd[at], TAG.SET, 'signerInfos'));
    if (signerInfos.length !== 1) throw new CmsError(`expected one signer, found ${signerInfos.length}`);
    const si = children(expect(signerInfos[0], TAG.SEQUENCE, 'SignerInfo'));
    if (!si[1]) throw new CmsError('SignerInfo without a signer identifier');
    const signer = findSigner(certs, si[1]);
    const digest =
      DIGESTS[oidOf(children(expect(si[2], TAG.SEQUENCE, 'digestAlgorithm'))[0], 'digest algorithm')];
    if (!digest) throw new CmsError('unsupported digest algorithm');
    let i = 3;
    const attrs = si[i]?.tag === ctx(0) ? si[i++] : undefined;
    const sigAlgOid = oidOf(
      children(expect(si[i++], TAG.SEQUENCE, 'signatureAlgorithm'))[0],
      'signature algorithm',
    );
    if (sigAlgOid === OID.rsaPss) throw new CmsError('RSASSA-PSS signatures are not supported');
    const alg = SIGNATURE_ALGS[sigAlgOid];
    if (!alg) throw new CmsError(`unsupported signature algorithm ${sigAlgOid}`);
    if (alg.digest && alg.digest !== digest) throw new CmsError('signature and digest algorithms disagree');
    const keyType = signer.publicKey.asymmetricKeyType;
    if (keyType !== alg.key)
      throw new CmsError(`signature algorithm does not fit the ${keyType ?? 'unknown'} key`);
    const signature = expect(si[i], TAG.OCTET_STRING, 'signature').content;
    if (!cryptoVerify(digest, signedBytes(attrs, content, digest), signer.publicKey, signature)) {
      throw new CmsError('the signature does not match the signed content');
    }
    return { signer, certificates: certs, digest };
  } catch (err) {
    if (err instanceof CmsError) throw err;
    if (err instanceof DerError) throw new CmsError(`malformed signature: ${err.message}`);
    throw new CmsError(`malformed signature: ${(err as Error).message}`);
  }
}
