// What every API route needs: the configuration, the store, the logger, login sessions, limits, the proxy
// health checker, the live relays and the .rdp signer.
import type { Logger } from 'pino';
import type { WebappConfig } from '../config/sections/webapp.js';
import type { WebSessions } from './http/web-sessions.js';
import type { ProxyHealthChecker } from './proxies/health.js';
import type { TunnelRelay } from './relay/tunnel-relay.js';
import type { FailureLimiter } from './security/rate-limit.js';
import type { Store } from './store/types.js';

export interface AppContext {
  config: WebappConfig;
  store: Store;
  log: Logger;
  sessions: WebSessions;
  checker: ProxyHealthChecker;
  relay: TunnelRelay;
  loginByUser: FailureLimiter;
  loginByAddress: FailureLimiter;
  /** Signs .rdp files; null = unsigned (no signing pair configured or made). */
  rdpSigner: { certPem: string; keyPem: string } | null;
  /** How the webapp refers to itself in answers (tunnel URL). */
  secure: boolean;
  now(): number;
}
