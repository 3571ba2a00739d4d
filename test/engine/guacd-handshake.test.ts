// The guacd handshake state machine (src/engine/guacd/handshake.ts), driven instruction by instruction.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  DEFAULT_SIZE,
  GuacdHandshake,
  type HandshakeOptions,
  type HandshakeStep,
  MAX_MIMETYPES,
} from '../../src/engine/guacd/handshake.js';
import { resolveClientVersion, versionSupports } from '../../src/engine/guacd/versions.js';
import type { EngineSession, ParamIssue, ProtocolEngine } from '../../src/engine/types.js';
import { encodeInstruction } from '../../src/protocol/guacamole/encoder.js';
import { GuacamoleParser, type Instruction } from '../../src/protocol/guacamole/parser.js';
import { STATUS } from '../../src/protocol/guacamole/status.js';

/** A stand-in engine: two parameters, `port` must be a number when set. */
function fakeEngine(
  protocol = 'fake',
  validate?: (p: Readonly<Record<string, string>>) => ParamIssue[],
): ProtocolEngine {
  return {
    protocol,
    argNames: ['hostname', 'port'],
    validateParams:
      validate ??
      ((p) =>
        p.port !== '' && !/^\d+$/.test(p.port ?? '') ? [{ name: 'port', message: 'must be a number' }] : []),
    start(): EngineSession {
      throw new Error('not started in these tests');
    },
  };
}

const T0 = 1_000_000;
const ID = '$0f0e0d0c-0b0a-4909-8807-060504030201';

function handshake(options: Partial<HandshakeOptions> = {}): GuacdHandshake {
  return new GuacdHandshake({
    engines: [fakeEngine(), fakeEngine('other')],
    now: T0,
    newConnectionId: () => ID,
    ...options,
  });
}

const ins = (opcode: string, ...args: string[]): Instruction => ({ opcode, args });

/** The instructions in a step's `send`, decoded. */
function sent(step: HandshakeStep): Instruction[] {
  return new GuacamoleParser().feed(Buffer.from(step.send, 'utf8'));
}

function assertError(step: HandshakeStep, status: number, message: RegExp): void {
  assert.ok(step.failure, `expected a failure, got ${JSON.stringify(step)}`);
  assert.equal(step.failure.status, status);
  assert.match(step.failure.message, message);
  assert.equal(step.ready, undefined);
  assert.deepEqual(sent(step), [ins('error', step.failure.message, String(status))]);
}

/** select + the given info instructions + connect; returns the last step. */
function run(h: GuacdHandshake, info: Instruction[], connect: string[]): HandshakeStep {
  const args = h.receive(ins('select', 'fake'), T0 + 1);
  assert.deepEqual(sent(args), [ins('args', 'VERSION_1_5_0', 'hostname', 'port')]);
  let t = T0 + 2;
  for (const i of info) assert.equal(h.receive(i, t++).send, '');
  return h.receive(ins('connect', ...connect), t);
}

