// The RDP test servers, checked with a real native client: freerdp-shadow-cli on Xvfb (NLA with a SAM file,
// TLS, TLS with PAM auth) and xrdp with an Xorg session, each reached by xfreerdp running under its own Xvfb.
// What the servers show must reach xfreerdp's window; the xrdp session's own display must show what its
// session drew; the clipboard must cross xrdp both ways. Nothing may be left running afterwards.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it, type TestContext } from 'node:test';
import { type Binary, skipUnlessInstalled } from './helpers/binaries.js';
import { matchColor, parseColor } from './helpers/pixels.js';
import { leftoverProcesses, pollUntil, sleep, within } from './helpers/processes.js';
import {
  connectionRequest,
  PROTOCOL_HYBRID,
  PROTOCOL_SSL,
  parseConnectionConfirm,
} from './helpers/rdp-probe.js';
import {
  type ShadowOptions,
  startShadowServer,
  startXfreerdpViewer,
  startXrdp,
  type XfreerdpViewer,
  type XrdpServer,
  xfreerdpAuthOnly,
  xrdpSkipReason,
} from './helpers/rdp-servers.js';
import { createTestUser } from './helpers/test-users.js';
import { startXvfb, type XDisplay } from './helpers/x-display.js';
import { renderStartWm, renderXrdpIni } from './helpers/xrdp-config.js';

const SHADOW_NEEDS: Binary[] = [
  'Xvfb',
  'xsetroot',
  'xwd',
  'xdotool',
  'freerdp-shadow-cli',
  'xfreerdp',
  'winpr-hash',
];
const XRDP_NEEDS: Binary[] = [
  'Xvfb',
  'xsetroot',
  'xwd',
  'xdotool',
  'xclip',
  'xterm',
  'xauth',
  'xfreerdp',
  'openssl',
  'xrdp-keygen',
  'unshare',
  'useradd',
];
const skipReason = (bins: Binary[], extra?: string): { skip?: string } => {
  const reason = skipUnlessInstalled(bins) ?? extra;
  return reason === undefined ? {} : { skip: reason };
};
const SHADOW_SKIP = skipReason(SHADOW_NEEDS);
const XRDP_SKIP = skipReason(XRDP_NEEDS, xrdpSkipReason());

const SERVER_COLOR = '#336699';
/** Startup times, printed at the end for the report. */
const timings: string[] = [];

async function xvfb(t: TestContext, color?: string): Promise<XDisplay> {
  const x = await startXvfb({ width: 1024, height: 768 });
  t.after(() => x.stop());
  if (color) await x.setRootColor(color);
  return x;
}

/** A 32x32 block far from xterm (top-left) and from xfreerdp's window edges. */
const PATCH = { x: 800, y: 600, width: 32, height: 32 };

