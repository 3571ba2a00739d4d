// The guacd handshake exactly as guacamole-client's Java ConfiguredGuacamoleSocket performs it, at every
// protocol version it may speak (1.0.0 .. 1.5.0), against `gatehouse engine` and a real x11vnc: each ends in a
// live VNC session (`ready`, the layer `size`, a drawn frame and `sync`), and the client's `sync` reply paces it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { VNC_ARG_NAMES } from '../../src/engine/vnc/params.js';
import { CLIENT_VERSIONS, GuacTestClient, javaHandshake } from '../helpers/guacd-client.js';
import { skipUnlessInstalled } from './helpers/binaries.js';
import { type EngineProcess, startGatehouseEngine } from './helpers/gatehouse-engine.js';
import { leftoverProcesses } from './helpers/processes.js';
import { startX11vnc, type VncServer } from './helpers/vnc-servers.js';
import { startXvfb, type XDisplay } from './helpers/x-display.js';

const why = skipUnlessInstalled(['Xvfb', 'x11vnc', 'xsetroot']);

describe('guacd handshake as guacamole-client (Java) does it, against the VNC engine', {
  ...(why === undefined ? {} : { skip: why }),
  timeout: 90_000,
}, () => {
  let x: XDisplay;
  let vnc: VncServer;
  let engine: EngineProcess;

  before(async () => {
    x = await startXvfb({ width: 320, height: 200 });
    await x.setRootColor('#00ff00');
    vnc = await startX11vnc(x);
    engine = await startGatehouseEngine();
  });

  after(async () => {
    await engine?.stop();
    await vnc?.stop();
    await x?.stop();
    assert.deepEqual(leftoverProcesses(), []);
  });

  for (const version of CLIENT_VERSIONS) {
    it(`${version}: args, connect, ready, then a frame`, { timeout: 20_000 }, async () => {
      const client = await GuacTestClient.open(engine.port);
      try {
        const result = await javaHandshake(client, {
          protocol: 'vnc',
          clientVersion: version,
          params: { hostname: vnc.host, port: String(vnc.port) },
          width: 320,
          height: 200,
          timezone: 'Europe/Paris',
          name: 'java-client',
        });
        assert.equal(result.serverVersion, 'VERSION_1_5_0');
        assert.deepEqual(
          result.argNames,
          version === 'VERSION_1_0_0' ? ['VERSION_1_5_0', ...VNC_ARG_NAMES] : [...VNC_ARG_NAMES],
        );
        assert.match(result.connectionId, /^\$[0-9a-f-]{36}$/);
        const seen: string[] = [];
        for (;;) {
          const i = await client.nextNonNop(10_000);
          seen.push(i.opcode);
          if (i.opcode === 'size' && i.args[0] === '0') assert.deepEqual(i.args, ['0', '320', '200']);
          if (i.opcode === 'sync') {
            client.send('sync', i.args[0] ?? '0');
            break;
          }
        }
        assert.ok(seen.includes('size'), `size before the first sync: ${seen.join(' ')}`);
        assert.ok(seen.includes('cfill') || seen.includes('img'), `something drawn: ${seen.join(' ')}`);
        client.send('disconnect');
        await client.waitClosed(5000);
      } finally {
        client.socket.destroy();
      }
    });
  }
});
