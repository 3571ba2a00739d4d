/**
 * Runs the proxy role until a signal: starts the supervisor, logs where it listens, registers with the webapp
 * when proxyAuth.webapp.advertiseUrl is set, and on the signal stops registering and drains.
 * Fault injection for tests: with GATEHOUSE_FAULT_INJECTION=1, SIGUSR2 crashes connection manager 0.
 */
import type { GatehouseConfig } from '../config/schema.js';
import { createLogger } from '../log/logger.js';
import { loadUws } from './uws.js';

export async function runProxy(
  config: GatehouseConfig,
  version: string,
  nextSignal: () => Promise<NodeJS.Signals>,
): Promise<number> {
  const log = createLogger(config, { role: 'proxy' });
  try {
    await loadUws();
  } catch (err) {
    log.fatal((err as Error).message);
    return 1;
  }
  const { AuthConfigError, checkProxyAuthConfig } = await import('./auth/index.js');
  try {
    checkProxyAuthConfig(config);
  } catch (err) {
    if (!(err instanceof AuthConfigError)) throw err;
    log.fatal(`proxy: ${err.message} (see docs/proxy-auth.md)`);
    return 2;
  }
  const { loadBuiltinEngines, logEngineAvailability } = await import('../engine/registry.js');
  logEngineAvailability(log, loadBuiltinEngines(config).availability);
  const { Supervisor } = await import('./runtime/supervisor.js');
  const faultInjection = process.env.GATEHOUSE_FAULT_INJECTION === '1';
  const supervisor = new Supervisor({ config, version, log, faultInjection });
  try {
    await supervisor.start();
  } catch (err) {
    log.fatal({ err, listen: config.proxy.listen }, `proxy: cannot start: ${(err as Error).message}`);
    await supervisor.stop();
    return 1;
  }
  if (faultInjection) {
    process.on('SIGUSR2', () => {
      log.warn('proxy: SIGUSR2 with fault injection on: crashing connection manager 0');
      supervisor.crash(0);
    });
  }
  log.info(
    { version, listen: config.proxy.listen, port: supervisor.port, managers: supervisor.managers },
    `gatehouse ${version}: proxy listening on port ${supervisor.port} with ${supervisor.managers} connection manager${supervisor.managers === 1 ? '' : 's'}`,
  );
  // Registration with the webapp (proxyAuth.webapp.advertiseUrl), once the front end accepts connections.
  const { registerWithWebapp } = await import('./auth/registration.js');
  let registration: ReturnType<typeof registerWithWebapp>;
  try {
    registration = registerWithWebapp(config, log, { version });
  } catch (err) {
    if (!(err instanceof AuthConfigError)) throw err;
    log.fatal(`proxy: ${err.message} (see docs/proxy-auth.md)`);
    await supervisor.stop();
    return 2;
  }
  const signal = await nextSignal();
  registration.stop();
  log.info(
    { signal, sessions: supervisor.liveSessions(), graceMs: config.proxy.drainGraceMs },
    `proxy: ${signal} received, draining`,
  );
  await supervisor.drain(config.proxy.drainGraceMs);
  log.info('proxy: stopped');
  return 0;
}
