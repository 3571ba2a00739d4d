// The engine section: engine.listen (HOST:PORT), engine.handshakeTimeoutMs and engine.rdp, from every source.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseListen } from '../../src/config/sections/engine.js';
import { load, loadError } from './config-helpers.js';

describe('engine.listen', () => {
  it('accepts host names, IPv4 and bracketed IPv6 addresses with a port from 0 to 65535', () => {
    for (const listen of [
      '127.0.0.1:4822',
      '0.0.0.0:0',
      'localhost:65535',
      'guacd.example.org:4822',
      '[::1]:4822',
      '[::]:1',
    ]) {
      assert.equal(load({ flags: { listen, command: 'engine' } }).config.engine.listen, listen);
    }
  });

  it('rejects anything else, naming the key, the value and the source', () => {
    for (const listen of [
      '4822',
      '127.0.0.1',
      '127.0.0.1:65536',
      ':4822',
      '::1:4822',
      'host:port',
      'a b:1',
      '127.0.0.1:-1',
    ]) {
      const err = loadError({ flags: { listen, command: 'engine' } });
      assert.equal(err.issues.length, 1, listen);
      const issue = err.issues[0]!;
      assert.equal(issue.path, 'engine.listen');
      assert.equal(issue.value, listen);
      assert.equal(issue.source, 'flag --listen');
      assert.match(issue.expected, /^a string like "127\.0\.0\.1:4822"/);
    }
    assert.match(
      loadError({ env: { GATEHOUSE_ENGINE__LISTEN: 'nope' } }).message,
      /from env GATEHOUSE_ENGINE__LISTEN/,
    );
  });

  it('parseListen splits host and port and unbrackets IPv6', () => {
    assert.deepEqual(parseListen('127.0.0.1:4822'), { host: '127.0.0.1', port: 4822 });
    assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
    assert.throws(() => parseListen('nope'), /engine\.listen must be HOST:PORT/);
  });
});

describe('engine.handshakeTimeoutMs', () => {
  it('defaults to 15000 and is an integer from 100 to 600000', () => {
    assert.equal(load().config.engine.handshakeTimeoutMs, 15_000);
    assert.equal(
      load({ flags: { set: ['engine.handshakeTimeoutMs=2500'] } }).config.engine.handshakeTimeoutMs,
      2500,
    );
    assert.match(
      loadError({ flags: { set: ['engine.handshakeTimeoutMs=50'] } }).message,
      /engine\.handshakeTimeoutMs: invalid value 50 .*expected an integer from 100 to 600000/,
    );
  });
});

describe('engine.rdp', () => {
  it('defaults: the built executable, nobody, 256 MiB, 5 s from SIGTERM to SIGKILL', () => {
    assert.deepEqual(load().config.engine.rdp, {
      binary: '',
      user: 'nobody',
      memoryLimitMb: 256,
      killGraceMs: 5000,
    });
  });

  it('takes USER, USER:GROUP, numbers or empty as the user; rejects anything else naming the key', () => {
    for (const user of ['', 'nobody', 'nobody:nogroup', '65534:65534', 'gatehouse-rdp']) {
      assert.equal(load({ flags: { set: [`engine.rdp.user=${user}`] } }).config.engine.rdp.user, user);
    }
    for (const user of ['a b', 'x:', ':g', 'a:b:c', '-x']) {
      const err = loadError({ env: { GATEHOUSE_ENGINE__RDP__USER: user } });
      assert.equal(err.issues[0]?.path, 'engine.rdp.user', user);
      assert.equal(err.issues[0]?.source, 'env GATEHOUSE_ENGINE__RDP__USER');
    }
  });

  it('bounds the memory limit and the kill grace', () => {
    assert.equal(
      load({ flags: { set: ['engine.rdp.memoryLimitMb=1024'] } }).config.engine.rdp.memoryLimitMb,
      1024,
    );
    assert.match(
      loadError({ flags: { set: ['engine.rdp.memoryLimitMb=8'] } }).message,
      /engine\.rdp\.memoryLimitMb: invalid value 8 .*expected an integer from 32 to 65536/,
    );
    assert.equal(load({ flags: { set: ['engine.rdp.killGraceMs=0'] } }).config.engine.rdp.killGraceMs, 0);
    assert.match(
      loadError({ flags: { set: ['engine.rdp.killGraceMs=-1'] } }).message,
      /engine\.rdp\.killGraceMs: invalid value -1/,
    );
  });
});
