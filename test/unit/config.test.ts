// Configuration loading: defaults, YAML and JSON files, environment, flags, and their precedence.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { after, describe, it } from 'node:test';
import { envVarName } from '../../src/config/env.js';
import { CONFIG_FLAGS } from '../../src/config/flags.js';
import { configSchema } from '../../src/config/schema.js';
import { defaultsOf, leafPaths } from '../../src/config/schema-node.js';
import { resolveClusterSize } from '../../src/config/sections/proxy.js';
import { fromRoot } from '../helpers/paths.js';
import { load, tempDir } from './config-helpers.js';

const tmp = tempDir();
const ENGINE_DEFAULTS = { listen: '127.0.0.1:4822', handshakeTimeoutMs: 15000 };
after(() => tmp.remove());

describe('defaults', () => {
  it('are the documented built-in values, all from "default"', () => {
    const { config, sources, file } = load();
    assert.deepEqual(config, {
      log: { level: 'info', format: 'auto' },
      codec: { impl: 'auto' },
      proxy: { clusterSize: 'auto' },
      engine: { listen: '127.0.0.1:4822', handshakeTimeoutMs: 15000 },
    });
    assert.equal(file, undefined);
    for (const source of Object.values(sources)) assert.deepEqual(source, { kind: 'default' });
    assert.deepEqual(Object.keys(sources), [
      'log.level',
      'log.format',
      'codec.impl',
      'proxy.clusterSize',
      'engine.listen',
      'engine.handshakeTimeoutMs',
    ]);
  });

  it('every key has a default, so the defaults alone are a complete configuration', () => {
    const defaults = defaultsOf(configSchema);
    for (const path of leafPaths(configSchema)) {
      const value = path.reduce<unknown>((node, k) => (node as Record<string, unknown>)[k], defaults);
      assert.notEqual(value, undefined, path.join('.'));
    }
  });
});

describe('files', () => {
  it('reads YAML (.yaml, .yml) and records the line of each value', () => {
    const file = tmp.write('a.yaml', '# comment\nlog:\n  level: debug\nproxy:\n  clusterSize: 4\n');
    const { config, sources, file: used } = load({ flags: { config: file } });
    assert.equal(used, file);
    assert.equal(config.log.level, 'debug');
    assert.equal(config.log.format, 'auto');
    assert.equal(config.proxy.clusterSize, 4);
    assert.deepEqual(sources['log.level'], { kind: 'file', file, line: 3, column: 3 });
    assert.deepEqual(sources['log.format'], { kind: 'default' });
    const yml = tmp.write('b.yml', 'codec: {impl: ts}\n');
    assert.equal(load({ flags: { config: yml } }).config.codec.impl, 'ts');
  });

  it('reads JSON', () => {
    const file = tmp.write(
      'a.json',
      JSON.stringify({ log: { format: 'json' }, proxy: { clusterSize: 'auto' } }),
    );
    const { config, sources } = load({ flags: { config: file } });
    assert.equal(config.log.format, 'json');
    assert.equal(sources['log.format']?.kind, 'file');
  });

  it('treats an empty file as no settings', () => {
    const file = tmp.write('empty.yaml', '');
    assert.equal(load({ flags: { config: file } }).config.log.level, 'info');
  });

  it('is named by GATEHOUSE_CONFIG, resolved against cwd; --config wins over it', () => {
    tmp.write('env.yaml', 'log:\n  level: warn\n');
    const flagFile = tmp.write('flag.yaml', 'log:\n  level: error\n');
    assert.equal(load({ env: { GATEHOUSE_CONFIG: 'env.yaml' }, cwd: tmp.dir }).config.log.level, 'warn');
    const both = load({ env: { GATEHOUSE_CONFIG: 'env.yaml' }, cwd: tmp.dir, flags: { config: flagFile } });
    assert.equal(both.config.log.level, 'error');
    assert.equal(load({ env: { GATEHOUSE_CONFIG: '' } }).file, undefined);
  });
});

