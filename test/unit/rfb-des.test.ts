import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  desDecryptEcb,
  desEncryptEcb,
  S_BOXES,
  vncAuthKey,
  vncAuthResponse,
} from '../../src/protocol/rfb/des.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

// [key, plaintext, ciphertext]: the textbook FIPS 46 walk-through vector and common validation vectors.
// Each was also checked with `openssl enc -des-ecb -nopad -provider legacy -provider default`.
const VECTORS: [string, string, string][] = [
  ['133457799bbcdff1', '0123456789abcdef', '85e813540f0ab405'],
  ['0000000000000000', '0000000000000000', '8ca64de9c1b123a7'],
  ['ffffffffffffffff', 'ffffffffffffffff', '7359b2163e4edc58'],
  ['3000000000000000', '1000000000000001', '958e6e627a05557b'],
  ['1111111111111111', '1111111111111111', 'f40379ab9e0ec533'],
  ['0123456789abcdef', '1111111111111111', '17668dfc7292532d'],
  ['0e329232ea6d0d73', '8787878787878787', '0000000000000000'],
];

// VNC Authentication: [password, challenge, response]. Derived independently: key = password bytes
// bit-reversed (python), then `openssl enc -des-ecb -K <key> -nopad -provider legacy -provider default`.
const VNC_VECTORS: [string, string, string][] = [
  ['password', '000102030405060708090a0b0c0d0e0f', 'b866924125c8eebb9debc1db61c538e2'],
  ['gatehouse', 'ffeeddccbbaa99887766554433221100', 'ad7371709bb74c8aed12f9a4150604dd'],
  ['ab', 'ffeeddccbbaa99887766554433221100', '857d0c0a27d67b209daa03952f48bf11'],
];

function opensslDesEcb(key: Uint8Array, data: Uint8Array): Uint8Array | null {
  const r = spawnSync(
    'openssl',
    ['enc', '-des-ecb', '-K', hex(key), '-nopad', '-provider', 'legacy', '-provider', 'default'],
    { input: data, timeout: 10_000 },
  );
  return r.status === 0 ? new Uint8Array(r.stdout) : null;
}

describe('DES', { timeout: 60_000 }, () => {
  test('S-box rows are permutations of 0..15', () => {
    assert.equal(S_BOXES.length, 8);
    for (const box of S_BOXES) {
      for (let row = 0; row < 4; row++) {
        assert.deepEqual(
          [...box.slice(row * 16, row * 16 + 16)].sort((a, b) => a - b),
          [...Array(16).keys()],
        );
      }
    }
  });

  test('known-answer vectors', () => {
    for (const [k, p, c] of VECTORS) {
      assert.equal(hex(desEncryptEcb(bytes(k), bytes(p))), c, `key ${k} plaintext ${p}`);
      assert.equal(hex(desDecryptEcb(bytes(k), bytes(c))), p, `decrypt key ${k}`);
    }
  });

  test('ECB encrypts each block independently', () => {
    const [k, p, c] = VECTORS[0] as [string, string, string];
    assert.equal(hex(desEncryptEcb(bytes(k), bytes(p + p))), c + c);
  });

  test('rejects bad sizes', () => {
    assert.throws(() => desEncryptEcb(new Uint8Array(7), new Uint8Array(8)), RangeError);
    assert.throws(() => desEncryptEcb(new Uint8Array(8), new Uint8Array(9)), RangeError);
    assert.throws(() => vncAuthResponse('x', new Uint8Array(8)), RangeError);
  });

  test('matches the openssl CLI on random keys and blocks (skipped without the legacy provider)', (t) => {
    if (!opensslDesEcb(new Uint8Array(8), new Uint8Array(8))) {
      t.skip('openssl with the legacy provider is not available');
      return;
    }
    for (let i = 0; i < 8; i++) {
      const key = new Uint8Array(randomBytes(8));
      const data = new Uint8Array(randomBytes(32));
      assert.equal(hex(desEncryptEcb(key, data)), hex(opensslDesEcb(key, data) as Uint8Array));
    }
  });
});

describe('VNC Authentication', () => {
  test('key: first 8 bytes, zero-padded, bits reversed', () => {
    assert.equal(hex(vncAuthKey('password')), '0e86ceceeef64e26');
    assert.equal(hex(vncAuthKey('passwordEXTRA')), '0e86ceceeef64e26');
    assert.equal(hex(vncAuthKey('ab')), '8646000000000000');
    assert.equal(hex(vncAuthKey('')), '0000000000000000');
    // Non-ASCII passwords use their UTF-8 bytes: U+00E9 is C3 A9, reversed C3 95.
    assert.equal(hex(vncAuthKey('\u00e9')), 'c395000000000000');
  });

  test('responses', () => {
    for (const [pw, ch, resp] of VNC_VECTORS) {
      assert.equal(hex(vncAuthResponse(pw, bytes(ch))), resp, `password ${pw}`);
    }
  });
});
