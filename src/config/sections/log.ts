import type { SchemaNode } from '../schema-node.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;

export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LogConfig {
  level: LogLevel;
  format: LogFormat;
}

export const logSchema = {
  type: 'object',
  description: 'Logging (pino).',
  additionalProperties: false,
  properties: {
    level: {
      type: 'string',
      enum: LOG_LEVELS,
      default: 'info',
      description: 'Lowest level written; silent writes nothing.',
    },
    format: {
      type: 'string',
      enum: LOG_FORMATS,
      default: 'auto',
      description:
        'json: one JSON object per line; pretty: human-readable; auto: pretty when stdout is a TTY.',
    },
  },
} as const satisfies SchemaNode;
