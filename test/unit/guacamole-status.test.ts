import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  httpStatusFor,
  STATUS,
  STATUS_TABLE,
  statusInfo,
  statusName,
  wsCloseCodeFor,
} from '../../src/protocol/guacamole/status.js';

// [code, name, HTTP, WebSocket close], as in the Guacamole protocol reference.
const EXPECTED: Array<[number, string, number, number]> = [
  [0x0000, 'SUCCESS', 200, 1000],
  [0x0100, 'UNSUPPORTED', 501, 1011],
  [0x0200, 'SERVER_ERROR', 500, 1011],
  [0x0201, 'SERVER_BUSY', 503, 1008],
  [0x0202, 'UPSTREAM_TIMEOUT', 504, 1011],
  [0x0203, 'UPSTREAM_ERROR', 502, 1011],
  [0x0204, 'RESOURCE_NOT_FOUND', 404, 1002],
  [0x0205, 'RESOURCE_CONFLICT', 409, 1008],
  [0x0206, 'RESOURCE_CLOSED', 404, 1002],
  [0x0207, 'UPSTREAM_NOT_FOUND', 502, 1011],
  [0x0208, 'UPSTREAM_UNAVAILABLE', 502, 1011],
  [0x0209, 'SESSION_CONFLICT', 409, 1008],
  [0x020a, 'SESSION_TIMEOUT', 408, 1002],
  [0x020b, 'SESSION_CLOSED', 404, 1002],
  [0x0300, 'CLIENT_BAD_REQUEST', 400, 1002],
  [0x0301, 'CLIENT_UNAUTHORIZED', 403, 1008],
  [0x0303, 'CLIENT_FORBIDDEN', 403, 1008],
  [0x0308, 'CLIENT_TIMEOUT', 408, 1002],
  [0x030d, 'CLIENT_OVERRUN', 413, 1009],
  [0x030f, 'CLIENT_BAD_TYPE', 415, 1003],
  [0x031d, 'CLIENT_TOO_MANY', 429, 1008],
];

describe('Guacamole status table', () => {
  test('STATUS has every status, with unique codes', () => {
    assert.deepEqual(
      Object.entries(STATUS),
      EXPECTED.map(([code, name]) => [name, code]),
    );
    assert.equal(new Set(Object.values(STATUS)).size, EXPECTED.length);
  });

  test('STATUS_TABLE, statusInfo, httpStatusFor, wsCloseCodeFor, statusName', () => {
    assert.deepEqual(
      STATUS_TABLE.map((s) => [s.code, s.name, s.http, s.wsClose]),
      EXPECTED,
    );
    for (const [code, name, http, wsClose] of EXPECTED) {
      assert.deepEqual(statusInfo(code), { code, name, http, wsClose });
      assert.equal(httpStatusFor(code), http);
      assert.equal(wsCloseCodeFor(code), wsClose);
      assert.equal(statusName(code), name);
    }
  });

  test('unknown codes map like SERVER_ERROR, named UNKNOWN', () => {
    for (const code of [0x0302, 0x0001, 0xffff, -1, 1.5]) {
      assert.deepEqual(statusInfo(code), { code, name: 'UNKNOWN', http: 500, wsClose: 1011 });
      assert.equal(httpStatusFor(code), 500);
      assert.equal(wsCloseCodeFor(code), 1011);
      assert.equal(statusName(code), 'UNKNOWN');
    }
  });

  test('statusInfo returns a copy', () => {
    const info = statusInfo(STATUS.SUCCESS);
    info.http = 999;
    assert.equal(httpStatusFor(STATUS.SUCCESS), 200);
    assert.ok(Object.isFrozen(STATUS_TABLE[0]));
  });
});
