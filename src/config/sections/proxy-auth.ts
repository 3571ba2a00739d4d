import type { SchemaNode } from '../schema-node.js';
import { LISTEN_PATTERN } from './engine.js';

export const PROXY_AUTH_MODES = ['signed', 'webapp'] as const;
export type ProxyAuthMode = (typeof PROXY_AUTH_MODES)[number];

/** http(s)://HOST:PORT (IPv6 hosts in brackets), nothing after the port: where the webapp reaches a proxy. */
export const ADVERTISE_URL_PATTERN = `^https?://${LISTEN_PATTERN.slice(1)}`;
/** A zone name as the proxy states it: at most 128 characters, no control characters. */
export const ZONE_MAX_CHARS = 128;
export const ZONE_PATTERN = `^[^\\x00-\\x1f\\x7f]{0,${ZONE_MAX_CHARS}}$`;

export interface ProxyAuthConfig {
  /** How the proxy turns a token into a target: verify a signed token itself, or ask the webapp. */
  mode: ProxyAuthMode;
  signed: {
    /** Ed25519 public keys: inline PEM / JWK / JWK Set, or paths of files holding them; one entry or a list. */
    publicKeys: string | string[];
    /** Required `aud`. */
    audience: string;
    /** Required `iss`; empty: not checked. */
    issuer: string;
    /** Longest accepted exp − iat, seconds. */
    maxLifetimeSeconds: number;
    /** Clock skew tolerated on exp, nbf and iat, seconds. */
    clockSkewSeconds: number;
    /** 32-byte JWE secret (base64/base64url); when set, only encrypted tokens are accepted. */
    encryptionKey: string;
  };
  webapp: {
    /** The webapp's redeem endpoint. */
    url: string;
    /** This proxy's id at the webapp. */
    proxyId: string;
    /** Bearer credential of this proxy at the webapp. */
    proxyToken: string;
    /** Deadline of one redeem call, ms. */
    timeoutMs: number;
    /** PEM file of the CA(s) trusted for the webapp instead of the system store; empty: system store. */
    caFile: string;
    /** Accept an http:// url (tests and development only). */
    allowInsecureHttp: boolean;
    /** http(s)://HOST:PORT the webapp reaches this proxy at; '' = do not register with the webapp. */
    advertiseUrl: string;
    /** The zone this proxy says it serves when it registers; '' = not stated (the webapp decides). */
    zone: string;
  };
}

export const proxyAuthSchema = {
  type: 'object',
  description: 'Proxy role: how tokens are redeemed (docs/proxy-auth.md).',
  additionalProperties: false,
  properties: {
    mode: {
      type: 'string',
      enum: PROXY_AUTH_MODES,
      default: 'signed',
      description:
        'signed: verify Ed25519-signed tokens (proxyAuth.signed); webapp: redeem tokens with the webapp (proxyAuth.webapp).',
    },
    signed: {
      type: 'object',
      description: 'Signed tokens (EdDSA JWT, optionally inside a dir/A256GCM JWE).',
      additionalProperties: false,
      properties: {
        publicKeys: {
          anyOf: [{ type: 'array', items: { type: 'string', minLength: 1 } }, { type: 'string' }],
          default: [],
          description:
            'Ed25519 public keys that verify tokens, by kid: each inline PEM, JWK or JWK Set JSON, or the path of a file holding one; several while keys rotate.',
        },
        audience: {
          type: 'string',
          minLength: 1,
          default: 'gatehouse-proxy',
          description: 'The aud claim a token must carry.',
        },
        issuer: {
          type: 'string',
          default: '',
          description: 'The iss claim a token must carry; empty: not checked.',
        },
        maxLifetimeSeconds: {
          type: 'integer',
          minimum: 1,
          maximum: 86_400,
          default: 300,
          description: 'Tokens whose exp - iat is longer are refused.',
        },
        clockSkewSeconds: {
          type: 'integer',
          minimum: 0,
          maximum: 300,
          default: 30,
          description: 'Clock difference tolerated on exp, nbf and iat.',
        },
        encryptionKey: {
          type: 'string',
          default: '',
          description:
            'Secret of the JWE layer: 32 bytes as base64 or base64url. When set, only encrypted tokens are accepted; empty: plain signed tokens.',
        },
      },
    },
    webapp: {
      type: 'object',
      description: 'Webapp callback: the proxy redeems each token with the webapp over HTTPS.',
      additionalProperties: false,
      properties: {
        url: {
          type: 'string',
          default: '',
          description: 'The redeem endpoint, https://HOST/PATH (required in webapp mode).',
        },
        proxyId: {
          type: 'string',
          default: '',
          description: "This proxy's id at the webapp (required in webapp mode).",
        },
        proxyToken: {
          type: 'string',
          default: '',
          description: 'Bearer credential of this proxy at the webapp (required in webapp mode).',
        },
        timeoutMs: {
          type: 'integer',
          minimum: 100,
          maximum: 60_000,
          default: 5000,
          description:
            'Deadline of one redeem call (connect, TLS and answer); past it the tunnel gets 0x0202.',
        },
        caFile: {
          type: 'string',
          default: '',
          description:
            'PEM file of the CA certificate(s) trusted for the webapp instead of the system store.',
        },
        allowInsecureHttp: {
          type: 'boolean',
          default: false,
          description: 'Accept an http:// url. For tests and development only.',
        },
        advertiseUrl: {
          type: 'string',
          pattern: `^(?:${ADVERTISE_URL_PATTERN.slice(1, -1)})?$`,
          examples: ['https://proxy-eu-1.internal:8080', 'http://127.0.0.1:8080'],
          default: '',
          description:
            "http(s)://HOST:PORT at which the webapp reaches this proxy's /health and /tunnel; when set, the proxy registers itself with the webapp at start-up and every 5 minutes (webapp mode only). Empty: no registration.",
        },
        zone: {
          type: 'string',
          pattern: ZONE_PATTERN,
          default: '',
          description:
            'The zone this proxy states when it registers; the webapp refuses a registration whose zone differs from the one it has for this proxy. Empty: not stated.',
        },
      },
    },
  },
} as const satisfies SchemaNode;

/** `publicKeys` as a list (a single string is one entry; an empty string is none). */
export const publicKeyEntries = (value: string | readonly string[]): string[] =>
  typeof value === 'string' ? (value.trim() === '' ? [] : [value]) : [...value];
