// JSON Schemas shared by the API's routes (requests are validated with them; the OpenAPI document and the
// response self-check use them too).

import type { JsonSchema } from '../http/route.js';
import { DLP_KEYS } from '../store/types.js';

export const id: JsonSchema = { type: 'string', minLength: 1, maxLength: 64 };
export const name: JsonSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 128,
  pattern: '^[^\\u0000-\\u001f\\u007f]+$',
};
export const time: JsonSchema = { type: 'integer', minimum: 0, description: 'milliseconds since the epoch' };
export const nullableTime: JsonSchema = { anyOf: [time, { type: 'null' }] };

export const errorBody: JsonSchema = {
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
    field: { type: 'string' },
  },
};

const flag = { type: 'boolean' };
export const dlpPolicy: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: [...DLP_KEYS],
  properties: Object.fromEntries(DLP_KEYS.map((k) => [k, flag])),
};
/** Partial DLP settings: keys left out do not restrict. */
export const dlpSettings: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(DLP_KEYS.map((k) => [k, flag])),
};

export const role: JsonSchema = { type: 'string', enum: ['admin', 'user'] };
export const protocol: JsonSchema = { type: 'string', enum: ['rdp', 'vnc', 'ssh'] };
export const proxyKind: JsonSchema = { type: 'string', enum: ['guac', 'rdp-gateway'] };
export const password: JsonSchema = { type: 'string', minLength: 8, maxLength: 1024 };
export const username: JsonSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9._@-]+$',
};
export const host: JsonSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 253,
  pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9._:-]+)$',
};
export const port: JsonSchema = { type: 'integer', minimum: 1, maximum: 65535 };
export const idList: JsonSchema = { type: 'array', maxItems: 10_000, uniqueItems: true, items: id };

export const userOut: JsonSchema = {
  type: 'object',
  required: ['id', 'username', 'displayName', 'role', 'disabled', 'createdAt'],
  properties: {
    id,
    username: { type: 'string' },
    displayName: { type: 'string' },
    role,
    disabled: flag,
    createdAt: time,
  },
};
export const meOut: JsonSchema = {
  type: 'object',
  required: ['user', 'csrfToken'],
  properties: { user: userOut, csrfToken: { type: 'string' } },
};
export const zoneOut: JsonSchema = {
  type: 'object',
  required: ['id', 'name', 'searchAlternateZones', 'createdAt'],
  properties: { id, name: { type: 'string' }, searchAlternateZones: flag, createdAt: time },
};
export const params: JsonSchema = {
  type: 'object',
  maxProperties: 128,
  propertyNames: { pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' },
  additionalProperties: { type: 'string', maxLength: 4096 },
};
export const credentialsIn: JsonSchema = {
  anyOf: [
    {
      type: 'object',
      additionalProperties: false,
      properties: {
        username: { type: 'string', maxLength: 256 },
        password: { type: 'string', maxLength: 1024 },
        domain: { type: 'string', maxLength: 256 },
      },
    },
    { type: 'null' },
  ],
};
export const serverOut: JsonSchema = {
  type: 'object',
  required: [
    'id',
    'name',
    'protocol',
    'host',
    'port',
    'zoneId',
    'params',
    'dlp',
    'userIds',
    'groupIds',
    'hasCredentials',
  ],
  properties: {
    id,
    name: { type: 'string' },
    protocol,
    host: { type: 'string' },
    port,
    zoneId: id,
    params,
    dlp: dlpSettings,
    userIds: idList,
    groupIds: idList,
    hasCredentials: flag,
    createdAt: time,
  },
};
export const proxyOut: JsonSchema = {
  type: 'object',
  required: ['id', 'name', 'zoneId', 'kind', 'address', 'enabled', 'lastHealth', 'registeredAt'],
  properties: {
    id,
    name: { type: 'string' },
    zoneId: id,
    kind: proxyKind,
    address: { type: 'string' },
    enabled: flag,
    lastHealth: {
      anyOf: [
        {
          type: 'object',
          required: ['ok', 'at'],
          properties: { ok: flag, at: time, detail: { type: 'string' } },
        },
        { type: 'null' },
      ],
    },
    registeredAt: nullableTime,
    createdAt: time,
  },
};
export const groupOut: JsonSchema = {
  type: 'object',
  required: ['id', 'name', 'dlp', 'memberIds'],
  properties: { id, name: { type: 'string' }, dlp: dlpSettings, memberIds: idList, createdAt: time },
};
export const sessionOut: JsonSchema = {
  type: 'object',
  required: ['id', 'userId', 'serverId', 'proxyId', 'startedAt', 'endedAt', 'bytesUp', 'bytesDown'],
  properties: {
    id,
    userId: id,
    serverId: id,
    proxyId: id,
    userName: { type: 'string' },
    serverName: { type: 'string' },
    proxyName: { type: 'string' },
    startedAt: time,
    endedAt: nullableTime,
    endReason: { anyOf: [{ type: 'string' }, { type: 'null' }] },
    bytesUp: { type: 'integer', minimum: 0 },
    bytesDown: { type: 'integer', minimum: 0 },
    clientAddress: { anyOf: [{ type: 'string' }, { type: 'null' }] },
    live: flag,
  },
};

export const listOf = (item: JsonSchema): JsonSchema => ({
  type: 'object',
  required: ['items'],
  properties: { items: { type: 'array', items: item } },
});

/** Standard error answers for the OpenAPI document. */
export const errors = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((c) => [
      c,
      {
        description:
          {
            400: 'Invalid request (the field is named)',
            401: 'Not signed in / not authenticated',
            403: 'Forbidden (or CSRF token missing)',
            404: 'Not found',
            409: 'Conflict (name taken, still in use)',
            413: 'Body too large',
            429: 'Too many attempts (Retry-After)',
            503: 'No healthy connection proxy',
          }[c] ?? 'Error',
        schema: errorBody,
      },
    ]),
  );
