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
import { load, loadError, tempDir } from './config-helpers.js';

const tmp = tempDir();
const ENGINE_DEFAULTS = {
  listen: '127.0.0.1:4822',
  handshakeTimeoutMs: 15000,
  rdp: { binary: '', user: 'nobody', memoryLimitMb: 256, killGraceMs: 5000 },
};
/** The proxy section's defaults apart from clusterSize, which the precedence tests vary. */
const PROXY_REST = {
  listen: '127.0.0.1:8080',
  clientTimeoutMs: 15000,
  drainGraceMs: 30000,
  highWaterMark: 1048576,
  maxMessageBytes: 65536,
  batchBytes: 8192,
  maxSessionsPerManager: 2000,
};
const PROXY_AUTH_DEFAULTS = {
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
};
const WEBAPP_DEFAULTS = {
  listen: '127.0.0.1:8443',
  dataDir: '.gatehouse',
  database: '',
  publicUrl: '',
  tls: { enabled: true, certFile: '', keyFile: '' },
  secretKey: '',
  session: { idleMinutes: 30, maxHours: 12 },
  login: { maxFailures: 5, windowSeconds: 300 },
  tokens: { ttlSeconds: 30, replayWindowSeconds: 10, rdpTtlSeconds: 300 },
  healthCheck: { timeoutMs: 1500, cacheMs: 2000, downMs: 5000 },
  rdpSigning: { certFile: '', keyFile: '' },
  relay: { connectTimeoutMs: 5000, maxTunnels: 10_000 },
};
after(() => tmp.remove());

