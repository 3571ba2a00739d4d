// The gatehouse CLI as users run it: `node dist/src/cli/main.js ...` in a child process.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { gatehouse, type LogRecord, type RoleProcess, startGatehouse } from '../helpers/cli.js';
import { GuacTestClient } from '../helpers/guacd-client.js';
import { fromRoot } from '../helpers/paths.js';

const VERSION = (JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')) as { version: string }).version;

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string): string => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

const HINT = "Run 'gatehouse --help' for usage.";

/** `gatehouse engine --log-format json ARGS` in the background. */
const startEngine = (args: string[]): RoleProcess =>
  startGatehouse(['engine', '--log-format', 'json', ...args]);
const enginePort = (r: LogRecord): number => (r.listen as { port: number }).port;

/** A JSON request to a webapp over HTTPS, trusting only `ca` (its generated certificate); bounded to 10 s. */
function httpsJson(
  url: string,
  ca: string,
  method: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      url,
      {
        method,
        ca,
        timeout: 10_000,
        headers: data === undefined ? {} : { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: timed out`)));
    req.on('error', reject);
    req.end(data);
  });
}

describe('gatehouse CLI', { concurrency: true }, () => {
  it('--help lists only the commands that work, and exits 0', async () => {
    const r = await gatehouse(['--help']);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, '');
    const commands = r.stdout.split('Commands:\n')[1]?.split('\n\n')[0] ?? '';
    assert.deepEqual(
      commands.split('\n').map((l) => l.trim().split(/\s+/)[0]),
      ['all', 'config', 'engine', 'proxy', 'webapp', 'token'],
    );
    for (const flag of [
      '--config',
      '--log-level',
      '--log-format',
      '--codec-impl',
      '--guac-cluster-size',
      '--set',
    ]) {
      assert.ok(r.stdout.includes(flag), flag);
    }
    assert.ok(!r.stdout.includes('--listen'), '--listen is not a global option');
  });

  it('--listen is an option of engine, proxy, webapp and all, each naming the key it sets', async () => {
    const keys: [string, string][] = [
      ['engine', 'engine.listen'],
      ['proxy', 'proxy.listen'],
      ['webapp', 'webapp.listen'],
      ['all', 'webapp.listen'],
    ];
    const results = await Promise.all(keys.map(([command]) => gatehouse([command, '--help'])));
    results.forEach((r, i) => {
      const [command, key] = keys[i]!;
      assert.equal(r.code, 0, command);
      assert.ok(r.stdout.startsWith(`Usage: gatehouse ${command} [--listen HOST:PORT] [options]`), r.stdout);
      const line = r.stdout.split('\n').find((l) => l.trimStart().startsWith('--listen HOST:PORT'));
      assert.match(line ?? '', new RegExp(`--listen HOST:PORT +${key.replace('.', '\\.')}: `), command);
    });
  });

  it('COMMAND --help shows that command', async () => {
    const r = await gatehouse(['config', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: gatehouse config \[--check\] \[--format FORMAT\]/);
  });

  it('--version prints the package.json version', async () => {
    const r = await gatehouse(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${VERSION}\n`);
  });

  it('no command, unknown command, unknown option, stray argument: message, usage hint, exit 2', async () => {
    const cases: [string[], string][] = [
      [[], 'gatehouse: no command given'],
      [['bogus'], "gatehouse: unknown command 'bogus'"],
      [['conifg'], "gatehouse: unknown command 'conifg' (did you mean 'config'?)"],
      [['all', '--bogus'], "gatehouse: unknown option '--bogus'"],
      [['-x', 'all'], "gatehouse: unknown option '-x'"],
      [['all', 'extra'], "gatehouse: unexpected argument 'extra'"],
      [['all', '--check'], "gatehouse: option '--check' is not valid for 'gatehouse all'"],
      [['config', '--log-level'], "gatehouse: option '--log-level' needs a value"],
    ];
    const results = await Promise.all(cases.map(([args]) => gatehouse(args)));
    results.forEach((r, i) => {
      const [args, message] = cases[i]!;
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stdout, '');
      assert.ok(r.stderr.startsWith(message), `${args.join(' ')}: ${r.stderr}`);
      assert.ok(r.stderr.includes(HINT));
    });
  });

  it('config prints the effective configuration as YAML (default) or JSON', async () => {
    const file = write('c.yaml', 'log:\n  level: warn\n');
    const env = { GATEHOUSE_CONFIG: file, GATEHOUSE_PROXY__CLUSTER_SIZE: '3' };
    const [yaml, json] = await Promise.all([
      gatehouse(['config', '--codec-impl', 'ts'], env),
      gatehouse(['config', '--format', 'json', '--set', 'log.format=json'], env),
    ]);
    assert.equal(yaml.code, 0, yaml.stderr);
    const y = parseYaml(yaml.stdout) as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(y), ['log', 'codec', 'proxy', 'proxyAuth', 'engine', 'webapp']);
    assert.deepEqual(y.log, { level: 'warn', format: 'auto' });
    assert.deepEqual(y.codec, { impl: 'ts' });
    assert.equal(y.proxy?.clusterSize, 3);
    assert.equal(y.proxy?.listen, '127.0.0.1:8080');
    assert.equal(y.proxyAuth?.mode, 'signed');
    assert.deepEqual(y.engine, {
      listen: '127.0.0.1:4822',
      handshakeTimeoutMs: 15000,
      rdp: { binary: '', user: 'nobody', memoryLimitMb: 256, killGraceMs: 5000 },
    });
    assert.equal(y.webapp?.listen, '127.0.0.1:8443');
    // A section whose name looks secret is shown, not redacted: the output stays a valid file.
    assert.deepEqual(y.webapp?.tokens, { ttlSeconds: 30, replayWindowSeconds: 10, rdpTtlSeconds: 300 });
    assert.equal(json.code, 0, json.stderr);
    const j = JSON.parse(json.stdout) as Record<string, Record<string, unknown>>;
    assert.deepEqual(j.log, { level: 'warn', format: 'json' });
    assert.deepEqual(j.codec, { impl: 'auto' });
    assert.deepEqual({ ...j, log: y.log, codec: y.codec }, y, 'YAML and JSON show the same configuration');
  });

  it('config output is a valid configuration file', async () => {
    const first = await gatehouse([
      'config',
      '--log-level',
      'debug',
      '--guac-cluster-size',
      '9',
      '--set',
      'webapp.tokens.ttlSeconds=45',
    ]);
    assert.equal(first.code, 0, first.stderr);
    const file = write('roundtrip.yaml', first.stdout);
    const again = await gatehouse(['config', '--format', 'json', '--config', file]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout), parseYaml(first.stdout));
  });

  it('config --check: "configuration OK" and 0, or the problem and 2', async () => {
    const ok = await gatehouse(['config', '--check']);
    assert.deepEqual(ok, { code: 0, stdout: 'configuration OK\n', stderr: '' });

    const env = await gatehouse(['config', '--check'], { GATEHOUSE_LOG__LEVEL: 'loud' });
    assert.equal(env.code, 2);
    assert.equal(env.stdout, '');
    assert.match(
      env.stderr,
      /log\.level: invalid value "loud" \(from env GATEHOUSE_LOG__LEVEL\); expected one of/,
    );

    const unknown = await gatehouse(['config', '--check'], { GATEHOUSE_PROXY__SIZE: '4' });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /GATEHOUSE_PROXY__SIZE/);

    const bad = write('bad.yaml', 'log: [\n');
    const parse = await gatehouse(['config', '--check', '--config', bad]);
    assert.equal(parse.code, 2);
    assert.match(
      parse.stderr,
      new RegExp(
        `configuration file ${bad} \\(from flag --config\\) is not valid YAML: line \\d+, column \\d+`,
      ),
    );

    const missing = await gatehouse(['config', '--check', '-c', join(dir, 'nope.json')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read configuration file .*nope\.json.*no such file/);

    const format = await gatehouse(['config', '--format', 'xml']);
    assert.equal(format.code, 2);
    assert.match(format.stderr, /--format.*'xml'/);
  });

  it('all exits 1 when codec.impl is native and the addon is unavailable', async () => {
    const env = { GATEHOUSE_NATIVE_PATH: join(dir, 'absent.node') };
    const cwd = mkdtempSync(join(dir, 'all-native-'));
    const r = await gatehouse(['all', '--codec-impl', 'native', '--log-format', 'json'], env, cwd);
    assert.equal(r.code, 1);
    const fatal = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as LogRecord)
      .find((x) => x.level === 60);
    assert.match(fatal?.msg ?? '', /^codec: cannot use codec\.impl=native: .*absent\.node/);
  });

  it('all: an invalid configuration exits 2 naming the flag', async () => {
    const bad = await gatehouse(['all', '--guac-cluster-size', '0']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /proxy\.clusterSize: invalid value 0 \(from flag --guac-cluster-size\)/);
  });

  it('webapp: an invalid configuration exits 2 naming the key, before making anything', async () => {
    const cwd = mkdtempSync(join(dir, 'webapp-bad-'));
    const bad = await gatehouse(['webapp', '--set', 'webapp.tokens.ttlSeconds=600'], {}, cwd);
    assert.equal(bad.code, 2);
    assert.equal(bad.stdout, '');
    assert.match(
      bad.stderr,
      /webapp\.tokens\.ttlSeconds: invalid value 600 \(from flag --set webapp\.tokens\.ttlSeconds\); expected an integer from 1 to 60/,
    );
    assert.deepEqual(readdirSync(cwd), []);
  });

  it('engine --listen serves the guacd handshake; SIGTERM closes it with SESSION_CLOSED and exits 0', {
    timeout: 30_000,
  }, async () => {
    const engine = startEngine(['--listen', '127.0.0.1:0']);
    try {
      const started = await engine.waitFor((r) => r.listen !== undefined);
      assert.match(started.msg ?? '', /guacd-compatible listener on 127\.0\.0\.1:\d+ \(protocols: /);
      const port = enginePort(started);

      const refused = await GuacTestClient.open(port);
      refused.send('select', 'no-such-protocol');
      const error = await refused.expect('error');
      assert.match(error.args[0] ?? '', /^No such protocol "no-such-protocol"/);
      assert.equal(error.args[1], '768');
      await refused.waitClosed();

      const waiting = await GuacTestClient.open(port);
      await new Promise((r) => setTimeout(r, 100));
      engine.child.kill('SIGTERM');
      const shutdown = await waiting.expect('error');
      assert.deepEqual(shutdown.args, ['The server is shutting down', String(0x020b)]);
      assert.equal(await engine.exit, 0);
      assert.ok(engine.records().some((r) => r.msg === 'engine: stopped'));
    } finally {
      engine.child.kill('SIGKILL');
    }
  });

  it('--listen is per command: each sets its own key; commands without it refuse it', async () => {
    const [proxy, webapp, all, config] = await Promise.all([
      gatehouse(['proxy', '--listen', 'localhost']),
      gatehouse(['webapp', '--listen', 'localhost']),
      gatehouse(['all', '--listen', 'localhost']),
      gatehouse(['config', '--listen', '127.0.0.1:9']),
    ]);
    assert.equal(proxy.code, 2);
    assert.match(proxy.stderr, /proxy\.listen: invalid value "localhost" \(from flag --listen\)/);
    assert.doesNotMatch(proxy.stderr, /engine\.listen/);
    for (const r of [webapp, all]) {
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /webapp\.listen: invalid value "localhost" \(from flag --listen\)/);
      assert.doesNotMatch(r.stderr, /(proxy|engine)\.listen/);
    }
    assert.equal(config.code, 2);
    assert.ok(
      config.stderr.startsWith("gatehouse: option '--listen' is not valid for 'gatehouse config'"),
      config.stderr,
    );
  });

  it('engine: a bad --listen exits 2 naming the flag; a busy port exits 1 with a fatal log line', {
    timeout: 30_000,
  }, async () => {
    const bad = await gatehouse(['engine', '--listen', 'localhost']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /engine\.listen: invalid value "localhost" \(from flag --listen\)/);

    const first = startEngine(['--listen', '127.0.0.1:0']);
    try {
      const port = enginePort(await first.waitFor((r) => r.listen !== undefined));
      const busy = await gatehouse(['engine', '--log-format', 'json', '--listen', `127.0.0.1:${port}`]);
      assert.equal(busy.code, 1);
      assert.match(busy.stdout, /"level":60.*cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    } finally {
      first.child.kill('SIGKILL');
    }
  });
});

