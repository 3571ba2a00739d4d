import type { SchemaNode } from '../schema-node.js';

export interface EngineConfig {
  /** HOST:PORT of the guacd-compatible listener (`gatehouse engine`); IPv6 hosts in brackets. */
  listen: string;
  /** Time allowed for `select` and for each later handshake instruction, in ms. */
  handshakeTimeoutMs: number;
}

const PORT = '(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])';
const HOST = '(?:\\[[0-9A-Fa-f:.]+(?:%[A-Za-z0-9_.-]+)?\\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)';

/** HOST:PORT: a host name, an IPv4 address or a bracketed IPv6 address, and a port from 0 to 65535. */
export const LISTEN_PATTERN = `^${HOST}:${PORT}$`;

export const engineSchema = {
  type: 'object',
  description: 'Engine role: the guacd-compatible listener serving the protocol engines.',
  additionalProperties: false,
  properties: {
    listen: {
      type: 'string',
      pattern: LISTEN_PATTERN,
      examples: ['127.0.0.1:4822', '[::1]:4822', '0.0.0.0:4822'],
      default: '127.0.0.1:4822',
      description:
        'Address of the guacd-compatible listener, HOST:PORT (IPv6 in brackets; port 0 = any free).',
    },
    handshakeTimeoutMs: {
      type: 'integer',
      minimum: 100,
      maximum: 600_000,
      default: 15_000,
      description: 'Time allowed for "select" and for each later handshake instruction (guacd: 15000).',
    },
  },
} as const satisfies SchemaNode;

/** Host and port of a valid `engine.listen` value (brackets removed from an IPv6 host). */
export function parseListen(value: string): { host: string; port: number } {
  if (!new RegExp(LISTEN_PATTERN).test(value)) {
    throw new RangeError(
      `engine.listen must be HOST:PORT, e.g. 127.0.0.1:4822; got ${JSON.stringify(value)}`,
    );
  }
  const colon = value.lastIndexOf(':');
  const host = value.slice(0, colon);
  return { host: host.startsWith('[') ? host.slice(1, -1) : host, port: Number(value.slice(colon + 1)) };
}
