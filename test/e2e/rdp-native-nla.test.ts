// The native RDP engine against freerdp-shadow-cli with NLA (a SAM file from winpr-hash): the right password
// draws, a wrong one is 0x0301; and its memory after the first frame at 1920x1080. See rdp-native.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { STATUS } from '../../src/protocol/guacamole/status.js';
import { skipUnlessInstalled } from './helpers/binaries.js';
import { assertNoSanitizerReports, engineSkipReason } from './helpers/rdp-engine-process.js';
import {
  assertNoTempLeft,
  connectAndFirstFrame,
  engine,
  engines,
  expectError,
  privateKiB,
  rssKiB,
  waitForColor,
} from './helpers/rdp-native-rig.js';
import { type ShadowServer, startShadowServer } from './helpers/rdp-servers.js';
import { startXvfb, type XDisplay } from './helpers/x-display.js';

const why =
  engineSkipReason() ??
  skipUnlessInstalled(['Xvfb', 'freerdp-shadow-cli', 'winpr-hash', 'xsetroot', 'xdotool', 'xterm']);
const SKIP = why === undefined ? {} : { skip: why };
const T = { timeout: 60_000 };

describe('gatehouse-rdp with NLA (SAM file from winpr-hash)', SKIP, () => {
  let x: XDisplay;
  let nla: ShadowServer;
  before(async () => {
    x = await startXvfb({ width: 800, height: 600 });
    await x.setRootColor('#5a5a10');
    nla = await startShadowServer({ display: x, security: 'nla' });
  });
  after(async () => {
    await Promise.all(engines.map((e) => e.stop()));
    await nla?.stop();
    await x?.stop();
    assertNoSanitizerReports(engines);
    assertNoTempLeft();
  });

  it('connects with the right password and draws', T, async () => {
    const e = engine();
    const t = await connectAndFirstFrame(
      e,
      {
        hostname: nla.host,
        port: String(nla.port),
        username: nla.user,
        password: nla.password,
        security: 'nla',
        'ignore-cert': 'true',
      },
      [800, 600, 96],
    );
    await waitForColor(e, [0, 0, 800, 600], '#5a5a10');
    console.log(`800x600 NLA: connect->ready ${t.readyMs} ms, connect->first sync ${t.firstSyncMs} ms`);
    e.closeInput();
    assert.deepEqual(await e.exit(5000), { code: 0, signal: null });
  });

  it('answers a wrong password with 0x0301', T, async () => {
    const e = engine();
    await e.handshake({
      hostname: nla.host,
      port: String(nla.port),
      username: nla.user,
      password: 'not-the-password',
      security: 'nla',
      'ignore-cert': 'true',
    });
    const [, status] = await expectError(e);
    assert.equal(status, STATUS.CLIENT_UNAUTHORIZED);
  });
});

describe('gatehouse-rdp memory at 1920x1080', SKIP, () => {
  it('reports RSS after the first frame', T, async (t) => {
    const x = await startXvfb({ width: 1920, height: 1080 });
    t.after(() => x.stop());
    await x.setRootColor('#123456');
    const srv = await startShadowServer({ display: x, security: 'tls' });
    t.after(() => srv.stop());
    const e = engine();
    t.after(() => e.stop());
    const timing = await connectAndFirstFrame(
      e,
      {
        hostname: srv.host,
        port: String(srv.port),
        username: srv.user,
        password: srv.password,
        security: 'tls',
        'ignore-cert': 'true',
      },
      [1920, 1080, 96],
    );
    await waitForColor(e, [0, 0, 1920, 1080], '#123456');
    const rss = rssKiB(e.pid);
    console.log(
      `1920x1080 TLS: connect->first sync ${timing.firstSyncMs} ms, RSS ${rss} KiB (private ${privateKiB(e.pid)} KiB)`,
    );
    assert.ok(rss < 256 * 1024, `RSS ${rss} KiB`);
    e.closeInput();
    assert.deepEqual(await e.exit(5000), { code: 0, signal: null });
  });
});
