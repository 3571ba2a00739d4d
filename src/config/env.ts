// GATEHOUSE_* environment variables: `GATEHOUSE_` + the key path in SCREAMING_SNAKE_CASE, segments joined
// by `__` (log.level → GATEHOUSE_LOG__LEVEL, proxy.clusterSize → GATEHOUSE_PROXY__CLUSTER_SIZE).

import { coerce } from './coerce.js';
import { closest } from './describe.js';
import { emptyLayer, type Layer, setAt } from './layer.js';
import { configSchema } from './schema.js';
import { leafPaths, schemaAt } from './schema-node.js';
import { describeSource } from './sources.js';

export const ENV_PREFIX = 'GATEHOUSE_';

/** Names the configuration file (the --config flag wins over it). */
export const CONFIG_FILE_VARIABLE = 'GATEHOUSE_CONFIG';

/** Older or shorter names accepted for a key. */
export const ENV_ALIASES: Readonly<Record<string, string>> = {
  GATEHOUSE_CODEC_IMPL: 'codec.impl',
};

/** GATEHOUSE_* variables that are not configuration: read by the build, test and native scripts. */
export const ENV_IGNORED: readonly string[] = [
  CONFIG_FILE_VARIABLE,
  'GATEHOUSE_NATIVE_PATH',
  'GATEHOUSE_TOKEN_KEY',
  'GATEHOUSE_FAULT_INJECTION',
  'GATEHOUSE_FUZZ_SECONDS',
  'GATEHOUSE_TEST_TIMEOUT_MS',
  'GATEHOUSE_SKIP_NATIVE',
  'GATEHOUSE_VERBOSE_BUILD',
  'GATEHOUSE_ADMIN_PASSWORD',
  'GATEHOUSE_WEBAPP_CHECK_RESPONSES',
  'GATEHOUSE_TEST_SHOW_LOGS',
  // The RDP engine build the tests run (the ASan one), instead of build/Release/gatehouse-rdp.
  'GATEHOUSE_RDP_ENGINE',
];

const snake = (segment: string): string => segment.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
const camel = (segment: string): string =>
  segment.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

export const envVarName = (path: readonly string[]): string => ENV_PREFIX + path.map(snake).join('__');

/** The key path a variable name would stand for (for variables that match no key). */
const guessPath = (variable: string): string =>
  variable.slice(ENV_PREFIX.length).split('__').map(camel).join('.');

/** Every configuration variable, canonical names first, then aliases, mapped to its dotted key path. */
export function envVariables(): Map<string, string> {
  const out = new Map<string, string>();
  for (const path of leafPaths(configSchema)) out.set(envVarName(path), path.join('.'));
  for (const [name, path] of Object.entries(ENV_ALIASES)) out.set(name, path);
  return out;
}

/**
 * The environment layer. Variables with an empty value count as unset; a GATEHOUSE_ variable that is not
 * a configuration key, an alias or on the ignore list is a problem naming the variable.
 */
export function envLayer(env: NodeJS.ProcessEnv): Layer {
  const layer = emptyLayer();
  const known = envVariables();
  const canonicalNames = [...known.keys()].filter((n) => !Object.hasOwn(ENV_ALIASES, n));
  // Canonical names after aliases, so GATEHOUSE_CODEC__IMPL wins over GATEHOUSE_CODEC_IMPL.
  const names = Object.keys(env)
    .filter((n) => n.startsWith(ENV_PREFIX) && env[n] !== undefined && env[n] !== '')
    .sort(
      (a, b) =>
        Number(!Object.hasOwn(ENV_ALIASES, a)) - Number(!Object.hasOwn(ENV_ALIASES, b)) || a.localeCompare(b),
    );
  for (const variable of names) {
    if (ENV_IGNORED.includes(variable)) continue;
    const raw = env[variable]!;
    const source = { kind: 'env', variable } as const;
    const dotted = known.get(variable);
    if (dotted === undefined) {
      const guess = closest(variable, canonicalNames);
      layer.issues.push({
        problem: 'unknown key',
        path: guessPath(variable),
        value: raw,
        expected: guess
          ? `a variable for a known key (did you mean ${guess}?)`
          : `a variable for a known key, one of ${canonicalNames.join(', ')}`,
        source: describeSource(source),
      });
      continue;
    }
    const path = dotted.split('.');
    const node = schemaAt(configSchema, path)!;
    setAt(layer.data, path, coerce(node, raw));
    layer.sources.set(dotted, source);
  }
  return layer;
}
