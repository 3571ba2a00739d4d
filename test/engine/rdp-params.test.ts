// The RDP engine's parameters (guacd's names, validated naming the parameter), the user it runs as, and its
// registration: only when its executable can be run.
import assert from 'node:assert/strict';
import { chmod, rm } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { resolveRunAs, whyNotRunnable } from '../../src/engine/rdp/engine-process.js';
import { RDP_ARG_NAMES, validateRdpParams } from '../../src/engine/rdp/params.js';
import { loadBuiltinEngines } from '../../src/engine/registry.js';
import { writeFakeRdpEngine } from '../helpers/fake-rdp-engine.js';

const isRoot = process.getuid?.() === 0;

function params(extra: Record<string, string>): Record<string, string> {
  const full: Record<string, string> = {};
  for (const name of RDP_ARG_NAMES) full[name] = '';
  return { ...full, ...extra };
}

describe('rdp engine: parameters', () => {
  it("are guacd's names for what the engine implements, plus enable-h264 (guacd's RDP has no H.264)", () => {
    assert.equal(RDP_ARG_NAMES.length, 38);
    assert.ok((RDP_ARG_NAMES as readonly string[]).includes('enable-h264'));
    assert.equal(new Set(RDP_ARG_NAMES).size, RDP_ARG_NAMES.length);
    for (const name of [
      'hostname',
      'security',
      'ignore-cert',
      'cert-fingerprints',
      'disable-gfx',
      'resize-method',
    ])
      assert.ok((RDP_ARG_NAMES as readonly string[]).includes(name), name);
  });

  it('accepts a complete valid set, and the empty defaults', () => {
    assert.deepEqual(validateRdpParams(params({ hostname: 'win.example' })), []);
    assert.deepEqual(
      validateRdpParams(
        params({
          hostname: '10.0.0.5',
          port: '3390',
          timeout: '20',
          domain: 'CORP',
          username: 'alice',
          password: 'p,a;s.s',
          width: '1920',
          height: '1080',
          dpi: '120',
          'color-depth': '16',
          security: 'nla',
          'ignore-cert': 'true',
          'cert-fingerprints':
            'sha256:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff',
          'disable-gfx': 'false',
          'resize-method': 'display-update',
          'server-layout': 'failsafe',
          'client-name': 'GATEHOUSE',
          'preconnection-id': '4294967295',
          'normalize-clipboard': 'windows',
        }),
      ),
      [],
    );
  });

  it('names the parameter for each invalid value, never quoting a secret', () => {
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ hostname: '' }, 'hostname', /required/],
      [{ hostname: 'a b' }, 'hostname', /not a host name/],
      [{ port: '0' }, 'port', /0 is not in 1\.\.65535/],
      [{ port: '70000' }, 'port', /not in 1\.\.65535/],
      [{ port: 'x' }, 'port', /'x' is not a whole number/],
      [{ 'color-depth': '15' }, 'color-depth', /'15' is not 8, 16, 24 or 32/],
      [{ security: 'vmconnect' }, 'security', /'vmconnect' is not any, nla, tls or rdp/],
      [{ 'ignore-cert': 'yes' }, 'ignore-cert', /'yes' is not true, false or empty/],
      [{ 'disable-gfx': '1' }, 'disable-gfx', /not true, false or empty/],
      [
        { 'resize-method': 'sideways' },
        'resize-method',
        /'sideways' is not display-update, reconnect or none/,
      ],
      [
        { 'server-layout': 'xx-yy' },
        'server-layout',
        /not a layout this engine has \(en-us-qwerty, en-gb-qwerty, de-de-qwertz, fr-fr-azerty, es-es-qwerty, it-it-qwerty, de-ch-qwertz, sv-se-qwerty, failsafe\)/,
      ],
      [{ 'cert-fingerprints': 'sha256:zz' }, 'cert-fingerprints', /not a SHA-256 fingerprint/],
      [
        { 'cert-fingerprints': `sha1:${'ab:'.repeat(19)}ab` },
        'cert-fingerprints',
        /1 item\(s\) not a SHA-256/,
      ],
      [{ 'load-balance-info': 'a\r\nb' }, 'load-balance-info', /line break/],
      [{ width: '9000' }, 'width', /9000 is not in 1\.\.8192/],
      [{ dpi: '20' }, 'dpi', /20 is not in 48\.\.1000/],
      [{ 'client-name': 'n'.repeat(300) }, 'client-name', /longer than 256 characters/],
      [{ 'normalize-clipboard': 'mac' }, 'normalize-clipboard', /not preserve, unix or windows/],
      [{ password: 'x'.repeat(2000) }, 'password', /longer than 1024 characters/],
      [{ username: 'a\0b' }, 'username', /NUL/],
    ];
    for (const [values, name, message] of cases) {
      const issues = validateRdpParams(params({ hostname: 'h', ...values }));
      assert.equal(issues.length, 1, `${name}: ${JSON.stringify(issues)}`);
      assert.equal(issues[0]?.name, name);
      assert.match(issues[0]?.message ?? '', new RegExp(`^invalid value for '${name}': `));
      assert.match(issues[0]?.message ?? '', message);
    }
    const secret = validateRdpParams(params({ hostname: 'h', password: 's3cret\0' }));
    assert.doesNotMatch(JSON.stringify(secret), /s3cret/);
  });
});

describe('rdp engine: availability', () => {
  it('is registered only when its executable can be run; VNC always', async () => {
    const fake = await writeFakeRdpEngine();
    try {
      const config = (binary: string) =>
        ({
          engine: { rdp: { binary, user: 'nobody', memoryLimitMb: 256, killGraceMs: 5000 } },
          log: { level: 'info' },
        }) as Parameters<typeof loadBuiltinEngines>[0];
      const without = loadBuiltinEngines(config('/nonexistent/gatehouse-rdp'));
      assert.deepEqual(
        without.engines.map((e) => e.protocol),
        ['vnc'],
      );
      assert.deepEqual(without.availability[1], {
        protocol: 'rdp',
        available: false,
        detail: '/nonexistent/gatehouse-rdp does not exist',
      });
      const withIt = loadBuiltinEngines(config(fake.path));
      assert.deepEqual(
        withIt.engines.map((e) => e.protocol),
        ['vnc', 'rdp'],
      );
      assert.equal(withIt.availability[1]?.available, true);
      assert.match(withIt.availability[1]?.detail ?? '', new RegExp(fake.path));
    } finally {
      await rm(fake.dir, { recursive: true, force: true });
    }
  });

  it('says when the dropped-privilege user cannot reach the executable', {
    skip: isRoot ? false : 'not running as root',
  }, async () => {
    const fake = await writeFakeRdpEngine();
    try {
      await chmod(fake.dir, 0o700);
      const nobody = resolveRunAs('nobody');
      assert.equal(
        whyNotRunnable(fake.path, nobody),
        `nobody cannot enter ${fake.dir} (on the way to ${fake.path})`,
      );
      assert.equal(whyNotRunnable(fake.path), undefined);
    } finally {
      await rm(fake.dir, { recursive: true, force: true });
    }
  });

  it('resolves USER[:GROUP] from names or numbers, naming what is unknown', () => {
    assert.equal(resolveRunAs('root').uid, 0);
    assert.equal(resolveRunAs('0:0').gid, 0);
    assert.equal(resolveRunAs('nobody:root').gid, 0);
    assert.throws(() => resolveRunAs('no-such-user-x'), /engine\.rdp\.user: no user "no-such-user-x"/);
    assert.throws(() => resolveRunAs('root:no-such-group-x'), /no group "no-such-group-x"/);
  });
});
