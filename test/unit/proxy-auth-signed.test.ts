// Signed tokens: mint → redeem, and every way a token is refused (each 0x0301 with a reason, no token content
// in the message), key rotation by kid, the optional JWE layer.
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { CompactEncrypt, SignJWT } from 'jose';
import { AuthError } from '../../src/proxy/auth/errors.js';
import { claimOnceWith, JtiRegistry } from '../../src/proxy/auth/jti-registry.js';
import { keyId, type VerificationKey } from '../../src/proxy/auth/keys.js';
import { type MintOptions, mintToken } from '../../src/proxy/auth/mint.js';
import { SignedTokenRedeemer, type SignedTokenRedeemerOptions } from '../../src/proxy/auth/signed.js';
import { DEFAULT_POLICY, TunnelError } from '../../src/proxy/types.js';

const T = 1_800_000_000_000; // fixed clock, ms
const CTX = { remoteAddress: '192.0.2.1', userAgent: 'test' };
const SECRET_PASSWORD = 'hunter2-secret-password';

function pair(): { priv: KeyObject; pub: KeyObject; kid: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { priv: privateKey, pub: publicKey, kid: keyId(publicKey) };
}

const A = pair();
const B = pair();
const TARGET = { protocol: 'vnc', params: { hostname: '10.0.0.5', port: '5900', password: SECRET_PASSWORD } };

function redeemer(
  extra: Partial<SignedTokenRedeemerOptions> = {},
  keys: VerificationKey[] = [{ kid: A.kid, key: A.pub }],
): { r: SignedTokenRedeemer; registry: JtiRegistry } {
  const registry = new JtiRegistry();
  const r = new SignedTokenRedeemer({
    publicKeys: keys,
    audience: 'gatehouse-proxy',
    maxLifetimeSeconds: 300,
    claimOnce: claimOnceWith(registry, () => T),
    now: () => T,
    ...extra,
  });
  return { r, registry };
}

const mint = (o: Partial<MintOptions> = {}): Promise<string> =>
  mintToken({ privateKey: A.priv, kid: A.kid, target: TARGET, ttlSeconds: 60, now: () => T, ...o });

/** A JWT with arbitrary claims and header, signed by `key` (A by default). */
async function raw(
  claims: Record<string, unknown>,
  header: Record<string, unknown> = { alg: 'EdDSA', kid: A.kid },
  key: KeyObject = A.priv,
): Promise<string> {
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key);
}

const iat = T / 1000;
const base = (): Record<string, unknown> => ({
  aud: 'gatehouse-proxy',
  iat,
  exp: iat + 60,
  jti: `j-${Math.random()}`,
  target: TARGET,
});

async function refusedWith(p: Promise<unknown>, reason?: string, token?: string): Promise<AuthError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof TunnelError, `a TunnelError, got ${String(err)}`);
    assert.ok(err instanceof AuthError);
    assert.equal(err.status, 0x0301, `status 0x0301 (${err.reason}: ${err.detail})`);
    if (reason !== undefined) assert.equal(err.reason, reason, err.detail);
    for (const text of [err.message, err.detail]) {
      assert.ok(!text.includes(SECRET_PASSWORD), 'no parameter values in message or detail');
      if (token) assert.ok(!text.includes(token.slice(0, 20)), 'no token in message or detail');
    }
    return err;
  }
  assert.fail('expected the token to be refused');
}

