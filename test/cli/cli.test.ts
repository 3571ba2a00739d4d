// The gatehouse CLI as users run it: `node dist/src/cli/main.js ...` in a child process.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { baseEnv, gatehouse, MAIN } from '../helpers/cli.js';
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

interface LogRecord {
  msg?: string;
  codec?: { impl: string; requested: string; reason: string };
  plan?: { roles: string[]; connectionManagers: number };
}

const HINT = "Run 'gatehouse --help' for usage.";

/** `gatehouse engine ...` running in the background, with its JSON log records as they come. */
interface EngineProcess {
  child: ChildProcess;
  records: (LogRecord & { level: number; listen?: { host: string; port: number } })[];
  /** The first record matching `test`, waiting up to 10 s. */
  waitFor(test: (r: EngineProcess['records'][number]) => boolean): Promise<EngineProcess['records'][number]>;
  exit: Promise<number | null>;
}

function startEngine(args: string[]): EngineProcess {
  const child = spawn(process.execPath, [MAIN, 'engine', '--log-format', 'json', ...args], {
    env: baseEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const records: EngineProcess['records'] = [];
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) if (line.trim() !== '') records.push(JSON.parse(line));
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    records,
    exit,
    async waitFor(test) {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const hit = records.find(test);
        if (hit) return hit;
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`log record not seen: ${JSON.stringify(records)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

describe('gatehouse CLI', { concurrency: true }, () => {
  it('--help lists only the commands that work, and exits 0', async () => {
    const r = await gatehouse(['--help']);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, '');
    const commands = r.stdout.split('Commands:\n')[1]?.split('\n\n')[0] ?? '';
    assert.deepEqual(
      commands.split('\n').map((l) => l.trim().split(/\s+/)[0]),
      ['all', 'config', 'engine', 'proxy', 'token'],
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
    assert.ok(!r.stdout.includes(' webapp '), 'webapp is reserved');
    assert.ok(!r.stdout.includes('--listen'), '--listen is an option of engine and proxy only');
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

  it('reserved role commands are not available yet: exit 2', async () => {
    const names = ['webapp'];
    const results = await Promise.all(names.map((name) => gatehouse([name])));
    results.forEach((r, i) => {
      assert.equal(r.code, 2);
      assert.equal(r.stderr.split('\n')[0], `gatehouse: '${names[i]}' is not available in this version`);
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
    assert.deepEqual(Object.keys(y), ['log', 'codec', 'proxy', 'proxyAuth', 'engine']);
    assert.deepEqual(y.log, { level: 'warn', format: 'auto' });
    assert.deepEqual(y.codec, { impl: 'ts' });
    assert.equal(y.proxy?.clusterSize, 3);
    assert.equal(y.proxy?.listen, '127.0.0.1:8080');
    assert.equal(y.proxyAuth?.mode, 'signed');
    assert.deepEqual(y.engine, { listen: '127.0.0.1:4822', handshakeTimeoutMs: 15000 });
    assert.equal(json.code, 0, json.stderr);
    const j = JSON.parse(json.stdout) as Record<string, Record<string, unknown>>;
    assert.deepEqual(j.log, { level: 'warn', format: 'json' });
    assert.deepEqual(j.codec, { impl: 'auto' });
    assert.deepEqual({ ...j, log: y.log, codec: y.codec }, y, 'YAML and JSON show the same configuration');
  });

  it('config output is a valid configuration file', async () => {
    const first = await gatehouse(['config', '--log-level', 'debug', '--guac-cluster-size', '9']);
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

  it('all runs the proxy and the engine listener until SIGTERM (TS codec without the addon), making a key pair', {
    timeout: 30_000,
  }, async () => {
    const cwd = mkdtempSync(join(dir, 'all-'));
    const child = spawn(process.execPath, [MAIN, 'all', '--log-format', 'json', '--guac-cluster-size', '1'], {
      cwd,
      env: {
        ...baseEnv,
        GATEHOUSE_PROXY__LISTEN: '127.0.0.1:0',
        GATEHOUSE_ENGINE__LISTEN: '127.0.0.1:0',
        GATEHOUSE_NATIVE_PATH: join(dir, 'absent.node'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 20_000;
      while (!(out.includes('proxy listening on port') && out.includes('guacd-compatible listener on'))) {
        if (Date.now() > deadline) throw new Error(`gatehouse all did not start:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const records = out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as LogRecord);
      const codec = records.find((x) => x.codec)?.codec;
      assert.deepEqual([codec?.requested, codec?.impl], ['auto', 'ts'], JSON.stringify(codec));
      const plan = records.find((x) => x.plan)?.plan;
      assert.deepEqual(plan?.roles, ['proxy', 'engine']);
      assert.equal(plan?.connectionManagers, 1);
      assert.ok(existsSync(join(cwd, '.gatehouse', 'token-keys', 'token-public.pem')));
      assert.equal(statSync(join(cwd, '.gatehouse', 'token-keys', 'token-private.pem')).mode & 0o777, 0o600);
      child.kill('SIGTERM');
      assert.equal(await exited, 0, out);
      assert.match(out, /proxy: stopped/);
      assert.match(out, /engine: stopped/);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('all exits 1 when codec.impl is native and the addon is unavailable', async () => {
    const env = { GATEHOUSE_NATIVE_PATH: join(dir, 'absent.node') };
    const r = await gatehouse(['all', '--codec-impl', 'native', '--log-format', 'json'], env);
    assert.equal(r.code, 1);
    const fatal = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as LogRecord & { level: number })
      .find((x) => x.level === 60);
    assert.match(fatal?.msg ?? '', /^codec: cannot use codec\.impl=native: .*absent\.node/);
  });

  it('all: an invalid configuration exits 2 naming the flag', async () => {
    const bad = await gatehouse(['all', '--guac-cluster-size', '0']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /proxy\.clusterSize: invalid value 0 \(from flag --guac-cluster-size\)/);
  });

  it('engine --listen serves the guacd handshake; SIGTERM closes it with SESSION_CLOSED and exits 0', async () => {
    const engine = startEngine(['--listen', '127.0.0.1:0']);
    try {
      const started = await engine.waitFor((r) => r.listen !== undefined);
      assert.match(started.msg ?? '', /guacd-compatible listener on 127\.0\.0\.1:\d+ \(protocols: /);
      const port = started.listen!.port;

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
      assert.ok(engine.records.some((r) => r.msg === 'engine: stopped'));
    } finally {
      engine.child.kill('SIGKILL');
    }
  });

  it('--listen is per command: proxy --listen sets proxy.listen; commands without it refuse it', async () => {
    const [proxy, config] = await Promise.all([
      gatehouse(['proxy', '--listen', 'localhost']),
      gatehouse(['config', '--listen', '127.0.0.1:9']),
    ]);
    assert.equal(proxy.code, 2);
    assert.match(proxy.stderr, /proxy\.listen: invalid value "localhost" \(from flag --listen\)/);
    assert.doesNotMatch(proxy.stderr, /engine\.listen/);
    assert.equal(config.code, 2);
    assert.ok(
      config.stderr.startsWith("gatehouse: option '--listen' is not valid for 'gatehouse config'"),
      config.stderr,
    );
  });

  it('engine: a bad --listen exits 2 naming the flag; a busy port exits 1 with a fatal log line', async () => {
    const bad = await gatehouse(['engine', '--listen', 'localhost']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /engine\.listen: invalid value "localhost" \(from flag --listen\)/);

    const first = startEngine(['--listen', '127.0.0.1:0']);
    try {
      const port = (await first.waitFor((r) => r.listen !== undefined)).listen!.port;
      const busy = await gatehouse(['engine', '--log-format', 'json', '--listen', `127.0.0.1:${port}`]);
      assert.equal(busy.code, 1);
      assert.match(busy.stdout, /"level":60.*cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    } finally {
      first.child.kill('SIGKILL');
    }
  });
});
