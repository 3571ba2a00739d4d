// `gatehouse engine`: the guacd-compatible listener serving the built-in protocol engines, so that stock
// Guacamole software (guacamole-client, guacamole-lite) can use Gatehouse as its guacd. Runs until SIGTERM or
// SIGINT, which stop the listener and end every session with SESSION_CLOSED.
import { parseListen } from '../../config/sections/engine.js';
import { EXIT } from '../io.js';
import { loadConfigForCli } from '../load-config.js';
import { commandConfigOptions } from '../options.js';
import { nextSignal } from '../signals.js';
import { packageVersion } from '../version.js';
import type { Command } from './types.js';

export const engineCommand: Command = {
  name: 'engine',
  summary: 'run the engine role: a guacd-compatible listener (default 127.0.0.1:4822)',
  description:
    "Serves the built-in protocol engines over guacd's wire protocol on engine.listen (--listen HOST:PORT),\n" +
    'so guacamole-client or guacamole-lite can use Gatehouse as their guacd. Runs until SIGTERM or SIGINT,\n' +
    'which close the listener and end every session with SESSION_CLOSED. See docs/engine.md.',
  options: commandConfigOptions('engine'),
  available: true,
  async run({ values, io }) {
    const loaded = await loadConfigForCli(values, io, 'engine');
    if (loaded === undefined) return EXIT.USAGE;
    const { config } = loaded;
    const { createLogger } = await import('../../log/logger.js');
    const { builtinEngines } = await import('../../engine/registry.js');
    const { startGuacdServer } = await import('../../engine/guacd/server.js');
    const version = packageVersion();
    const log = createLogger(config, { role: 'engine' });

    const { host, port } = parseListen(config.engine.listen);
    const engines = builtinEngines();
    const protocols = engines.map((e) => e.protocol);
    if (engines.length === 0) {
      log.warn('engine: no protocol engines are built into this version; every "select" will be refused');
    }

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
      return EXIT.FAILURE;
    }
    const { address } = server;
    const shown =
      address.family === 'IPv6' ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
    log.info(
      { version, listen: { host: address.host, port: address.port }, protocols },
      `gatehouse ${version}: guacd-compatible listener on ${shown} (protocols: ${protocols.join(', ') || 'none'})`,
    );

    const signal = await nextSignal();
    log.info({ signal, sessions: server.connections }, `engine: ${signal} received, closing the listener`);
    await server.close();
    log.info('engine: stopped');
    return EXIT.OK;
  },
};