describe('guacd handshake: select', () => {
  it('answers args with VERSION_1_5_0 first, then the engine parameter names in order', () => {
    const h = handshake();
    assert.equal(h.phase, 'select');
    const step = h.receive(ins('select', 'fake'), T0);
    assert.equal(step.send, encodeInstruction('args', 'VERSION_1_5_0', 'hostname', 'port'));
    assert.equal(h.phase, 'client-info');
  });

  it('an unknown protocol is refused with 0x0300, naming it and the protocols served', () => {
    assertError(
      handshake().receive(ins('select', 'rdp'), T0),
      STATUS.CLIENT_BAD_REQUEST,
      /^No such protocol "rdp" \(this server provides fake, other\)$/,
    );
    assertError(
      handshake({ engines: [] }).receive(ins('select', 'vnc'), T0),
      STATUS.CLIENT_BAD_REQUEST,
      /provides no protocols/,
    );
  });

  it('joining a connection ($id) is refused with 0x0204: not supported yet', () => {
    assertError(
      handshake().receive(ins('select', ID), T0),
      STATUS.RESOURCE_NOT_FOUND,
      /cannot be joined: joining an existing connection is not supported yet/,
    );
  });

  it('select with no or two arguments is a bad request', () => {
    assertError(
      handshake().receive(ins('select'), T0),
      STATUS.CLIENT_BAD_REQUEST,
      /takes one argument.*got 0/,
    );
    assertError(handshake().receive(ins('select', 'fake', 'x'), T0), STATUS.CLIENT_BAD_REQUEST, /got 2/);
  });

  it('garbage first: another opcode, an internal instruction or malformed bytes are refused with 0x0300', () => {
    assertError(
      handshake().receive(ins('size', '1', '2'), T0),
      STATUS.CLIENT_BAD_REQUEST,
      /Expected "select" but received "size"/,
    );
    assertError(handshake().receive(ins('', 'ping', '1'), T0), STATUS.CLIENT_BAD_REQUEST, /received ""/);
    let error: Error | undefined;
    try {
      new GuacamoleParser().feed(Buffer.from('GET / HTTP/1.1\r\n'));
    } catch (err) {
      error = err as Error;
    }
    assertError(
      handshake().malformed(error!),
      STATUS.CLIENT_BAD_REQUEST,
      /^Malformed Guacamole instruction during handshake: /,
    );
  });

  it('a long client-supplied protocol is cut in the message', () => {
    const step = handshake().receive(ins('select', 'x'.repeat(5000)), T0);
    assert.ok(step.failure!.message.length < 200, step.failure!.message);
  });
});

