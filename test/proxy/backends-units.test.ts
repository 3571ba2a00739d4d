// The sans-I/O parts of the proxy's backends: the client side of guacd's handshake, guacd's inbound byte
// stream (framing, UTF-8 across chunks, error/disconnect), guacd addresses, and startBackend's refusals.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClientInfo, EngineSession, GuacSink, ProtocolEngine } from '../../src/engine/types.js';
import { createFramer } from '../../src/native/select-framer.js';
import { encodeInstruction } from '../../src/protocol/guacamole/encoder.js';
import { GuacamoleFramer } from '../../src/protocol/guacamole/framer.js';
import { GuacamoleParser, type Instruction } from '../../src/protocol/guacamole/parser.js';
import { STATUS } from '../../src/protocol/guacamole/status.js';
import { parseGuacdAddress } from '../../src/proxy/backends/guacd-address.js';
import {
  type ClientHandshakeStep,
  GuacdClientHandshake,
  guacdErrorStatus,
} from '../../src/proxy/backends/guacd-handshake.js';
import { GuacdInbound } from '../../src/proxy/backends/guacd-inbound.js';
import {
  BackendError,
  INVALID_PARAMETERS,
  startBackend,
  UNKNOWN_PROTOCOL,
} from '../../src/proxy/backends/index.js';

const T = { timeout: 10_000 };
const T0 = 1_000_000;

const CLIENT: ClientInfo = {
  width: 1280,
  height: 720,
  dpi: 120,
  audio: ['audio/L16'],
  video: [],
  image: ['image/png', 'image/jpeg', 'image/webp'],
  timezone: 'Europe/Paris',
  name: 'alice',
  protocolVersion: 'VERSION_1_5_0',
};

const parse = (text: string): Instruction[] => new GuacamoleParser().feed(Buffer.from(text, 'utf8'));
const ins = (opcode: string, ...args: string[]): Instruction => ({ opcode, args });

function client(params: Record<string, string> = {}, client: ClientInfo = CLIENT): GuacdClientHandshake {
  return new GuacdClientHandshake({ protocol: 'vnc', params, client, now: T0, stepTimeoutMs: 1000 });
}

/** The instructions sent after `args` offering these names. */
function answer(hs: GuacdClientHandshake, args: string[]): Instruction[] {
  assert.deepEqual(parse(hs.start(T0).send), [ins('select', 'vnc')]);
  const step = hs.receive(ins('args', ...args), T0 + 1);
  assert.equal(step.failure, undefined);
  assert.equal(hs.phase, 'ready-wait');
  return parse(step.send);
}

