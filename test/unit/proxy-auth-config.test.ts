// The proxyAuth configuration section (schema, defaults), keys in every accepted form, and the redeemer built
// from configuration with its start-up errors naming the key at fault.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { envVarName } from '../../src/config/env.js';
import { defaultsOf, leafPaths } from '../../src/config/schema-node.js';
import {
  type ProxyAuthConfig,
  proxyAuthSchema,
  publicKeyEntries,
} from '../../src/config/sections/proxy-auth.js';
import {
  AuthConfigError,
  checkProxyAuthConfig,
  createRedeemer,
  createTokenRedeemer,
} from '../../src/proxy/auth/from-config.js';
import {
  generateSigningKeyPair,
  KeyError,
  keyId,
  loadPublicKeys,
  parseEncryptionKey,
  parsePrivateKey,
  parsePublicKeys,
} from '../../src/proxy/auth/keys.js';
import { mintToken } from '../../src/proxy/auth/mint.js';
import {
  claimsSchema,
  policySchema,
  redeemErrorSchema,
  redeemRequestSchema,
  redeemResponseSchema,
  registerErrorSchema,
  registerRequestSchema,
  registerResponseSchema,
  targetSchema,
} from '../../src/proxy/auth/schemas.js';
import { grantSummary } from '../../src/proxy/auth/summary.js';
import { fromRoot } from '../helpers/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-auth-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string): string => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

const defaults = (): ProxyAuthConfig =>
  structuredClone(defaultsOf(proxyAuthSchema) as unknown as ProxyAuthConfig);
const claimOnce = (): Promise<boolean> => Promise.resolve(true);
const CTX = { remoteAddress: '127.0.0.1' };
const TARGET = { protocol: 'vnc', params: { hostname: 'h', port: '5900' } };

describe('proxyAuth configuration section', { timeout: 20_000 }, () => {
  it('compiles under strict ajv; the defaults are valid; every key has a default and a description', () => {
    const validate = new Ajv({ strict: true, allErrors: true }).compile({
      type: 'object',
      additionalProperties: false,
      properties: { proxyAuth: proxyAuthSchema },
    });
    assert.ok(validate({ proxyAuth: defaultsOf(proxyAuthSchema) }), JSON.stringify(validate.errors));
    assert.deepEqual(defaults(), {
      mode: 'signed',
      signed: {
        publicKeys: [],
        audience: 'gatehouse-proxy',
        issuer: '',
        maxLifetimeSeconds: 300,
        clockSkewSeconds: 30,
        encryptionKey: '',
      },
      webapp: {
        url: '',
        proxyId: '',
        proxyToken: '',
        timeoutMs: 5000,
        caFile: '',
        allowInsecureHttp: false,
        advertiseUrl: '',
        zone: '',
      },
    });
    const root = { type: 'object' as const, properties: { proxyAuth: proxyAuthSchema } };
    const paths = leafPaths(root);
    assert.equal(paths.length, 15);
    for (const path of paths) {
      let node: { properties?: Record<string, unknown> } | undefined = root;
      for (const p of path) node = node?.properties?.[p] as typeof node;
      const leaf = node as { default?: unknown; description?: string };
      assert.notEqual(leaf.default, undefined, `${path.join('.')} has a default`);
      assert.ok(leaf.description, `${path.join('.')} has a description`);
    }
    assert.equal(
      envVarName(['proxyAuth', 'signed', 'publicKeys']),
      'GATEHOUSE_PROXY_AUTH__SIGNED__PUBLIC_KEYS',
    );
    // Wrong values are refused.
    for (const bad of [
      { mode: 'jwt' },
      { signed: { maxLifetimeSeconds: 0 } },
      { signed: { audience: '' } },
      { signed: { publicKeys: [''] } },
      { webapp: { timeoutMs: 50 } },
      { webapp: { extra: 1 } },
    ]) {
      assert.equal(validate({ proxyAuth: bad }), false, JSON.stringify(bad));
    }
    assert.ok(validate({ proxyAuth: { signed: { publicKeys: '/etc/gatehouse/token-public.pem' } } }));
    assert.deepEqual(publicKeyEntries('/a.pem'), ['/a.pem']);
    assert.deepEqual(publicKeyEntries(''), []);
  });
});

