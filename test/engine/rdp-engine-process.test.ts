// The RDP engine's TypeScript side: the management of its native process, with a REAL process
// (test/helpers/fake-rdp-engine.ts, a script that speaks the engine's guacd handshake and then misbehaves on
// command): crash isolation, SIGKILL after the grace, no leftover process, zombie or fd, the privilege drop,
// stderr forwarding, backpressure on the process's stdout, and the guacd-compatible listener serving it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { startGuacdServer } from '../../src/engine/guacd/server.js';
import { resolveRunAs } from '../../src/engine/rdp/engine-process.js';
import { RDP_ARG_NAMES, RdpEngine, type RdpEngineOptions } from '../../src/engine/rdp/index.js';
import type { SessionEnd } from '../../src/engine/types.js';
import { STATUS } from '../../src/protocol/guacamole/status.js';
import { type FakeEngine, writeFakeRdpEngine } from '../helpers/fake-rdp-engine.js';
import { GuacTestClient, javaHandshake } from '../helpers/guacd-client.js';
import { captureLog as captureListenerLog } from '../helpers/guacd-echo.js';
import {
  fdCount,
  type LogRecord,
  leftovers,
  type Started,
  start,
  waitFor,
  within,
} from '../helpers/rdp-engine-harness.js';

const T = { timeout: 30_000 };
const isRoot = process.getuid?.() === 0;