describe('GuacdClientHandshake', () => {
  const PARAMS = { hostname: 'desk', port: '5901', password: 'pw', extra: 'x', 'read-only': '' };

  const cases: { offered: string | undefined; answered: string | undefined; tz: boolean; name: boolean }[] = [
    { offered: undefined, answered: undefined, tz: false, name: false },
    { offered: 'VERSION_1_0_0', answered: 'VERSION_1_0_0', tz: false, name: false },
    { offered: 'VERSION_1_1_0', answered: 'VERSION_1_1_0', tz: true, name: false },
    { offered: 'VERSION_1_3_0', answered: 'VERSION_1_3_0', tz: true, name: false },
    { offered: 'VERSION_1_5_0', answered: 'VERSION_1_5_0', tz: true, name: true },
    { offered: 'VERSION_1_6_0', answered: 'VERSION_1_5_0', tz: true, name: true },
    { offered: 'VERSION_1_2_7', answered: 'VERSION_1_1_0', tz: true, name: false },
    { offered: 'VERSION_2_0_0', answered: 'VERSION_1_5_0', tz: true, name: true },
  ];
  for (const c of cases) {
    it(`server ${c.offered ?? 'without a version (1.0.0)'} → ${c.answered ?? 'no version'}`, T, () => {
      const hs = client(PARAMS);
      const names = ['hostname', 'port', 'password', 'color-depth'];
      const sent = answer(hs, c.offered ? [c.offered, ...names] : names);
      const expected = [
        ins('size', '1280', '720', '120'),
        ins('audio', 'audio/L16'),
        ins('video'),
        ins('image', 'image/png', 'image/jpeg', 'image/webp'),
        ...(c.tz ? [ins('timezone', 'Europe/Paris')] : []),
        ...(c.name ? [ins('name', 'alice')] : []),
        ins('connect', ...(c.answered ? [c.answered] : []), 'desk', '5901', 'pw', ''),
      ];
      assert.deepEqual(sent, expected);
      const step = hs.receive(ins('ready', '$abc'), T0 + 2);
      assert.equal(step.send, '');
      assert.deepEqual(step.ready, {
        connectionId: '$abc',
        version: c.answered ?? 'VERSION_1_0_0',
        serverVersion: c.offered,
        argNames: names,
        unrequested: ['extra', 'read-only'],
      });
      assert.equal(hs.phase, 'ready');
      assert.equal(hs.deadline, Number.POSITIVE_INFINITY);
      assert.deepEqual(hs.receive(ins('nop'), T0 + 3), { send: '' });
    });
  }

  it('sends neither timezone nor name when the client has none; no parameters at all', T, () => {
    const { timezone: _t, name: _n, ...bare } = CLIENT;
    const hs = client({}, bare);
    assert.deepEqual(answer(hs, ['VERSION_1_5_0']).slice(4), [ins('connect', 'VERSION_1_5_0')]);
  });

  it('unicode values are sent as given', T, () => {
    const hs = client({ password: 'pä😀ss' });
    const sent = answer(hs, ['VERSION_1_5_0', 'password']);
    assert.deepEqual(sent.at(-1), ins('connect', 'VERSION_1_5_0', 'pä😀ss'));
  });

  it("guacd's error fails with its status, at either step", T, () => {
    const a = client();
    a.start(T0);
    const failed = a.receive(ins('error', 'No such protocol', String(STATUS.SERVER_BUSY)), T0);
    assert.deepEqual(failed.failure, {
      status: STATUS.SERVER_BUSY,
      message: 'guacd refused the connection: No such protocol',
    });
    assert.equal(a.phase, 'failed');
    const b = client();
    answer(b, ['VERSION_1_5_0', 'hostname']);
    assert.equal(b.receive(ins('error', 'bad host', '519'), T0).failure?.status, 0x0207);
    assert.equal(guacdErrorStatus('0'), STATUS.UPSTREAM_ERROR);
    assert.equal(guacdErrorStatus('0x0203'), STATUS.UPSTREAM_ERROR);
    assert.equal(guacdErrorStatus(undefined), STATUS.UPSTREAM_ERROR);
    assert.equal(guacdErrorStatus('999999'), STATUS.UPSTREAM_ERROR);
    assert.equal(guacdErrorStatus('768'), STATUS.CLIENT_BAD_REQUEST);
  });

  it('for an engine process: its name in messages, its errors as is, unrequested values refused', T, () => {
    const engine = (params: Record<string, string>): GuacdClientHandshake =>
      new GuacdClientHandshake({
        protocol: 'vnc',
        params,
        client: CLIENT,
        now: T0,
        stepTimeoutMs: 1000,
        peer: 'RDP engine',
        rejectUnrequested: true,
        plainErrors: true,
      });
    const a = engine({ hostname: 'h', console: 'true', dpi: '', 'read-only': 'true' });
    a.start(T0);
    assert.deepEqual(a.receive(ins('args', 'VERSION_1_5_0', 'hostname', 'dpi'), T0).failure, {
      status: STATUS.CLIENT_BAD_REQUEST,
      message: 'RDP engine does not support the parameter(s) "console", "read-only"',
    });
    const b = engine({ hostname: 'h', dpi: '' });
    assert.deepEqual(answer(b, ['VERSION_1_5_0', 'hostname']).at(-1), ins('connect', 'VERSION_1_5_0', 'h'));
    assert.deepEqual(b.receive(ins('error', 'Authentication failure', '769'), T0).failure, {
      status: STATUS.CLIENT_UNAUTHORIZED,
      message: 'Authentication failure',
    });
    const c = engine({});
    c.start(T0);
    assert.match(c.timeout(T0 + 1000).failure?.message ?? '', /^RDP engine did not answer within 1000 ms/);
  });

  it('anything unexpected fails with UPSTREAM_ERROR', T, () => {
    const started = (hs: GuacdClientHandshake): GuacdClientHandshake => {
      hs.start(T0);
      return hs;
    };
    const answered = (hs: GuacdClientHandshake, args: string[]): GuacdClientHandshake => {
      answer(hs, args);
      return hs;
    };
    const unexpected: [string, (hs: GuacdClientHandshake) => ClientHandshakeStep][] = [
      ['ready before args', (hs) => started(hs).receive(ins('ready', '$x'), T0)],
      ['nop before args', (hs) => started(hs).receive(ins('nop'), T0)],
      ['args twice', (hs) => answered(hs, ['a']).receive(ins('args', 'a'), T0)],
      ['ready without id', (hs) => answered(hs, ['a']).receive(ins('ready'), T0)],
      ['data before select', (hs) => hs.receive(ins('args'), T0)],
      ['malformed', (hs) => started(hs).malformed(new Error('bad bytes'))],
      ['closed', (hs) => answered(hs, []).closed('ECONNRESET')],
    ];

    for (const [what, run] of unexpected) {
      const step = run(client());
      assert.equal(step.failure?.status, STATUS.UPSTREAM_ERROR, what);
      assert.equal(step.send, '', what);
    }
  });

  it('each step times out with UPSTREAM_TIMEOUT', T, () => {
    const a = client();
    a.start(T0);
    assert.deepEqual(a.timeout(T0 + 999), { send: '' });
    assert.equal(a.timeout(T0 + 1000).failure?.status, STATUS.UPSTREAM_TIMEOUT);
    const b = client();
    answer(b, []);
    assert.equal(b.deadline, T0 + 1 + 1000);
    assert.deepEqual(b.timeout(T0 + 1000), { send: '' });
    assert.match(b.timeout(T0 + 1001).failure?.message ?? '', /waiting for "ready"/);
  });
});