describe('defaults', () => {
  it('are the documented built-in values, all from "default"', () => {
    const { config, sources, file } = load();
    assert.deepEqual(config, {
      log: { level: 'info', format: 'auto' },
      codec: { impl: 'auto' },
      proxy: {
        clusterSize: 'auto',
        listen: '127.0.0.1:8080',
        clientTimeoutMs: 15000,
        drainGraceMs: 30000,
        highWaterMark: 1048576,
        maxMessageBytes: 65536,
        batchBytes: 8192,
        maxSessionsPerManager: 2000,
      },
      proxyAuth: PROXY_AUTH_DEFAULTS,
      engine: ENGINE_DEFAULTS,
      webapp: WEBAPP_DEFAULTS,
    });
    assert.equal(file, undefined);
    for (const source of Object.values(sources)) assert.deepEqual(source, { kind: 'default' });
    assert.deepEqual(Object.keys(sources), [
      'log.level',
      'log.format',
      'codec.impl',
      'proxy.clusterSize',
      'proxy.listen',
      'proxy.clientTimeoutMs',
      'proxy.drainGraceMs',
      'proxy.highWaterMark',
      'proxy.maxMessageBytes',
      'proxy.batchBytes',
      'proxy.maxSessionsPerManager',
      'proxyAuth.mode',
      'proxyAuth.signed.publicKeys',
      'proxyAuth.signed.audience',
      'proxyAuth.signed.issuer',
      'proxyAuth.signed.maxLifetimeSeconds',
      'proxyAuth.signed.clockSkewSeconds',
      'proxyAuth.signed.encryptionKey',
      'proxyAuth.webapp.url',
      'proxyAuth.webapp.proxyId',
      'proxyAuth.webapp.proxyToken',
      'proxyAuth.webapp.timeoutMs',
      'proxyAuth.webapp.caFile',
      'proxyAuth.webapp.allowInsecureHttp',
      'proxyAuth.webapp.advertiseUrl',
      'proxyAuth.webapp.zone',
      'engine.listen',
      'engine.handshakeTimeoutMs',
      'engine.rdp.binary',
      'engine.rdp.user',
      'engine.rdp.memoryLimitMb',
      'engine.rdp.killGraceMs',
      'webapp.listen',
      'webapp.dataDir',
      'webapp.database',
      'webapp.publicUrl',
      'webapp.tls.enabled',
      'webapp.tls.certFile',
      'webapp.tls.keyFile',
      'webapp.secretKey',
      'webapp.session.idleMinutes',
      'webapp.session.maxHours',
      'webapp.login.maxFailures',
      'webapp.login.windowSeconds',
      'webapp.tokens.ttlSeconds',
      'webapp.tokens.replayWindowSeconds',
      'webapp.tokens.rdpTtlSeconds',
      'webapp.healthCheck.timeoutMs',
      'webapp.healthCheck.cacheMs',
      'webapp.healthCheck.downMs',
      'webapp.rdpSigning.certFile',
      'webapp.rdpSigning.keyFile',
      'webapp.relay.connectTimeoutMs',
      'webapp.relay.maxTunnels',
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
      proxy: { clusterSize: 2, ...PROXY_REST },
      proxyAuth: PROXY_AUTH_DEFAULTS,
      engine: ENGINE_DEFAULTS,
      webapp: WEBAPP_DEFAULTS,
    });
  });

  it('environment over file', () => {
    const { config, sources } = load({ flags: { config: file }, env });
    assert.deepEqual(config, {
      log: { level: 'warn', format: 'pretty' },
      codec: { impl: 'ts' },
      proxy: { clusterSize: 3, ...PROXY_REST },
      proxyAuth: PROXY_AUTH_DEFAULTS,
      engine: ENGINE_DEFAULTS,
      webapp: WEBAPP_DEFAULTS,
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
      proxy: { clusterSize: 5, ...PROXY_REST },
      proxyAuth: PROXY_AUTH_DEFAULTS,
      engine: ENGINE_DEFAULTS,
      webapp: WEBAPP_DEFAULTS,
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
      proxy: { clusterSize: 256, ...PROXY_REST },
      proxyAuth: PROXY_AUTH_DEFAULTS,
      engine: ENGINE_DEFAULTS,
      webapp: WEBAPP_DEFAULTS,
    });
  });

  it('--listen sets the listen key of the command being run, and only that one', () => {
    const engine = load({ flags: { listen: '0.0.0.0:4823', command: 'engine' } });
    assert.equal(engine.config.engine.listen, '0.0.0.0:4823');
    assert.equal(engine.config.proxy.listen, PROXY_REST.listen);
    assert.deepEqual(engine.sources['engine.listen'], { kind: 'flag', flag: '--listen' });
    assert.deepEqual(engine.sources['proxy.listen'], { kind: 'default' });

    const proxy = load({ flags: { listen: '[::]:8443', command: 'proxy' } });
    assert.equal(proxy.config.proxy.listen, '[::]:8443');
    assert.equal(proxy.config.engine.listen, ENGINE_DEFAULTS.listen);
    assert.deepEqual(proxy.sources['proxy.listen'], { kind: 'flag', flag: '--listen' });
    assert.deepEqual(proxy.sources['engine.listen'], { kind: 'default' });

    // webapp and all set webapp.listen: config-webapp.test.ts.

    // A command without a --listen of its own leaves every listen key alone.
    const config = load({ flags: { listen: '0.0.0.0:1', command: 'config' } }).config;
    assert.equal(config.engine.listen, ENGINE_DEFAULTS.listen);
    assert.equal(config.proxy.listen, PROXY_REST.listen);
    assert.equal(config.webapp.listen, WEBAPP_DEFAULTS.listen);

    // ... and wins over --set of its key, like every dedicated flag.
    const both = load({
      flags: { listen: '127.0.0.1:9000', command: 'proxy', set: ['proxy.listen=0.0.0.0:1'] },
    });
    assert.equal(both.config.proxy.listen, '127.0.0.1:9000');

    const bad = loadError({ flags: { listen: 'localhost', command: 'proxy' } });
    assert.deepEqual(
      bad.issues.map((i) => [i.path, i.source]),
      [['proxy.listen', 'flag --listen']],
    );
  });

  it('--set reaches every section, nested keys included', () => {
    const { config, sources } = load({
      flags: {
        set: [
          'proxy.drainGraceMs=0',
          'proxy.batchBytes=16384',
          'proxyAuth.mode=WEBAPP',
          'proxyAuth.signed.maxLifetimeSeconds=120',
          'proxyAuth.signed.publicKeys=["/k/a.pem","/k/b.pem"]',
          'proxyAuth.webapp.allowInsecureHttp=yes',
          'webapp.tls.enabled=off',
          'webapp.healthCheck.cacheMs=0',
        ],
      },
    });
    assert.equal(config.proxy.drainGraceMs, 0);
    assert.equal(config.proxy.batchBytes, 16384);
    assert.equal(config.proxyAuth.mode, 'webapp');
    assert.equal(config.proxyAuth.signed.maxLifetimeSeconds, 120);
    assert.deepEqual(config.proxyAuth.signed.publicKeys, ['/k/a.pem', '/k/b.pem']);
    assert.equal(config.proxyAuth.webapp.allowInsecureHttp, true);
    assert.equal(config.webapp.tls.enabled, false);
    assert.equal(config.webapp.healthCheck.cacheMs, 0);
    assert.deepEqual(sources['proxyAuth.signed.maxLifetimeSeconds'], {
      kind: 'flag',
      flag: '--set proxyAuth.signed.maxLifetimeSeconds',
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

  it('says which key a per-command flag sets for each command', () => {
    const doc = readFileSync(fromRoot('docs', 'configuration.md'), 'utf8');
    const rows = doc.split('\n').filter((line) => line.startsWith('|'));
    for (const flag of CONFIG_FLAGS) {
      if (!('command' in flag)) continue;
      const row = rows.find(
        (line) =>
          line.includes(`\`--${flag.flag}`) &&
          line.includes(`\`${flag.path}\``) &&
          line.includes(`\`gatehouse ${flag.command}\``),
      );
      assert.ok(row, `a flags table row: --${flag.flag} in gatehouse ${flag.command} sets ${flag.path}`);
    }
  });

  it('its example files are valid configurations', () => {
    const doc = readFileSync(fromRoot('docs', 'configuration.md'), 'utf8');
    const blocks = [...doc.matchAll(/^```(yaml|json)\n([\s\S]*?)^```$/gm)];
    assert.ok(blocks.length >= 2, 'a YAML and a JSON example');
    blocks.forEach(([, lang, text], i) => {
      const file = tmp.write(`doc-example-${i}.${lang}`, text ?? '');
      const { sources } = load({ flags: { config: file } });
      assert.ok(
        Object.values(sources).some((s) => s.kind === 'file'),
        `example ${i} (${lang}) sets something`,
      );
    });
  });

  it('links the proxy and webapp pages', () => {
    const doc = readFileSync(fromRoot('docs', 'configuration.md'), 'utf8');
    for (const page of ['proxy.md', 'proxy-auth.md', 'webapp.md', 'webapp-database.md'])
      assert.ok(doc.includes(`](${page})`), page);
  });
});
