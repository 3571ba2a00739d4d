// The webapp role as a process runs it: start, first-start bootstrap (initial admin), wait for a signal,
// close. `gatehouse all` uses startWebappRole and wires the local proxy to it.
import type { Logger } from 'pino';
import type { Io } from '../cli/io.js';
import type { GatehouseConfig } from '../config/schema.js';
import { createLogger } from '../log/logger.js';
import { ensureDefaultZone, ensureInitialAdmin } from './bootstrap.js';
import { type RunningWebapp, startWebapp } from './run.js';

/** Starts the webapp and makes the initial admin and default zone; prints a made password once. */
export async function startWebappRole(
  config: GatehouseConfig,
  version: string,
  io: Io,
  log: Logger,
): Promise<RunningWebapp> {
  const app = await startWebapp(config, log, version, io.cwd);
  const password = await ensureInitialAdmin(app.store, log, io.env);
  await ensureDefaultZone(app.store);
  if (password) {
    io.out(
      `\n  Gatehouse: initial administrator created\n    user:     admin\n    password: ${password}\n  (shown once; change it in the web UI)\n\n`,
    );
  }
  log.info(
    { url: app.url, database: app.store.dialect, dataDir: app.dataDir },
    `webapp listening on ${app.url} (${app.store.dialect})`,
  );
  return app;
}

export async function runWebappRole(
  config: GatehouseConfig,
  version: string,
  nextSignal: () => Promise<NodeJS.Signals>,
  io: Io,
): Promise<number> {
  const log = createLogger(config, { role: 'webapp' });
  let app: RunningWebapp;
  try {
    app = await startWebappRole(config, version, io, log);
  } catch (err) {
    log.fatal({ err }, `webapp: cannot start: ${(err as Error).message}`);
    return 1;
  }
  const signal = await nextSignal();
  log.info({ signal }, 'webapp: stopping');
  await app.close();
  log.info('webapp: stopped');
  return 0;
}
