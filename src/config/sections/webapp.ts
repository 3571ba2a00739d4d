import type { SchemaNode } from '../schema-node.js';
import { LISTEN_PATTERN } from './engine.js';

export interface WebappConfig {
  /** HOST:PORT of the web UI, the JSON API, the tunnel relay and the proxies' callback. */
  listen: string;
  /** Directory for the SQLite database, generated certificates and keys (relative to the cwd). */
  dataDir: string;
  /** '' = SQLite file <dataDir>/gatehouse.db; a file path; or postgres://user:pass@host:port/db. */
  database: string;
  /** The URL browsers use (scheme://host[:port]); WebSocket Origin and CSRF checks accept it. '' = any Host. */
  publicUrl: string;
  tls: {
    /** HTTPS (default); false serves plain HTTP (behind a TLS-terminating front end, or tests). */
    enabled: boolean;
    /** PEM certificate chain and key; both '' = a self-signed pair made once in dataDir. */
    certFile: string;
    keyFile: string;
  };
  /** 32-byte key (base64) encrypting server credentials at rest; '' = generated once in dataDir. */
  secretKey: string;
  session: {
    /** A login expires after this long without requests (minutes). */
    idleMinutes: number;
    /** ... and after this long in any case (hours). */
    maxHours: number;
  };
  login: {
    /** Failed logins allowed per user name and per client address in `windowSeconds`; then 429. */
    maxFailures: number;
    windowSeconds: number;
  };
  tokens: {
    /** Lifetime of a connect token (seconds, at most 60). */
    ttlSeconds: number;
    /** A proxy may redeem a token again this long after its first redeem (reconnects); seconds. */
    replayWindowSeconds: number;
    /** Lifetime of the token in a downloaded .rdp file (seconds). */
    rdpTtlSeconds: number;
  };
  healthCheck: {
    /** Deadline of one proxy health check (ms). */
    timeoutMs: number;
    /** A healthy answer is reused this long (ms); 0 = check on every connect. */
    cacheMs: number;
    /** A failed proxy is skipped this long before it is checked again (ms). */
    downMs: number;
  };
  rdpSigning: {
    /** PEM certificate and key that sign .rdp files; both '' = a self-signed pair made once in dataDir. */
    certFile: string;
    keyFile: string;
  };
  relay: {
    /** Deadline for the proxy to accept the relayed WebSocket upgrade (ms). */
    connectTimeoutMs: number;
    /** Relayed tunnels at most; beyond, new tunnels end with SERVER_BUSY. */
    maxTunnels: number;
  };
}

const pemFile = (what: string): SchemaNode => ({
  type: 'string',
  default: '',
  description: `${what} (PEM file); '' = generated once in dataDir.`,
});

export const webappSchema = {
  type: 'object',
  description:
    'Webapp role: users, zones, servers, connection proxies, the API, the web UI and the tunnel relay.',
  additionalProperties: false,
  properties: {
    listen: {
      type: 'string',
      pattern: LISTEN_PATTERN,
      examples: ['0.0.0.0:8443', '127.0.0.1:8443'],
      default: '127.0.0.1:8443',
      description: 'Address of the web UI, API and tunnel relay, HOST:PORT (IPv6 in brackets).',
    },
    dataDir: {
      type: 'string',
      minLength: 1,
      default: '.gatehouse',
      description: 'Directory for the SQLite database and generated keys and certificates.',
    },
    database: {
      type: 'string',
      default: '',
      examples: ['', '/var/lib/gatehouse/gatehouse.db', 'postgres://gatehouse:secret@db:5432/gatehouse'],
      description: "'' = SQLite in dataDir; a SQLite file path; or a postgres:// URL.",
    },
    publicUrl: {
      type: 'string',
      pattern: '^$|^https?://[^/?#]+$',
      examples: ['https://gatehouse.example.com'],
      default: '',
      description: "The browsers' URL (scheme://host[:port]) for Origin checks; '' = the request's Host.",
    },
    tls: {
      type: 'object',
      additionalProperties: false,
      description: 'HTTPS of the webapp.',
      properties: {
        enabled: { type: 'boolean', default: true, description: 'Serve HTTPS (false: plain HTTP).' },
        certFile: pemFile('Certificate chain'),
        keyFile: pemFile('Private key'),
      },
    },
    secretKey: {
      type: 'string',
      default: '',
      description: "32-byte base64 key encrypting stored server credentials; '' = generated once in dataDir.",
    },
    session: {
      type: 'object',
      additionalProperties: false,
      description: 'Login sessions (cookie).',
      properties: {
        idleMinutes: {
          type: 'integer',
          minimum: 1,
          maximum: 10_080,
          default: 30,
          description: 'Idle expiry (minutes).',
        },
        maxHours: {
          type: 'integer',
          minimum: 1,
          maximum: 720,
          default: 12,
          description: 'Absolute expiry (hours).',
        },
      },
    },
    login: {
      type: 'object',
      additionalProperties: false,
      description: 'Login rate limiting.',
      properties: {
        maxFailures: {
          type: 'integer',
          minimum: 1,
          maximum: 1000,
          default: 5,
          description: 'Failed logins per user name and per client address within the window; then 429.',
        },
        windowSeconds: {
          type: 'integer',
          minimum: 1,
          maximum: 86_400,
          default: 300,
          description: 'The window (seconds).',
        },
      },
    },
    tokens: {
      type: 'object',
      additionalProperties: false,
      description: 'One-time connect tokens.',
      properties: {
        ttlSeconds: {
          type: 'integer',
          minimum: 1,
          maximum: 60,
          default: 30,
          description: 'Connect token lifetime (s).',
        },
        replayWindowSeconds: {
          type: 'integer',
          minimum: 0,
          maximum: 60,
          default: 10,
          description: 'The same proxy may redeem a token again this long after the first redeem (s).',
        },
        rdpTtlSeconds: {
          type: 'integer',
          minimum: 10,
          maximum: 3600,
          default: 300,
          description: 'Lifetime of the token in a downloaded .rdp file (s).',
        },
      },
    },
    healthCheck: {
      type: 'object',
      additionalProperties: false,
      description: 'Proxy health checks on connect.',
      properties: {
        timeoutMs: {
          type: 'integer',
          minimum: 50,
          maximum: 30_000,
          default: 1500,
          description: 'Deadline of one check (ms).',
        },
        cacheMs: {
          type: 'integer',
          minimum: 0,
          maximum: 60_000,
          default: 2000,
          description: 'Reuse a healthy answer this long (ms).',
        },
        downMs: {
          type: 'integer',
          minimum: 0,
          maximum: 600_000,
          default: 5000,
          description: 'Skip a failed proxy this long (ms).',
        },
      },
    },
    rdpSigning: {
      type: 'object',
      additionalProperties: false,
      description: 'Signing of downloaded .rdp files.',
      properties: {
        certFile: pemFile('Signing certificate'),
        keyFile: pemFile('Signing key'),
      },
    },
    relay: {
      type: 'object',
      additionalProperties: false,
      description: 'The tunnel relay to the proxies.',
      properties: {
        connectTimeoutMs: {
          type: 'integer',
          minimum: 100,
          maximum: 60_000,
          default: 5000,
          description: 'Deadline for the proxy to connect and answer a relayed tunnel upgrade (ms).',
        },
        maxTunnels: {
          type: 'integer',
          minimum: 1,
          maximum: 1_000_000,
          default: 10_000,
          description: 'Relayed tunnels at most; beyond, new tunnels end with SERVER_BUSY (0x0201).',
        },
      },
    },
  },
} as const satisfies SchemaNode;