describe('GuacdInbound', () => {
  const HANDSHAKE =
    encodeInstruction('args', 'VERSION_1_5_0', 'hostname') + encodeInstruction('ready', '$id');
  const SESSION = [
    encodeInstruction('size', 0, 640, 480),
    encodeInstruction('name', 'héllo wörld'),
    encodeInstruction('clipboard', 1, 'text/plain'),
    encodeInstruction('blob', 1, '€ 日本語 😀 𝄞'),
    encodeInstruction('nop'),
    encodeInstruction('sync', 1234, 1),
  ].join('');

  it('decodes the handshake, then relays whole instructions at every split of the bytes', T, () => {
    const bytes = Buffer.from(HANDSHAKE + SESSION, 'utf8');
    for (const impl of ['ts', 'auto'] as const) {
      for (let k = 0; k <= bytes.length; k++) {
        const inbound = new GuacdInbound(
          impl === 'ts' ? new GuacamoleFramer() : createFramer({ impl: 'auto' }),
        );
        const a = inbound.push(bytes.subarray(0, k));
        const b = inbound.push(bytes.subarray(k));
        assert.deepEqual(
          [...a.handshake, ...b.handshake].map((i) => i.opcode),
          ['args', 'ready'],
          `split at ${k}`,
        );
        assert.equal(a.relay + b.relay, SESSION, `split at ${k}`);
        assert.equal(inbound.bufferedBytes, 0);
        assert.equal(a.end ?? b.end, undefined);
      }
    }
  });

  it('one byte at a time', T, () => {
    const bytes = Buffer.from(HANDSHAKE + SESSION, 'utf8');
    const inbound = new GuacdInbound(new GuacamoleFramer());
    let relay = '';
    const opcodes: string[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const r = inbound.push(bytes.subarray(i, i + 1));
      relay += r.relay;
      opcodes.push(...r.handshake.map((x) => x.opcode));
      // Only whole instructions come out.
      if (r.relay !== '') assert.ok(r.relay.endsWith(';'));
      assert.ok(inbound.bufferedBytes <= i + 1);
    }
    assert.deepEqual(opcodes, ['args', 'ready']);
    assert.equal(relay, SESSION);
  });

  it(
    "stops at guacd's error or disconnect, relaying what came before; marks inside values are data",
    T,
    () => {
      const tricky = encodeInstruction('name', 'x.error,y') + encodeInstruction('blob', 1, 'a.disconnect;b');
      for (const [last, end] of [
        [
          encodeInstruction('error', 'Aborted', STATUS.UPSTREAM_UNAVAILABLE),
          { status: 0x0208, message: 'Aborted' },
        ],
        [encodeInstruction('disconnect'), { status: STATUS.SUCCESS, message: 'guacd ended the connection' }],
      ] as const) {
        const inbound = new GuacdInbound(new GuacamoleFramer());
        const r = inbound.push(Buffer.from(HANDSHAKE + tricky + last + encodeInstruction('sync', 1), 'utf8'));
        assert.equal(r.relay, tricky);
        assert.deepEqual(r.end, end);
        assert.deepEqual(inbound.push(Buffer.from(encodeInstruction('nop'))), { handshake: [], relay: '' });
      }
      const plain = new GuacdInbound(new GuacamoleFramer());
      assert.equal(plain.push(Buffer.from(HANDSHAKE + tricky)).relay, tricky);
    },
  );

  it('an error during the handshake stops decoding there', T, () => {
    const inbound = new GuacdInbound(new GuacamoleFramer());
    const r = inbound.push(
      Buffer.from(encodeInstruction('error', 'no', 768) + encodeInstruction('ready', '$x')),
    );
    assert.deepEqual(
      r.handshake.map((i) => i.opcode),
      ['error'],
    );
    assert.equal(r.relay, '');
  });

  it('malformed bytes throw; an oversized instruction is refused, not buffered', T, () => {
    const inbound = new GuacdInbound(new GuacamoleFramer());
    assert.throws(() => inbound.push(Buffer.from('4.args,x;')), /GuacamoleProtocolError|not followed/);
    const big = new GuacdInbound(new GuacamoleFramer());
    big.push(Buffer.from(HANDSHAKE));
    const huge = Buffer.from(encodeInstruction('blob', '日'.repeat(8000), '日'.repeat(8000)), 'utf8');
    let thrown: unknown;
    try {
      for (let i = 0; i < huge.length; i += 1000) big.push(huge.subarray(i, i + 1000));
    } catch (err) {
      thrown = err;
    }
    assert.match(String(thrown), /exceeds/);
    assert.ok(big.bufferedBytes <= 32_768);
  });
});

