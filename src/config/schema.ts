// The configuration schema: one section per file under sections/. To add a section, write
// sections/NAME.ts (schema + TypeScript interface, `additionalProperties: false`, a `default` on every key)
// and add it to `sections` and `GatehouseConfig` below; env variables, --set and docs checks follow.
import type { SchemaNode } from './schema-node.js';
import { type CodecConfig, codecSchema } from './sections/codec.js';
import { type EngineConfig, engineSchema } from './sections/engine.js';
import { type LogConfig, logSchema } from './sections/log.js';
import { type ProxyConfig, proxySchema } from './sections/proxy.js';
import { type ProxyAuthConfig, proxyAuthSchema } from './sections/proxy-auth.js';
import { type WebappConfig, webappSchema } from './sections/webapp.js';

export interface GatehouseConfig {
  log: LogConfig;
  codec: CodecConfig;
  proxy: ProxyConfig;
  proxyAuth: ProxyAuthConfig;
  engine: EngineConfig;
  webapp: WebappConfig;
}

export const sections = {
  log: logSchema,
  codec: codecSchema,
  proxy: proxySchema,
  proxyAuth: proxyAuthSchema,
  engine: engineSchema,
  webapp: webappSchema,
} as const satisfies Record<keyof GatehouseConfig, SchemaNode>;

export const configSchema: SchemaNode = {
  type: 'object',
  additionalProperties: false,
  properties: sections,
};
