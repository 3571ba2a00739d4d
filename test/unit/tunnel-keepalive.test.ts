import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { STATUS } from '../../src/protocol/guacamole/status.js';
import {
  CLIENT_TIMEOUT_MESSAGE,
  Keepalive,
  keepaliveAction,
  keepaliveDeadline,
  keepaliveSettings,
  NOP,
} from '../../src/proxy/tunnel/keepalive.js';

const T = { timeout: 10_000 };

describe('keepalive', () => {
  test('defaults: nop after 5 s without sending, timeout after 15 s without receiving', T, () => {
    const k = new Keepalive(1000);
    assert.equal(NOP, '3.nop;');
    assert.deepEqual(k.settings, { nopIntervalMs: 5000, clientTimeoutMs: 15000 });
    assert.equal(k.nextDeadline(), 6000);
    assert.equal(k.check(5999).kind, 'none');
    assert.equal(k.check(6000).kind, 'nop');
    assert.equal(k.lastSent, 6000, 'a nop counts as sent');
    assert.equal(k.check(6001).kind, 'none');
    assert.equal(k.nextDeadline(), 11000);
    assert.equal(k.check(11000).kind, 'nop');
    assert.equal(k.nextDeadline(), 16000); // both deadlines meet: timeout wins
    assert.deepEqual(k.check(16000), {
      kind: 'timeout',
      status: STATUS.CLIENT_TIMEOUT,
      message: CLIENT_TIMEOUT_MESSAGE,
    });
    assert.equal(k.timedOut, true);
    assert.equal(k.check(16001).kind, 'timeout');
    assert.equal(k.nextDeadline(), Number.POSITIVE_INFINITY);
  });

  test('receiving postpones the timeout, sending postpones the nop', T, () => {
    const k = new Keepalive(0, { nopIntervalMs: 100, clientTimeoutMs: 300 });
    k.sent(80);
    k.received(250);
    assert.equal(k.nextDeadline(), 180);
    assert.equal(k.check(179).kind, 'none');
    k.sent(179);
    assert.equal(k.nextDeadline(), 279);
    k.sent(500);
    assert.equal(k.nextDeadline(), 550);
    assert.equal(k.check(549).kind, 'none');
    assert.equal(k.check(550).kind, 'timeout');
  });

  test('a clock going backwards is ignored', T, () => {
    const k = new Keepalive(1000);
    k.received(500);
    k.sent(10);
    assert.equal(k.lastReceived, 1000);
    assert.equal(k.lastSent, 1000);
  });

  test('clientTimeoutMs Infinity disables the timeout; nop still runs', T, () => {
    const k = new Keepalive(0, { clientTimeoutMs: Number.POSITIVE_INFINITY });
    assert.equal(k.check(1e12).kind, 'nop');
    assert.equal(k.nextDeadline(), 1e12 + 5000);
  });

  test('pure functions over the edge’s own times', T, () => {
    const s = keepaliveSettings({ nopIntervalMs: 50, clientTimeoutMs: 200 });
    assert.equal(keepaliveAction(100, 90, 60, s).kind, 'none');
    assert.equal(keepaliveAction(110, 90, 60, s).kind, 'nop');
    assert.equal(keepaliveAction(290, 90, 280, s).kind, 'timeout');
    assert.equal(keepaliveDeadline(90, 60, s), 110);
    assert.equal(keepaliveDeadline(0, 1000, s), 200);
  });

  test('bad settings are refused', T, () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => keepaliveSettings({ nopIntervalMs: bad }), RangeError);
    }
    for (const bad of [0, -5, Number.NaN]) {
      assert.throws(() => keepaliveSettings({ clientTimeoutMs: bad }), RangeError);
    }
  });
});
