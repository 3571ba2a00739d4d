// GATEHOUSE_* environment variables: names, coercion, the alias and the ignore list.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coerce } from '../../src/config/coerce.js';
import { ENV_IGNORED, envLayer, envVariables, envVarName } from '../../src/config/env.js';
import type { SchemaNode } from '../../src/config/schema-node.js';
import { load, loadError } from './config-helpers.js';

describe('environment variables', () => {
  it('are GATEHOUSE_ + SCREAMING_SNAKE segments joined by __', () => {
    assert.equal(envVarName(['log', 'level']), 'GATEHOUSE_LOG__LEVEL');
    assert.equal(envVarName(['proxy', 'clusterSize']), 'GATEHOUSE_PROXY__CLUSTER_SIZE');
    assert.deepEqual(
      [...envVariables()],
      [
        ['GATEHOUSE_LOG__LEVEL', 'log.level'],
        ['GATEHOUSE_LOG__FORMAT', 'log.format'],
        ['GATEHOUSE_CODEC__IMPL', 'codec.impl'],
        ['GATEHOUSE_PROXY__CLUSTER_SIZE', 'proxy.clusterSize'],
        ['GATEHOUSE_ENGINE__LISTEN', 'engine.listen'],
        ['GATEHOUSE_ENGINE__HANDSHAKE_TIMEOUT_MS', 'engine.handshakeTimeoutMs'],
        ['GATEHOUSE_CODEC_IMPL', 'codec.impl'],
      ],
    );
  });

  it('set their key, coerced by the schema type', () => {
    const { config } = load({
      env: {
        GATEHOUSE_LOG__LEVEL: 'DEBUG',
        GATEHOUSE_LOG__FORMAT: 'json',
        GATEHOUSE_CODEC__IMPL: 'native',
        GATEHOUSE_PROXY__CLUSTER_SIZE: '16',
        GATEHOUSE_ENGINE__LISTEN: '[::1]:4823',
        GATEHOUSE_ENGINE__HANDSHAKE_TIMEOUT_MS: '5000',
      },
    });
    assert.deepEqual(config, {
      log: { level: 'debug', format: 'json' },
      codec: { impl: 'native' },
      proxy: { clusterSize: 16 },
      engine: { listen: '[::1]:4823', handshakeTimeoutMs: 5000 },
    });
  });

  it('GATEHOUSE_CODEC_IMPL is the short form of codec.impl; GATEHOUSE_CODEC__IMPL wins over it', () => {
    const alias = load({ env: { GATEHOUSE_CODEC_IMPL: 'ts' } });
    assert.equal(alias.config.codec.impl, 'ts');
    assert.deepEqual(alias.sources['codec.impl'], { kind: 'env', variable: 'GATEHOUSE_CODEC_IMPL' });
    const both = load({ env: { GATEHOUSE_CODEC_IMPL: 'ts', GATEHOUSE_CODEC__IMPL: 'native' } });
    assert.equal(both.config.codec.impl, 'native');
    assert.match(
      loadError({ env: { GATEHOUSE_CODEC_IMPL: 'rust' } }).message,
      /from env GATEHOUSE_CODEC_IMPL/,
    );
  });

  it('ignores the build/test variables, GATEHOUSE_CONFIG, empty values and other prefixes', () => {
    const env: NodeJS.ProcessEnv = {
      GATEHOUSE_LOG__NOPE: '',
      GATEHOUSE_LOG__LEVEL: '',
      GATEHOUSEX: '1',
      PATH: '/bin',
    };
    for (const name of ENV_IGNORED) env[name] = '1';
    assert.ok(ENV_IGNORED.includes('GATEHOUSE_NATIVE_PATH'));
    assert.ok(ENV_IGNORED.includes('GATEHOUSE_FUZZ_SECONDS'));
    const layer = envLayer(env);
    assert.deepEqual(layer.issues, []);
    assert.deepEqual(layer.data, {});
  });
});

describe('coerce', () => {
  const integer: SchemaNode = { type: 'integer' };
  const bool: SchemaNode = { type: 'boolean' };
  const either: SchemaNode = { anyOf: [{ type: 'integer' }, { type: 'string', const: 'auto' }] };

  it('integers, booleans, enums, unions; anything else stays the string given', () => {
    assert.equal(coerce(integer, '42'), 42);
    assert.equal(coerce(integer, '-3'), -3);
    assert.equal(coerce(integer, '4x'), '4x');
    assert.equal(coerce(integer, '1.5'), '1.5');
    assert.equal(coerce(bool, 'TRUE'), true);
    assert.equal(coerce(bool, 'off'), false);
    assert.equal(coerce(bool, 'maybe'), 'maybe');
    assert.equal(coerce(either, 'AUTO'), 'auto');
    assert.equal(coerce(either, '8'), 8);
    assert.equal(coerce({ type: 'number' }, '2.5'), 2.5);
    assert.deepEqual(coerce({ type: 'array' }, '["a"]'), ['a']);
    assert.equal(coerce({ type: 'string' }, 'text'), 'text');
  });
});
