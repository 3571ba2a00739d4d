// The webapp section: webapp.listen (--listen of `webapp` and `all`), value ranges, files, env and printing.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { renderConfig } from '../../src/cli/render-config.js';
import { load, loadError, tempDir } from './config-helpers.js';

const tmp = tempDir();
after(() => tmp.remove());

describe('webapp.listen', () => {
  it('is what --listen sets for `gatehouse webapp` and `gatehouse all`, leaving the other roles alone', () => {
    for (const command of ['webapp', 'all']) {
      const { config, sources } = load({ flags: { listen: '0.0.0.0:443', command } });
      assert.equal(config.webapp.listen, '0.0.0.0:443', command);
      assert.deepEqual(sources['webapp.listen'], { kind: 'flag', flag: '--listen' });
      assert.equal(config.proxy.listen, '127.0.0.1:8080', command);
      assert.equal(config.engine.listen, '127.0.0.1:4822', command);
    }
    // proxy --listen does not touch it; GATEHOUSE_WEBAPP__LISTEN and --set do, and --listen wins over --set.
    assert.equal(
      load({ flags: { listen: '0.0.0.0:1', command: 'proxy' } }).config.webapp.listen,
      '127.0.0.1:8443',
    );
    assert.equal(load({ env: { GATEHOUSE_WEBAPP__LISTEN: '[::]:8443' } }).config.webapp.listen, '[::]:8443');
    const both = load({
      flags: { listen: '127.0.0.1:9443', command: 'all', set: ['webapp.listen=0.0.0.0:1'] },
    });
    assert.equal(both.config.webapp.listen, '127.0.0.1:9443');
  });

  it('takes HOST:PORT only, naming the flag', () => {
    for (const command of ['webapp', 'all']) {
      const err = loadError({ flags: { listen: 'localhost', command } });
      assert.deepEqual(
        err.issues.map((i) => [i.problem, i.path, i.value, i.source]),
        [['invalid value', 'webapp.listen', 'localhost', 'flag --listen']],
      );
    }
  });
});

describe('webapp keys', () => {
  it('reject values out of range, naming the key, the value and the source', () => {
    // In schema order, the order problems are reported in.
    const cases: [string, string, string][] = [
      ['webapp.session.idleMinutes', '0', 'an integer from 1 to 10080'],
      ['webapp.login.maxFailures', '1001', 'an integer from 1 to 1000'],
      ['webapp.tokens.ttlSeconds', '61', 'an integer from 1 to 60'],
      ['webapp.tokens.replayWindowSeconds', '-1', 'an integer from 0 to 60'],
      ['webapp.tokens.rdpTtlSeconds', '5', 'an integer from 10 to 3600'],
      ['webapp.healthCheck.timeoutMs', '10', 'an integer from 50 to 30000'],
      ['webapp.relay.connectTimeoutMs', '60001', 'an integer from 100 to 60000'],
    ];
    const err = loadError({ flags: { set: cases.map(([key, value]) => `${key}=${value}`) } });
    assert.deepEqual(
      err.issues.map((i) => [i.path, String(i.value), i.expected, i.source]),
      cases.map(([key, value, expected]) => [key, value, expected, `flag --set ${key}`]),
    );
  });

  it('publicUrl is empty or scheme://host[:port]; dataDir is not empty', () => {
    for (const url of ['', 'https://gatehouse.example.com', 'http://10.0.0.5:8443'])
      assert.equal(load({ env: { GATEHOUSE_WEBAPP__PUBLIC_URL: url } }).config.webapp.publicUrl, url);
    for (const url of ['https://gatehouse.example.com/', 'gatehouse.example.com', 'ftp://host']) {
      const err = loadError({ flags: { set: [`webapp.publicUrl=${url}`] } });
      assert.equal(err.issues[0]?.path, 'webapp.publicUrl', url);
    }
    const file = tmp.write('empty-dir.yaml', 'webapp:\n  dataDir: ""\n');
    assert.equal(loadError({ flags: { config: file } }).issues[0]?.path, 'webapp.dataDir');
  });

  it('an unknown key in a nested webapp section names the section keys', () => {
    const file = tmp.write('tls.yaml', 'webapp:\n  tls:\n    cert: /etc/tls.pem\n');
    const [issue] = loadError({ flags: { config: file } }).issues;
    assert.equal(issue?.path, 'webapp.tls.cert');
    assert.equal(
      issue?.expected,
      'one of the keys in webapp.tls: enabled, certFile, keyFile (did you mean "certFile"?)',
    );
  });
});

describe('webapp in `gatehouse config` output', () => {
  it('hides the secret key and a database password, and reads back as the same configuration', () => {
    const { config } = load({
      env: {
        GATEHOUSE_WEBAPP__SECRET_KEY: 'c2VjcmV0LWtleS1vZi0zMi1ieXRlcy0wMTIzNDU2Nzg=',
        GATEHOUSE_WEBAPP__DATABASE: 'postgres://gatehouse:hunter22@db:5432/gatehouse',
      },
    });
    const text = renderConfig(config, 'yaml');
    assert.ok(!text.includes('hunter22') && !text.includes('c2VjcmV0'), text);
    const file = tmp.write('printed.yaml', text);
    const again = load({ flags: { config: file } }).config;
    assert.equal(again.webapp.secretKey, '[redacted]');
    assert.equal(again.webapp.database, 'postgres://gatehouse:[redacted]@db:5432/gatehouse');
    assert.deepEqual(again.webapp.tokens, config.webapp.tokens);
    assert.deepEqual(parseYaml(text), again);
  });
});