describe('parseGuacdAddress', () => {
  it('accepts host names, IPv4, bracketed IPv6, a default port', T, () => {
    assert.deepEqual(parseGuacdAddress('guacd://127.0.0.1:4822'), { host: '127.0.0.1', port: 4822 });
    assert.deepEqual(parseGuacdAddress('guacd://[::1]:4823'), { host: '::1', port: 4823 });
    assert.deepEqual(parseGuacdAddress('GUACD://guacd.internal.example'), {
      host: 'guacd.internal.example',
      port: 4822,
    });
    assert.deepEqual(parseGuacdAddress('guacd://guacd-1:1/'), { host: 'guacd-1', port: 1 });
  });

  it('refuses anything else with UPSTREAM_NOT_FOUND and a generic message', T, () => {
    for (const bad of [
      '',
      '127.0.0.1:4822',
      'tcp://127.0.0.1:4822',
      'guacd://',
      'guacd://:4822',
      'guacd://::1:4822',
      'guacd://[::1',
      'guacd://[nothost]:4822',
      'guacd://host:0',
      'guacd://host:65536',
      'guacd://host:123456',
      'guacd://host:-1',
      'guacd://user@host:4822',
      'guacd://host:4822/path',
      'guacd://host:4822?x=1',
      'guacd://ho st:4822',
      'guacd://-host:4822',
      `guacd://${'a'.repeat(64)}:4822`,
    ]) {
      assert.throws(
        () => parseGuacdAddress(bad),
        (err: unknown) =>
          err instanceof BackendError &&
          err.status === STATUS.UPSTREAM_NOT_FOUND &&
          !err.message.includes('guacd://') &&
          typeof err.detail === 'string',
        bad,
      );
    }
  });
});

