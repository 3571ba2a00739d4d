// JSON Schemas (ajv) for what a token or the webapp grants: target, policy, the signed token's claims and the
// webapp's redeem answer. docs/proxy-auth.md shows the same schemas for other implementers.
import { Ajv, type ErrorObject } from 'ajv';
import { LISTEN_PATTERN } from '../../config/sections/engine.js';
import { ADVERTISE_URL_PATTERN, ZONE_MAX_CHARS, ZONE_PATTERN } from '../../config/sections/proxy-auth.js';
import { DEFAULT_POLICY, type Policy, type Target } from '../types.js';

export const LIMITS = {
  /** Characters in a whole token (compact JWS or JWE). */
  tokenChars: 65_536,
  /** Connection parameters in a target. */
  params: 128,
  /** Characters in one parameter value. */
  paramValueChars: 4096,
  /** Characters in a jti / grant id. */
  idChars: 128,
  /** Characters in a user (sub) name. */
  userChars: 256,
} as const;

/** guacd protocol names: lower case, as guacd spells them ('vnc', 'rdp', 'ssh'). */
export const PROTOCOL_PATTERN = '^[a-z][a-z0-9-]{0,31}$';
/** Connection parameter names as guacd spells them ('hostname', 'color-depth', 'enable-sftp'). */
export const PARAM_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
/** guacd://HOST:PORT (IPv6 hosts in brackets). */
export const GUACD_PATTERN = `^guacd://${LISTEN_PATTERN.slice(1)}`;
/** A grant id / jti: printable ASCII without spaces. */
export const ID_PATTERN = `^[\\x21-\\x7e]{1,${LIMITS.idChars}}$`;
/** RFC 3339 date-time with a zone (Z or +hh:mm). */
export const DATE_TIME_PATTERN =
  '^\\d{4}-\\d{2}-\\d{2}[Tt ]\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?([Zz]|[+-]\\d{2}:\\d{2})$';

export const POLICY_KEYS = [
  'disableCopy',
  'disablePaste',
  'disableDownload',
  'disableUpload',
  'readOnly',
] as const satisfies readonly (keyof Policy)[];

export const targetSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['protocol', 'params'],
  properties: {
    protocol: { type: 'string', pattern: PROTOCOL_PATTERN },
    params: {
      type: 'object',
      maxProperties: LIMITS.params,
      propertyNames: { type: 'string', pattern: PARAM_NAME_PATTERN },
      additionalProperties: { type: 'string', maxLength: LIMITS.paramValueChars },
    },
    guacd: { type: 'string', pattern: GUACD_PATTERN },
  },
} as const;

export const policySchema = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(POLICY_KEYS.map((k) => [k, { type: 'boolean' }])),
} as const;

/** The signed token's payload. Other claims are allowed and ignored. */
export const claimsSchema = {
  type: 'object',
  required: ['aud', 'exp', 'iat', 'jti', 'target'],
  properties: {
    iss: { type: 'string' },
    sub: { type: 'string', maxLength: LIMITS.userChars },
    aud: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    exp: { type: 'number' },
    iat: { type: 'number' },
    nbf: { type: 'number' },
    jti: { type: 'string', pattern: ID_PATTERN },
    target: targetSchema,
    policy: policySchema,
  },
} as const;

/** The webapp's 200 answer to a redeem request. Other members are allowed and ignored. */
export const redeemResponseSchema = {
  type: 'object',
  required: ['id', 'user', 'target', 'policy'],
  properties: {
    id: { type: 'string', pattern: ID_PATTERN },
    user: { type: 'string', maxLength: LIMITS.userChars },
    target: targetSchema,
    policy: policySchema,
    expiresAt: { type: 'string', pattern: DATE_TIME_PATTERN },
  },
} as const;

/** The proxy's redeem request to the webapp. */
export const redeemRequestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['token', 'proxy', 'client'],
  properties: {
    token: { type: 'string', minLength: 1, maxLength: LIMITS.tokenChars },
    proxy: {
      type: 'object',
      additionalProperties: false,
      required: ['id'],
      properties: { id: { type: 'string', minLength: 1, maxLength: 256 } },
    },
    client: {
      type: 'object',
      additionalProperties: false,
      required: ['remoteAddress'],
      properties: { remoteAddress: { type: 'string' }, userAgent: { type: 'string' } },
    },
  },
} as const;

