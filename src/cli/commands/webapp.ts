// `gatehouse webapp`: the webapp role alone — the broker (users, zones, servers, connection proxies), its
// JSON API and web UI, the tunnel relay to the proxies and the proxies' callback. Runs until SIGTERM/SIGINT.
import { EXIT } from '../io.js';
import { loadConfigForCli } from '../load-config.js';
import { commandConfigOptions } from '../options.js';
import { nextSignal } from '../signals.js';
import { packageVersion } from '../version.js';
import type { Command } from './types.js';

export const webappCommand: Command = {
  name: 'webapp',
  summary:
    'run the webapp role: users, servers, proxies, the API, the web UI and the tunnel relay (default https://127.0.0.1:8443)',
  description:
    'Serves the web UI, the JSON API (/api, OpenAPI at /api/openapi.json) and the tunnel relay (/api/tunnel) on\n' +
    'webapp.listen (--listen HOST:PORT), HTTPS with a self-signed certificate made in webapp.dataDir unless\n' +
    'webapp.tls.certFile/keyFile are set. Data: SQLite in webapp.dataDir, or PostgreSQL when webapp.database is a\n' +
    'postgres:// URL (migrations run at start). On the first start an administrator "admin" is created and its\n' +
    'password printed once (or taken from GATEHOUSE_ADMIN_PASSWORD). Proxies register with their name and secret\n' +
    '(docs/proxy-auth.md). See docs/webapp.md.',
  options: commandConfigOptions('webapp'),
  available: true,
  async run({ values, io }) {
    const loaded = await loadConfigForCli(values, io, 'webapp');
    if (loaded === undefined) return EXIT.USAGE;
    const { runWebappRole } = await import('../../webapp/role.js');
    return runWebappRole(loaded.config, packageVersion(), nextSignal, io);
  },
};