async function expectColor(display: XDisplay, color: string, tolerance: number, what: string): Promise<void> {
  const want = parseColor(color);
  let last = '';
  await pollUntil(
    `${what} to show ${color}`,
    async () => {
      const img = await display.screenshot(PATCH);
      const m = matchColor(img.data, want, tolerance);
      last = JSON.stringify(m);
      return m.matching === m.pixels ? true : undefined;
    },
    10_000,
    200,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last: ${last}`);
  });
}

/** Connects, then checks that xfreerdp still runs, with its window mapped, 3 s later. `what` labels the timing. */
async function connectAndHold(viewer: XfreerdpViewer, client: XDisplay, what?: string): Promise<void> {
  const started = Date.now();
  await viewer.waitConnected(20_000);
  if (what) timings.push(`${what}: xfreerdp window after ${Date.now() - started} ms`);
  assert.equal(await within(3000, viewer.exited), 'timeout', `xfreerdp ended early:\n${viewer.output()}`);
  const ids = await client.xdotool('search', '--onlyvisible', '--name', `^${viewer.windowTitle}$`);
  assert.notEqual(ids, '', 'xfreerdp window gone after 3 s');
}

describe('freerdp-shadow-cli', { timeout: 120_000 }, () => {
  it('NLA: +auth-only accepts the SAM password and refuses a wrong one', {
    ...SHADOW_SKIP,
    timeout: 60_000,
  }, async (t) => {
    const shared = await xvfb(t, SERVER_COLOR);
    const client = await xvfb(t);
    const server = await startShadowServer({ display: shared, security: 'nla', domain: 'GATEHOUSE' });
    t.after(() => server.stop());
    timings.push(`shadow/nla ${server.startupMs} ms`);
    assert.match(
      readFileSync(server.samFile!, 'utf8'),
      new RegExp(`^${server.user}:GATEHOUSE::[0-9a-f]{32}:::`),
    );
    const ok = await xfreerdpAuthOnly({ server, display: client, security: 'nla' });
    assert.equal(ok.code, 0, `right password: ${ok.output}`);
    const bad = await xfreerdpAuthOnly({
      server: { ...server, password: 'wrong' },
      display: client,
      security: 'nla',
    });
    assert.notEqual(bad.code, 0, `wrong password accepted: ${bad.output}`);
    timings.push(`shadow/nla wrong password: xfreerdp exit ${bad.code}`);
    assert.ok([131, 132, 147].includes(bad.code ?? -1), `unexpected exit ${bad.code}:\n${bad.output}`);
  });

  it('NLA: xfreerdp gets the shared desktop', { ...SHADOW_SKIP, timeout: 60_000 }, async (t) => {
    const shared = await xvfb(t, SERVER_COLOR);
    const client = await xvfb(t);
    const server = await startShadowServer({ display: shared, security: 'nla' });
    t.after(() => server.stop());
    const viewer = await startXfreerdpViewer({ server, display: client, security: 'nla' });
    t.after(() => viewer.stop());
    await connectAndHold(viewer, client, 'shadow/nla');
    await expectColor(client, SERVER_COLOR, 12, 'xfreerdp (shadow/nla)');
  });

  it('TLS: xfreerdp connects, stays connected and shows the display', {
    ...SHADOW_SKIP,
    timeout: 60_000,
  }, async (t) => {
    const shared = await xvfb(t, SERVER_COLOR);
    const client = await xvfb(t);
    const server = await startShadowServer({ display: shared, security: 'tls' });
    t.after(() => server.stop());
    timings.push(`shadow/tls ${server.startupMs} ms`);
    const viewer = await startXfreerdpViewer({ server, display: client, security: 'tls' });
    t.after(() => viewer.stop());
    await connectAndHold(viewer, client, 'shadow/tls');
    await expectColor(client, SERVER_COLOR, 12, 'xfreerdp (shadow/tls)');
    // A change on the shared display reaches the client.
    await shared.setRootColor('#cc3300');
    await expectColor(client, '#cc3300', 12, 'xfreerdp after the root colour changed');
  });

  it('TLS with +auth: a system account logs in, a wrong password is refused', {
    ...SHADOW_SKIP,
    ...(process.getuid?.() === 0 ? {} : { skip: 'needs root (useradd)' }),
    timeout: 60_000,
  }, async (t) => {
    const shared = await xvfb(t, SERVER_COLOR);
    const client = await xvfb(t);
    const account = await createTestUser();
    t.after(() => account.remove());
    const opts: ShadowOptions = {
      display: shared,
      security: 'tls',
      auth: true,
      user: account.name,
      password: account.password,
    };
    const server = await startShadowServer(opts);
    t.after(() => server.stop());
    const good = await startXfreerdpViewer({ server, display: client, security: 'tls' });
    t.after(() => good.stop());
    await connectAndHold(good, client);
    await good.stop();
    const bad = await startXfreerdpViewer({
      server: { ...server, password: 'wrong' },
      display: client,
      security: 'tls',
    });
    t.after(() => bad.stop());
    const exit = await within(20_000, bad.exited);
    if (exit === 'timeout') assert.fail('xfreerdp with a wrong password still runs');
    assert.notEqual(exit.code, 0, `wrong password accepted:\n${bad.output()}`);
    timings.push(`shadow/tls+auth wrong password: xfreerdp exit ${exit.code}`);
  });

  it('RDP security: xfreerdp /sec:rdp connects', { ...SHADOW_SKIP, timeout: 60_000 }, async (t) => {
    const shared = await xvfb(t, SERVER_COLOR);
    const client = await xvfb(t);
    const server = await startShadowServer({ display: shared, security: 'rdp' });
    t.after(() => server.stop());
    timings.push(`shadow/rdp ${server.startupMs} ms`);
    const viewer = await startXfreerdpViewer({ server, display: client, security: 'rdp' });
    t.after(() => viewer.stop());
    await connectAndHold(viewer, client, 'shadow/rdp');
    await expectColor(client, SERVER_COLOR, 12, 'xfreerdp (shadow/rdp)');
  });
});

async function xrdp(t: TestContext, security: XrdpServer['security'] = 'tls'): Promise<XrdpServer> {
  const server = await startXrdp({ security });
  t.after(() => server.stop());
  timings.push(`xrdp/${security} ${server.startupMs} ms (setup ${server.setupMs} ms)`);
  return server;
}

describe('xrdp', { timeout: 180_000 }, () => {
  it('TLS: xfreerdp logs in; the Xorg session runs and shows what it drew; clipboard both ways', {
    ...XRDP_SKIP,
    timeout: 90_000,
  }, async (t) => {
    const server = await xrdp(t);
    const client = await xvfb(t);
    const viewer = await startXfreerdpViewer({
      server,
      display: client,
      security: 'tls',
      extraArgs: ['+clipboard'],
    });
    t.after(() => viewer.stop());
    await connectAndHold(viewer, client, 'xrdp/tls');
    const session = await server.sessionDisplay(15_000);
    t.after(() => session.stop());
    const procs = server.namespaceProcesses().map((p) => p.cmdline);
    assert.ok(
      procs.some((c) => c.startsWith(`/usr/lib/xorg/Xorg ${session.name} `)),
      `no Xorg ${session.name}: ${procs.join('\n')}`,
    );
    assert.ok(
      procs.some((c) => c.includes('xrdp-chansrv')),
      `no chansrv: ${procs.join('\n')}`,
    );
    // The session painted its root; the X server itself shows it, and so does xfreerdp's window.
    await expectColor(session, server.rootColor, 0, `the session display ${session.name}`);
    await expectColor(client, server.rootColor, 0, 'xfreerdp (xrdp)');
    // Clipboard: viewer → session, then session → viewer, through cliprdr and chansrv.
    await client.writeClipboard('from-the-viewer');
    await pollUntil(
      'the session clipboard',
      async () => ((await session.readClipboard()) === 'from-the-viewer' ? true : undefined),
      10_000,
      200,
    );
    await session.writeClipboard('from-the-session');
    await pollUntil(
      'the viewer clipboard',
      async () => ((await client.readClipboard()) === 'from-the-session' ? true : undefined),
      10_000,
      200,
    );
    await session.stop();
  });

  it('TLS: a wrong password ends the connection', { ...XRDP_SKIP, timeout: 60_000 }, async (t) => {
    const server = await xrdp(t);
    const client = await xvfb(t);
    const viewer = await startXfreerdpViewer({
      server: { ...server, password: 'wrong' },
      display: client,
      security: 'tls',
    });
    t.after(() => viewer.stop());
    const exit = await within(20_000, viewer.exited);
    if (exit === 'timeout') assert.fail(`xfreerdp still runs:\n${viewer.output()}`);
    assert.notEqual(exit.code, 0, `wrong password accepted:\n${viewer.output()}`);
    timings.push(`xrdp wrong password: xfreerdp exit ${exit.code}`);
    assert.deepEqual(server.sessionDisplayNumbers(), [], 'a session was started for a wrong password');
  });

  it('negotiate: xfreerdp with /sec:rdp and with /sec:tls both log in', {
    ...XRDP_SKIP,
    timeout: 90_000,
  }, async (t) => {
    const server = await xrdp(t, 'negotiate');
    const client = await xvfb(t);
    for (const security of ['rdp', 'tls'] as const) {
      const viewer = await startXfreerdpViewer({ server, display: client, security });
      t.after(() => viewer.stop());
      await connectAndHold(viewer, client, `xrdp/negotiate /sec:${security}`);
      await expectColor(client, server.rootColor, 0, `xfreerdp (xrdp, /sec:${security})`);
      await viewer.stop();
    }
  });

  it('stop() removes the account, the session and the temp dir', {
    ...XRDP_SKIP,
    timeout: 60_000,
  }, async (t) => {
    const server = await xrdp(t);
    const client = await xvfb(t);
    const viewer = await startXfreerdpViewer({ server, display: client, security: 'tls' });
    t.after(() => viewer.stop());
    await viewer.waitConnected(20_000);
    const session = await server.sessionDisplay(15_000);
    const n = Number(session.name.slice(1));
    await viewer.stop();
    await server.stop();
    assert.deepEqual(server.namespaceProcesses(), []);
    assert.doesNotMatch(readFileSync('/etc/passwd', 'utf8'), new RegExp(`^${server.user}:`, 'm'));
    assert.throws(() => readFileSync(`/tmp/.X${n}-lock`), /ENOENT/);
    assert.throws(() => readFileSync(`${server.dir}/etc/xrdp.ini`), /ENOENT/);
  });
});

after(async () => {
  // Let t.after() hooks of the last test finish their stops first.
  await sleep(100);
  if (timings.length > 0) console.log(`# rdp-servers: ${timings.join('; ')}`);
  assert.deepEqual(leftoverProcesses(), []);
});

