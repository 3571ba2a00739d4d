// The proxy's backends against real software: Xvfb + x11vnc, reached (1) through the guacd backend talking
// to Gatehouse's own guacd-compatible listener (started here, serving the real VNC engine) and (2) through
// the built-in VNC engine chosen by startBackend. Either way the sink receives the layer's `size`, drawing,
// then `sync`, and the session ends cleanly.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type GuacdServer, startGuacdServer } from '../../src/engine/guacd/server.js';
import { builtinEngines } from '../../src/engine/registry.js';
import type { EngineSession } from '../../src/engine/types.js';
import { STATUS } from '../../src/protocol/guacamole/status.js';
import { type GuacdSession, startBackend } from '../../src/proxy/backends/index.js';
import type { Target } from '../../src/proxy/types.js';
import { skipUnlessInstalled } from '../e2e/helpers/binaries.js';
import { leftoverProcesses } from '../e2e/helpers/processes.js';
import { startX11vnc, type VncServer } from '../e2e/helpers/vnc-servers.js';
import { startXvfb, type XDisplay } from '../e2e/helpers/x-display.js';
import { CLIENT, TestSink, testLog, within } from './backends-helpers.js';

const why = skipUnlessInstalled(['Xvfb', 'x11vnc', 'xsetroot']);
const W = 320;
const H = 200;
const T = { timeout: 20_000 };

/** Waits for the first frame: returns the opcodes up to and including the first `sync`. */
async function firstFrame(sink: TestSink): Promise<string[]> {
  await sink.until(() => sink.text.includes('4.sync,'), 10_000, 'the first sync');
  const opcodes = sink.instructions().map((i) => i.opcode);
  return opcodes.slice(0, opcodes.indexOf('sync') + 1);
}

function assertFrame(sink: TestSink, opcodes: string[]): void {
  const size = sink.instructions().find((i) => i.opcode === 'size' && i.args[0] === '0');
  assert.deepEqual(size?.args, ['0', String(W), String(H)], `layer size first: ${opcodes.join(' ')}`);
  const sizeAt = opcodes.indexOf('size');
  const drawAt = opcodes.findIndex((o) => o === 'img' || o === 'cfill');
  assert.ok(sizeAt >= 0 && drawAt > sizeAt, `size, then drawing: ${opcodes.join(' ')}`);
  assert.equal(opcodes.at(-1), 'sync');
}

describe('proxy backends against x11vnc', {
  ...(why === undefined ? {} : { skip: why }),
  timeout: 90_000,
}, () => {
  let x: XDisplay;
  let vnc: VncServer;
  let listener: GuacdServer;
  const sessions: EngineSession[] = [];
  const listenerLog = testLog();

  before(async () => {
    x = await startXvfb({ width: W, height: H });
    await x.setRootColor('#3366cc');
    vnc = await startX11vnc(x);
    listener = await startGuacdServer({
      host: '127.0.0.1',
      port: 0,
      engines: builtinEngines(),
      log: listenerLog,
    });
  });

  after(async () => {
    for (const s of sessions) s.close();
    await listener?.close();
    await vnc?.stop();
    await x?.stop();
    assert.deepEqual(leftoverProcesses(), []);
  });

  const vncTarget = (extra: Partial<Target> = {}): Target => ({
    protocol: 'vnc',
    params: { hostname: vnc.host, port: String(vnc.port) },
    ...extra,
  });

  it('guacd backend → our guacd listener → VNC engine → x11vnc: size, drawing, sync', T, async () => {
    const sink = new TestSink();
    const log = testLog();
    const target = vncTarget({ guacd: `guacd://127.0.0.1:${listener.address.port}` });
    const session = startBackend(target, { client: { ...CLIENT, width: W, height: H }, sink, log }, []);
    sessions.push(session);
    const opcodes = await firstFrame(sink);
    assertFrame(sink, opcodes);
    const guacd = session as GuacdSession;
    assert.match(guacd.connectionId ?? '', /^\$[0-9a-f-]{36}$/);
    assert.ok(log.lines.some((l) => /ready \(vnc, VERSION_1_5_0\)/.test(l.msg)));
    // The client's sync reply goes through; a pointer move reaches the VNC server without ending anything.
    const sync = sink.instructions().find((i) => i.opcode === 'sync')!;
    session.handleInstruction({ opcode: 'sync', args: [sync.args[0]!] });
    session.handleInstruction({ opcode: 'mouse', args: ['10', '10', '0'] });
    assert.equal(listener.connections, 1);
    session.close();
    assert.equal((await session.ended).status, STATUS.SUCCESS);
    await within(
      (async () => {
        while (listener.connections > 0) await new Promise((r) => setTimeout(r, 10));
      })(),
      5000,
      'the listener connection closing',
    );
    assert.ok(listenerLog.lines.some((l) => /guacd session ended: The client disconnected/.test(l.msg)));
  });

  it('the listener refusing a parameter ends the session with its status and message', T, async () => {
    const sink = new TestSink();
    const target = vncTarget({ guacd: `guacd://127.0.0.1:${listener.address.port}` });
    target.params.port = 'not-a-port';
    const session = startBackend(target, { client: CLIENT, sink, log: testLog() }, []);
    const end = await within(session.ended, 5000);
    assert.equal(end.status, STATUS.CLIENT_BAD_REQUEST);
    assert.match(end.message, /guacd refused the connection: Invalid parameter "port"/);
    assert.equal(sink.text, '');
  });

  it('built-in VNC engine chosen by startBackend: size, drawing, sync', T, async () => {
    const sink = new TestSink();
    const session = startBackend(
      vncTarget(),
      { client: { ...CLIENT, width: W, height: H }, sink, log: testLog() },
      builtinEngines(),
    );
    sessions.push(session);
    assertFrame(sink, await firstFrame(sink));
    session.close({ status: STATUS.SUCCESS, message: 'test over' });
    assert.equal((await within(session.ended, 5000)).status, STATUS.SUCCESS);
  });
});
