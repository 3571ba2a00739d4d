// `gatehouse token` as users run it: key pair generation, minting (verified with the proxy's redeemer), and
// usage errors (exit 2, naming the option).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { loadPublicKeys, parseEncryptionKey, parsePrivateKey } from '../../src/proxy/auth/keys.js';
import { SignedTokenRedeemer } from '../../src/proxy/auth/signed.js';
import { DEFAULT_POLICY } from '../../src/proxy/types.js';
import { gatehouse } from '../helpers/cli.js';

const HINT = "Run 'gatehouse --help' for usage.";
const CTX = { remoteAddress: '127.0.0.1' };

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-token-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const keys = join(dir, 'keys');
const PRIV = join(keys, 'token-private.pem');
const PUB = join(keys, 'token-public.pem');

function redeemerFor(options: { audience?: string; encryptionKey?: Uint8Array } = {}): SignedTokenRedeemer {
  return new SignedTokenRedeemer({
    publicKeys: loadPublicKeys([PUB]),
    claimOnce: () => Promise.resolve(true),
    ...options,
  });
}

describe('gatehouse token', { timeout: 60_000 }, () => {
  before(async () => {
    const r = await gatehouse(['token', '--generate-key', keys]);
    assert.equal(r.code, 0, r.stderr);
  });

  it('--help describes the command and every option', async () => {
    const r = await gatehouse(['token', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: gatehouse token \[--key FILE\] \[--target URL\] \[--param NAME=VALUE\]/);
    for (const o of [
      'key',
      'target',
      'param',
      'policy',
      'guacd',
      'user',
      'ttl',
      'audience',
      'issuer',
      'kid',
    ]) {
      assert.match(r.stdout, new RegExp(`\\n {2,}--${o} `), o);
    }
    assert.match(r.stdout, /--encryption-key FILE/);
    assert.match(r.stdout, /--generate-key DIR/);
    assert.match(r.stdout, /GATEHOUSE_TOKEN_KEY/);
  });

  it('--generate-key writes a PEM pair (private 0600) and prints the kid; never replaces files', async () => {
    const info = readFileSync(PRIV, 'utf8');
    assert.match(info, /^-----BEGIN PRIVATE KEY-----/);
    assert.match(readFileSync(PUB, 'utf8'), /^-----BEGIN PUBLIC KEY-----/);
    assert.equal(statSync(PRIV).mode & 0o777, 0o600);
    assert.equal(statSync(PUB).mode & 0o777, 0o644);
    const fresh = join(dir, 'fresh');
    const r = await gatehouse(['token', '--generate-key', fresh]);
    assert.equal(r.code, 0);
    const kid = /kid: +(\S+)/.exec(r.stdout)?.[1];
    assert.equal(kid, parsePrivateKey(readFileSync(join(fresh, 'token-private.pem'), 'utf8'), 'k').kid);
    const again = await gatehouse(['token', '--generate-key', fresh]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /^gatehouse: invalid value for --generate-key: .*exists already/);
  });

  it('mints a token the proxy redeems: target, params, policy, guacd, user, ttl', async () => {
    const r = await gatehouse([
      'token',
      '--key',
      PRIV,
      '--target',
      'vnc://10.0.0.5:5901',
      '--param',
      'password=s3cret=x',
      '--param',
      'color-depth=24',
      '--policy',
      'read-only,disable-copy',
      '--guacd',
      'guacd://127.0.0.1:4822',
      '--user',
      'alice',
      '--ttl',
      '60',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const token = r.stdout.trim();
    assert.equal(r.stdout, `${token}\n`);
    const claims = decodeJwt(token);
    assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), 60);
    assert.equal(claims.aud, 'gatehouse-proxy');
    const grant = await redeemerFor().redeem(token, CTX);
    assert.equal(grant.user, 'alice');
    assert.equal(grant.id, claims.jti);
    assert.deepEqual(grant.target, {
      protocol: 'vnc',
      params: { hostname: '10.0.0.5', port: '5901', password: 's3cret=x', 'color-depth': '24' },
      guacd: 'guacd://127.0.0.1:4822',
    });
    assert.deepEqual(grant.policy, { ...DEFAULT_POLICY, readOnly: true, disableCopy: true });
  });

  it('key from GATEHOUSE_TOKEN_KEY; default port; IPv6 host; audience, issuer; JWE with --encryption-key', async () => {
    const secret = Buffer.alloc(32, 7).toString('base64');
    const secretFile = join(dir, 'secret.b64');
    writeFileSync(secretFile, `${secret}\n`);
    const [env, v6, enc] = await Promise.all([
      gatehouse(['token', '--target', 'vnc://desk.example'], {
        GATEHOUSE_TOKEN_KEY: readFileSync(PRIV, 'utf8'),
      }),
      gatehouse([
        'token',
        '--key',
        PRIV,
        '--target',
        'rdp://[::1]',
        '--audience',
        'mine',
        '--issuer',
        'portal',
      ]),
      gatehouse(['token', '--key', PRIV, '--target', 'ssh://h', '--encryption-key', secretFile]),
    ]);
    for (const r of [env, v6, enc]) assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await redeemerFor().redeem(env.stdout.trim(), CTX)).target.params, {
      hostname: 'desk.example',
      port: '5900',
    });
    const g6 = await redeemerFor({ audience: 'mine' }).redeem(v6.stdout.trim(), CTX);
    assert.deepEqual(g6.target, { protocol: 'rdp', params: { hostname: '::1', port: '3389' } });
    assert.equal(decodeJwt(v6.stdout.trim()).iss, 'portal');
    const encToken = enc.stdout.trim();
    assert.equal(encToken.split('.').length, 5);
    const ge = await redeemerFor({ encryptionKey: parseEncryptionKey(secret, 's') }).redeem(encToken, CTX);
    assert.equal(ge.target.params.port, '22');
  });

  it('warns when --ttl is over the configured maximum lifetime', async () => {
    const r = await gatehouse(['token', '--key', PRIV, '--target', 'vnc://h', '--ttl', '600']);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /warning: --ttl 600 is over proxyAuth\.signed\.maxLifetimeSeconds \(300\)/);
  });

  it('bad input: exit 2, nothing on stdout, a message naming the option', async () => {
    const pubAsKey = PUB;
    const badSecret = join(dir, 'bad-secret');
    writeFileSync(badSecret, 'too short');
    const k = ['--key', PRIV];
    const cases: [string[], RegExp, NodeJS.ProcessEnv?][] = [
      [[...k], /^gatehouse: missing --target/],
      [[...k, '--target', 'vnc//host'], /^gatehouse: invalid value for --target: 'vnc\/\/host'/],
      [[...k, '--target', 'VNC://host'], /^gatehouse: invalid value for --target: protocol 'VNC'/],
      [[...k, '--target', 'foo://host'], /^gatehouse: invalid value for --target: .*no default port/],
      [[...k, '--target', 'vnc://host:70000'], /^gatehouse: invalid value for --target: port 70000/],
      [[...k, '--target', 'vnc://u:p@host'], /^gatehouse: invalid value for --target/],
      [
        [...k, '--target', 'vnc://h', '--param', 'novalue'],
        /^gatehouse: invalid value for --param: 'novalue'/,
      ],
      [
        [...k, '--target', 'vnc://h', '--param', 'port=1'],
        /^gatehouse: invalid value for --param: 'port' is set by --target/,
      ],
      [[...k, '--target', 'vnc://h', '--param', 'a=1', '--param', 'a=2'], /--param: 'a' given twice/],
      [[...k, '--target', 'vnc://h', '--param', `a=${'x'.repeat(4097)}`], /--param: 'a' is longer than 4096/],
      [
        [...k, '--target', 'vnc://h', '--policy', 'read-only,fly'],
        /^gatehouse: invalid value for --policy: 'fly'/,
      ],
      [[...k, '--target', 'vnc://h', '--guacd', 'tcp://g:1'], /^gatehouse: invalid value for --guacd/],
      [[...k, '--target', 'vnc://h', '--ttl', '0'], /^gatehouse: invalid value for --ttl: '0'/],
      [[...k, '--target', 'vnc://h', '--ttl', '5m'], /^gatehouse: invalid value for --ttl: '5m'/],
      [[...k, '--target', 'vnc://h', '--ttl', '86401'], /^gatehouse: invalid value for --ttl/],
      [[...k, '--target', 'vnc://h', '--audience', ''], /--audience/],
      [
        [...k, '--target', 'vnc://h', '--encryption-key', badSecret],
        /^gatehouse: invalid value for --encryption-key/,
      ],
      [
        ['--key', join(dir, 'none.pem'), '--target', 'vnc://h'],
        /^gatehouse: invalid value for --key: cannot read .*ENOENT/,
      ],
      [['--key', pubAsKey, '--target', 'vnc://h'], /^gatehouse: invalid value for --key: .*no PKCS#8/],
      [['--target', 'vnc://h'], /^gatehouse: no signing key: give --key FILE or set GATEHOUSE_TOKEN_KEY/],
      [
        ['--target', 'vnc://h'],
        /^gatehouse: invalid value for --key: GATEHOUSE_TOKEN_KEY/,
        { GATEHOUSE_TOKEN_KEY: 'x' },
      ],
      [
        ['--generate-key', dir, '--target', 'vnc://h'],
        /^gatehouse: --generate-key cannot be combined with --target/,
      ],
      [[...k, '--target', 'vnc://h', '--set', 'log.level=loud'], /invalid configuration: log\.level/],
    ];
    const results = await Promise.all(cases.map(([args, , env]) => gatehouse(['token', ...args], env)));
    results.forEach((r, i) => {
      const [args, re] = cases[i]!;
      const what = args.join(' ').slice(0, 100);
      assert.equal(r.code, 2, `${what}: exit ${r.code}, ${r.stderr}`);
      assert.equal(r.stdout, '', what);
      assert.match(r.stderr, re, what);
      if (!/invalid configuration/.test(r.stderr)) assert.ok(r.stderr.includes(HINT), what);
    });
  });
});
