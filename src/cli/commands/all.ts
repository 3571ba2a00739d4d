// `gatehouse all`: the single-server install. Until the webapp and proxy exist it validates the configuration, reports the
// codec implementation and the plan (webapp, proxy with N connection managers, engine), and exits 0.
import { resolveClusterSize } from '../../config/sections/proxy.js';
import { detectCodec } from '../codec.js';
import { EXIT } from '../io.js';
import { loadConfigForCli } from '../load-config.js';
import { packageVersion } from '../version.js';
import type { Command } from './types.js';

export const allCommand: Command = {
  name: 'all',
  summary: 'run the single-server install: webapp, proxy and engine',
  description:
    'Runs every role in one install (what `npm start` runs). In this version the webapp and proxy roles are\n' +
    'not implemented yet: it validates the configuration, reports the codec implementation and the plan, and\n' +
    "exits 0. The engine role already runs on its own: 'gatehouse engine'.",
  options: [],
  available: true,
  async run({ values, io }) {
    const loaded = await loadConfigForCli(values, io);
    if (loaded === undefined) return EXIT.USAGE;
    const { createLogger } = await import('../../log/logger.js');
    const { config } = loaded;
    const version = packageVersion();
    const log = createLogger(config);
    log.info({ version, configFile: loaded.file ?? null }, `gatehouse ${version}: single-server install`);

    let codec: Awaited<ReturnType<typeof detectCodec>>;
    try {
      codec = await detectCodec(config.codec.impl);
    } catch (err) {
      log.fatal(
        { err, requested: config.codec.impl },
        `codec: cannot use codec.impl=${config.codec.impl}: ${err instanceof Error ? err.message : String(err)}`,
      );
      return EXIT.FAILURE;
    }
    log[codec.selector === 'failed' ? 'warn' : 'info'](
      { codec: { impl: codec.impl, requested: config.codec.impl, reason: codec.reason } },
      `codec: ${codec.impl} (${codec.reason})`,
    );

    const managers = resolveClusterSize(config.proxy.clusterSize);
    const plan = {
      roles: ['webapp', 'proxy', 'engine'],
      connectionManagers: managers,
      implemented: ['engine'],
    };
    log.info(
      { plan },
      `plan: webapp (broker), proxy with ${managers} connection manager${managers === 1 ? '' : 's'}, engine`,
    );
    log.warn(
      `webapp and proxy are not implemented yet in gatehouse ${version}; nothing to run, exiting ` +
        "(the engine role runs on its own: 'gatehouse engine')",
    );
    return EXIT.OK;
  },
};
