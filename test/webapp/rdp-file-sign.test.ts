// .rdp signatures in rdpsign.exe's layout, checked three ways: verifyRdpFile, the openssl CLI over the exact
// signed bytes, and tampering with every signed line; plus signatures made by openssl and EC keys.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { createSelfSignedCertificate, type SelfSignedCertificate } from '../../src/webapp/pki/self-signed.js';
import { buildRdpFile } from '../../src/webapp/rdp-file/build.js';
import {
  rdpSignatureCms,
  rdpSignedContent,
  signRdpFile,
  verifyRdpFile,
} from '../../src/webapp/rdp-file/sign.js';
import { ALL_ON, input, settings } from './rdp-file-helpers.js';

const T = { timeout: 30_000 };

describe('.rdp signatures', T, () => {
  let dir: string;
  let signer: SelfSignedCertificate;
  let other: SelfSignedCertificate;
  let signed: string;
  const file = (name: string, data: string | Buffer) => {
    const p = join(dir, name);
    writeFileSync(p, data);
    return p;
  };
  /** `openssl cms -verify` of a detached signature over `content`, trusting `caPem`; exit code. */
  const opensslVerify = (cms: Buffer, content: Buffer, caPem: string): number =>
    spawnSync(
      'openssl',
      [
        'cms',
        '-verify',
        '-binary',
        '-inform',
        'DER',
        '-in',
        file('sig.der', cms),
        '-content',
        file('msg.bin', content),
      ].concat(['-CAfile', file('ca.pem', caPem), '-purpose', 'any', '-out', '/dev/null']),
      { timeout: 10_000, stdio: ['ignore', 'ignore', 'pipe'] },
    ).status ?? -1;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-rdp-'));
    signer = createSelfSignedCertificate({ commonName: 'Gatehouse test publisher', usage: 'code-signing' });
    other = createSelfSignedCertificate({ commonName: 'Someone else', usage: 'code-signing' });
    signed = signRdpFile(buildRdpFile(input({ username: 'alice', dlp: { ...ALL_ON, usb: false } })), signer);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('appends signscope and signature as the last two lines; the file keeps CRLF', () => {
    const lines = signed.split('\r\n');
    assert.equal(lines.pop(), '');
    assert.match(lines.at(-2) as string, /^signscope:s:Full Address,Alternate Full Address,/);
    assert.match(lines.at(-1) as string, /^signature:s:[A-Za-z0-9+/=]{64}( {2}[A-Za-z0-9+/=]{1,64})+$/);
    assert.ok(!/[^\r]\n/.test(signed));
    const s = settings(signed);
    assert.equal(s.get('signscope:s'), lines.at(-2)?.slice('signscope:s:'.length));
  });

  it('signs exactly the rdpsign layout: signed lines in scope order, signscope, NUL, UTF-16LE; 12-byte header', () => {
    const s = settings(signed);
    const scope = s.get('signscope:s') as string;
    let expected = '';
    for (const name of scope.split(',')) {
      const entry = [...s.entries()].find(([k]) => k.slice(0, -2) === name.toLowerCase());
      assert.ok(entry, `signed setting ${name} is in the file`);
      expected += `${entry[0]}:${entry[1]}\r\n`;
    }
    expected += `signscope:s:${scope}\r\n\u0000`;
    assert.deepEqual(rdpSignedContent(signed), Buffer.from(expected, 'utf16le'));
    // The covered settings include the address, the token and the redirect switches.
    for (const name of [
      'Full Address',
      'LoadBalanceInfo',
      'RedirectClipboard',
      'DrivesToRedirect',
      'AudioMode',
    ]) {
      assert.ok(scope.split(',').includes(name), name);
    }
    const blob = Buffer.from((s.get('signature:s') as string).replace(/ /g, ''), 'base64');
    assert.deepEqual([...blob.subarray(0, 8)], [1, 0, 1, 0, 1, 0, 0, 0]);
    assert.equal(blob.readUInt32LE(8), blob.length - 12);
    assert.deepEqual(blob.subarray(12), rdpSignatureCms(signed));
  });

  it('verifies with verifyRdpFile, trusted or not, and names the signer and thumbprint', () => {
    const r = verifyRdpFile(signed, signer.certPem);
    assert.equal(r.valid, true, r.reason);
    assert.match(r.signer ?? '', /Gatehouse test publisher/);
    assert.equal(r.sha1Thumbprint, signer.sha1Thumbprint);
    assert.equal(verifyRdpFile(signed).valid, true);
    const untrusted = verifyRdpFile(signed, other.certPem);
    assert.equal(untrusted.valid, false);
    assert.match(untrusted.reason ?? '', /not a trusted/);
  });

  it('verifies with openssl cms -verify over the exact signed bytes (and fails with another CA)', () => {
    const content = rdpSignedContent(signed);
    const cms = rdpSignatureCms(signed);
    assert.equal(opensslVerify(cms, content, signer.certPem), 0);
    assert.notEqual(opensslVerify(cms, content, other.certPem), 0);
    const tampered = Buffer.from(content);
    tampered[0] = (tampered[0] as number) ^ 1;
    assert.notEqual(opensslVerify(cms, tampered, signer.certPem), 0);
    // openssl's own reading of the structure: SHA-256, no signed attributes, detached.
    const printed = execFileSync(
      'openssl',
      ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', file('p.der', cms)],
      {
        timeout: 10_000,
      },
    ).toString();
    assert.match(printed, /digestAlgorithm:\s+algorithm: sha256/);
    assert.match(printed, /eContent: <ABSENT>/);
    assert.match(printed, /signedAttrs:\s+<ABSENT>/);
  });

  it('tampering with any signed line, the scope or the signature breaks verification', () => {
    const lines = signed.split('\r\n');
    const scopeNames = (settings(signed).get('signscope:s') as string).split(',').map((n) => n.toLowerCase());
    let checked = 0;
    lines.forEach((line, i) => {
      const name = line.split(':')[0] as string;
      if (!scopeNames.includes(name)) return;
      const changed = [...lines];
      changed[i] =
        line.endsWith('0') || line.endsWith('1')
          ? `${line.slice(0, -1)}${line.endsWith('0') ? 2 : 0}`
          : `${line}x`;
      const r = verifyRdpFile(changed.join('\r\n'), signer.certPem);
      assert.equal(r.valid, false, `changed ${line}`);
      const removed = lines.filter((_, j) => j !== i).join('\r\n');
      assert.equal(verifyRdpFile(removed, signer.certPem).valid, false, `removed ${line}`);
      checked++;
    });
    assert.equal(checked, scopeNames.length);
    const bad = (text: string, why: RegExp) => {
      const r = verifyRdpFile(text, signer.certPem);
      assert.equal(r.valid, false);
      assert.match(r.reason ?? '', why);
    };
    bad(signed.replace(/signscope:s:Full Address,/, 'signscope:s:'), /not covered|does not match/);
    bad(`alternate shell:s:cmd.exe\r\n${signed}`, /alternate shell.*not covered/);
    bad(`full address:s:evil:3389\r\n${signed}`, /appears 2 times/);
    bad(signed.replace(/signature:s:.{20}/, 'signature:s:AAAAAAAAAAAAAAAAAAAA'), /header|malformed|match/);
    bad(signed.replace(/signature:s:.*/, 'signature:s:!!!'), /base64/);
    bad(signed.replace(/\r\nsignature:s:.*/, ''), /not signed/);
    bad(buildRdpFile(input()), /not signed/);
  });

  it('unsigned lines may change without breaking the signature', () => {
    const changed = signed
      .replace('screen mode id:i:2', 'screen mode id:i:1')
      .replace('usbdevicestoredirect:s:', 'usbdevicestoredirect:s:*')
      .replace('username:s:alice', 'username:s:mallory')
      .replace(/signature:s:(.*)/, (_, v: string) => `signature:s:${v.replace(/ /g, '')}`);
    const r = verifyRdpFile(`desktopwidth:i:1024\r\n${changed}`, signer.certPem);
    assert.equal(r.valid, true, r.reason);
    // Line ends do not matter to the signature (it covers re-derived CRLF lines).
    assert.equal(verifyRdpFile(signed.replace(/\r\n/g, '\n'), signer.certPem).valid, true);
  });

  it('verifies signatures made by openssl, with and without signed attributes', () => {
    const content = rdpSignedContent(signed);
    const certFile = file('signer.crt', signer.certPem);
    const keyFile = file('signer.key', signer.keyPem);
    for (const extra of [['-noattr'], []]) {
      const cms = execFileSync(
        'openssl',
        [
          'cms',
          '-sign',
          '-binary',
          '-md',
          'sha256',
          '-outform',
          'DER',
          '-signer',
          certFile,
          '-inkey',
          keyFile,
        ].concat(extra, ['-in', file('in.bin', content)]),
        { timeout: 10_000 },
      );
      const header = Buffer.alloc(12);
      header.writeUInt32LE(0x00010001, 0);
      header.writeUInt32LE(1, 4);
      header.writeUInt32LE(cms.length, 8);
      const value = Buffer.concat([header, cms]).toString('base64');
      const text = signed.replace(/signature:s:.*/, `signature:s:${value}`);
      const r = verifyRdpFile(text, signer.certPem);
      assert.equal(r.valid, true, `${extra.join(' ') || 'with attributes'}: ${r.reason}`);
    }
  });

  it('signs with an EC key too', () => {
    const keyFile = file('ec.key', '');
    const certFile = join(dir, 'ec.crt');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'].concat([
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '2',
        '-subj',
        '/CN=EC publisher',
      ]),
      { timeout: 10_000, stdio: 'ignore' },
    );
    const ec = { certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') };
    const text = signRdpFile(buildRdpFile(input()), ec);
    assert.equal(verifyRdpFile(text, ec.certPem).valid, true);
    assert.equal(opensslVerify(rdpSignatureCms(text), rdpSignedContent(text), ec.certPem), 0);
  });

  it('re-signing replaces the old signature; bad input and mismatched keys are refused', () => {
    const again = signRdpFile(signed, other);
    assert.equal(again.match(/^signscope:/gm)?.length, 1);
    assert.equal(again.match(/^signature:/gm)?.length, 1);
    assert.equal(verifyRdpFile(again, other.certPem).valid, true);
    assert.throws(
      () => signRdpFile(buildRdpFile(input()), { certPem: signer.certPem, keyPem: other.keyPem }),
      /does not belong/,
    );
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    assert.throws(
      () => signRdpFile(buildRdpFile(input()), { certPem: signer.certPem, keyPem: String(rsa) }),
      /does not belong/,
    );
    assert.throws(() => signRdpFile('screen mode id:i:1\r\n', signer), /full address/);
    assert.throws(() => signRdpFile('full address:s:a\r\nfull address:s:b\r\n', signer), /more than once/);
    assert.throws(() => signRdpFile('full address:i:1\r\n', signer), /type s/);
    assert.throws(() => signRdpFile('full address:s:a\rb\r\n', signer), /control/);
    assert.throws(() => signRdpFile('garbage\r\n', signer), /not a "name:type:value"/);
    assert.throws(
      () => signRdpFile(buildRdpFile(input()), { certPem: 'nope', keyPem: signer.keyPem }),
      /no PEM certificate/,
    );
  });

  it('verifyRdpFile never throws on garbage', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), fc.string({ unit: 'binary', maxLength: 200 }), (a, b) => {
        const r1 = verifyRdpFile(a);
        const r2 = verifyRdpFile(
          signed.replace(/signature:s:.*/, `signature:s:${Buffer.from(b).toString('base64')}`),
        );
        const r3 = verifyRdpFile(`${signed.slice(0, signed.length / 2)}${b}`);
        assert.equal(r1.valid || r2.valid || r3.valid, false);
      }),
      { numRuns: 300 },
    );
    assert.equal(verifyRdpFile('x'.repeat(10_000_000)).valid, false);
  });
});