describe('keys', { timeout: 20_000 }, () => {
  const a = generateSigningKeyPair();
  const b = generateSigningKeyPair();

  it('public keys: PEM (several blocks), JWK with or without kid, JWK Set; kid = RFC 7638 thumbprint', () => {
    const [pa] = parsePublicKeys(a.publicPem, 'x');
    assert.equal(pa?.kid, a.kid);
    assert.equal(parsePublicKeys(a.publicPem + b.publicPem, 'x').length, 2);
    const jwk = pa!.key.export({ format: 'jwk' });
    assert.equal(parsePublicKeys(JSON.stringify(jwk), 'x')[0]?.kid, a.kid);
    assert.equal(parsePublicKeys(JSON.stringify({ ...jwk, kid: 'k1' }), 'x')[0]?.kid, 'k1');
    const set = parsePublicKeys(
      JSON.stringify({
        keys: [
          { ...jwk, kid: 'k1' },
          { ...jwk, kid: 'k2' },
        ],
      }),
      'x',
    );
    assert.deepEqual(
      set.map((k) => k.kid),
      ['k1', 'k2'],
    );
    // RFC 8037 appendix A.3: the thumbprint of the example Ed25519 key.
    const rfc = parsePublicKeys(
      '{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}',
      'x',
    );
    assert.equal(rfc[0]?.kid, 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k');
    assert.equal(keyId(rfc[0]!.key), 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k');
  });

  it('refuses private keys, other key types, garbage and duplicate kids, naming where', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const cases: [string, RegExp][] = [
      [a.privatePem, /PRIVATE KEY block/],
      [rsa.publicKey.export({ format: 'pem', type: 'spki' }).toString(), /rsa key; Ed25519 is required/],
      ['hello', /no PEM block/],
      ['{"kty":"OKP"', /not valid JSON/],
      ['{"kty":"EC","crv":"P-256","x":"a","y":"b"}', /not an Ed25519 public JWK/],
      [JSON.stringify(parsePrivateKey(a.privatePem, 'p').key.export({ format: 'jwk' })), /private key/],
      ['{"keys":[]}', /no keys/],
    ];
    for (const [text, re] of cases)
      assert.throws(
        () => parsePublicKeys(text, 'here'),
        (e: Error) => e instanceof KeyError && /^here/.test(e.message) && re.test(e.message),
      );
    assert.throws(() => loadPublicKeys([a.publicPem, a.publicPem]), /two keys have the kid/);
    assert.throws(
      () => loadPublicKeys([join(dir, 'missing.pem')], { label: 'L' }),
      /^KeyError: L\[0\]: cannot read .*ENOENT/,
    );
  });

  it('private keys: PKCS#8 PEM or private JWK (its kid kept); public, RSA and encrypted keys refused', () => {
    assert.equal(parsePrivateKey(a.privatePem, 'k').kid, a.kid);
    const jwk = parsePrivateKey(a.privatePem, 'k').key.export({ format: 'jwk' });
    assert.equal(parsePrivateKey(JSON.stringify({ ...jwk, kid: 'mine' }), 'k').kid, 'mine');
    assert.throws(() => parsePrivateKey(a.publicPem, 'k'), /no PKCS#8/);
    assert.throws(() => parsePrivateKey(JSON.stringify({ ...jwk, d: undefined }), 'k'), /public JWK/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      format: 'pem',
      type: 'pkcs8',
    });
    assert.throws(() => parsePrivateKey(rsa.toString(), 'k'), /Ed25519 is required/);
    assert.throws(
      () =>
        parsePrivateKey(
          '-----BEGIN ENCRYPTED PRIVATE KEY-----\nAA==\n-----END ENCRYPTED PRIVATE KEY-----',
          'k',
        ),
      /encrypted/,
    );
  });

  it('encryption key: 32 bytes in base64 or base64url, nothing else', () => {
    const bytes = randomBytes(32);
    assert.deepEqual(Buffer.from(parseEncryptionKey(bytes.toString('base64'), 'e')), bytes);
    assert.deepEqual(Buffer.from(parseEncryptionKey(bytes.toString('base64url'), 'e')), bytes);
    for (const bad of ['', 'short', randomBytes(16).toString('base64'), randomBytes(48).toString('base64')]) {
      assert.throws(() => parseEncryptionKey(bad, 'e'), KeyError);
    }
  });
});

describe('createTokenRedeemer', { timeout: 20_000 }, () => {
  const a = generateSigningKeyPair();
  const b = generateSigningKeyPair();
  const privA = parsePrivateKey(a.privatePem, 'a');
  const privB = parsePrivateKey(b.privatePem, 'b');

  it('signed mode: keys from a file (relative to cwd) and inline JWK; tokens of both verify', async () => {
    write('a.pub', a.publicPem);
    const cfg = defaults();
    const jwk = parsePublicKeys(b.publicPem, 'b')[0]!.key.export({ format: 'jwk' });
    cfg.signed.publicKeys = ['a.pub', JSON.stringify(jwk)];
    const r = createTokenRedeemer(cfg, { claimOnce, cwd: dir });
    assert.equal(r.mode, 'signed');
    for (const p of [privA, privB]) {
      const token = await mintToken({ privateKey: p.key, kid: p.kid, target: TARGET, ttlSeconds: 60 });
      assert.deepEqual((await r.redeem(token, CTX)).target, TARGET);
    }
    r.close();
  });

  it('signed mode with an encryption key and an issuer', async () => {
    const secret = randomBytes(32);
    const cfg = defaults();
    cfg.signed.publicKeys = a.publicPem;
    cfg.signed.encryptionKey = secret.toString('base64');
    cfg.signed.issuer = 'portal';
    const lines: string[] = [];
    const r = createTokenRedeemer(cfg, { claimOnce, log: { info: (_o, msg) => lines.push(msg) } });
    assert.deepEqual(lines, ['token auth: signed tokens, 1 public key(s)']);
    const base = { privateKey: privA.key, kid: privA.kid, target: TARGET, ttlSeconds: 60, issuer: 'portal' };
    await r.redeem(await mintToken({ ...base, encryptionKey: new Uint8Array(secret) }), CTX);
    await assert.rejects(r.redeem(await mintToken(base), CTX), { status: 0x0301 });
  });

  it('start-up errors name the key: no keys, unreadable file, bad key, bad secret, webapp keys missing', () => {
    const cases: [(c: ProxyAuthConfig) => void, RegExp][] = [
      [() => {}, /^proxyAuth\.signed\.publicKeys is empty/],
      [(c) => (c.signed.publicKeys = ['nope.pem']), /^proxyAuth\.signed\.publicKeys\[0\]: cannot read/],
      [
        (c) => (c.signed.publicKeys = [a.privatePem]),
        /^proxyAuth\.signed\.publicKeys\[0\] is a PRIVATE KEY block/,
      ],
      [
        (c) => {
          c.signed.publicKeys = [a.publicPem];
          c.signed.encryptionKey = 'abc';
        },
        /^proxyAuth\.signed\.encryptionKey must be 32 bytes/,
      ],
      [(c) => (c.mode = 'webapp'), /^proxyAuth\.webapp\.url is required/],
      [
        (c) => Object.assign(c, { mode: 'webapp', webapp: { ...c.webapp, url: 'https://w/', proxyId: 'p' } }),
        /^proxyAuth\.webapp\.proxyToken is required/,
      ],
      [
        (c) =>
          Object.assign(c, {
            mode: 'webapp',
            webapp: { ...c.webapp, url: 'http://w/', proxyId: 'p', proxyToken: 't' },
          }),
        /^proxyAuth\.webapp: webapp url must be https/,
      ],
      [
        (c) =>
          Object.assign(c, {
            mode: 'webapp',
            webapp: {
              ...c.webapp,
              url: 'https://w/',
              proxyId: 'p',
              proxyToken: 't',
              caFile: write('ca.pem', 'x'),
            },
          }),
        /^proxyAuth\.webapp\.caFile: .* holds no PEM certificate/,
      ],
    ];
    for (const [change, re] of cases) {
      const cfg = defaults();
      change(cfg);
      assert.throws(
        () => createTokenRedeemer(cfg, { claimOnce, cwd: dir }),
        (e: Error) => e instanceof AuthConfigError && re.test(e.message),
        re.source,
      );
    }
  });

  it('webapp mode builds a redeemer; createRedeemer takes a whole configuration (defaults without the section)', () => {
    const cfg = defaults();
    cfg.mode = 'webapp';
    cfg.webapp = { ...cfg.webapp, url: 'https://webapp.example/redeem', proxyId: 'p1', proxyToken: 'secret' };
    const r = createRedeemer({ log: {}, proxyAuth: cfg }, { claimOnce });
    assert.equal(r.mode, 'webapp');
    r.close();
    assert.throws(() => createRedeemer({ log: {} }, { claimOnce }), /publicKeys is empty/);
    assert.throws(() => checkProxyAuthConfig({ log: {} }), AuthConfigError);
    checkProxyAuthConfig({ proxyAuth: cfg });
  });

  it('grantSummary leaves the connection parameters (passwords) out', () => {
    const s = grantSummary({
      id: 'g',
      user: 'u',
      target: { protocol: 'vnc', params: { hostname: 'h', port: '1', password: 'pw' }, guacd: 'guacd://g:1' },
      policy: {
        disableCopy: true,
        disablePaste: false,
        disableDownload: false,
        disableUpload: false,
        readOnly: false,
      },
    });
    assert.ok(!JSON.stringify(s).includes('pw'));
    assert.equal(s.hostname, 'h');
    assert.equal(s.guacd, 'guacd://g:1');
  });
});

describe('docs/proxy-auth.schema.json', () => {
  const bundle = JSON.parse(readFileSync(fromRoot('docs', 'proxy-auth.schema.json'), 'utf8'));

  /** The schema with $refs resolved and annotations (description, title) removed. */
  function plain(node: unknown): unknown {
    if (Array.isArray(node)) return node.map(plain);
    if (typeof node !== 'object' || node === null) return node;
    const o = node as Record<string, unknown>;
    if (typeof o.$ref === 'string') return plain(bundle.$defs[o.$ref.replace('#/$defs/', '')]);
    return Object.fromEntries(
      Object.entries(o)
        .filter(([k]) => !['description', 'title', '$schema', '$id'].includes(k))
        .map(([k, v]) => [k, plain(v)]),
    );
  }

  it('is the schemas the code validates with', () => {
    const code: Record<string, unknown> = {
      target: targetSchema,
      policy: policySchema,
      claims: claimsSchema,
      redeemRequest: redeemRequestSchema,
      redeemResponse: redeemResponseSchema,
      redeemError: redeemErrorSchema,
      registerRequest: registerRequestSchema,
      registerResponse: registerResponseSchema,
      registerError: registerErrorSchema,
    };
    assert.deepEqual(Object.keys(bundle.$defs).sort(), Object.keys(code).sort());
    for (const [name, schema] of Object.entries(code)) {
      assert.deepEqual(plain(bundle.$defs[name]), JSON.parse(JSON.stringify(schema)), name);
    }
  });

  it('loads in a stock ajv and accepts the documented examples', () => {
    const ajv = new Ajv({ strict: true });
    ajv.addSchema(bundle);
    const check = (def: string, value: unknown): boolean =>
      ajv.validate(`https://gatehouse.invalid/schemas/proxy-auth.json#/$defs/${def}`, value);
    const target = { protocol: 'vnc', params: { hostname: '10.0.0.5', port: '5900', password: 'secret' } };
    assert.ok(
      check('redeemRequest', {
        token: 'one-time-token',
        proxy: { id: 'proxy-eu-1' },
        client: { remoteAddress: '203.0.113.9', userAgent: 'Mozilla/5.0' },
      }),
    );
    assert.ok(
      check('redeemResponse', {
        id: 'sess-8f2c',
        user: 'alice',
        target,
        policy: { disableCopy: true },
        expiresAt: '2030-01-01T12:00:00Z',
      }),
    );
    assert.ok(check('redeemError', { error: 'unknown-target', message: 'server 42 is gone' }));
    assert.equal(
      check('redeemResponse', {
        id: 'x',
        user: 'u',
        target: { protocol: 'vnc', params: { port: 1 } },
        policy: {},
      }),
      false,
    );
    assert.ok(check('claims', { aud: 'gatehouse-proxy', iat: 1, exp: 61, jti: 'j', target }));
    const registration = {
      proxy: { id: 'proxy-eu-1' },
      kind: 'guac',
      address: 'https://proxy-eu-1.internal:8080',
      zone: 'eu',
      version: '0.1.0',
    };
    assert.ok(check('registerRequest', registration));
    assert.ok(check('registerRequest', { ...registration, zone: null }));
    assert.equal(check('registerRequest', { ...registration, address: 'proxy-eu-1:8080' }), false);
    assert.ok(check('registerResponse', { id: 'proxy-eu-1', zone: 'eu' }));
    assert.ok(check('registerError', { error: 'zone-mismatch', message: 'proxy-eu-1 is in zone us' }));
  });
});
