/**
 * guacamole-lite 1.2.0 (npm) in its own process, so that its CPU time and memory are measured alone: the
 * tunnel benchmark's contender (b). It listens on a free loopback port in front of the given guacd
 * (`gatehouse engine`), reports the port over IPC, and exits when the IPC channel closes or on SIGTERM.
 *
 *   node dist/bench/tunnel/lite-server.js GUACD_PORT KEY_HEX      (started by bench/tunnel/processes.ts)
 */
import { startGuacamoleLite } from '../../test/e2e/helpers/guacamole-lite-server.js';

const [guacdPort, keyHex] = process.argv.slice(2);
const port = Number(guacdPort);
if (!Number.isInteger(port) || port <= 0 || !/^[0-9a-f]{64}$/.test(keyHex ?? '')) {
  process.stderr.write('usage: lite-server.js GUACD_PORT KEY_HEX (32-byte key in hex)\n');
  process.exit(2);
}

const lite = await startGuacamoleLite({
  guacdPort: port,
  key: Buffer.from(keyHex as string, 'hex'),
  // As the proxy's silent-client timeout; the clients ping every 500 ms anyway.
  maxInactivityTimeMs: 15_000,
});
process.send?.({ port: lite.port });

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  void lite.stop().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('disconnect', stop);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