describe('guacd handshake: client info and connect', () => {
  it('completes with ready,$id and the parameters by name', () => {
    const h = handshake();
    const step = run(
      h,
      [ins('size', '1280', '720', '120'), ins('image', 'image/png')],
      ['VERSION_1_5_0', 'host', '5900'],
    );
    assert.deepEqual(sent(step), [ins('ready', ID)]);
    assert.equal(h.phase, 'ready');
    assert.equal(h.deadline, Number.POSITIVE_INFINITY);
    const ready = step.ready!;
    assert.equal(ready.connectionId, ID);
    assert.equal(ready.engine.protocol, 'fake');
    assert.deepEqual(ready.params, { hostname: 'host', port: '5900' });
    assert.deepEqual(ready.client, {
      width: 1280,
      height: 720,
      dpi: 120,
      audio: [],
      video: [],
      image: ['image/png'],
      protocolVersion: 'VERSION_1_5_0',
    });
  });

  it('the default connection id is $ + a lowercase UUID', () => {
    const h = new GuacdHandshake({ engines: [fakeEngine()], now: T0 });
    const step = run(h, [], ['VERSION_1_5_0', '', '']);
    assert.match(
      step.ready!.connectionId,
      /^\$[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
  });

  for (const version of ['VERSION_1_0_0', 'VERSION_1_1_0', 'VERSION_1_3_0', 'VERSION_1_5_0'] as const) {
    it(`a client answering ${version}: that version; timezone only from 1.1.0, name only from 1.5.0`, () => {
      const step = run(
        handshake(),
        [ins('size', '800', '600'), ins('timezone', 'Europe/Paris'), ins('name', 'Ann')],
        [version, 'h', '1'],
      );
      const client = step.ready!.client;
      assert.equal(client.protocolVersion, version);
      assert.equal(client.timezone, versionSupports(version, 'timezone') ? 'Europe/Paris' : undefined);
      assert.equal(client.name, version === 'VERSION_1_5_0' ? 'Ann' : undefined);
      assert.equal(client.dpi, DEFAULT_SIZE.dpi, 'size without dpi means 96');
    });
  }

  it('1.0.0 form: a client that predates versions answers "" (or any non-version) in the version slot', () => {
    for (const answer of ['', 'hostname-value', 'version_1_5_0', 'VERSION_1_5']) {
      const step = run(handshake(), [ins('timezone', 'UTC')], [answer, 'h', '']);
      assert.equal(step.ready!.client.protocolVersion, 'VERSION_1_0_0', answer);
      assert.equal(step.ready!.versionAnswer, answer);
      assert.equal(step.ready!.client.timezone, undefined);
    }
  });

  it('an unknown VERSION_x_y_z selects the newest known version not above it', () => {
    assert.equal(resolveClientVersion('VERSION_1_4_0'), 'VERSION_1_3_0');
    assert.equal(resolveClientVersion('VERSION_1_2_9'), 'VERSION_1_1_0');
    assert.equal(resolveClientVersion('VERSION_2_0_0'), 'VERSION_1_5_0');
    assert.equal(resolveClientVersion('VERSION_0_9_14'), 'VERSION_1_0_0');
    assert.equal(
      run(handshake(), [], ['VERSION_1_6_0', '', '']).ready!.client.protocolVersion,
      'VERSION_1_5_0',
    );
  });

  it('size/audio/video/image/timezone/name are accepted in any order, unknown opcodes ignored', () => {
    const info = [
      ins('size', '1920', '1080', '144'),
      ins('audio', 'audio/L16', 'audio/L8'),
      ins('video'),
      ins('image', 'image/webp', 'image/png', 'image/jpeg'),
      ins('timezone', 'America/New_York'),
      ins('name', 'Zoë'),
      ins('nop'),
      ins('', 'ping', '123'),
      ins('frobnicate', 'x'),
    ];
    const expected = {
      width: 1920,
      height: 1080,
      dpi: 144,
      audio: ['audio/L16', 'audio/L8'],
      video: [],
      image: ['image/webp', 'image/png', 'image/jpeg'],
      timezone: 'America/New_York',
      name: 'Zoë',
      protocolVersion: 'VERSION_1_5_0',
    };
    fc.assert(
      fc.property(fc.shuffledSubarray(info, { minLength: info.length, maxLength: info.length }), (order) => {
        const step = run(handshake(), order, ['VERSION_1_5_0', 'h', '22']);
        assert.deepEqual(step.ready!.client, expected);
      }),
      { numRuns: 200 },
    );
  });

  it('without any client info: guacd defaults 1024x768 at 96 dpi, no mimetypes', () => {
    const client = run(handshake(), [], ['VERSION_1_1_0', '', '']).ready!.client;
    assert.deepEqual(client, {
      width: 1024,
      height: 768,
      dpi: 96,
      audio: [],
      video: [],
      image: [],
      protocolVersion: 'VERSION_1_1_0',
    });
  });

  it('a later instruction replaces an earlier one; empty timezone/name and empty mimetypes are dropped', () => {
    const client = run(
      handshake(),
      [
        ins('size', '1', '2', '3'),
        ins('size', '10', '20.7'),
        ins('image', 'image/png'),
        ins('image', '', 'image/jpeg'),
        ins('timezone', 'UTC'),
        ins('timezone'),
        ins('name', ''),
      ],
      ['VERSION_1_5_0', '', ''],
    ).ready!.client;
    assert.deepEqual([client.width, client.height, client.dpi], [10, 20, 96]);
    assert.deepEqual(client.image, ['image/jpeg']);
    assert.equal(client.timezone, undefined);
    assert.equal(client.name, undefined);
  });

  it('a bad size is refused with 0x0300 naming the value', () => {
    const cases: [string[], RegExp][] = [
      [['800'], /needs a width and a height, got 1/],
      [['wide', '600'], /invalid width "wide"/],
      [['800', '-1'], /invalid height "-1"/],
      [['800', '600', '0'], /invalid dpi "0": expected a number from 1 to 65535/],
      [['70000', '600'], /invalid width "70000"/],
    ];
    for (const [args, message] of cases) {
      const h = handshake();
      h.receive(ins('select', 'fake'), T0);
      assertError(h.receive(ins('size', ...args), T0), STATUS.CLIENT_BAD_REQUEST, message);
    }
  });

  it('mimetype lists are bounded', () => {
    const h = handshake();
    h.receive(ins('select', 'fake'), T0);
    const many = Array.from({ length: MAX_MIMETYPES + 1 }, (_, i) => `image/x-${i}`);
    assertError(
      h.receive(ins('image', ...many), T0),
      STATUS.CLIENT_BAD_REQUEST,
      /"image" lists 65 mimetypes; at most 64/,
    );
  });

  it('the number of handshake instructions is bounded', () => {
    const h = handshake({ maxInstructions: 5 });
    h.receive(ins('select', 'fake'), T0);
    for (let i = 0; i < 4; i++) assert.equal(h.receive(ins('nop'), T0).failure, undefined);
    assertError(h.receive(ins('nop'), T0), STATUS.CLIENT_BAD_REQUEST, /not completed within 5 instructions/);
  });

  it('a value count other than version + parameters is refused with 0x0300 naming both', () => {
    for (const values of [['VERSION_1_5_0', 'h'], ['VERSION_1_5_0', 'h', '1', 'extra'], [], ['h', '1']]) {
      const step = run(handshake(), [], values);
      assertError(
        step,
        STATUS.CLIENT_BAD_REQUEST,
        new RegExp(
          `^"connect" has ${values.length} values; protocol "fake" expects 3: the protocol version followed by 2 parameters \\(hostname, port\\)$`,
        ),
      );
    }
    const none: ProtocolEngine = { ...fakeEngine('bare'), argNames: [] };
    const h = handshake({ engines: [none] });
    h.receive(ins('select', 'bare'), T0);
    assertError(
      h.receive(ins('connect', 'VERSION_1_5_0', 'x'), T0),
      STATUS.CLIENT_BAD_REQUEST,
      /followed by no parameters/,
    );
  });

  it('invalid values are refused before ready with 0x0300 naming each parameter', () => {
    assertError(
      run(handshake(), [], ['VERSION_1_5_0', 'h', 'abc']),
      STATUS.CLIENT_BAD_REQUEST,
      /^Invalid parameter "port": must be a number$/,
    );
    const strict = fakeEngine('fake', (p) => [
      { name: 'hostname', message: 'is required' },
      { name: 'port', message: `"${p.port}" is not a port` },
    ]);
    assertError(
      run(handshake({ engines: [strict] }), [], ['VERSION_1_5_0', '', 'x']),
      STATUS.CLIENT_BAD_REQUEST,
      /^Invalid parameters "hostname": is required; "port": "x" is not a port$/,
    );
  });

  it('an engine whose validateParams throws: SERVER_ERROR, not an exception', () => {
    const broken = fakeEngine('fake', () => {
      throw new Error('bug');
    });
    assertError(
      run(handshake({ engines: [broken] }), [], ['VERSION_1_5_0', '', '']),
      STATUS.SERVER_ERROR,
      /Internal error validating/,
    );
  });

  it('after ready or a failure, further input is ignored', () => {
    const h = handshake();
    run(h, [], ['VERSION_1_5_0', '', '']);
    assert.deepEqual(h.receive(ins('connect', 'VERSION_1_5_0', '', ''), T0), { send: '' });
    assert.deepEqual(h.timeout(T0 + 10 ** 9), { send: '' });
    const failed = handshake();
    failed.receive(ins('bogus'), T0);
    assert.equal(failed.phase, 'failed');
    assert.deepEqual(failed.receive(ins('select', 'fake'), T0), { send: '' });
    assert.deepEqual(failed.malformed(new Error('x')), { send: '' });
  });
});

describe('guacd handshake: timeouts', () => {
  it('select must arrive within the step timeout (default 15 s): CLIENT_TIMEOUT', () => {
    const h = handshake();
    assert.equal(h.deadline, T0 + 15_000);
    assert.deepEqual(h.timeout(T0 + 14_999), { send: '' });
    assertError(
      h.timeout(T0 + 15_000),
      STATUS.CLIENT_TIMEOUT,
      /^Timed out after 15000 ms waiting for "select"$/,
    );
  });

  it('each later instruction restarts the step timeout', () => {
    const h = handshake({ stepTimeoutMs: 1000 });
    h.receive(ins('select', 'fake'), T0 + 900);
    assert.equal(h.deadline, T0 + 1900);
    assert.deepEqual(h.timeout(T0 + 1000), { send: '' });
    h.receive(ins('size', '1', '1'), T0 + 1800);
    assert.deepEqual(h.timeout(T0 + 2700), { send: '' });
    assertError(
      h.timeout(T0 + 2800),
      STATUS.CLIENT_TIMEOUT,
      /waiting for the handshake to continue \("connect" not received\)/,
    );
  });
});
