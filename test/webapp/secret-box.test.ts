import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  loadOrCreateSecretKey,
  SECRET_KEY_FILE,
  SecretBox,
  SecretBoxError,
} from '../../src/webapp/security/secret-box.js';
import { registerTempDir, removeTempDir } from '../e2e/helpers/processes.js';

const T = { timeout: 10_000 };

describe('SecretBox', T, () => {
  const box = new SecretBox(randomBytes(32));

  it('round-trips text, unicode and the empty string under the same aad', T, () => {
    for (const plain of ['hunter2', '', 'pässwörd ✓ 🔑', 'x'.repeat(100_000)]) {
      assert.equal(box.open(box.seal(plain, 'server-1'), 'server-1'), plain);
    }
  });

  it('uses the v1.<nonce>.<ciphertext+tag> format with a fresh nonce each time', T, () => {
    const a = box.seal('same', 'id');
    const b = box.seal('same', 'id');
    assert.notEqual(a, b);
    const parts = a.split('.');
    assert.equal(parts.length, 3);
    assert.equal(parts[0], 'v1');
    assert.equal(Buffer.from(parts[1] as string, 'base64url').length, 12);
    assert.equal(Buffer.from(parts[2] as string, 'base64url').length, 4 + 16);
    assert.match(a, /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    assert.ok(!a.includes('same'));
  });

  it('refuses another aad, another key, and every single-character change', T, () => {
    const sealed = box.seal('secret', 'server-1');
    assert.throws(() => box.open(sealed, 'server-2'), /failed authentication/);
    assert.throws(() => new SecretBox(randomBytes(32)).open(sealed, 'server-1'), SecretBoxError);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = 3; i < sealed.length; i++) {
      const c = sealed[i] as string;
      if (c === '.') continue;
      const other = alphabet[(alphabet.indexOf(c) + 1) % alphabet.length] as string;
      const tampered = sealed.slice(0, i) + other + sealed.slice(i + 1);
      // base64url's last character may carry unused bits: a change there can decode to the same bytes.
      if (
        Buffer.from(tampered.split('.')[2] as string, 'base64url').equals(
          Buffer.from(sealed.split('.')[2] as string, 'base64url'),
        ) &&
        Buffer.from(tampered.split('.')[1] as string, 'base64url').equals(
          Buffer.from(sealed.split('.')[1] as string, 'base64url'),
        )
      ) {
        continue;
      }
      assert.throws(() => box.open(tampered, 'server-1'), SecretBoxError, `change at ${i}`);
    }
  });

  it('gives clear errors for malformed text', T, () => {
    const sealed = box.seal('secret', 'a');
    const [, nonce, body] = sealed.split('.') as [string, string, string];
    const cases: Array<[string, RegExp]> = [
      ['', /not in the v1 format/],
      ['plain text', /not in the v1 format/],
      [`v2.${nonce}.${body}`, /not in the v1 format/],
      [`v1.${nonce}`, /not in the v1 format/],
      [`v1.${nonce}.${body}.x`, /not in the v1 format/],
      [`v1.${nonce}.${body}=`, /not valid base64url/],
      [`v1.${nonce}.ab+c`, /not valid base64url/],
      [`v1.${nonce.slice(2)}.${body}`, /truncated/],
      [`v1.${nonce}.${body.slice(0, 10)}`, /truncated/],
      [`v1.${nonce}.${body.slice(0, -1)}`, /failed authentication/],
    ];
    for (const [text, re] of cases) assert.throws(() => box.open(text, 'a'), re, JSON.stringify(text));
  });

  it('refuses keys that are not 32 bytes', T, () => {
    assert.throws(() => new SecretBox(Buffer.alloc(16)), /32 bytes, not 16/);
  });
});

describe('loadOrCreateSecretKey', T, () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-secret-'));
  registerTempDir(dir);
  after(() => removeTempDir(dir));

  it('takes webapp.secretKey when set (base64 of 32 bytes)', T, () => {
    const key = randomBytes(32);
    assert.deepEqual(loadOrCreateSecretKey(key.toString('base64'), join(dir, 'unused')), key);
    assert.deepEqual(loadOrCreateSecretKey(` ${key.toString('base64')}\n`, join(dir, 'unused')), key);
  });

  it('names webapp.secretKey when it is not 32 bytes of base64', T, () => {
    assert.throws(
      () => loadOrCreateSecretKey(randomBytes(16).toString('base64'), dir),
      /webapp\.secretKey.*not 16 bytes/,
    );
    assert.throws(
      () => loadOrCreateSecretKey('not base64!', dir),
      /webapp\.secretKey must be 32 bytes in base64/,
    );
    assert.throws(() => loadOrCreateSecretKey('abc', dir), /webapp\.secretKey/);
  });

  it('creates <dataDir>/secret.key once (mode 0600) and reads it back', T, () => {
    const dataDir = join(dir, 'data', 'nested');
    const first = loadOrCreateSecretKey('', dataDir);
    assert.equal(first.length, 32);
    const file = join(dataDir, SECRET_KEY_FILE);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(dataDir).mode & 0o777, 0o700);
    assert.equal(readFileSync(file, 'utf8').trim(), first.toString('base64'));
    assert.deepEqual(loadOrCreateSecretKey('', dataDir), first);
  });

  it('names the file when its key is damaged', T, () => {
    const dataDir = mkdtempSync(join(dir, 'bad-'));
    writeFileSync(join(dataDir, SECRET_KEY_FILE), 'c2hvcnQ=\n');
    assert.throws(
      () => loadOrCreateSecretKey('', dataDir),
      /secret\.key.*webapp\.secretKey unset.*not 5 bytes/,
    );
  });
});
