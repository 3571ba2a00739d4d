// Starting and stopping the webapp role: data directory, database (migrations), keys and certificates, the
// HTTP(S) server with the API, the UI and the tunnel relay, and periodic clean-up of expired rows.
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { GatehouseConfig } from '../config/schema.js';
import { fromRoot } from '../util/paths.js';
import { apiRoutes } from './api/routes.js';
import type { AppContext } from './context.js';
import { compileRoutes } from './http/route.js';
import { createWebappServer } from './http/server.js';
import { loadStaticDir } from './http/static-files.js';
import { WebSessions } from './http/web-sessions.js';
import { loadOrCreateCertificate } from './pki/self-signed.js';
import { ProxyHealthChecker } from './proxies/health.js';
import { TunnelRelay } from './relay/tunnel-relay.js';
import { FailureLimiter } from './security/rate-limit.js';
import { loadOrCreateSecretKey, SecretBox } from './security/secret-box.js';
import { openStore } from './store/sql-store.js';
import type { Store } from './store/types.js';

export interface RunningWebapp {
  store: Store;
  ctx: AppContext;
  server: Server;
  port: number;
  /** e.g. https://127.0.0.1:8443 */
  url: string;
  /** PEM of the HTTPS certificate (clients on this host trust it with `ca`), null over plain HTTP. */
  tlsCertPem: string | null;
  tlsCertFile: string | null;
  dataDir: string;
  close(): Promise<void>;
}

function splitListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(listen.slice(i + 1)) };
}

export async function startWebapp(
  config: GatehouseConfig,
  log: Logger,
  version: string,
  cwd = process.cwd(),
): Promise<RunningWebapp> {
  const wc = config.webapp;
  const dataDir = resolve(cwd, wc.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secretBox = new SecretBox(loadOrCreateSecretKey(wc.secretKey, dataDir));
  const store = await openStore({ database: wc.database, dataDir, secretBox });
  const closed = await store.endOpenSessions(Date.now(), 'webapp restarted');
  if (closed > 0) log.info({ sessions: closed }, 'sessions left open by a previous run marked ended');

  const tls = wc.tls.enabled
    ? loadOrCreateCertificate({
        certFile: wc.tls.certFile,
        keyFile: wc.tls.keyFile,
        dir: dataDir,
        baseName: 'webapp-tls',
        commonName: hostname(),
        hosts: ['localhost', '127.0.0.1', '::1', hostname()],
        usage: 'tls-server',
        configKey: 'webapp.tls',
      })
    : null;
  if (tls?.created)
    log.warn({ cert: tls.certFile }, `HTTPS: made a self-signed certificate (SHA-1 ${tls.sha1Thumbprint})`);
  const signing = loadOrCreateCertificate({
    certFile: wc.rdpSigning.certFile,
    keyFile: wc.rdpSigning.keyFile,
    dir: dataDir,
    baseName: 'rdp-signing',
    commonName: `Gatehouse on ${hostname()}`,
    usage: 'code-signing',
    configKey: 'webapp.rdpSigning',
  });
  if (signing.created)
    log.info(
      { cert: signing.certFile },
      `.rdp files: made a signing certificate (SHA-1 ${signing.sha1Thumbprint})`,
    );

  const secure = tls !== null;
  const sessions = new WebSessions(store, {
    secure,
    idleMs: wc.session.idleMinutes * 60_000,
    maxMs: wc.session.maxHours * 3_600_000,
  });
  const checker = new ProxyHealthChecker({
    timeoutMs: wc.healthCheck.timeoutMs,
    cacheMs: wc.healthCheck.cacheMs,
    downMs: wc.healthCheck.downMs,
    onResultEveryMs: 10_000,
    onResult: (proxy, result) =>
      store.setProxyHealth(proxy.id, { ok: result.ok, at: result.at, detail: result.detail }),
  });
  const relay = new TunnelRelay({
    store,
    sessions,
    log,
    connectTimeoutMs: wc.relay.connectTimeoutMs,
    maxTunnels: wc.relay.maxTunnels,
    allowedOrigins: wc.publicUrl ? [wc.publicUrl] : [],
  });
  const ctx: AppContext = {
    config: wc,
    store,
    log,
    sessions,
    checker,
    relay,
    loginByUser: new FailureLimiter(wc.login.maxFailures, wc.login.windowSeconds * 1000),
    loginByAddress: new FailureLimiter(wc.login.maxFailures * 4, wc.login.windowSeconds * 1000),
    rdpSigner: { certPem: signing.certPem, keyPem: signing.keyPem },
    secure,
    now: Date.now,
  };
  const routes = compileRoutes(apiRoutes(ctx, version));
  const files = loadStaticDir(fromRoot('dist', 'public', 'webapp'), '/');
  loadStaticDir(fromRoot('dist', 'public'), '/client/', files);
  if (!files.has('/index.html'))
    log.warn('web UI files are missing (dist/public/webapp): run `npm run build`');
  const server = createWebappServer({
    ctx,
    routes,
    files,
    tls: tls ? { cert: tls.certPem, key: tls.keyPem } : null,
  });

  const { host, port } = splitListen(wc.listen);
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  const bound = (server.address() as { port: number }).port;
  const shownHost =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `${secure ? 'https' : 'http'}://${shownHost}:${bound}`;

  const sweep = setInterval(() => {
    const now = Date.now();
    Promise.all([store.deleteExpiredTokens(now - 3_600_000), store.deleteExpiredWebSessions(now)]).catch(
      (err: unknown) => log.warn({ err }, 'clean-up of expired tokens/sessions failed'),
    );
  }, 60_000);
  sweep.unref();

  let closing: Promise<void> | undefined;
  return {
    store,
    ctx,
    server,
    port: bound,
    url,
    tlsCertPem: tls?.certPem ?? null,
    tlsCertFile: tls?.certFile ?? null,
    dataDir,
    close() {
      closing ??= (async () => {
        clearInterval(sweep);
        relay.closeAll('webapp stopped');
        // Upgraded (relayed) sockets are destroyed above; do not wait on the server's count of them for ever.
        await new Promise<void>((r) => {
          const give = setTimeout(r, 1000);
          server.close(() => {
            clearTimeout(give);
            r();
          });
          server.closeAllConnections();
          server.destroyUpgraded();
        });
        // Relays record their end asynchronously; give them a moment before the database goes.
        await new Promise((r) => setTimeout(r, 50));
        await store.close();
      })();
      return closing;
    },
  };
}
