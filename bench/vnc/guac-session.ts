/**
 * The VNC benchmark's Guacamole client: the shared bench client (../helpers/guac-bench-client.ts) with a VNC
 * target, for bench/vnc/consumer.ts.
 */
import { GuacBenchClient } from '../helpers/guac-bench-client.js';
import type { ConsumerStats } from './consumer-protocol.js';

export { CLIENT_IMAGE_TYPES } from '../helpers/guac-counting.js';

export interface GuacTarget {
  host: string;
  port: number;
  vncHost: string;
  vncPort: number;
  width: number;
  height: number;
}

/** The shared bench client with a VNC target. */
export class GuacSession extends GuacBenchClient {
  /** Resolves at the first `sync` after `ready`; rejects if the session ends before. */
  readonly ready: Promise<void>;

  constructor(t: GuacTarget, stats: ConsumerStats) {
    super(
      {
        host: t.host,
        port: t.port,
        protocol: 'vnc',
        width: t.width,
        height: t.height,
        params: { hostname: t.vncHost, port: String(t.vncPort) },
        errorPrefix: 'guac: ',
      },
      stats,
    );
    this.ready = this.firstSync;
  }
}
