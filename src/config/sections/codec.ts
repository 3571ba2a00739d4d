import type { SchemaNode } from '../schema-node.js';

export const CODEC_IMPLS = ['auto', 'ts', 'native'] as const;
export type CodecImpl = (typeof CODEC_IMPLS)[number];

export interface CodecConfig {
  impl: CodecImpl;
}

export const codecSchema = {
  type: 'object',
  description: 'Guacamole protocol codec.',
  additionalProperties: false,
  properties: {
    impl: {
      type: 'string',
      enum: CODEC_IMPLS,
      default: 'auto',
      description:
        'Framer implementation: ts (TypeScript), native (C++ addon), auto (native when the addon is built and loads).',
    },
  },
} as const satisfies SchemaNode;