describe('startBackend refusals', () => {
  const sink: GuacSink = { write() {}, bufferedBytes: 0, highWaterMark: 1 << 20, onDrain() {} };
  const log = { debug() {}, info() {}, warn() {}, error() {} };
  let started = 0;
  const engine: ProtocolEngine = {
    protocol: 'fake',
    argNames: ['hostname', 'port'],
    validateParams: (p) => (/^\d*$/.test(p.port ?? '') ? [] : [{ name: 'port', message: 'not a number' }]),
    start(o): EngineSession {
      started++;
      assert.deepEqual(o.params, { hostname: 'h', port: '' });
      return { handleInstruction() {}, close() {}, ended: new Promise(() => {}) };
    },
  };
  const opts = { client: CLIENT, sink, log };
  const refused = (status: number, message: string, detail: RegExp) => (err: unknown) =>
    err instanceof BackendError &&
    err.status === status &&
    err.message === message &&
    detail.test(err.detail ?? '');

  it('unknown protocol → 0x0207', T, () => {
    assert.throws(
      () => startBackend({ protocol: 'rdp', params: {} }, opts, [engine]),
      refused(STATUS.UPSTREAM_NOT_FOUND, UNKNOWN_PROTOCOL, /"rdp".*built in: fake/),
    );
    assert.throws(
      () => startBackend({ protocol: '', params: {} }, opts, [engine]),
      refused(STATUS.UPSTREAM_NOT_FOUND, UNKNOWN_PROTOCOL, /no protocol/),
    );
  });

  it('unknown or invalid parameters → 0x0300 naming them in the detail only', T, () => {
    assert.throws(
      () => startBackend({ protocol: 'fake', params: { hostname: 'h', colour: 'red' } }, opts, [engine]),
      refused(STATUS.CLIENT_BAD_REQUEST, INVALID_PARAMETERS, /"colour": unknown parameter/),
    );
    assert.throws(
      () => startBackend({ protocol: 'fake', params: { port: 'x' } }, opts, [engine]),
      refused(STATUS.CLIENT_BAD_REQUEST, INVALID_PARAMETERS, /"port": not a number/),
    );
    assert.throws(
      () => startBackend({ protocol: 'fake', params: { port: 5 as unknown as string } }, opts, [engine]),
      refused(STATUS.CLIENT_BAD_REQUEST, INVALID_PARAMETERS, /"port": not a string/),
    );
    assert.equal(started, 0);
  });

  it('a valid target starts the engine with every declared parameter', T, () => {
    startBackend({ protocol: 'fake', params: { hostname: 'h' } }, opts, [engine]);
    assert.equal(started, 1);
  });

  it('a bad guacd address → 0x0207 before any connection', T, () => {
    assert.throws(
      () => startBackend({ protocol: 'vnc', params: {}, guacd: 'guacd://nope:99999' }, opts, [engine]),
      refused(STATUS.UPSTREAM_NOT_FOUND, 'The remote desktop server is not configured correctly', /port/),
    );
  });
});