describe('precedence: defaults < file < environment < flags', () => {
  const file = tmp.write(
    'p.yaml',
    'log:\n  level: warn\n  format: json\ncodec:\n  impl: native\nproxy:\n  clusterSize: 2\n',
  );
  const env = {
    GATEHOUSE_LOG__FORMAT: 'pretty',
    GATEHOUSE_CODEC__IMPL: 'ts',
    GATEHOUSE_PROXY__CLUSTER_SIZE: '3',
  };

  it('file over defaults', () => {
    assert.deepEqual(load({ flags: { config: file } }).config, {
      log: { level: 'warn', format: 'json' },
      codec: { impl: 'native' },
      proxy: { clusterSize: 2 },
      engine: ENGINE_DEFAULTS,
    });
  });

  it('environment over file', () => {
    const { config, sources } = load({ flags: { config: file }, env });
    assert.deepEqual(config, {
      log: { level: 'warn', format: 'pretty' },
      codec: { impl: 'ts' },
      proxy: { clusterSize: 3 },
      engine: ENGINE_DEFAULTS,
    });
    assert.deepEqual(sources['proxy.clusterSize'], {
      kind: 'env',
      variable: 'GATEHOUSE_PROXY__CLUSTER_SIZE',
    });
    assert.equal(sources['log.level']?.kind, 'file');
  });

  it('flags over environment, dedicated flags over --set', () => {
    const { config, sources } = load({
      env,
      flags: {
        config: file,
        'log-format': 'json',
        'guac-cluster-size': '5',
        set: ['log.level=trace', 'proxy.clusterSize=7', 'proxy.clusterSize=auto'],
      },
    });
    assert.deepEqual(config, {
      log: { level: 'trace', format: 'json' },
      codec: { impl: 'ts' },
      proxy: { clusterSize: 5 },
      engine: ENGINE_DEFAULTS,
    });
    assert.deepEqual(sources['proxy.clusterSize'], { kind: 'flag', flag: '--guac-cluster-size' });
    assert.deepEqual(sources['log.level'], { kind: 'flag', flag: '--set log.level' });
    assert.deepEqual(sources['codec.impl'], { kind: 'env', variable: 'GATEHOUSE_CODEC__IMPL' });
  });

  it('later --set wins over earlier', () => {
    const { config } = load({ flags: { set: ['proxy.clusterSize=7', 'proxy.clusterSize=auto'] } });
    assert.equal(config.proxy.clusterSize, 'auto');
  });
});

describe('flags', () => {
  it('each dedicated flag sets its key', () => {
    const { config } = load({
      flags: {
        'log-level': 'debug',
        'log-format': 'pretty',
        'codec-impl': 'native',
        'guac-cluster-size': '256',
      },
    });
    assert.deepEqual(config, {
      log: { level: 'debug', format: 'pretty' },
      codec: { impl: 'native' },
      proxy: { clusterSize: 256 },
      engine: ENGINE_DEFAULTS,
    });
  });

  it('--set coerces by schema type and matches enums case-insensitively', () => {
    const { config } = load({
      flags: { set: ['proxy.clusterSize= 12 ', 'log.level=WARN', 'codec.impl=Native'] },
    });
    assert.equal(config.proxy.clusterSize, 12);
    assert.equal(config.log.level, 'warn');
    assert.equal(config.codec.impl, 'native');
  });
});

describe('proxy.clusterSize', () => {
  it('auto is one connection manager per core, capped at 256', () => {
    assert.equal(resolveClusterSize('auto'), Math.min(availableParallelism(), 256));
    assert.equal(resolveClusterSize('auto', 1000), 256);
    assert.equal(resolveClusterSize('auto', 0), 1);
    assert.equal(resolveClusterSize(3), 3);
  });
});

describe('docs/configuration.md', () => {
  it('documents every key, its environment variable and its flag', () => {
    const doc = readFileSync(fromRoot('docs', 'configuration.md'), 'utf8');
    for (const path of leafPaths(configSchema)) {
      assert.ok(doc.includes(`\`${path.join('.')}\``), `key ${path.join('.')} is documented`);
      assert.ok(doc.includes(envVarName(path)), `variable ${envVarName(path)} is documented`);
    }
    for (const flag of CONFIG_FLAGS)
      assert.ok(doc.includes(`--${flag.flag}`), `flag --${flag.flag} is documented`);
  });
});
