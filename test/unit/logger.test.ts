// The logger (JSON and pretty, level, bindings) and secret redaction in logs and in printed configuration.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { renderConfig } from '../../src/cli/render-config.js';
import type { LogConfig } from '../../src/config/sections/log.js';
import { createLogger, usePretty } from '../../src/log/logger.js';
import { isSecretKey, redactSecrets } from '../../src/log/redact.js';

function capture(): { stream: Writable; text(): string; records(): Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return {
    stream,
    text: () => chunks.join(''),
    records: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const cfg = (log: Partial<LogConfig> = {}) => ({
  log: { level: 'info', format: 'json', ...log } as LogConfig,
});

describe('logger', () => {
  it('writes JSON lines with level, ISO time, name and bindings', () => {
    const out = capture();
    const log = createLogger(cfg(), { role: 'proxy' }, { destination: out.stream, isTTY: true });
    log.info({ sessions: 3 }, 'hello');
    const [record] = out.records();
    assert.equal(record?.msg, 'hello');
    assert.equal(record?.level, 30);
    assert.equal(record?.name, 'gatehouse');
    assert.equal(record?.role, 'proxy');
    assert.equal(record?.sessions, 3);
    assert.match(String(record?.time), /^\d{4}-\d\d-\d\dT/);
  });

  it('honours log.level, including silent', () => {
    const out = capture();
    const log = createLogger(cfg({ level: 'warn' }), undefined, { destination: out.stream });
    log.info('dropped');
    log.warn('kept');
    assert.deepEqual(
      out.records().map((r) => r.msg),
      ['kept'],
    );
    const quiet = capture();
    createLogger(cfg({ level: 'silent' }), undefined, { destination: quiet.stream }).fatal('nothing');
    assert.equal(quiet.text(), '');
  });

  it('pretty format is human-readable text, not JSON; auto follows the TTY', () => {
    const out = capture();
    createLogger(cfg({ format: 'pretty' }), undefined, { destination: out.stream, isTTY: false }).info(
      'readable',
    );
    assert.match(out.text(), /INFO.*readable/);
    assert.throws(() => JSON.parse(out.text()));
    assert.equal(usePretty('auto', true), true);
    assert.equal(usePretty('auto', false), false);
    assert.equal(usePretty('json', true), false);
    assert.equal(usePretty('pretty', false), true);
  });

  it('redacts secrets at the top level and nested, in JSON', () => {
    const out = capture();
    const log = createLogger(cfg(), undefined, { destination: out.stream });
    log.info(
      {
        password: 'hunter2',
        token: 't0k',
        key: 'k3y',
        user: { name: 'ann', password: 'hunter2', apiKey: 'ak' },
        req: { headers: { authorization: 'Bearer abc', cookie: 'sid=1', 'set-cookie': 'x' } },
        server: { rdp: { secret: 's3' } },
      },
      'login',
    );
    const text = out.text();
    for (const secret of ['hunter2', 't0k', 'k3y', 'Bearer abc', 'sid=1', 's3', '"ak"']) {
      assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    }
    const [r] = out.records() as unknown as [
      {
        password: string;
        user: { name: string; password: string };
        req: { headers: { authorization: string } };
        server: { rdp: { secret: string } };
      },
    ];
    assert.equal(r.password, '[redacted]');
    assert.equal(r.user.password, '[redacted]');
    assert.equal(r.user.name, 'ann');
    assert.equal(r.req.headers.authorization, '[redacted]');
    assert.equal(r.server.rdp.secret, '[redacted]');
  });

  it('redacts secrets in pretty output too', () => {
    const out = capture();
    createLogger(cfg({ format: 'pretty' }), undefined, { destination: out.stream }).info(
      { password: 'hunter2', nested: { token: 'abc123' } },
      'x',
    );
    assert.ok(!out.text().includes('hunter2'));
    assert.ok(!out.text().includes('abc123'));
    assert.match(out.text(), /\[redacted\]/);
  });
});

describe('redaction of printed configuration', () => {
  it('masks keys matching pass|secret|token|credential or the word key', () => {
    for (const k of [
      'password',
      'dbPass',
      'clientSecret',
      'TOKEN',
      'credentials',
      'key',
      'apiKey',
      'private_key',
      'KEYS',
    ]) {
      assert.ok(isSecretKey(k), k);
    }
    for (const k of ['level', 'keyboardLayout', 'monkey', 'format', 'clusterSize'])
      assert.ok(!isSecretKey(k), k);
  });

  it('deep-copies with secrets masked, leaving everything else and the input untouched', () => {
    const input = {
      log: { level: 'info' },
      db: { url: 'postgres://db', password: 'pw', tls: { privateKey: 'pk' } },
      users: [{ name: 'a', token: 't' }],
      empty: { secret: '' },
    };
    const out = redactSecrets(input);
    assert.deepEqual(out, {
      log: { level: 'info' },
      db: { url: 'postgres://db', password: '[redacted]', tls: { privateKey: '[redacted]' } },
      users: [{ name: 'a', token: '[redacted]' }],
      empty: { secret: '' },
    });
    assert.equal(input.db.password, 'pw');
  });

  it('searches a section under a secret-looking name instead of replacing it (webapp.tokens)', () => {
    const out = redactSecrets({ webapp: { tokens: { ttlSeconds: 30 }, secretKey: 'k', keys: ['a'] } });
    assert.deepEqual(out, {
      webapp: { tokens: { ttlSeconds: 30 }, secretKey: '[redacted]', keys: '[redacted]' },
    });
  });

  it('masks the password of a URL value (webapp.database), keeping the rest', () => {
    const out = redactSecrets({
      a: 'postgres://gh:s3cr@t:x@db:5432/gh',
      b: 'postgresql://gh@db/gh',
      c: 'https://example.com/a:b@c',
      d: 'not a url: x@y',
    });
    assert.deepEqual(out, {
      a: 'postgres://gh:[redacted]@db:5432/gh',
      b: 'postgresql://gh@db/gh',
      c: 'https://example.com/a:b@c',
      d: 'not a url: x@y',
    });
  });

  it('`gatehouse config` output (YAML and JSON) carries no secret', () => {
    const config = { log: { level: 'info' }, webapp: { sessionSecret: 'abc123', db: { password: 'pw9' } } };
    for (const format of ['yaml', 'json'] as const) {
      const text = renderConfig(config, format);
      assert.ok(!text.includes('abc123') && !text.includes('pw9'), text);
      const parsed = (format === 'json' ? JSON.parse(text) : parseYaml(text)) as typeof config;
      assert.equal(parsed.webapp.sessionSecret, '[redacted]');
      assert.equal(parsed.log.level, 'info');
    }
  });
});
