// `gatehouse all`: the single-server install (what `npm start` runs): the webapp (broker, API, web UI, tunnel
// relay), the proxy role (front end, connection managers, built-in engines) registered with it as the local
// proxy of the default zone, and the engine role (guacd-compatible listener), in one process until SIGTERM or
// SIGINT. The proxy redeems tokens with the local webapp (proxyAuth.mode webapp); its secret is kept in
// <webapp.dataDir>/local-proxy.secret.
import { createServer } from 'node:net';
import { resolveClusterSize } from '../../config/sections/proxy.js';
import { detectCodec } from '../codec.js';
import { EXIT } from '../io.js';
import { loadConfigForCli } from '../load-config.js';
import { commandConfigOptions } from '../options.js';
import { nextSignal } from '../signals.js';
import { packageVersion } from '../version.js';
import type { Command } from './types.js';

/** HOST:0 becomes a free port now: the webapp must know the proxy's address before the proxy starts. */
async function concretePort(listen: string): Promise<{ host: string; port: number }> {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(listen.slice(i + 1));
  if (port !== 0) return { host, port };
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port: free } = srv.address() as { port: number };
      srv.close(() => resolve({ host, port: free }));
    });
  });
}

export const allCommand: Command = {
  name: 'all',
  summary:
    'run the single-server install: webapp, proxy (with the engines) and the guacd-compatible listener',
  description:
    'Runs every role in one process (what `npm start` runs): the webapp on webapp.listen (--listen; web UI, API,\n' +
    'tunnel relay; HTTPS with a self-signed certificate by default), the proxy on proxy.listen (registered with\n' +
    'the webapp as "local" in the zone "default"; tokens redeemed with the webapp) and the guacd-compatible\n' +
    'listener on engine.listen, until SIGTERM or SIGINT (which drain the proxy). On the first start the\n' +
    'administrator "admin" is created and its password printed once (or GATEHOUSE_ADMIN_PASSWORD).',
  options: commandConfigOptions('all'),
  available: true,
  async run({ values, io }) {
    const loaded = await loadConfigForCli(values, io, 'all');
    if (loaded === undefined) return EXIT.USAGE;
    const { createLogger } = await import('../../log/logger.js');
    let { config } = loaded;
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

    const { startWebappRole } = await import('../../webapp/role.js');
    const { ensureLocalProxy } = await import('../../webapp/bootstrap.js');
    let webapp: Awaited<ReturnType<typeof startWebappRole>>;
    try {
      webapp = await startWebappRole(config, version, io, log.child({ role: 'webapp' }));
    } catch (err) {
      log.fatal({ err }, `webapp: cannot start: ${(err as Error).message}`);
      return EXIT.FAILURE;
    }
    const proxyAt = await concretePort(config.proxy.listen);
    const reachHost = proxyAt.host === '0.0.0.0' || proxyAt.host === '::' ? '127.0.0.1' : proxyAt.host;
    const advertiseUrl = `http://${reachHost.includes(':') ? `[${reachHost}]` : reachHost}:${proxyAt.port}`;
    const local = await ensureLocalProxy(webapp.store, webapp.dataDir, advertiseUrl);
    config = {
      ...config,
      proxy: {
        ...config.proxy,
        listen: `${proxyAt.host.includes(':') ? `[${proxyAt.host}]` : proxyAt.host}:${proxyAt.port}`,
      },
      proxyAuth: {
        ...config.proxyAuth,
        mode: 'webapp',
        webapp: {
          ...config.proxyAuth.webapp,
          url: `${webapp.url}/api/proxy/redeem`,
          proxyId: local.name,
          proxyToken: local.secret,
          caFile: webapp.tlsCertFile ?? '',
          allowInsecureHttp: webapp.tlsCertFile === null,
          advertiseUrl,
          zone: local.zone,
        },
      },
    };

    const managers = resolveClusterSize(config.proxy.clusterSize);
    log.info(
      { plan: { roles: ['webapp', 'proxy', 'engine'], connectionManagers: managers } },
      `plan: webapp, proxy with ${managers} connection manager${managers === 1 ? '' : 's'}, engine listener`,
    );
    // One stop for both roles: a signal, or either role failing to start (then the other stops too).
    let stop!: (s: NodeJS.Signals) => void;
    const signal = new Promise<NodeJS.Signals>((r) => {
      stop = r;
    });
    void nextSignal().then(stop);
    const stopOnFailure = (code: number): number => {
      if (code !== 0) stop('SIGTERM');
      return code;
    };
    const { runProxy } = await import('../../proxy/run.js');
    const { runEngineListener } = await import('../../engine/guacd/run.js');
    const codes = await Promise.all([
      runProxy(config, version, () => signal).then(stopOnFailure),
      runEngineListener(config, version, () => signal).then(stopOnFailure),
    ]);
    await webapp.close();
    log.info('webapp: stopped');
    return Math.max(...codes);
  },
};
