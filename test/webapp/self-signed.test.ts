// Generated certificates: a real HTTPS server and client trusting it through `ca` (by name and by address),
// the files made once and reused, and clear errors for half-configured or mismatched pairs.
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, get, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import forge from 'node-forge';
import {
  createSelfSignedCertificate,
  type LoadOrCreateOptions,
  loadOrCreateCertificate,
  type SelfSignedCertificate,
} from '../../src/webapp/pki/self-signed.js';

const T = { timeout: 30_000 };

/** GET https://<host>:<port>/ with `servername` for SNI and the identity check; resolves body or error code. */
function fetchOver(host: string, port: number, servername: string, ca: string | undefined): Promise<string> {
  return new Promise((resolve) => {
    const req = get({ host, port, path: '/', ca, servername, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(`error:${err.code ?? err.message}`));
  });
}

function listen(server: Server, host: string): Promise<number | null> {
  return new Promise((resolve) => {
    server.once('error', () => resolve(null));
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
  });
}

describe('createSelfSignedCertificate', T, () => {
  let tls: SelfSignedCertificate;
  before(() => {
    tls = createSelfSignedCertificate({
      commonName: 'gatehouse',
      usage: 'tls-server',
      hosts: ['gh.example.com', '10.1.2.3', 'fe80::1'],
    });
  });

  it('names localhost, 127.0.0.1, ::1, the host name and the extra hosts; serverAuth; thumbprints match', () => {
    const x = new X509Certificate(tls.certPem);
    const san = x.subjectAltName ?? '';
    for (const want of [
      'DNS:localhost',
      'IP Address:127.0.0.1',
      'IP Address:0:0:0:0:0:0:0:1',
      `DNS:${hostname()}`,
    ]) {
      assert.ok(san.includes(want), `${want} in ${san}`);
    }
    for (const want of ['DNS:gh.example.com', 'IP Address:10.1.2.3', 'IP Address:FE80:0:0:0:0:0:0:1']) {
      assert.ok(san.toUpperCase().includes(want.toUpperCase()), `${want} in ${san}`);
    }
    assert.deepEqual(x.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.equal(x.subject, 'CN=gatehouse');
    assert.equal(tls.sha1Thumbprint, x.fingerprint.replace(/:/g, ''));
    assert.equal(tls.sha256Fingerprint, x.fingerprint256.replace(/:/g, ''));
    assert.ok(x.checkPrivateKey(createPrivateKey(tls.keyPem)));
    assert.equal((x.publicKey.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048, true);
  });

  it('serves HTTPS that a Node client trusts with `ca` for localhost, 127.0.0.1, ::1 and the host name', async () => {
    const server = createServer({ cert: tls.certPem, key: tls.keyPem }, (_req, res) => res.end('hello'));
    const port = await listen(server, '127.0.0.1');
    assert.ok(port);
    try {
      assert.equal(await fetchOver('127.0.0.1', port, 'localhost', tls.certPem), 'hello');
      assert.equal(await fetchOver('localhost', port, 'localhost', tls.certPem), 'hello');
      // No servername: the identity checked is the IP address itself.
      assert.equal(
        await new Promise<string>((resolve) => {
          get({ host: '127.0.0.1', port, ca: tls.certPem, timeout: 5000 }, (res) => {
            res.resume();
            res.on('end', () => resolve(String(res.statusCode)));
          }).on('error', (e: NodeJS.ErrnoException) => resolve(`error:${e.code}`));
        }),
        '200',
      );
      assert.equal(await fetchOver('127.0.0.1', port, hostname(), tls.certPem), 'hello');
      // Verification really happens: no `ca`, or a name not in the certificate, fails.
      assert.match(await fetchOver('127.0.0.1', port, 'localhost', undefined), /^error:.*SELF_SIGNED/);
      assert.equal(
        await fetchOver('127.0.0.1', port, 'other.example.org', tls.certPem),
        'error:ERR_TLS_CERT_ALTNAME_INVALID',
      );
    } finally {
      server.closeAllConnections();
      server.close();
    }
    const v6 = createServer({ cert: tls.certPem, key: tls.keyPem }, (_req, res) => res.end('six'));
    const port6 = await listen(v6, '::1');
    try {
      if (port6 !== null) {
        const got = await new Promise<string>((resolve) => {
          get({ host: '::1', port: port6, ca: tls.certPem, timeout: 5000 }, (res) => {
            let body = '';
            res.on('data', (d: Buffer) => {
              body += d.toString();
            });
            res.on('end', () => resolve(body));
          }).on('error', (e: NodeJS.ErrnoException) => resolve(`error:${e.code}`));
        });
        assert.equal(got, 'six');
      }
    } finally {
      v6.closeAllConnections();
      v6.close();
    }
  });

  it('code-signing certificates carry codeSigning (and serverAuth) and digitalSignature only', () => {
    const cs = createSelfSignedCertificate({
      commonName: 'Gatehouse publisher',
      usage: 'code-signing',
      days: 10,
    });
    const x = new X509Certificate(cs.certPem);
    assert.deepEqual([...(x.keyUsage ?? [])].sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.3']);
    assert.equal(x.subjectAltName, undefined);
    const days = (Date.parse(x.validTo) - Date.now()) / 86_400_000;
    assert.ok(days > 9.9 && days < 10.1, String(days));
  });

  it('refuses bad names, hosts and lifetimes', () => {
    assert.throws(() => createSelfSignedCertificate({ commonName: '', usage: 'tls-server' }), /commonName/);
    assert.throws(
      () => createSelfSignedCertificate({ commonName: 'a\nb', usage: 'tls-server' }),
      /commonName/,
    );
    assert.throws(
      () => createSelfSignedCertificate({ commonName: 'x'.repeat(65), usage: 'tls-server' }),
      /commonName/,
    );
    assert.throws(
      () => createSelfSignedCertificate({ commonName: 'x', usage: 'tls-server', hosts: ['bad host'] }),
      /neither/,
    );
    assert.throws(
      () => createSelfSignedCertificate({ commonName: 'x', usage: 'tls-server', days: 0 }),
      /days/,
    );
  });
});

describe('loadOrCreateCertificate', T, () => {
  let dir: string;
  let n = 0;
  const sub = () => join(dir, `d${n++}`);
  const opts = (over: Partial<LoadOrCreateOptions>): LoadOrCreateOptions => ({
    certFile: '',
    keyFile: '',
    dir: sub(),
    baseName: 'webapp-tls',
    commonName: 'gatehouse',
    usage: 'tls-server',
    configKey: 'webapp.tls',
    ...over,
  });
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-pki-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the pair once (key mode 0600) and reuses it', () => {
    const o = opts({});
    const first = loadOrCreateCertificate(o);
    assert.equal(first.created, true);
    assert.equal(first.certFile, join(o.dir, 'webapp-tls.crt'));
    assert.equal(first.keyFile, join(o.dir, 'webapp-tls.key'));
    assert.equal(statSync(first.keyFile).mode & 0o777, 0o600);
    assert.equal(statSync(o.dir).mode & 0o077, 0);
    const second = loadOrCreateCertificate(o);
    assert.equal(second.created, false);
    assert.equal(second.certPem, first.certPem);
    assert.equal(second.keyPem, first.keyPem);
    assert.equal(second.sha1Thumbprint, first.sha1Thumbprint);
    assert.ok(second.notAfter.getTime() > Date.now());
  });

  it('uses configured files, and needs both', () => {
    const made = loadOrCreateCertificate(opts({}));
    const used = loadOrCreateCertificate(opts({ certFile: made.certFile, keyFile: made.keyFile }));
    assert.equal(used.created, false);
    assert.equal(used.certFile, made.certFile);
    assert.equal(used.sha1Thumbprint, made.sha1Thumbprint);
    assert.throws(
      () => loadOrCreateCertificate(opts({ certFile: made.certFile })),
      /webapp\.tls\.keyFile is empty/,
    );
    assert.throws(
      () => loadOrCreateCertificate(opts({ keyFile: made.keyFile })),
      /webapp\.tls\.certFile is empty/,
    );
    assert.throws(
      () => loadOrCreateCertificate(opts({ certFile: join(dir, 'missing.crt'), keyFile: made.keyFile })),
      /webapp\.tls\.certFile: cannot read .*missing\.crt \(ENOENT\)/,
    );
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate');
    assert.throws(
      () => loadOrCreateCertificate(opts({ certFile: junk, keyFile: made.keyFile })),
      /webapp\.tls\.certFile.*no PEM certificate/,
    );
    assert.throws(
      () => loadOrCreateCertificate(opts({ certFile: made.certFile, keyFile: junk })),
      /webapp\.tls\.keyFile.*no PEM private key/,
    );
  });

  it('refuses a key that does not belong to the certificate', () => {
    const a = loadOrCreateCertificate(opts({}));
    const b = loadOrCreateCertificate(opts({}));
    assert.throws(
      () => loadOrCreateCertificate(opts({ certFile: a.certFile, keyFile: b.keyFile })),
      /webapp\.tls\.keyFile .* does not belong to the certificate in webapp\.tls\.certFile/,
    );
    // The generated pair is checked as well.
    const o = opts({});
    const made = loadOrCreateCertificate(o);
    writeFileSync(made.keyFile, readFileSync(b.keyFile));
    assert.throws(() => loadOrCreateCertificate(o), /does not belong/);
    rmSync(made.keyFile);
    assert.throws(() => loadOrCreateCertificate(o), /webapp-tls\.key is missing/);
  });

  it('makes a new TLS pair when a requested host is not in it; the signing pair stays', () => {
    const o = opts({ hosts: ['a.example.com', '192.0.2.7'] });
    const first = loadOrCreateCertificate(o);
    assert.equal(loadOrCreateCertificate({ ...o, hosts: ['A.example.com'] }).created, false);
    const moved = loadOrCreateCertificate({ ...o, hosts: ['b.example.com'] });
    assert.equal(moved.created, true);
    assert.notEqual(moved.sha1Thumbprint, first.sha1Thumbprint);
    assert.ok(new X509Certificate(moved.certPem).checkHost('b.example.com'));
    const sign = opts({ baseName: 'rdp-signing', usage: 'code-signing', configKey: 'webapp.rdpSigning' });
    const made = loadOrCreateCertificate(sign);
    assert.equal(
      loadOrCreateCertificate({ ...sign, hosts: ['c.example.com'] }).sha1Thumbprint,
      made.sha1Thumbprint,
    );
  });

  it('makes a new pair when the generated certificate has expired', () => {
    const o = opts({});
    const made = loadOrCreateCertificate(o);
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.setRsaPublicKey(
      (forge.pki.privateKeyFromPem(made.keyPem) as forge.pki.rsa.PrivateKey).n,
      (forge.pki.privateKeyFromPem(made.keyPem) as forge.pki.rsa.PrivateKey).e,
    );
    cert.serialNumber = '01';
    cert.validity.notBefore = new Date(Date.now() - 10 * 86_400_000);
    cert.validity.notAfter = new Date(Date.now() - 86_400_000);
    cert.setSubject([{ name: 'commonName', value: 'old' }]);
    cert.setIssuer([{ name: 'commonName', value: 'old' }]);
    cert.sign(forge.pki.privateKeyFromPem(made.keyPem), forge.md.sha256.create());
    writeFileSync(made.certFile, forge.pki.certificateToPem(cert));
    const renewed = loadOrCreateCertificate(o);
    assert.equal(renewed.created, true);
    assert.ok(renewed.notAfter.getTime() > Date.now());
    assert.notEqual(renewed.keyPem, made.keyPem);
  });
});
