// .rdp file contents: fields derived from the DLP policy (every flag on and off), CRLF, and injection
// attempts neutralised (control characters, line separators, oversized values, random strings).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  buildRdpFile,
  encodeRdpFile,
  MAX_TOKEN_LENGTH,
  MAX_USERNAME_LENGTH,
  RdpFileError,
  rdpFileName,
} from '../../src/webapp/rdp-file/build.js';
import { DLP_KEYS, type DlpPolicy } from '../../src/webapp/store/types.js';
import { ALL_OFF, ALL_ON, input, settings, TOKEN } from './rdp-file-helpers.js';

const T = { timeout: 30_000 };

/** What each DLP flag must turn into, written out independently of build.ts. */
function expectedRedirects(dlp: DlpPolicy): Record<string, string> {
  return {
    'redirectclipboard:i': dlp.clipboardUp || dlp.clipboardDown ? '1' : '0',
    'redirectdrives:i': dlp.drives ? '1' : '0',
    'drivestoredirect:s': dlp.drives ? '*' : '',
    'redirectprinters:i': dlp.printing ? '1' : '0',
    'redirectsmartcards:i': dlp.smartCard ? '1' : '0',
    'usbdevicestoredirect:s': dlp.usb ? '*' : '',
    'devicestoredirect:s': dlp.usb ? '*' : '',
    'camerastoredirect:s': dlp.webcam ? '*' : '',
    'audiomode:i': dlp.audio ? '0' : '2',
    'audiocapturemode:i': dlp.audio ? '1' : '0',
    'redirectcomports:i': '0',
    'redirectposdevices:i': '0',
  };
}

function assertRedirects(dlp: DlpPolicy): void {
  const s = settings(buildRdpFile(input({ dlp })));
  for (const [key, value] of Object.entries(expectedRedirects(dlp))) {
    assert.equal(s.get(key), value, `${key} for ${JSON.stringify(dlp)}`);
  }
}

describe('.rdp file contents', T, () => {
  it('has the gateway address, the token and the security defaults, CRLF-terminated', () => {
    const text = buildRdpFile(input({ username: 'alice', domain: 'CORP' }));
    assert.ok(text.endsWith('\r\n'));
    assert.ok(!/[^\r]\n/.test(text), 'every LF is preceded by CR');
    assert.ok(!/\r[^\n]/.test(text), 'every CR is followed by LF');
    const s = settings(text);
    assert.equal(s.get('full address:s'), 'gw.example.com:3389');
    assert.equal(s.get('alternate full address:s'), 'gw.example.com:3389');
    assert.equal(s.get('loadbalanceinfo:s'), TOKEN);
    assert.equal(s.get('enablecredsspsupport:i'), '0');
    assert.equal(s.get('prompt for credentials:i'), '0');
    assert.equal(s.get('authentication level:i'), '2');
    assert.equal(s.get('negotiate security layer:i'), '1');
    assert.equal(s.get('gatewayusagemethod:i'), '0');
    assert.equal(s.get('username:s'), 'alice');
    assert.equal(s.get('domain:s'), 'CORP');
    assert.equal(s.get('screen mode id:i'), '2');
    assert.ok(!text.includes('Accounting'), 'the server name is not written into the file');
  });

  it('pads an odd-length token to an even length with one space (Microsoft routing-token advice)', () => {
    assert.equal(settings(buildRdpFile(input({ token: 'abc' }))).get('loadbalanceinfo:s'), 'abc ');
    assert.equal(settings(buildRdpFile(input({ token: 'abcd' }))).get('loadbalanceinfo:s'), 'abcd');
  });

  it('leaves out username and domain when absent or empty after cleaning', () => {
    const s = settings(buildRdpFile(input({ username: '\r\n\u0000', domain: '' })));
    assert.ok(!s.has('username:s') && !s.has('domain:s'));
  });

  it('client-side credentials and other server-authentication levels', () => {
    const s = settings(buildRdpFile(input({ credentials: 'client', serverAuthentication: 'refuse' })));
    assert.equal(s.get('enablecredsspsupport:i'), '1');
    assert.equal(s.get('authentication level:i'), '1');
    assert.equal(
      settings(buildRdpFile(input({ serverAuthentication: 'ignore' }))).get('authentication level:i'),
      '0',
    );
  });

  it('derives every redirect setting from the DLP policy: all on, all off, each flag alone on and alone off', () => {
    assertRedirects(ALL_ON);
    assertRedirects(ALL_OFF);
    for (const key of DLP_KEYS) {
      assertRedirects({ ...ALL_OFF, [key]: true });
      assertRedirects({ ...ALL_ON, [key]: false });
    }
    // The clipboard switch is on when either direction is allowed.
    const clip = (up: boolean, down: boolean) =>
      settings(buildRdpFile(input({ dlp: { ...ALL_OFF, clipboardUp: up, clipboardDown: down } }))).get(
        'redirectclipboard:i',
      );
    assert.deepEqual(
      [clip(false, false), clip(true, false), clip(false, true), clip(true, true)],
      ['0', '1', '1', '1'],
    );
  });

  it('screen options: windowed with a size, multi-monitor; bad sizes refused', () => {
    const s = settings(
      buildRdpFile(input({ screen: { fullScreen: false, width: 1280, height: 800, multiMonitor: true } })),
    );
    assert.equal(s.get('screen mode id:i'), '1');
    assert.equal(s.get('desktopwidth:i'), '1280');
    assert.equal(s.get('desktopheight:i'), '800');
    assert.equal(s.get('use multimon:i'), '1');
    for (const width of [0, 199, 8193, 1.5, Number.NaN]) {
      assert.throws(() => buildRdpFile(input({ screen: { fullScreen: false, width } })), RdpFileError);
    }
  });

  it('encodes as UTF-16LE with a byte-order mark; safe download names', () => {
    const bytes = encodeRdpFile('full address:s:é\r\n');
    assert.deepEqual([...bytes.subarray(0, 2)], [0xff, 0xfe]);
    assert.equal(bytes.subarray(2).toString('utf16le'), 'full address:s:é\r\n');
    assert.equal(rdpFileName('Accounting PC / 2\r\n'), 'Accounting_PC_2_.rdp');
    assert.equal(rdpFileName('\u0000'), 'server.rdp');
  });
});