describe('RDP probe and xrdp config (pure)', () => {
  it('builds the X.224 Connection Request and parses Connection Confirms', () => {
    assert.equal(
      connectionRequest(PROTOCOL_SSL | PROTOCOL_HYBRID).toString('hex'),
      '030000130ee000000000000100080003000000',
    );
    const rsp = Buffer.from('030000130ed000001234000208000001000000', 'hex');
    assert.deepEqual(parseConnectionConfirm(rsp), { kind: 'response', selectedProtocol: 1, flags: 8 });
    const fail = Buffer.from('030000130ed000001234000300080005000000', 'hex');
    assert.deepEqual(parseConnectionConfirm(fail), { kind: 'failure', failureCode: 5 });
    assert.deepEqual(parseConnectionConfirm(Buffer.from('0300000b06d00000123400', 'hex')), {
      kind: 'legacy',
    });
    assert.throws(
      () => parseConnectionConfirm(Buffer.from('0300000b06e00000123400', 'hex')),
      /Connection Confirm/,
    );
  });

  it('renders the session script and refuses a colour that is not a colour', () => {
    assert.match(renderStartWm('#2a7f62'), /^xsetroot -solid '#2a7f62'$/m);
    assert.match(renderStartWm('red', 'exec sleep 60'), /^exec sleep 60$/m);
    assert.throws(() => renderStartWm("red'; rm -rf /"), /bad root colour/);
    const ini = renderXrdpIni({
      port: 3390,
      backend: 'Xvnc',
      security: 'tls',
      cryptLevel: 'fips',
      logFile: '/x/xrdp.log',
      level: 'INFO',
    });
    assert.match(ini, /^port=tcp:\/\/127\.0\.0\.1:3390$/m);
    assert.match(ini, /^security_layer=tls$/m);
    assert.match(ini, /^autorun=Xvnc$/m);
  });
});
