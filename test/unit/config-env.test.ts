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
    assert.equal(
      envVarName(['proxyAuth', 'signed', 'maxLifetimeSeconds']),
      'GATEHOUSE_PROXY_AUTH__SIGNED__MAX_LIFETIME_SECONDS',
    );
    assert.deepEqual(
      [...envVariables()],
      [
        ['GATEHOUSE_LOG__LEVEL', 'log.level'],
        ['GATEHOUSE_LOG__FORMAT', 'log.format'],
        ['GATEHOUSE_CODEC__IMPL', 'codec.impl'],
        ['GATEHOUSE_PROXY__CLUSTER_SIZE', 'proxy.clusterSize'],
        ['GATEHOUSE_PROXY__LISTEN', 'proxy.listen'],
        ['GATEHOUSE_PROXY__CLIENT_TIMEOUT_MS', 'proxy.clientTimeoutMs'],
        ['GATEHOUSE_PROXY__DRAIN_GRACE_MS', 'proxy.drainGraceMs'],
        ['GATEHOUSE_PROXY__HIGH_WATER_MARK', 'proxy.highWaterMark'],
        ['GATEHOUSE_PROXY__MAX_MESSAGE_BYTES', 'proxy.maxMessageBytes'],
        ['GATEHOUSE_PROXY__BATCH_BYTES', 'proxy.batchBytes'],
        ['GATEHOUSE_PROXY__MAX_SESSIONS_PER_MANAGER', 'proxy.maxSessionsPerManager'],
        ['GATEHOUSE_PROXY_AUTH__MODE', 'proxyAuth.mode'],
        ['GATEHOUSE_PROXY_AUTH__SIGNED__PUBLIC_KEYS', 'proxyAuth.signed.publicKeys'],
        ['GATEHOUSE_PROXY_AUTH__SIGNED__AUDIENCE', 'proxyAuth.signed.audience'],
        ['GATEHOUSE_PROXY_AUTH__SIGNED__ISSUER', 'proxyAuth.signed.issuer'],
        ['GATEHOUSE_PROXY_AUTH__SIGNED__MAX_LIFETIME_SECONDS', 'proxyAuth.signed.maxLifetimeSeconds'],
        ['GATEHOUSE_PROXY_AUTH__SIGNED__CLOCK_SKEW_SECONDS', 'proxyAuth.signed.clockSkewSeconds'],
        ['GATEHOUSE_PROXY_AUTH__SIGNED__ENCRYPTION_KEY', 'proxyAuth.signed.encryptionKey'],
        ['GATEHOUSE_PROXY_AUTH__WEBAPP__URL', 'proxyAuth.webapp.url'],
        ['GATEHOUSE_PROXY_AUTH__WEBAPP__PROXY_ID', 'proxyAuth.webapp.proxyId'],
        ['GATEHOUSE_PROXY_AUTH__WEBAPP__PROXY_TOKEN', 'proxyAuth.webapp.proxyToken'],
        ['GATEHOUSE_PROXY_AUTH__WEBAPP__TIMEOUT_MS', 'proxyAuth.webapp.timeoutMs'],
        ['GATEHOUSE_PROXY_AUTH__WEBAPP__CA_FILE', 'proxyAuth.webapp.caFile'],
        ['GATEHOUSE_PROXY_AUTH__WEBAPP__ALLOW_INSECURE_HTTP', 'proxyAuth.webapp.allowInsecureHttp'],
        ['GATEHOUSE_PROXY_AUTH__WEBAPP__ADVERTISE_URL', 'proxyAuth.webapp.advertiseUrl'],
        ['GATEHOUSE_PROXY_AUTH__WEBAPP__ZONE', 'proxyAuth.webapp.zone'],
        ['GATEHOUSE_ENGINE__LISTEN', 'engine.listen'],
        ['GATEHOUSE_ENGINE__HANDSHAKE_TIMEOUT_MS', 'engine.handshakeTimeoutMs'],
        ['GATEHOUSE_ENGINE__RDP__BINARY', 'engine.rdp.binary'],
        ['GATEHOUSE_ENGINE__RDP__USER', 'engine.rdp.user'],
        ['GATEHOUSE_ENGINE__RDP__MEMORY_LIMIT_MB', 'engine.rdp.memoryLimitMb'],
        ['GATEHOUSE_ENGINE__RDP__KILL_GRACE_MS', 'engine.rdp.killGraceMs'],
        ['GATEHOUSE_WEBAPP__LISTEN', 'webapp.listen'],
        ['GATEHOUSE_WEBAPP__DATA_DIR', 'webapp.dataDir'],
        ['GATEHOUSE_WEBAPP__DATABASE', 'webapp.database'],
        ['GATEHOUSE_WEBAPP__PUBLIC_URL', 'webapp.publicUrl'],
        ['GATEHOUSE_WEBAPP__TLS__ENABLED', 'webapp.tls.enabled'],
        ['GATEHOUSE_WEBAPP__TLS__CERT_FILE', 'webapp.tls.certFile'],
        ['GATEHOUSE_WEBAPP__TLS__KEY_FILE', 'webapp.tls.keyFile'],
        ['GATEHOUSE_WEBAPP__SECRET_KEY', 'webapp.secretKey'],
        ['GATEHOUSE_WEBAPP__SESSION__IDLE_MINUTES', 'webapp.session.idleMinutes'],
        ['GATEHOUSE_WEBAPP__SESSION__MAX_HOURS', 'webapp.session.maxHours'],
        ['GATEHOUSE_WEBAPP__LOGIN__MAX_FAILURES', 'webapp.login.maxFailures'],
        ['GATEHOUSE_WEBAPP__LOGIN__WINDOW_SECONDS', 'webapp.login.windowSeconds'],
        ['GATEHOUSE_WEBAPP__TOKENS__TTL_SECONDS', 'webapp.tokens.ttlSeconds'],
        ['GATEHOUSE_WEBAPP__TOKENS__REPLAY_WINDOW_SECONDS', 'webapp.tokens.replayWindowSeconds'],
        ['GATEHOUSE_WEBAPP__TOKENS__RDP_TTL_SECONDS', 'webapp.tokens.rdpTtlSeconds'],
        ['GATEHOUSE_WEBAPP__HEALTH_CHECK__TIMEOUT_MS', 'webapp.healthCheck.timeoutMs'],
        ['GATEHOUSE_WEBAPP__HEALTH_CHECK__CACHE_MS', 'webapp.healthCheck.cacheMs'],
        ['GATEHOUSE_WEBAPP__HEALTH_CHECK__DOWN_MS', 'webapp.healthCheck.downMs'],
        ['GATEHOUSE_WEBAPP__RDP_SIGNING__CERT_FILE', 'webapp.rdpSigning.certFile'],
        ['GATEHOUSE_WEBAPP__RDP_SIGNING__KEY_FILE', 'webapp.rdpSigning.keyFile'],
        ['GATEHOUSE_WEBAPP__RELAY__CONNECT_TIMEOUT_MS', 'webapp.relay.connectTimeoutMs'],
        ['GATEHOUSE_WEBAPP__RELAY__MAX_TUNNELS', 'webapp.relay.maxTunnels'],
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
        GATEHOUSE_PROXY__LISTEN: '0.0.0.0:8443',
        GATEHOUSE_PROXY__CLIENT_TIMEOUT_MS: '20000',
        GATEHOUSE_PROXY__DRAIN_GRACE_MS: '0',
        GATEHOUSE_PROXY__HIGH_WATER_MARK: '2097152',
        GATEHOUSE_PROXY__MAX_MESSAGE_BYTES: '131072',
        GATEHOUSE_PROXY__BATCH_BYTES: '4096',
        GATEHOUSE_PROXY__MAX_SESSIONS_PER_MANAGER: '500',
        GATEHOUSE_PROXY_AUTH__MODE: 'Webapp',
        GATEHOUSE_PROXY_AUTH__SIGNED__PUBLIC_KEYS: '["/k/current.pem", "/k/old.pem"]',
        GATEHOUSE_PROXY_AUTH__SIGNED__AUDIENCE: 'proxy-eu',
        GATEHOUSE_PROXY_AUTH__SIGNED__ISSUER: 'https://webapp.example',
        GATEHOUSE_PROXY_AUTH__SIGNED__MAX_LIFETIME_SECONDS: '120',
        GATEHOUSE_PROXY_AUTH__SIGNED__CLOCK_SKEW_SECONDS: '5',
        GATEHOUSE_PROXY_AUTH__SIGNED__ENCRYPTION_KEY: 'c2VjcmV0',
        GATEHOUSE_PROXY_AUTH__WEBAPP__URL: 'https://webapp.example/redeem',
        GATEHOUSE_PROXY_AUTH__WEBAPP__PROXY_ID: 'proxy-1',
        GATEHOUSE_PROXY_AUTH__WEBAPP__PROXY_TOKEN: 'tok',
        GATEHOUSE_PROXY_AUTH__WEBAPP__TIMEOUT_MS: '2500',
        GATEHOUSE_PROXY_AUTH__WEBAPP__CA_FILE: '/etc/ca.pem',
        GATEHOUSE_PROXY_AUTH__WEBAPP__ALLOW_INSECURE_HTTP: 'on',
        GATEHOUSE_PROXY_AUTH__WEBAPP__ADVERTISE_URL: 'https://proxy-1.internal:8080',
        GATEHOUSE_PROXY_AUTH__WEBAPP__ZONE: 'eu-west',
        GATEHOUSE_ENGINE__LISTEN: '[::1]:4823',
        GATEHOUSE_ENGINE__HANDSHAKE_TIMEOUT_MS: '5000',
        GATEHOUSE_ENGINE__RDP__BINARY: '/opt/gatehouse/gatehouse-rdp',
        GATEHOUSE_ENGINE__RDP__USER: 'gatehouse:nogroup',
        GATEHOUSE_ENGINE__RDP__MEMORY_LIMIT_MB: '512',
        GATEHOUSE_ENGINE__RDP__KILL_GRACE_MS: '2000',
        GATEHOUSE_WEBAPP__LISTEN: '0.0.0.0:443',
        GATEHOUSE_WEBAPP__DATA_DIR: '/var/lib/gatehouse',
        GATEHOUSE_WEBAPP__DATABASE: 'postgres://gh:pw@db:5432/gh',
        GATEHOUSE_WEBAPP__PUBLIC_URL: 'https://gatehouse.example.com',
        GATEHOUSE_WEBAPP__TLS__ENABLED: 'false',
        GATEHOUSE_WEBAPP__TLS__CERT_FILE: '/etc/tls/chain.pem',
        GATEHOUSE_WEBAPP__TLS__KEY_FILE: '/etc/tls/key.pem',
        GATEHOUSE_WEBAPP__SECRET_KEY: 'a2V5',
        GATEHOUSE_WEBAPP__SESSION__IDLE_MINUTES: '15',
        GATEHOUSE_WEBAPP__SESSION__MAX_HOURS: '8',
        GATEHOUSE_WEBAPP__LOGIN__MAX_FAILURES: '3',
        GATEHOUSE_WEBAPP__LOGIN__WINDOW_SECONDS: '600',
        GATEHOUSE_WEBAPP__TOKENS__TTL_SECONDS: '20',
        GATEHOUSE_WEBAPP__TOKENS__REPLAY_WINDOW_SECONDS: '0',
        GATEHOUSE_WEBAPP__TOKENS__RDP_TTL_SECONDS: '120',
        GATEHOUSE_WEBAPP__HEALTH_CHECK__TIMEOUT_MS: '800',
        GATEHOUSE_WEBAPP__HEALTH_CHECK__CACHE_MS: '0',
        GATEHOUSE_WEBAPP__HEALTH_CHECK__DOWN_MS: '10000',
        GATEHOUSE_WEBAPP__RDP_SIGNING__CERT_FILE: '/etc/rdp/sign.crt',
        GATEHOUSE_WEBAPP__RDP_SIGNING__KEY_FILE: '/etc/rdp/sign.key',
        GATEHOUSE_WEBAPP__RELAY__CONNECT_TIMEOUT_MS: '2000',
        GATEHOUSE_WEBAPP__RELAY__MAX_TUNNELS: '50',
      },
    });
    assert.deepEqual(config, {
      log: { level: 'debug', format: 'json' },
      codec: { impl: 'native' },
      proxy: {
        clusterSize: 16,
        listen: '0.0.0.0:8443',
        clientTimeoutMs: 20000,
        drainGraceMs: 0,
        highWaterMark: 2097152,
        maxMessageBytes: 131072,
        batchBytes: 4096,
        maxSessionsPerManager: 500,
      },
      proxyAuth: {
        mode: 'webapp',
        signed: {
          publicKeys: ['/k/current.pem', '/k/old.pem'],
          audience: 'proxy-eu',
          issuer: 'https://webapp.example',
          maxLifetimeSeconds: 120,
          clockSkewSeconds: 5,
          encryptionKey: 'c2VjcmV0',
        },
        webapp: {
          url: 'https://webapp.example/redeem',
          proxyId: 'proxy-1',
          proxyToken: 'tok',
          timeoutMs: 2500,
          caFile: '/etc/ca.pem',
          allowInsecureHttp: true,
          advertiseUrl: 'https://proxy-1.internal:8080',
          zone: 'eu-west',
        },
      },
      engine: {
        listen: '[::1]:4823',
        handshakeTimeoutMs: 5000,
        rdp: {
          binary: '/opt/gatehouse/gatehouse-rdp',
          user: 'gatehouse:nogroup',
          memoryLimitMb: 512,
          killGraceMs: 2000,
        },
      },
      webapp: {
        listen: '0.0.0.0:443',
        dataDir: '/var/lib/gatehouse',
        database: 'postgres://gh:pw@db:5432/gh',
        publicUrl: 'https://gatehouse.example.com',
        tls: { enabled: false, certFile: '/etc/tls/chain.pem', keyFile: '/etc/tls/key.pem' },
        secretKey: 'a2V5',
        session: { idleMinutes: 15, maxHours: 8 },
        login: { maxFailures: 3, windowSeconds: 600 },
        tokens: { ttlSeconds: 20, replayWindowSeconds: 0, rdpTtlSeconds: 120 },
        healthCheck: { timeoutMs: 800, cacheMs: 0, downMs: 10000 },
        rdpSigning: { certFile: '/etc/rdp/sign.crt', keyFile: '/etc/rdp/sign.key' },
        relay: { connectTimeoutMs: 2000, maxTunnels: 50 },
      },
    });
  });

  it('a list key takes a JSON list or a single entry; a bad value names the nested variable', () => {
    const single = load({ env: { GATEHOUSE_PROXY_AUTH__SIGNED__PUBLIC_KEYS: '/k/only.pem' } });
    assert.equal(single.config.proxyAuth.signed.publicKeys, '/k/only.pem');
    const err = loadError({ env: { GATEHOUSE_PROXY_AUTH__SIGNED__MAX_LIFETIME_SECONDS: '0' } });
    assert.deepEqual(err.issues, [
      {
        problem: 'invalid value',
        path: 'proxyAuth.signed.maxLifetimeSeconds',
        value: 0,
        expected: 'an integer from 1 to 86400',
        source: 'env GATEHOUSE_PROXY_AUTH__SIGNED__MAX_LIFETIME_SECONDS',
      },
    ]);
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

  it('ignores the build/test/bootstrap variables, GATEHOUSE_CONFIG, empty values and other prefixes', () => {
    const env: NodeJS.ProcessEnv = {
      GATEHOUSE_LOG__NOPE: '',
      GATEHOUSE_LOG__LEVEL: '',
      GATEHOUSEX: '1',
      PATH: '/bin',
    };
    for (const name of ENV_IGNORED) env[name] = '1';
    assert.ok(ENV_IGNORED.includes('GATEHOUSE_NATIVE_PATH'));
    assert.ok(ENV_IGNORED.includes('GATEHOUSE_FUZZ_SECONDS'));
    for (const name of [
      'GATEHOUSE_ADMIN_PASSWORD',
      'GATEHOUSE_WEBAPP_CHECK_RESPONSES',
      'GATEHOUSE_TEST_SHOW_LOGS',
      'GATEHOUSE_RDP_ENGINE',
    ])
      assert.ok(ENV_IGNORED.includes(name), name);
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
