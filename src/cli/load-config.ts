// Loads the configuration from the command line and environment for a command; on a problem prints it
// and returns undefined (the caller exits 2).

import { ConfigError } from '../config/errors.js';
import { CONFIG_FLAGS, type ConfigFlags } from '../config/flags.js';
import type { LoadedConfig } from '../config/load.js';
import type { OptionValues } from './args.js';
import type { Io } from './io.js';

/** The configuration flags among the parsed option values. */
export function configFlagsFrom(values: OptionValues, command?: string): ConfigFlags {
  const flags: Record<string, string | readonly string[]> = {};
  if (command !== undefined) flags.command = command;
  for (const name of ['config', ...new Set(CONFIG_FLAGS.map((f) => f.flag))]) {
    const value = values[name];
    if (typeof value === 'string') flags[name] = value;
  }
  const set = values.set;
  if (Array.isArray(set)) flags.set = set;
  return flags as ConfigFlags;
}

export async function loadConfigForCli(
  values: OptionValues,
  io: Io,
  command?: string,
): Promise<LoadedConfig | undefined> {
  // Loaded on demand: ajv and yaml are not needed for --help and --version.
  const { loadConfig } = await import('../config/load.js');
  try {
    return loadConfig({ flags: configFlagsFrom(values, command), env: io.env, cwd: io.cwd });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err(`gatehouse: ${err.message}\nSee docs/configuration.md for the keys, their values and sources.\n`);
    return undefined;
  }
}