// The roles that make certificates (RSA keys, seconds of CPU) run after the rest, not alongside them.
describe('gatehouse webapp and all', { concurrency: true }, () => {
  it('webapp --listen serves the API over HTTPS with its generated certificate; SIGTERM exits 0', {
    timeout: 60_000,
  }, async () => {
    const cwd = mkdtempSync(join(dir, 'webapp-'));
    // Too short to be used: a password is made and printed instead (never an admin nobody can sign in as).
    const webapp = startGatehouse(['webapp', '--log-format', 'json', '--listen', '127.0.0.1:0'], {
      cwd,
      env: { GATEHOUSE_ADMIN_PASSWORD: 'short' },
    });
    try {
      const started = await webapp.waitFor((r) => r.msg?.startsWith('webapp listening on') === true, 40_000);
      assert.match(started.url ?? '', /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.ok(webapp.records().some((r) => /GATEHOUSE_ADMIN_PASSWORD is shorter/.test(r.msg ?? '')));
      const password = /\n {4}password: (\S+)\n/.exec(webapp.output())?.[1];
      assert.ok(password !== undefined && password !== 'short', webapp.output());

      const ca = readFileSync(join(cwd, '.gatehouse', 'webapp-tls.crt'), 'utf8');
      const health = await httpsJson(`${started.url}/api/health`, ca, 'GET');
      assert.equal(health.status, 200);
      assert.deepEqual(health.json, { status: 'ok', version: VERSION, database: 'sqlite', relays: 0 });
      const login = await httpsJson(`${started.url}/api/login`, ca, 'POST', { username: 'admin', password });
      assert.equal(login.status, 200, JSON.stringify(login.json));

      webapp.child.kill('SIGTERM');
      assert.equal(await webapp.exit, 0, webapp.output());
      assert.ok(webapp.records().some((r) => r.msg === 'webapp: stopped'));
    } finally {
      webapp.child.kill('SIGKILL');
    }
  });

  it('all runs the webapp, the proxy registered with it and the engine until SIGTERM (TS codec without the addon)', {
    timeout: 60_000,
  }, async () => {
    const cwd = mkdtempSync(join(dir, 'all-'));
    const all = startGatehouse(['all', '--log-format', 'json', '--guac-cluster-size', '1'], {
      cwd,
      env: {
        GATEHOUSE_PROXY__LISTEN: '127.0.0.1:0',
        GATEHOUSE_ENGINE__LISTEN: '127.0.0.1:0',
        GATEHOUSE_WEBAPP__LISTEN: '127.0.0.1:0',
        GATEHOUSE_NATIVE_PATH: join(dir, 'absent.node'),
      },
    });
    try {
      // The proxy registers with the webapp once it listens: the last of the three to come up.
      await all.waitFor((r) => r.role === 'webapp' && r.msg === 'proxy registered', 40_000);
      await all.waitFor((r) => /^gatehouse .*: guacd-compatible listener on /.test(r.msg ?? ''));
      const records = all.records();
      const codec = records.find((x) => x.codec)?.codec;
      assert.deepEqual([codec?.requested, codec?.impl], ['auto', 'ts'], JSON.stringify(codec));
      const plan = records.find((x) => x.plan)?.plan;
      assert.deepEqual(plan?.roles, ['webapp', 'proxy', 'engine']);
      assert.equal(plan?.connectionManagers, 1);
      const listening = records.find((x) => x.msg?.startsWith('webapp listening on'));
      assert.match(listening?.msg ?? '', /^webapp listening on https:\/\/127\.0\.0\.1:\d+ \(sqlite\)$/);
      assert.ok(
        records.some((x) => /proxy listening on port \d+/.test(x.msg ?? '')),
        all.output(),
      );
      // The initial administrator's password, printed once on stdout (not a log record).
      assert.match(all.output(), /\n {4}user: {5}admin\n {4}password: \S{8,}\n/);
      assert.equal(statSync(join(cwd, '.gatehouse', 'local-proxy.secret')).mode & 0o777, 0o600);
      all.child.kill('SIGTERM');
      assert.equal(await all.exit, 0, all.output());
      const stopped = all.records().map((x) => x.msg);
      for (const line of ['proxy: stopped', 'engine: stopped', 'webapp: stopped'])
        assert.ok(stopped.includes(line), `${line}\n${all.output()}`);
    } finally {
      all.child.kill('SIGKILL');
    }
  });
});