/** The body of a webapp's 401/403/404 answer. */
export const redeemErrorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: { type: 'string', enum: ['token-invalid', 'forbidden', 'unknown-target', 'proxy-unauthorized'] },
    message: { type: 'string' },
  },
} as const;

/** The proxy's registration request (POST /api/proxy/register). */
export const registerRequestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['proxy', 'kind', 'address', 'zone', 'version'],
  properties: {
    proxy: {
      type: 'object',
      additionalProperties: false,
      required: ['id'],
      properties: { id: { type: 'string', minLength: 1, maxLength: 256 } },
    },
    kind: { type: 'string', enum: ['guac'] },
    address: { type: 'string', pattern: ADVERTISE_URL_PATTERN },
    zone: {
      anyOf: [
        { type: 'string', minLength: 1, maxLength: ZONE_MAX_CHARS, pattern: ZONE_PATTERN },
        { type: 'null' },
      ],
    },
    version: { type: 'string', minLength: 1, maxLength: 64 },
  },
} as const;

/** The webapp's 200 answer to a registration. Other members are allowed and ignored. */
export const registerResponseSchema = {
  type: 'object',
  required: ['id', 'zone'],
  properties: {
    id: { type: 'string', pattern: ID_PATTERN },
    zone: { type: 'string', minLength: 1, maxLength: ZONE_MAX_CHARS, pattern: ZONE_PATTERN },
  },
} as const;

/** The body of a webapp's 4xx answer to a registration. */
export const registerErrorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'string',
      enum: ['proxy-unauthorized', 'bad-request', 'zone-mismatch', 'kind-mismatch'],
    },
    message: { type: 'string' },
  },
} as const;

export interface RegisterRequest {
  proxy: { id: string };
  kind: 'guac';
  address: string;
  zone: string | null;
  version: string;
}

export interface RegisterResponse {
  id: string;
  zone: string;
}

export interface TokenClaims {
  iss?: string;
  sub?: string;
  aud: string | string[];
  exp: number;
  iat: number;
  nbf?: number;
  jti: string;
  target: Target;
  policy?: Partial<Policy>;
}

export interface RedeemResponse {
  id: string;
  user: string;
  target: Target;
  policy: Partial<Policy>;
  expiresAt?: string;
}

const ajv = new Ajv({ allErrors: false, strict: true });
const claimsValidator = ajv.compile(claimsSchema);
const responseValidator = ajv.compile(redeemResponseSchema);
const registerResponseValidator = ajv.compile(registerResponseSchema);

/** The first ajv error as one line ("/target/params/port must be string"), with no values. */
const describe = (errors: ErrorObject[] | null | undefined): string => {
  const e = errors?.[0];
  if (e === undefined) return 'invalid';
  return `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}`;
};

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

export function checkClaims(payload: unknown): Checked<TokenClaims> {
  return claimsValidator(payload)
    ? { ok: true, value: payload as unknown as TokenClaims }
    : { ok: false, error: describe(claimsValidator.errors) };
}

export function checkRedeemResponse(body: unknown): Checked<RedeemResponse> {
  return responseValidator(body)
    ? { ok: true, value: body as unknown as RedeemResponse }
    : { ok: false, error: describe(responseValidator.errors) };
}

export function checkRegisterResponse(body: unknown): Checked<RegisterResponse> {
  return registerResponseValidator(body)
    ? { ok: true, value: body as unknown as RegisterResponse }
    : { ok: false, error: describe(registerResponseValidator.errors) };
}

/** A complete policy: the given flags over DEFAULT_POLICY. */
export function policyFrom(partial: Partial<Policy> | undefined): Policy {
  return { ...DEFAULT_POLICY, ...(partial ?? {}) };
}

/** A fresh Target (no shared references with the validated input). */
export function targetFrom(t: Target): Target {
  const out: Target = { protocol: t.protocol, params: { ...t.params } };
  if (t.guacd !== undefined) out.guacd = t.guacd;
  return out;
}