describe('SignedTokenRedeemer', { timeout: 20_000 }, () => {
  it('mint → redeem: target, user, policy over the defaults', async () => {
    const { r } = redeemer();
    const token = await mint({ user: 'alice', policy: { readOnly: true, disableCopy: true }, jti: 'jti-1' });
    const grant = await r.redeem(token, CTX);
    assert.deepEqual(grant, {
      id: 'jti-1',
      user: 'alice',
      target: TARGET,
      policy: { ...DEFAULT_POLICY, readOnly: true, disableCopy: true },
    });
    const again = await r.redeem(await mint({ target: { ...TARGET, guacd: 'guacd://127.0.0.1:4822' } }), CTX);
    assert.equal(again.user, '');
    assert.deepEqual(again.policy, DEFAULT_POLICY);
    assert.equal(again.target.guacd, 'guacd://127.0.0.1:4822');
  });

  it('a token is single use: the second redeem is refused', async () => {
    const { r, registry } = redeemer();
    const token = await mint();
    await r.redeem(token, CTX);
    await refusedWith(r.redeem(token, CTX), 'reused', token);
    assert.equal(registry.stats().reused, 1);
  });

  it('expired beyond the 30 s skew is refused; within the skew it is accepted', async () => {
    const { r } = redeemer();
    await refusedWith(r.redeem(await mint({ now: () => T - 100_000 }), CTX), 'expired'); // exp = T - 40 s
    await r.redeem(await mint({ now: () => T - 80_000 }), CTX); // exp = T - 20 s
  });

  it('not yet valid (nbf or iat in the future beyond the skew) is refused', async () => {
    const { r } = redeemer();
    await refusedWith(r.redeem(await raw({ ...base(), nbf: iat + 120 }), CTX), 'not-yet-valid');
    await refusedWith(
      r.redeem(await raw({ ...base(), iat: iat + 120, exp: iat + 150 }), CTX),
      'not-yet-valid',
    );
    await r.redeem(await raw({ ...base(), nbf: iat + 20 }), CTX);
  });

  it('wrong audience, and wrong or missing issuer when one is configured', async () => {
    const { r } = redeemer();
    await refusedWith(r.redeem(await mint({ audience: 'someone-else' }), CTX), 'audience');
    await refusedWith(r.redeem(await raw({ ...base(), aud: undefined }), CTX));
    const withIss = redeemer({ issuer: 'portal' }).r;
    await refusedWith(withIss.redeem(await mint({ issuer: 'other' }), CTX), 'issuer');
    await refusedWith(withIss.redeem(await mint(), CTX), 'issuer');
    await withIss.redeem(await mint({ issuer: 'portal' }), CTX);
  });

  it('signed by the wrong key, or naming an unknown kid', async () => {
    const { r } = redeemer();
    await refusedWith(r.redeem(await mint({ privateKey: B.priv }), CTX), 'signature'); // kid of A, key of B
    await refusedWith(r.redeem(await mint({ privateKey: B.priv, kid: B.kid }), CTX), 'unknown-key');
  });

  it('a tampered payload fails the signature', async () => {
    const { r } = redeemer();
    const token = await mint();
    const [h, p, s] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    claims.target.params.hostname = '10.6.6.6';
    const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
    await refusedWith(r.redeem(forged, CTX), 'signature', forged);
    // a flipped signature bit too
    const sig = Buffer.from(s, 'base64url');
    sig[0]! ^= 1;
    await refusedWith(r.redeem(`${h}.${p}.${sig.toString('base64url')}`, CTX), 'signature');
  });

  it('alg none and HS256 keyed with the public key (algorithm confusion) are refused', async () => {
    const { r } = redeemer();
    const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const none = `${b64({ alg: 'none', kid: A.kid })}.${b64(base())}.`;
    await refusedWith(r.redeem(none, CTX));
    const pem = A.pub.export({ format: 'pem', type: 'spki' });
    const der = A.pub.export({ format: 'der', type: 'spki' });
    for (const pub of [pem, der, JSON.stringify(A.pub.export({ format: 'jwk' }))]) {
      const hs = await new SignJWT(base())
        .setProtectedHeader({ alg: 'HS256', kid: A.kid })
        .sign(new Uint8Array(Buffer.from(pub)));
      await refusedWith(r.redeem(hs, CTX), 'algorithm');
    }
  });

  it('missing jti, exp or iat is refused', async () => {
    const { r } = redeemer();
    for (const claim of ['jti', 'exp', 'iat']) {
      const claims = base();
      delete claims[claim];
      await refusedWith(r.redeem(await raw(claims), CTX), undefined);
    }
  });

  it('a lifetime (exp - iat) over the maximum is refused', async () => {
    const { r } = redeemer();
    await refusedWith(r.redeem(await mint({ ttlSeconds: 301 }), CTX), 'lifetime');
    await r.redeem(await mint({ ttlSeconds: 300 }), CTX);
    const short = redeemer({ maxLifetimeSeconds: 30 }).r;
    await refusedWith(short.redeem(await mint({ ttlSeconds: 31 }), CTX), 'lifetime');
  });

  it('bad claim shapes are refused (and do not use up the jti)', async () => {
    const { r, registry } = redeemer();
    const manyParams = Object.fromEntries(Array.from({ length: 129 }, (_, i) => [`p${i}`, 'x']));
    const bad: Record<string, unknown>[] = [
      { target: { protocol: 'vnc', params: { port: 5900 } } },
      { target: { protocol: 'vnc', params: { hostname: 'x'.repeat(4097) } } },
      { target: { protocol: 'vnc', params: manyParams } },
      { target: { protocol: 'vnc', params: { 'bad name': 'x' } } },
      { target: { protocol: 'vnc', params: { __proto__x: 'x', _: 'y' } } },
      { target: { protocol: 'VNC', params: {} } },
      { target: { protocol: 'vnc' } },
      { target: { protocol: 'vnc', params: {}, guacd: 'http://x:1' } },
      { target: { protocol: 'vnc', params: {}, extra: 1 } },
      { target: 'vnc://host' },
      { target: undefined },
      { policy: { readOnly: 'yes' } },
      { policy: { canFly: true } },
      { policy: [] },
      { jti: 'x'.repeat(129) },
      { jti: 'has space' },
      { jti: 7 },
      { sub: 'u'.repeat(257) },
    ];
    for (const patch of bad) {
      const claims = { ...base(), ...patch };
      const err = await refusedWith(r.redeem(await raw(claims), CTX));
      assert.ok(
        ['claims', 'malformed'].includes(err.reason),
        `${JSON.stringify(patch).slice(0, 80)}: ${err.reason}`,
      );
    }
    assert.equal(registry.size, 0);
    // Edge of the limits: 128 params, 4096-character values, unknown protocol names are fine.
    const edge = Object.fromEntries(
      Array.from({ length: 128 }, (_, i) => [`p${i}`, 'v'.repeat(i === 0 ? 4096 : 1)]),
    );
    const grant = await r.redeem(
      await raw({ ...base(), target: { protocol: 'kubernetes', params: edge } }),
      CTX,
    );
    assert.equal(Object.keys(grant.target.params).length, 128);
  });

  it('garbage, empty and oversize tokens are refused as malformed', async () => {
    const { r } = redeemer();
    for (const t of ['', 'abc', 'a.b', 'a.b.c', '...', 'a b.c.d', `${'a'.repeat(70_000)}.b.c`]) {
      await refusedWith(r.redeem(t, CTX));
    }
    await refusedWith(r.redeem(undefined as unknown as string, CTX), 'malformed');
  });

  it('rotation: two keys by kid; a removed key no longer verifies', async () => {
    const both = redeemer({}, [
      { kid: A.kid, key: A.pub },
      { kid: B.kid, key: B.pub },
    ]).r;
    await both.redeem(await mint(), CTX);
    await both.redeem(await mint({ privateKey: B.priv, kid: B.kid }), CTX);
    await refusedWith(both.redeem(await raw(base(), { alg: 'EdDSA' }), CTX), 'unknown-key'); // no kid, 2 keys
    const onlyB = redeemer({}, [{ kid: B.kid, key: B.pub }]).r;
    await refusedWith(onlyB.redeem(await mint(), CTX), 'unknown-key');
    await onlyB.redeem(await raw(base(), { alg: 'EdDSA' }, B.priv), CTX); // no kid, 1 key: that key
    await onlyB.redeem(await raw(base(), { alg: 'Ed25519', kid: B.kid }, B.priv), CTX); // fully-specified alg
  });

  it('JWE layer (dir, A256GCM): required when configured, refused when not, wrong secret refused', async () => {
    const secret = new Uint8Array(randomBytes(32));
    const { r } = redeemer({ encryptionKey: secret });
    const token = await mint({ encryptionKey: secret, jti: 'enc-1' });
    assert.equal(token.split('.').length, 5);
    assert.ok(!Buffer.from(token.split('.')[3]!, 'base64url').toString('latin1').includes(SECRET_PASSWORD));
    assert.equal((await r.redeem(token, CTX)).id, 'enc-1');
    await refusedWith(r.redeem(await mint(), CTX), 'encryption');
    await refusedWith(
      r.redeem(await mint({ encryptionKey: new Uint8Array(randomBytes(32)) }), CTX),
      'encryption',
    );
    await refusedWith(redeemer().r.redeem(await mint({ encryptionKey: secret }), CTX), 'encryption');
    const noCty = await new CompactEncrypt(new TextEncoder().encode(await mint()))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .encrypt(secret);
    await refusedWith(r.redeem(noCty, CTX), 'encryption');
    const junk = await new CompactEncrypt(new TextEncoder().encode('{"not":"a jws"}'))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', cty: 'JWT' })
      .encrypt(secret);
    await refusedWith(r.redeem(junk, CTX), 'malformed');
  });

  it('a failing single-use registry is a server error (0x0200), not a grant', async () => {
    const { r } = redeemer({ claimOnce: () => Promise.reject(new Error('channel closed')) });
    await assert.rejects(r.redeem(await mint(), CTX), (err: AuthError) => {
      assert.equal(err.status, 0x0200);
      assert.equal(err.reason, 'registry-error');
      return true;
    });
  });

  it('claims the jti with the expiry plus the skew', async () => {
    const seen: [string, number][] = [];
    const { r } = redeemer({
      claimOnce: (jti, exp) => {
        seen.push([jti, exp]);
        return Promise.resolve(true);
      },
    });
    await r.redeem(await mint({ jti: 'k', ttlSeconds: 60 }), CTX);
    assert.deepEqual(seen, [['k', T + 90_000]]);
  });

  it('refuses bad construction: no keys, non-Ed25519 key, duplicate kid, short secret', () => {
    const claimOnce = () => Promise.resolve(true);
    assert.throws(() => new SignedTokenRedeemer({ publicKeys: [], claimOnce }), RangeError);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    assert.throws(
      () => new SignedTokenRedeemer({ publicKeys: [{ kid: 'r', key: rsa }], claimOnce }),
      RangeError,
    );
    const dup = [
      { kid: 'x', key: A.pub },
      { kid: 'x', key: B.pub },
    ];
    assert.throws(() => new SignedTokenRedeemer({ publicKeys: dup, claimOnce }), RangeError);
    assert.throws(
      () =>
        new SignedTokenRedeemer({
          publicKeys: [{ kid: A.kid, key: A.pub }],
          claimOnce,
          encryptionKey: new Uint8Array(16),
        }),
      RangeError,
    );
  });
});
