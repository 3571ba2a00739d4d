import { availableParallelism } from 'node:os';
import type { SchemaNode } from '../schema-node.js';

export const MAX_CLUSTER_SIZE = 256;

export interface ProxyConfig {
  /** Connection managers (worker threads); 'auto' = one per core. */
  clusterSize: number | 'auto';
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
