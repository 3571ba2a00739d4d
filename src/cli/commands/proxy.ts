// `gatehouse proxy`: the proxy role — the uWebSockets.js front end (/tunnel, /health, /metrics, the client
// page) over N connection managers. Runs until SIGTERM/SIGINT, which drain: /health turns 503, new tunnels are
// refused, live sessions get proxy.drainGraceMs, then end with SESSION_CLOSED.
import { EXIT } from '../io.js';
import { loadConfigForCli } from '../load-config.js';
import { commandConfigOptions } from '../options.js';
import { nextSignal } from '../signals.js';
import { packageVersion } from '../version.js';
import type { Command } from './types.js';

export const proxyCommand: Command = {
  name: 'proxy',
  summary:
    'run the proxy role: Guacamole WebSocket tunnel over N connection managers (default 127.0.0.1:8080)',
  description:
    'Serves /tunnel (the Guacamole WebSocket tunnel), /health, /metrics and the browser client page on\n' +
    'proxy.listen (--listen HOST:PORT), spread over proxy.clusterSize connection managers (--guac-cluster-size,\n' +
    'default one per core). Tokens are checked as configured under proxyAuth (docs/proxy-auth.md). SIGTERM or\n' +
    'SIGINT drains: /health answers 503, new tunnels are refused, live sessions get proxy.drainGraceMs, then\n' +
    'end with SESSION_CLOSED (0x020B). See docs/proxy.md.',
  options: commandConfigOptions('proxy'),
  available: true,
  async run({ values, io }) {
    const loaded = await loadConfigForCli(values, io, 'proxy');
    if (loaded === undefined) return EXIT.USAGE;
    const { runProxy } = await import('../../proxy/run.js');
    return runProxy(loaded.config, packageVersion(), nextSignal);
  },
};
