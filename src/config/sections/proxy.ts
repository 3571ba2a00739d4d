import { availableParallelism } from 'node:os';
import type { SchemaNode } from '../schema-node.js';
import { LISTEN_PATTERN } from './engine.js';

export const MAX_CLUSTER_SIZE = 256;

export interface ProxyConfig {
  /** Connection managers (worker threads); 'auto' = one per core. */
  clusterSize: number | 'auto';
  /** HOST:PORT of the front end (HTTP + the Guacamole WebSocket tunnel). */
  listen: string;
  /** A browser silent this long is disconnected with CLIENT_TIMEOUT (ms). */
  clientTimeoutMs: number;
  /** On SIGTERM, live sessions may continue this long before they are closed with SESSION_CLOSED (ms). */
  drainGraceMs: number;
  /** Bytes buffered towards a browser above which the session's backend is paused. */
  highWaterMark: number;
  /** Largest WebSocket message accepted from a browser (bytes); larger ones end the tunnel with 0x030D. */
  maxMessageBytes: number;
  /** Target size of a WebSocket message of whole instructions sent to the browser (bytes). */
  batchBytes: number;
  /** Sessions one connection manager accepts at most; beyond it new tunnels get SERVER_BUSY. */
  maxSessionsPerManager: number;
}

export const proxySchema = {
  type: 'object',
  description: 'Proxy role: the Guacamole WebSocket tunnel.',
  additionalProperties: false,
  properties: {
    clusterSize: {
      anyOf: [
        { type: 'integer', minimum: 1, maximum: MAX_CLUSTER_SIZE },
        { type: 'string', const: 'auto' },
      ],
      default: 'auto',
      description: 'Number of connection managers; auto = one per core (os.availableParallelism()).',
    },
    listen: {
      type: 'string',
      pattern: LISTEN_PATTERN,
      examples: ['0.0.0.0:8080', '127.0.0.1:8080'],
      default: '127.0.0.1:8080',
      description:
        'Address of the front end (HTTP routes and the /tunnel WebSocket), HOST:PORT (IPv6 in brackets).',
    },
    clientTimeoutMs: {
      type: 'integer',
      minimum: 1000,
      maximum: 3_600_000,
      default: 15_000,
      description: 'A browser that sends nothing for this long is disconnected with CLIENT_TIMEOUT (0x0308).',
    },
    drainGraceMs: {
      type: 'integer',
      minimum: 0,
      maximum: 86_400_000,
      default: 30_000,
      description:
        'On SIGTERM: /health turns 503 and new tunnels are refused; live sessions get this long, then end with SESSION_CLOSED.',
    },
    highWaterMark: {
      type: 'integer',
      minimum: 16_384,
      maximum: 268_435_456,
      default: 1_048_576,
      description:
        'Bytes buffered towards one browser above which its backend is paused until the socket drains.',
    },
    maxMessageBytes: {
      type: 'integer',
      minimum: 4096,
      maximum: 16_777_216,
      default: 65_536,
      description:
        'Largest WebSocket message accepted from a browser; larger ones end the tunnel with CLIENT_OVERRUN.',
    },
    batchBytes: {
      type: 'integer',
      minimum: 512,
      maximum: 1_048_576,
      default: 8192,
      description: 'Whole instructions are batched into WebSocket messages of about this many bytes.',
    },
    maxSessionsPerManager: {
      type: 'integer',
      minimum: 1,
      maximum: 100_000,
      default: 2000,
      description:
        'Sessions one connection manager carries at most; beyond it new tunnels end with SERVER_BUSY.',
    },
  },
} as const satisfies SchemaNode;

/** The number of connection managers to start: `auto` becomes the core count (capped at the maximum). */
export function resolveClusterSize(
  value: ProxyConfig['clusterSize'],
  cores = availableParallelism(),
): number {
  if (value !== 'auto') return value;
  return Math.min(Math.max(1, cores), MAX_CLUSTER_SIZE);
}