describe('.rdp injection attempts', T, () => {
  const EVIL = [
    'bob\r\nalternate shell:s:cmd.exe',
    'bob\nalternate shell:s:cmd.exe',
    'bob\ralternate shell:s:cmd.exe',
    'bob\u0000alternate shell:s:cmd.exe',
    'bob\u2028alternate shell:s:cmd.exe',
    'bob\u2029alternate shell:s:cmd.exe',
    'bob\u0085alternate shell:s:cmd.exe',
    'bob\u000balternate shell:s:cmd.exe\u000c',
    'bob\u001b[31m\u007f\ud800',
  ];
  const keysOf = (text: string) => [...settings(text).keys()].sort();
  const baseKeys = keysOf(buildRdpFile(input({ username: 'x', domain: 'y' })));

  it('free-text values lose CR, LF, NUL, other controls and separators; no line is added', () => {
    for (const evil of EVIL) {
      const text = buildRdpFile(input({ username: evil, domain: evil }));
      assert.deepEqual(keysOf(text), baseKeys, JSON.stringify(evil));
      assert.ok(!/^alternate shell/m.test(text));
      assert.ok(!/[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]/.test(text));
      assert.ok(settings(text).get('username:s')?.startsWith('bob'));
    }
  });

  it('the token and the gateway address are refused, not cleaned', () => {
    for (const token of ['a\r\nalternate shell:s:x', 'ab\n', 'ab\u0000', 'a b', 'tök', '', 'ab\u2028']) {
      assert.throws(
        () => buildRdpFile(input({ token })),
        (e) => e instanceof RdpFileError && e.field === 'token',
      );
    }
    for (const gatewayAddress of [
      'gw:3389\r\nalternate shell:s:x',
      'gw:3389\n',
      'gw\u0000:3389',
      'gw:0',
      'gw:65536',
      'gw:33a',
      'g w:3389',
      '[::1',
      '[zz::1]:3389',
      '',
      `${'a'.repeat(300)}:1`,
    ]) {
      assert.throws(
        () => buildRdpFile(input({ gatewayAddress })),
        (e) => e instanceof RdpFileError && e.field === 'gatewayAddress',
        JSON.stringify(gatewayAddress),
      );
    }
    for (const ok of ['10.0.0.1:3389', '[::1]:3389', '[fe80::1]', 'gw.example.com']) {
      assert.equal(settings(buildRdpFile(input({ gatewayAddress: ok }))).get('full address:s'), ok);
    }
  });

  it('very long values hit limits instead of growing the file', () => {
    assert.ok(buildRdpFile(input({ token: 'a'.repeat(MAX_TOKEN_LENGTH) })));
    assert.throws(() => buildRdpFile(input({ token: 'a'.repeat(MAX_TOKEN_LENGTH + 1) })), RdpFileError);
    assert.ok(buildRdpFile(input({ username: 'u'.repeat(MAX_USERNAME_LENGTH) })));
    assert.throws(() => buildRdpFile(input({ username: 'u'.repeat(MAX_USERNAME_LENGTH + 1) })), RdpFileError);
    assert.throws(() => buildRdpFile(input({ domain: 'd'.repeat(1_000_000) })), RdpFileError);
  });

  it('property: any user name and domain give the same setting names and no control character', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.string({ unit: 'grapheme', maxLength: 50 }),
        (u, d) => {
          let text: string;
          try {
            text = buildRdpFile(input({ username: `x${u}`, domain: `y${d}` }));
          } catch (err) {
            assert.ok(err instanceof RdpFileError);
            return;
          }
          assert.deepEqual(keysOf(text), baseKeys);
          assert.ok(!/[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]/.test(text));
          assert.equal(Buffer.from(text, 'utf16le').toString('utf16le'), text, 'no unpaired surrogate');
        },
      ),
      { numRuns: 500 },
    );
  });
});
