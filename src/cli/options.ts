// Command-line options shared by every command: the configuration file and the configuration flags.
import { CONFIG_FLAGS } from '../config/flags.js';

export interface OptionSpec {
  name: string;
  short?: string;
  type: 'string' | 'boolean';
  multiple?: boolean;
  /** Placeholder shown in help for a string option. */
  valueName?: string;
  help: string;
}

const configFlagHelp: Record<(typeof CONFIG_FLAGS)[number]['flag'], string> = {
  'log-level': 'log.level: fatal, error, warn, info, debug, trace or silent',
  'log-format': 'log.format: auto, json or pretty',
  'codec-impl': 'codec.impl: auto, ts or native',
  'guac-cluster-size': 'proxy.clusterSize: connection managers, 1-256 or auto (one per core)',
};

export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'config',
    short: 'c',
    type: 'string',
    valueName: 'FILE',
    help: 'configuration file, YAML or JSON (env GATEHOUSE_CONFIG)',
  },
  ...CONFIG_FLAGS.map(
    (f): OptionSpec => ({
      name: f.flag,
      type: 'string',
      valueName: f.valueName,
      help: configFlagHelp[f.flag],
    }),
  ),
  {
    name: 'set',
    type: 'string',
    multiple: true,
    valueName: 'KEY=VALUE',
    help: 'set any configuration key, e.g. --set log.level=debug (repeatable)',
  },
  {
    name: 'help',
    short: 'h',
    type: 'boolean',
    help: "show this help ('gatehouse COMMAND --help' for a command)",
  },
  { name: 'version', type: 'boolean', help: 'print the version' },
];
