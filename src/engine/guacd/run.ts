/**
 * Runs the engine role (the guacd-compatible listener) until a signal: what `gatehouse engine` and
 * `gatehouse all` do. Returns the process exit code.
 */
import type { GatehouseConfig } from '../../config/schema.js';
import { parseListen } from '../../config/sections/engine.js';
import { createLogger } from '../../log/logger.js';
import { loadBuiltinEngines, logEngineAvailability } from '../registry.js';
import { startGuacdServer } from './server.js';

export async function runEngineListener(
  config: GatehouseConfig,
  version: string,
  nextSignal: () => Promise<NodeJS.Signals>,
): Promise<number> {
  const log = createLogger(config, { role: 'engine' });
  const { host, port } = parseListen(config.engine.listen);
  const { engines, availability } = loadBuiltinEngines(config);
  logEngineAvailability(log, availability);
  const protocols = engines.map((e) => e.protocol);
  let server: Awaited<ReturnType<typeof startGuacdServer>>;
  try {
    server = await startGuacdServer({
      host,
      port,
      engines,
      log,
      timeouts: { handshakeMs: config.engine.handshakeTimeoutMs },
    });
  } catch (err) {
    log.fatal(
      { err, listen: config.engine.listen },
      `engine: cannot listen on ${config.engine.listen}: ${err instanceof Error ? err.message : String(err)}`,
    );
    return 1;
  }
  const { address } = server;
  const shown =
    address.family === 'IPv6' ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
  log.info(
    { version, listen: { host: address.host, port: address.port }, protocols },
    `gatehouse ${version}: guacd-compatible listener on ${shown} (protocols: ${protocols.join(', ')})`,
  );
  const signal = await nextSignal();
  log.info({ signal, sessions: server.connections }, `engine: ${signal} received, closing the listener`);
  await server.close();
  log.info('engine: stopped');
  return 0;
}
