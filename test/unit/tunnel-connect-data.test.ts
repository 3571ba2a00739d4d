import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { STATUS } from '../../src/protocol/guacamole/status.js';
import { parseConnectData } from '../../src/proxy/tunnel/connect-data.js';
import { TunnelError } from '../../src/proxy/types.js';

const T = { timeout: 10_000 };

function refused(query: string, status: number, message?: RegExp): void {
  assert.throws(
    () => parseConnectData(query),
    (err: unknown) => {
      assert.ok(err instanceof TunnelError, String(err));
      assert.equal(err.status, status, err.message);
      if (message) assert.match(err.message, message);
      return true;
    },
  );
}

describe('parseConnectData', () => {
  test('token only: defaults', T, () => {
    assert.deepEqual(parseConnectData('token=abc'), {
      token: 'abc',
      client: {
        width: 1024,
        height: 768,
        dpi: 96,
        audio: [],
        video: [],
        image: ['image/png', 'image/jpeg'],
        protocolVersion: 'VERSION_1_5_0',
      },
      ignored: [],
    });
  });

  test("guacamole-client's connect data (repeated GUAC_ mimetypes, extra GUAC_ names ignored)", T, () => {
    const q =
      '?token=T0K%2BEN&GUAC_DATA_SOURCE=mysql&GUAC_ID=12&GUAC_TYPE=c&GUAC_WIDTH=1920&GUAC_HEIGHT=1080' +
      '&GUAC_DPI=192&GUAC_TIMEZONE=America%2FArgentina%2FBuenos_Aires&GUAC_AUDIO=audio%2FL8' +
      '&GUAC_AUDIO=audio%2FL16&GUAC_IMAGE=image%2Fjpeg&GUAC_IMAGE=image%2Fpng&GUAC_IMAGE=image%2Fwebp' +
      '&GUAC_VIDEO=video%2Fwebm%3B+codecs%3D%22vp8%22';
    const d = parseConnectData(q);
    assert.equal(d.token, 'T0K+EN');
    assert.deepEqual(d.client, {
      width: 1920,
      height: 1080,
      dpi: 192,
      audio: ['audio/L8', 'audio/L16'],
      video: ['video/webm; codecs="vp8"'],
      image: ['image/jpeg', 'image/png', 'image/webp'],
      timezone: 'America/Argentina/Buenos_Aires',
      protocolVersion: 'VERSION_1_5_0',
    });
    assert.deepEqual(d.ignored, ['GUAC_DATA_SOURCE', 'GUAC_ID', 'GUAC_TYPE']);
  });

  test('plain names, comma-separated lists (commas inside parameters kept), duplicates merged', T, () => {
    const d = parseConnectData(
      'token=x&width=800&height=600&dpi=120&timezone=UTC&image=image/webp,image/png&image=image/png' +
        '&audio=audio/L16;rate=44100,channels=2,audio/L8',
    );
    assert.deepEqual(d.client.image, ['image/webp', 'image/png']);
    assert.deepEqual(d.client.audio, ['audio/L16;rate=44100,channels=2', 'audio/L8']);
    assert.equal(d.client.timezone, 'UTC');
    assert.deepEqual([d.client.width, d.client.height, d.client.dpi], [800, 600, 120]);
  });

  test('a plain name wins over its GUAC_ twin; empty values count as absent', T, () => {
    const d = parseConnectData(
      'token=x&GUAC_WIDTH=640&width=800&GUAC_IMAGE=image/png&image=&height=&timezone=',
    );
    assert.equal(d.client.width, 800);
    assert.equal(d.client.height, 768);
    assert.deepEqual(d.client.image, ['image/png']);
    assert.equal(d.client.timezone, undefined);
  });

  test('anything else is ignored and listed (bounded)', T, () => {
    const names = Array.from({ length: 40 }, (_, i) => `hostname${i}=evil`).join('&');
    const d = parseConnectData(`token=x&${names}&password=p&${'n'.repeat(100)}=1&WIDTH=3`);
    assert.equal(d.ignored.length, 32);
    assert.equal(d.ignored[0], 'hostname0');
    assert.equal(JSON.stringify(d.client).includes('evil'), false);
    const few = parseConnectData(`token=x&password=p&${'n'.repeat(100)}=1&WIDTH=3&password=q`);
    assert.deepEqual(few.ignored, ['password', 'n'.repeat(64), 'WIDTH']);
  });

  test('missing or empty token → 0x0301', T, () => {
    refused('', STATUS.CLIENT_UNAUTHORIZED);
    refused('width=800', STATUS.CLIENT_UNAUTHORIZED);
    refused('token=&width=800', STATUS.CLIENT_UNAUTHORIZED);
    refused('GUAC_TOKEN=abc', STATUS.CLIENT_UNAUTHORIZED);
  });

  test('over-long query → 0x0300', T, () => {
    refused(`token=${'a'.repeat(8200)}`, STATUS.CLIENT_BAD_REQUEST, /too long/);
    const fits = `?token=${'a'.repeat(8186)}`;
    assert.equal(fits.length, 8193);
    assert.equal(parseConnectData(fits).token.length, 8186);
  });

  test('invalid sizes → 0x0300', T, () => {
    for (const bad of ['0', '16385', '-1', '1e3', '12.5', ' 800', '0x100', 'abc', '000000800']) {
      refused(`token=x&width=${encodeURIComponent(bad)}`, STATUS.CLIENT_BAD_REQUEST, /width/);
    }
    refused('token=x&GUAC_DPI=0', STATUS.CLIENT_BAD_REQUEST, /dpi/);
    assert.equal(parseConnectData('token=x&height=16384').client.height, 16384);
    assert.equal(parseConnectData('token=x&width=1').client.width, 1);
    assert.equal(parseConnectData('token=x&width=00800').client.width, 800);
  });

  test('single-valued names given twice → 0x0300', T, () => {
    refused('token=x&width=1&width=2', STATUS.CLIENT_BAD_REQUEST, /more than once/);
    refused('token=x&token=y', STATUS.CLIENT_BAD_REQUEST, /more than once/);
  });

  test('invalid mimetypes → 0x0300', T, () => {
    for (const bad of [
      'png',
      'image/',
      '/png',
      'image/png/x',
      'image/p ng',
      'image/<b>',
      `image/${'x'.repeat(300)}`,
    ]) {
      refused(`token=x&image=${encodeURIComponent(bad)}`, STATUS.CLIENT_BAD_REQUEST, /mimetype/);
    }
    const many = Array.from({ length: 65 }, (_, i) => `GUAC_AUDIO=audio/x${i}`).join('&');
    refused(`token=x&${many}`, STATUS.CLIENT_BAD_REQUEST, /over 64/);
    const exactly = Array.from({ length: 64 }, (_, i) => `audio=audio/x${i}`).join('&');
    assert.equal(parseConnectData(`token=x&${exactly}`).client.audio.length, 64);
  });

  test('time zones: IANA-ish names only', T, () => {
    for (const good of ['UTC', 'Europe/Paris', 'Etc/GMT+5', 'America/Port-au-Prince', 'EST5EDT']) {
      assert.equal(parseConnectData(`token=x&timezone=${encodeURIComponent(good)}`).client.timezone, good);
    }
    for (const bad of [
      '../etc/passwd',
      '/UTC',
      'Europe/',
      'a b',
      '+05:00',
      'A/B/C/D/E',
      'x'.repeat(65),
      'é',
    ]) {
      refused(`token=x&GUAC_TIMEZONE=${encodeURIComponent(bad)}`, STATUS.CLIENT_BAD_REQUEST, /time zone/);
    }
  });
});