describe('rdp engine: process management (a scripted stand-in for gatehouse-rdp)', () => {
  let fake: FakeEngine;
  let engine: RdpEngine;
  const every = new Set<number>();
  const options = (extra: RdpEngineOptions = {}): RdpEngineOptions => ({
    binary: fake.path,
    killGraceMs: 1000,
    logLevel: 'debug',
    ...extra,
  });
  const track = (s: Started): Started => {
    if (s.session.process.pid !== undefined) every.add(s.session.process.pid);
    return s;
  };

  before(async () => {
    fake = await writeFakeRdpEngine();
    engine = new RdpEngine(options());
  });

  after(async () => {
    for (const pgid of every) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await rm(fake.dir, { recursive: true, force: true });
  });

  it(
    'the handshake as a guacd client, then frames to the sink and client instructions to stdin',
    T,
    async () => {
      const s = track(start(engine, 'ok'));
      await waitFor('ready', () => s.session.connectionId !== undefined);
      assert.match(s.session.connectionId ?? '', /^\$fake-\d+$/);
      await waitFor('frames', () => s.sink.text.includes('4.sync,'));
      s.session.handleInstruction({ opcode: 'key', args: ['65307', '1'] });
      s.session.handleInstruction({ opcode: '', args: ['ping', '1'] }); // tunnel-internal: never sent
      await waitFor('the echo', () => s.sink.text.includes('4.echo,3.key,5.65307,1.1;'));
      assert.doesNotMatch(s.sink.text, /echo,0\./);
      // Its stderr JSON lines reach the session log at their level; argv carried the memory limit and level.
      const started = s.logs.find((r) => r.msg === 'rdp engine: fake engine started');
      assert.ok(started, JSON.stringify(s.logs));
      assert.equal(started.level, 'info');
      assert.deepEqual((started.obj.native as { argv: string[] }).argv, [
        '--memory-limit-mb',
        '256',
        '--log-level',
        'debug',
      ]);
      const connect = s.logs.find((r) => r.msg === 'rdp engine: connect');
      const seen = (connect?.obj.native as { seen: Record<string, string[]> } | undefined)?.seen ?? {};
      assert.deepEqual(seen.size, ['1024', '768', '96']);
      assert.deepEqual(seen.timezone, ['Europe/Paris']);
      assert.deepEqual(seen.name, ['tester']);
      s.session.close();
      assert.deepEqual(await s.session.ended, { status: STATUS.SUCCESS, message: 'The session was closed' });
      const exit = await within(s.session.process.exited, 5000, 'exit');
      // stdin closed and SIGTERM at once: it dies of the SIGTERM (the real engine exits cleanly on it).
      assert.ok(exit.code === 0 || exit.signal === 'SIGTERM', JSON.stringify(exit));
    },
  );

  it(
    'a crash (SIGSEGV, abort) ends only that session, with SERVER_ERROR and a log line naming the signal',
    T,
    async () => {
      const other = track(start(engine, 'ok'));
      for (const [mode, signal] of [
        ['segv', 'SIGSEGV'],
        ['abort', 'SIGABRT'],
      ] as const) {
        const s = track(start(engine, mode));
        const end = await within(s.session.ended, 10_000, `${mode} ends`);
        assert.equal(end.status, STATUS.SERVER_ERROR, JSON.stringify(end));
        assert.equal(end.message, `The RDP engine crashed (${signal})`);
        const line = s.logs.find((r) => r.level === 'error' && r.msg.includes(signal));
        assert.ok(line, JSON.stringify(s.logs));
        assert.match(line.msg, new RegExp(`^rdp engine: process \\d+ was killed by ${signal}$`));
      }
      // The other session carries on: new frames still arrive and it still echoes.
      const before = other.sink.written;
      await waitFor('more frames', () => other.sink.written > before + 100);
      other.session.handleInstruction({ opcode: 'mouse', args: ['1', '2', '0'] });
      await waitFor('echo', () => other.sink.text.includes('4.echo,5.mouse,1.1,1.2,1.0;'));
      other.session.close();
      await within(other.session.process.exited, 5000, 'exit');
    },
  );

  it(
    'a non-zero exit without an error, or closing its output → SERVER_ERROR; its error → its status',
    T,
    async () => {
      const exit3 = track(start(engine, 'exit3'));
      assert.deepEqual(await within(exit3.session.ended, 5000, 'exit3'), {
        status: STATUS.SERVER_ERROR,
        message: 'The RDP engine exited with code 3 without an error',
      });
      const closer = track(start(engine, 'close-stdout'));
      const closed = await within(closer.session.ended, 5000, 'close-stdout');
      assert.deepEqual(closed, { status: STATUS.SERVER_ERROR, message: 'The RDP engine closed its output' });
      await within(closer.session.process.exited, 5000, 'the silent one is stopped');
      const early = track(start(engine, 'auth-early'));
      assert.deepEqual(await within(early.session.ended, 5000, 'auth-early'), {
        status: STATUS.CLIENT_UNAUTHORIZED,
        message: 'Authentication failure',
      });
      const late = track(start(engine, 'auth-late'));
      assert.deepEqual(await within(late.session.ended, 5000, 'auth-late'), {
        status: STATUS.CLIENT_UNAUTHORIZED,
        message: 'Authentication failure',
      });
      assert.ok(late.sink.text.includes('4.sync,1.1;'), 'what came before the error was relayed');
    },
  );

  it('SIGTERM ignored → SIGKILL to the group after the grace', T, async () => {
    const s = track(start(engine, 'ignore-term'));
    await waitFor('ready', () => s.session.connectionId !== undefined);
    const t0 = Date.now();
    s.session.close();
    const exit = await within(s.session.process.exited, 10_000, 'killed');
    const took = Date.now() - t0;
    assert.equal(exit.signal, 'SIGKILL');
    assert.ok(took >= 900 && took < 4000, `killed after ${took} ms (grace 1000)`);
    assert.ok(s.logs.some((r) => r.msg === 'rdp engine: SIGTERM ignored'));
    assert.ok(s.logs.some((r) => r.level === 'warn' && /SIGKILL to its group/.test(r.msg)));
  });

  it('a missing executable → SERVER_ERROR naming the path', T, async () => {
    const missing = new RdpEngine(options({ binary: '/nonexistent/gatehouse-rdp' }));
    assert.equal(missing.unavailable(), '/nonexistent/gatehouse-rdp does not exist');
    const s = start(missing, 'ok');
    const end = await within(s.session.ended, 5000, 'spawn failure');
    assert.equal(end.status, STATUS.SERVER_ERROR);
    assert.match(
      end.message,
      /^The RDP engine could not be started: cannot start \/nonexistent\/gatehouse-rdp: /,
    );
    assert.ok(s.logs.some((r) => r.level === 'error' && r.msg.includes('/nonexistent/gatehouse-rdp')));
  });

  it(
    "a parameter the executable does not ask for → CLIENT_BAD_REQUEST naming it; '' is left out",
    T,
    async () => {
      const narrow = await writeFakeRdpEngine(RDP_ARG_NAMES.filter((n) => n !== 'console' && n !== 'dpi'));
      try {
        const e = new RdpEngine(options({ binary: narrow.path }));
        const bad = track(start(e, 'ok', { console: 'true', dpi: '120' }));
        assert.deepEqual(await within(bad.session.ended, 5000, 'refused'), {
          status: STATUS.CLIENT_BAD_REQUEST,
          message: 'RDP engine does not support the parameter(s) "dpi", "console"',
        });
        await within(bad.session.process.exited, 5000, 'exit');
        const fine = track(start(e, 'ok'));
        await waitFor('ready', () => fine.session.connectionId !== undefined);
        fine.session.close();
        await within(fine.session.process.exited, 5000, 'exit');
      } finally {
        await rm(narrow.dir, { recursive: true, force: true });
      }
    },
  );

  it('stderr: JSON lines at their level, plain text as warn, long lines cut', T, async () => {
    const s = track(start(engine, 'chatty'));
    await waitFor('the long line', () => s.logs.some((r) => r.obj.truncated === true));
    const find = (msg: string): LogRecord | undefined => s.logs.find((r) => r.msg === `rdp engine: ${msg}`);
    assert.equal(find('a warning')?.level, 'warn');
    assert.deepEqual(find('a warning')?.obj.native, { code: 7 });
    assert.equal(find('some detail')?.level, 'debug');
    assert.equal(find('an error')?.level, 'error');
    assert.equal(find('plain text line')?.level, 'warn');
    const long = s.logs.find((r) => r.obj.truncated === true);
    assert.ok(long && long.msg.length < 4200, `cut to ~4096: ${long?.msg.length}`);
    s.session.close();
    await within(s.session.process.exited, 5000, 'exit');
  });

  it('a stdout flood into a stalled sink pauses reading: bounded, then resumes on drain', T, async () => {
    const s = track(start(engine, 'flood'));
    s.sink.stalled = true;
    await waitFor('paused', () => s.session.paused, 5000);
    await new Promise((r) => setTimeout(r, 300));
    const atPause = s.sink.written;
    await new Promise((r) => setTimeout(r, 700));
    assert.ok(s.session.paused);
    // Nothing more is read while paused: at most what was already in flight (a pipe buffer or two).
    assert.ok(s.sink.written - atPause <= 256 * 1024, `read ${s.sink.written - atPause} bytes while paused`);
    assert.ok(s.sink.written < 4 * 1024 * 1024, `read ${s.sink.written} bytes in all`);
    s.sink.drain();
    const resumed = s.sink.written;
    await waitFor('reading again', () => s.sink.written > resumed + 100_000);
    s.session.close();
    const exit = await within(s.session.process.exited, 5000, 'exit');
    assert.ok(exit.signal === 'SIGTERM' || exit.code !== null, JSON.stringify(exit));
  });

  it('drops to nobody when run as root (uid, gid, no supplementary groups)', {
    ...T,
    skip: isRoot ? false : 'not running as root',
  }, async () => {
    const nobody = resolveRunAs('nobody');
    const s = track(start(engine, 'ok'));
    await waitFor('ready', () => s.session.connectionId !== undefined);
    const status = readFileSync(`/proc/${s.session.process.pid}/status`, 'utf8');
    const ids = (field: string): string[] =>
      (new RegExp(`^${field}:[ \\t]*(.*)$`, 'm').exec(status)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
    assert.deepEqual(ids('Uid'), Array(4).fill(String(nobody.uid)));
    assert.deepEqual(ids('Gid'), Array(4).fill(String(nobody.gid)));
    assert.deepEqual(ids('Groups'), []);
    const started = s.logs.find((r) => r.msg === 'rdp engine: fake engine started');
    assert.equal((started?.obj.native as { uid: number } | undefined)?.uid, nobody.uid);
    s.session.close();
    await within(s.session.process.exited, 5000, 'exit');
    // engine.rdp.user '' keeps our own user.
    const asRoot = new RdpEngine(options({ user: '' }));
    const r = track(start(asRoot, 'ok'));
    await waitFor('ready', () => r.session.connectionId !== undefined);
    assert.match(readFileSync(`/proc/${r.session.process.pid}/status`, 'utf8'), /^Uid:\s+0\s/m);
    r.session.close();
    await within(r.session.process.exited, 5000, 'exit');
  });

  it('50 sessions opened and closed (some crashing) leave no process, no zombie and no fd behind', {
    timeout: 120_000,
  }, async () => {
    const fdsBefore = fdCount();
    const pgids = new Set<number>();
    const ends: SessionEnd[] = [];
    for (let round = 0; round < 10; round++) {
      const batch: Started[] = [];
      for (let i = 0; i < 5; i++)
        batch.push(track(start(engine, round % 3 === 2 && i === 0 ? 'segv' : 'ok')));
      for (const s of batch) if (s.session.process.pid !== undefined) pgids.add(s.session.process.pid);
      await Promise.all(
        batch.map((s) => waitFor('ready', () => s.session.connectionId !== undefined || s.sink.written > 0)),
      );
      for (const s of batch) s.session.close();
      ends.push(...(await Promise.all(batch.map((s) => s.session.ended))));
      await within(Promise.all(batch.map((s) => s.session.process.exited)), 10_000, 'all exited');
    }
    assert.equal(pgids.size, 50);
    assert.ok(ends.every((e) => e.status === STATUS.SUCCESS || e.status === STATUS.SERVER_ERROR));
    await waitFor('groups gone', () => leftovers(pgids).live.length === 0, 5000);
    const { live, zombies } = leftovers(pgids);
    assert.deepEqual(live, []);
    assert.deepEqual(zombies, []);
    await new Promise((r) => setTimeout(r, 100));
    const fdsAfter = fdCount();
    assert.ok(fdsAfter <= fdsBefore + 2, `fds ${fdsBefore} → ${fdsAfter}`);
  });
});

/** The next `opcode` from the listener, skipping the frames (`sync`) before it. */
async function skipTo(c: GuacTestClient, opcode: string): Promise<{ opcode: string; args: string[] }> {
  for (;;) {
    const i = await c.nextNonNop(10_000);
    if (i.opcode === opcode) return i;
    if (i.opcode !== 'sync') throw new Error(`expected "${opcode}" but received "${i.opcode}"`);
  }
}

describe('rdp engine: served by the guacd-compatible listener (gatehouse engine)', () => {
  it('a session per connection; a crash ends only its own with SERVER_ERROR', T, async () => {
    const fake = await writeFakeRdpEngine();
    const server = await startGuacdServer({
      host: '127.0.0.1',
      port: 0,
      engines: [new RdpEngine({ binary: fake.path, killGraceMs: 1000 })],
      log: captureListenerLog([]),
    });
    const clients: GuacTestClient[] = [];
    const open = async (hostname: string): Promise<GuacTestClient> => {
      const c = await GuacTestClient.open(server.address.port);
      clients.push(c);
      await javaHandshake(c, { protocol: 'rdp', clientVersion: 'VERSION_1_5_0', params: { hostname } });
      return c;
    };
    try {
      const ok = await open('ok');
      await ok.expect('sync');
      const crash = await open('segv');
      const error = await skipTo(crash, 'error');
      assert.deepEqual(error.args, ['The RDP engine crashed (SIGSEGV)', String(STATUS.SERVER_ERROR)]);
      await crash.waitClosed();
      ok.send('key', 97, 1);
      const echo = await skipTo(ok, 'echo');
      assert.deepEqual(echo.args, ['key', '97', '1']);
      await ok.expect('sync');
      // A parameter the listener validates: refused before any process starts.
      const bad = await GuacTestClient.open(server.address.port);
      clients.push(bad);
      await assert.rejects(
        javaHandshake(bad, {
          protocol: 'rdp',
          clientVersion: 'VERSION_1_5_0',
          params: { hostname: 'ok', security: 'vmconnect' },
        }),
        /expected "ready" but received "error" .*'vmconnect' is not any, nla, tls or rdp","768"\]\)/,
      );
    } finally {
      for (const c of clients) c.destroy();
      await server.close();
      await rm(fake.dir, { recursive: true, force: true });
    }
  });
});
