// The effective configuration: built-in defaults < file < GATEHOUSE_* environment < flags.
// Every layer is validated on its own so that each problem names where it came from.

import { CONFIG_FILE_VARIABLE, envLayer } from './env.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { fileLayer } from './file.js';
import { type ConfigFlags, flagLayer } from './flags.js';
import { deepMerge, type Layer, type Tree } from './layer.js';
import { configSchema, type GatehouseConfig } from './schema.js';
import { defaultsOf, leafPaths } from './schema-node.js';
import { type ConfigSource, describeSource } from './sources.js';
import { validateTree } from './validate.js';

export interface LoadOptions {
  /** Flag values from argv (util.parseArgs `values`): --config, --set, --log-level, ... */
  flags?: ConfigFlags;
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Directory a relative --config / GATEHOUSE_CONFIG is resolved against; defaults to process.cwd(). */
  cwd?: string;
}

export interface LoadedConfig {
  config: GatehouseConfig;
  /** Where each key's effective value came from, by dotted path. */
  sources: Record<string, ConfigSource>;
  /** The configuration file read, if any (absolute). */
  file?: string;
}

function sourceOf(layer: Layer, path: readonly string[]): ConfigSource {
  return layer.sources.get(path.join('.')) ?? layer.locate?.(path) ?? { kind: 'default' };
}

/** Loads and validates the configuration; throws ConfigError listing every problem found. */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const flags = options.flags ?? {};
  const layers: Layer[] = [];
  let file: string | undefined;

  const fileName = flags.config ?? (env[CONFIG_FILE_VARIABLE] || undefined);
  if (fileName !== undefined) {
    const origin: ConfigSource =
      flags.config !== undefined
        ? { kind: 'flag', flag: '--config' }
        : { kind: 'env', variable: CONFIG_FILE_VARIABLE };
    const layer = fileLayer(fileName, options.cwd ?? process.cwd(), origin);
    file = layer.file;
    layers.push(layer);
  }
  layers.push(envLayer(env), flagLayer(flags));

  const issues: ConfigIssue[] = [];
  for (const layer of layers) {
    issues.push(...layer.issues);
    issues.push(...validateTree(layer.data, (path) => describeSource(sourceOf(layer, path))));
  }
  if (issues.length > 0) throw new ConfigError(issues);

  let merged: Tree = defaultsOf(configSchema);
  const sources: Record<string, ConfigSource> = {};
  for (const path of leafPaths(configSchema)) sources[path.join('.')] = { kind: 'default' };
  for (const layer of layers) {
    merged = deepMerge(merged, layer.data);
    for (const [dotted, source] of layer.sources) sources[dotted] = source;
  }
  // Each layer was valid on its own; this catches a default that breaks its own schema.
  const mergedIssues = validateTree(merged, (path) =>
    describeSource(sources[path.join('.')] ?? { kind: 'default' }),
  );
  if (mergedIssues.length > 0) throw new ConfigError(mergedIssues);

  const result: LoadedConfig = { config: merged as unknown as GatehouseConfig, sources };
  if (file !== undefined) result.file = file;
  return result;
}
