// Each configuration error names the key, the value, what was expected and where the value came from.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { loadError, tempDir } from './config-helpers.js';

const tmp = tempDir();
after(() => tmp.remove());

const PROXY_KEYS =
  'clusterSize, listen, clientTimeoutMs, drainGraceMs, highWaterMark, maxMessageBytes, batchBytes, maxSessionsPerManager';

describe('configuration errors', () => {
  it('unknown key in a YAML file: names the key, the file and line, the known keys, a likely typo', () => {
    const file = tmp.write('typo.yaml', 'log:\n  level: info\nproxy:\n  clusterSzie: 4\n');
    const err = loadError({ flags: { config: file } });
    assert.equal(err.issues.length, 1);
    assert.deepEqual(err.issues[0], {
      problem: 'unknown key',
      path: 'proxy.clusterSzie',
      value: undefined,
      expected: `one of the keys in proxy: ${PROXY_KEYS} (did you mean "clusterSize"?)`,
      source: `file ${file}:4:3`,
    });
    assert.equal(
      err.message,
      `invalid configuration: proxy.clusterSzie: unknown key (from file ${file}:4:3); ` +
        `expected one of the keys in proxy: ${PROXY_KEYS} (did you mean "clusterSize"?)`,
    );
  });

  it('unknown key in a nested section: the full path, the keys of that section', () => {
    const file = tmp.write('nested.yaml', 'proxyAuth:\n  signed:\n    maxLifetime: 60\n');
    const err = loadError({ flags: { config: file } });
    assert.deepEqual(err.issues, [
      {
        problem: 'unknown key',
        path: 'proxyAuth.signed.maxLifetime',
        value: undefined,
        expected:
          'one of the keys in proxyAuth.signed: publicKeys, audience, issuer, maxLifetimeSeconds, ' +
          'clockSkewSeconds, encryptionKey (did you mean "maxLifetimeSeconds"?)',
        source: `file ${file}:3:5`,
      },
    ]);
  });

  it('unknown section in a JSON file', () => {
    const file = tmp.write('typo.json', '{\n  "logging": {"level": "info"}\n}\n');
    const [issue] = loadError({ flags: { config: file } }).issues;
    assert.equal(issue?.path, 'logging');
    assert.equal(issue?.problem, 'unknown key');
    assert.equal(issue?.source, `file ${file}:2:3`);
    assert.equal(
      issue?.expected,
      'one of the keys at the top level: log, codec, proxy, proxyAuth, engine, webapp',
    );
  });

  it('wrong type in a file', () => {
    const file = tmp.write('type.yaml', 'log:\n  level: 5\nproxy:\n  clusterSize: 1.5\n');
    const err = loadError({ flags: { config: file } });
    assert.deepEqual(
      err.issues.map((i) => [i.path, i.value, i.expected, i.source]),
      [
        [
          'log.level',
          5,
          'one of "fatal", "error", "warn", "info", "debug", "trace", "silent"',
          `file ${file}:2:3`,
        ],
        ['proxy.clusterSize', 1.5, 'an integer from 1 to 256 or "auto"', `file ${file}:4:3`],
      ],
    );
    assert.match(err.message, /invalid configuration \(2 problems\):\n {2}- log\.level: invalid value 5/);
  });

  it('a file that is not a mapping', () => {
    const file = tmp.write('list.yaml', '- a\n- b\n');
    const [issue] = loadError({ flags: { config: file } }).issues;
    assert.equal(issue?.path, '(top level)');
    assert.deepEqual(issue?.value, ['a', 'b']);
  });

  it('wrong value from the environment names the variable', () => {
    const err = loadError({ env: { GATEHOUSE_PROXY__CLUSTER_SIZE: 'lots' } });
    assert.deepEqual(err.issues[0], {
      problem: 'invalid value',
      path: 'proxy.clusterSize',
      value: 'lots',
      expected: 'an integer from 1 to 256 or "auto"',
      source: 'env GATEHOUSE_PROXY__CLUSTER_SIZE',
    });
    assert.equal(
      err.message,
      'invalid configuration: proxy.clusterSize: invalid value "lots" (from env GATEHOUSE_PROXY__CLUSTER_SIZE); ' +
        'expected an integer from 1 to 256 or "auto"',
    );
    const zero = loadError({ env: { GATEHOUSE_PROXY__CLUSTER_SIZE: '0' } });
    assert.equal(zero.issues[0]?.value, 0);
  });

  it('an unknown GATEHOUSE_ variable is an error naming it', () => {
    const err = loadError({ env: { GATEHOUSE_LOG__LEVLE: 'debug' } });
    assert.equal(err.issues[0]?.problem, 'unknown key');
    assert.equal(err.issues[0]?.source, 'env GATEHOUSE_LOG__LEVLE');
    assert.match(err.message, /GATEHOUSE_LOG__LEVLE/);
    assert.match(err.message, /did you mean GATEHOUSE_LOG__LEVEL\?/);
    const far = loadError({ env: { GATEHOUSE_WHATEVER: '1' } });
    assert.match(far.message, /env GATEHOUSE_WHATEVER.*one of GATEHOUSE_LOG__LEVEL, GATEHOUSE_LOG__FORMAT/);
  });

  it('a bad flag value names the flag', () => {
    const err = loadError({ flags: { 'log-format': 'xml' } });
    assert.deepEqual(err.issues[0], {
      problem: 'invalid value',
      path: 'log.format',
      value: 'xml',
      expected: 'one of "auto", "json", "pretty"',
      source: 'flag --log-format',
    });
    const size = loadError({ flags: { 'guac-cluster-size': '257' } });
    assert.match(size.message, /proxy\.clusterSize: invalid value 257 \(from flag --guac-cluster-size\)/);
  });

  it('--set: unknown key, a section, and a missing "="', () => {
    const err = loadError({ flags: { set: ['proxy.size=2', 'log=debug', 'loglevel'] } });
    assert.deepEqual(
      err.issues.map((i) => [i.problem, i.path, i.source]),
      [
        ['unknown key', 'proxy.size', 'flag --set proxy.size'],
        ['unknown key', 'log', 'flag --set log'],
        ['invalid value', '--set', 'flag --set'],
      ],
    );
    assert.match(err.issues[0]?.expected ?? '', /did you mean proxy\.clusterSize\?/);
    assert.match(err.issues[1]?.expected ?? '', /log\.level, log\.format/);
    assert.match(err.issues[2]?.expected ?? '', /key\.path=value/);
  });

  it('--set: an unknown key suggests the likely key, judged within its own section first', () => {
    const cases: [string, string | undefined][] = [
      // A typo of a sibling; the shared "proxy." prefix buys no extra tolerance.
      ['proxy.clustrSize', 'proxy.clusterSize'],
      ['proxy.lisen', 'proxy.listen'],
      ['engine.lsten', 'engine.listen'],
      ['engine.rdp.memoryLimit', 'engine.rdp.memoryLimitMb'],
      // A fragment of a sibling's name ("size" is not a typo of "listen").
      ['proxy.size', 'proxy.clusterSize'],
      ['proxy.maxSessions', 'proxy.maxSessionsPerManager'],
      // Nested sections.
      ['proxyAuth.signed.maxLifetimeSecs', 'proxyAuth.signed.maxLifetimeSeconds'],
      ['proxyAuth.signd.audience', 'proxyAuth.signed.audience'],
      // The right key in the wrong section, or a misspelt section.
      ['engine.clusterSize', 'proxy.clusterSize'],
      ['proxy.handshakeTimeoutMs', 'engine.handshakeTimeoutMs'],
      ['prxy.clusterSize', 'proxy.clusterSize'],
      ['webapp.tokens.ttlSecond', 'webapp.tokens.ttlSeconds'],
      ['webapp.lsten', 'webapp.listen'],
      ['webap.healthCheck.cacheMs', 'webapp.healthCheck.cacheMs'],
      // Nothing close: no guess, the list of keys instead.
      ['proxy.port', undefined],
    ];
    const err = loadError({ flags: { set: cases.map(([key]) => `${key}=1`) } });
    assert.equal(err.issues.length, cases.length);
    err.issues.forEach((issue, i) => {
      const [key, guess] = cases[i]!;
      assert.equal(issue.path, key);
      assert.equal(issue.problem, 'unknown key');
      if (guess === undefined) {
        assert.doesNotMatch(issue.expected, /did you mean/, key);
        assert.match(
          issue.expected,
          /one of log\.level, .*, proxy\.listen, .*engine\.handshakeTimeoutMs, engine\.rdp\.binary, .*engine\.rdp\.killGraceMs, webapp\.listen, .*webapp\.relay\.maxTunnels$/,
          key,
        );
      } else assert.equal(issue.expected, `a known key (did you mean ${guess}?)`, key);
    });
  });

  it('a YAML file that does not parse: file, line and column', () => {
    const file = tmp.write('bad.yaml', 'log:\n  level: info\n  format: [json\n');
    const err = loadError({ flags: { config: file } });
    assert.equal(err.issues[0]?.problem, 'unparseable file');
    assert.match(
      err.message,
      new RegExp(
        `^configuration file ${file} \\(from flag --config\\) is not valid YAML: line 4, column 1: `,
      ),
    );
  });

  it('a JSON file that does not parse: file, line and column', () => {
    const file = tmp.write('bad.json', '{\n  "log": {\n    "level": "info",\n  }\n}\n');
    assert.equal(
      loadError({ flags: { config: file } }).message,
      `configuration file ${file} (from flag --config) is not valid JSON: line 4, column 3: Expected double-quoted property name`,
    );
    const token = tmp.write('token.json', '{"log": {"level": }}');
    assert.match(
      loadError({ flags: { config: token } }).message,
      /line 1, column 19: Unexpected token '\}'$/,
    );
  });

  it('a missing file names the file and who named it', () => {
    const err = loadError({ env: { GATEHOUSE_CONFIG: 'missing.yaml' }, cwd: tmp.dir });
    assert.equal(
      err.message,
      `cannot read configuration file ${tmp.dir}/missing.yaml (from env GATEHOUSE_CONFIG): ENOENT: no such file or directory`,
    );
  });

  it('reports every problem at once, file then environment then flags', () => {
    const file = tmp.write('many.yaml', 'nope: 1\n');
    const err = loadError({
      flags: { config: file, 'codec-impl': 'rust' },
      env: { GATEHOUSE_LOG__LEVEL: 'loud' },
    });
    assert.deepEqual(
      err.issues.map((i) => i.path),
      ['nope', 'log.level', 'codec.impl'],
    );
  });
});
