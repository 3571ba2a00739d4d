// Command-line flags that set configuration: a few dedicated ones, and `--set key.path=value` for any key.

import { coerce } from './coerce.js';
import { closest } from './describe.js';
import { emptyLayer, type Layer, setAt } from './layer.js';
import { configSchema } from './schema.js';
import { isSection, leafPaths, schemaAt } from './schema-node.js';
import { describeSource } from './sources.js';

export interface ConfigFlagSpec {
  /** Long flag name without the dashes. */
  flag: string;
  /** Dotted key path it sets. */
  path: string;
  /** Placeholder for the value in help text. */
  valueName: string;
  /** The one command that accepts the flag; global (every command) when absent. */
  command?: string;
}

export const CONFIG_FLAGS = [
  { flag: 'log-level', path: 'log.level', valueName: 'LEVEL' },
  { flag: 'log-format', path: 'log.format', valueName: 'FORMAT' },
  { flag: 'codec-impl', path: 'codec.impl', valueName: 'IMPL' },
  { flag: 'guac-cluster-size', path: 'proxy.clusterSize', valueName: 'N|auto' },
  { flag: 'listen', path: 'engine.listen', valueName: 'HOST:PORT', command: 'engine' },
  { flag: 'listen', path: 'proxy.listen', valueName: 'HOST:PORT', command: 'proxy' },
  { flag: 'listen', path: 'webapp.listen', valueName: 'HOST:PORT', command: 'webapp' },
  { flag: 'listen', path: 'webapp.listen', valueName: 'HOST:PORT', command: 'all' },
] as const satisfies readonly ConfigFlagSpec[];

export type ConfigFlagName = (typeof CONFIG_FLAGS)[number]['flag'];

/** Configuration-related flag values as parsed from argv (util.parseArgs `values`). */
export type ConfigFlags = Partial<Record<ConfigFlagName, string>> & {
  /** --config FILE */
  config?: string;
  /** --set key.path=value, repeatable, applied in order. */
  set?: readonly string[];
  /** The command being run: a command-specific flag (e.g. --listen) sets only that command's key. */
  command?: string;
};

/**
 * The key a misspelt dotted path most likely meant. A leaf is compared with the other leaves of its own
 * section first (as for an unknown key in a file), so the shared `section.` prefix does not widen the typo
 * tolerance: `proxy.size` is a fragment of `proxy.clusterSize`, not a typo of `proxy.listen`. Then whole
 * paths of other sections (`engine.clusterSize` → `proxy.clusterSize`), then the leaf name anywhere.
 */
function guessKey(path: readonly string[], keys: readonly string[]): string | undefined {
  const last = path[path.length - 1]!;
  const prefix = `${path.slice(0, -1).join('.')}.`;
  if (path.length > 1) {
    const siblings = keys
      .filter((k) => k.startsWith(prefix) && !k.slice(prefix.length).includes('.'))
      .map((k) => k.slice(prefix.length));
    const sibling = closest(last, siblings);
    if (sibling !== undefined) return prefix + sibling;
  }
  const elsewhere = path.length > 1 ? keys.filter((k) => !k.startsWith(prefix)) : keys;
  const whole = closest(path.join('.'), elsewhere);
  if (whole !== undefined) return whole;
  const leaf = closest(
    last,
    keys.map((k) => k.split('.').pop()!),
  );
  return leaf === undefined ? undefined : keys.find((k) => k.endsWith(`.${leaf}`));
}

/** The flags layer: --set values in order, then the dedicated flags (which win over --set). */
export function flagLayer(flags: ConfigFlags): Layer {
  const layer = emptyLayer();
  const apply = (dotted: string, raw: string, flag: string): void => {
    const source = { kind: 'flag', flag } as const;
    const path = dotted.split('.');
    const node = schemaAt(configSchema, path);
    if (node === undefined || isSection(node)) {
      const keys = leafPaths(configSchema).map((p) => p.join('.'));
      const guess = guessKey(path, keys);
      layer.issues.push({
        problem: 'unknown key',
        path: dotted,
        value: raw,
        expected: node
          ? `a key inside the section, one of ${keys.filter((k) => k.startsWith(`${dotted}.`)).join(', ')}`
          : `a known key${guess ? ` (did you mean ${guess}?)` : `, one of ${keys.join(', ')}`}`,
        source: describeSource(source),
      });
      return;
    }
    setAt(layer.data, path, coerce(node, raw));
    layer.sources.set(dotted, source);
  };

  for (const assignment of flags.set ?? []) {
    const eq = assignment.indexOf('=');
    if (eq <= 0) {
      layer.issues.push({
        problem: 'invalid value',
        path: '--set',
        value: assignment,
        expected: 'key.path=value, e.g. --set log.level=debug',
        source: describeSource({ kind: 'flag', flag: '--set' }),
      });
      continue;
    }
    const key = assignment.slice(0, eq).trim();
    apply(key, assignment.slice(eq + 1), `--set ${key}`);
  }
  for (const spec of CONFIG_FLAGS as readonly ConfigFlagSpec[]) {
    if (spec.command !== undefined && flags.command !== undefined && spec.command !== flags.command) continue;
    const raw = flags[spec.flag as ConfigFlagName];
    if (raw !== undefined) apply(spec.path, raw, `--${spec.flag}`);
  }
  return layer;
}
