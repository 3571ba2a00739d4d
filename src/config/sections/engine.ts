import type { SchemaNode } from '../schema-node.js';

export interface EngineConfig {
  /** HOST:PORT of the guacd-compatible listener (`gatehouse engine`); IPv6 hosts in brackets. */
  listen: string;
  /** Time allowed for `select` and for each later handshake instruction, in ms. */
  handshakeTimeoutMs: number;
  /** The RDP engine: one native process per session (served by `gatehouse engine` and the proxy). */
  rdp: {
    /** Path of the gatehouse-rdp executable; '' = build/Release/gatehouse-rdp under the install root. */
    binary: string;
    /** USER or USER:GROUP (names or numbers) the process runs as when Gatehouse runs as root; '' = no drop. */
    user: string;
    /** Memory limit of each engine process (MiB), passed as --memory-limit-mb. */
    memoryLimitMb: number;
    /** After the end of a session: time between SIGTERM and SIGKILL of the process group (ms). */
    killGraceMs: number;
  };
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
    rdp: {
      type: 'object',
      additionalProperties: false,
      description: 'The RDP engine: one gatehouse-rdp process per session.',
      properties: {
        binary: {
          type: 'string',
          default: '',
          examples: ['', '/usr/local/lib/gatehouse/gatehouse-rdp'],
          description: "Path of the gatehouse-rdp executable; '' = build/Release/gatehouse-rdp.",
        },
        user: {
          type: 'string',
          pattern: '^$|^[A-Za-z0-9_][A-Za-z0-9_.-]*(?::[A-Za-z0-9_][A-Za-z0-9_.-]*)?$',
          default: 'nobody',
          examples: ['nobody', 'nobody:nogroup', 'gatehouse-rdp', '65534:65534'],
          description:
            "USER[:GROUP] the engine processes run as when started as root (GROUP: the user's own); '' = no drop.",
        },
        memoryLimitMb: {
          type: 'integer',
          minimum: 32,
          maximum: 65_536,
          default: 256,
          description: 'Memory limit of each engine process (MiB).',
        },
        killGraceMs: {
          type: 'integer',
          minimum: 0,
          maximum: 60_000,
          default: 5000,
          description: "Time from SIGTERM to SIGKILL of an ended session's process group (ms).",
        },
      },
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
