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

/** Help text by the key a flag sets (a flag name may set different keys for different commands). */
const configFlagHelp: Record<(typeof CONFIG_FLAGS)[number]['path'], string> = {
  'log.level': 'log.level: fatal, error, warn, info, debug, trace or silent',
  'log.format': 'log.format: auto, json or pretty',
  'codec.impl': 'codec.impl: auto, ts or native',
  'proxy.clusterSize': 'proxy.clusterSize: connection managers, 1-256 or auto (one per core)',
  'engine.listen': 'engine.listen: address of the guacd-compatible listener (default 127.0.0.1:4822)',
  'proxy.listen': 'proxy.listen: address of the front end, HTTP and /tunnel (default 127.0.0.1:8080)',
  'webapp.listen': 'webapp.listen: address of the web UI, API and tunnel relay (default 127.0.0.1:8443)',
};

type ConfigFlag = (typeof CONFIG_FLAGS)[number];

const flagOption = (f: ConfigFlag): OptionSpec => ({
  name: f.flag,
  type: 'string',
  valueName: f.valueName,
  help: configFlagHelp[f.path],
});

/** The configuration flags only `command` accepts, as that command's options. */
export const commandConfigOptions = (command: string): OptionSpec[] =>
  CONFIG_FLAGS.filter((f) => 'command' in f && f.command === command).map(flagOption);

export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'config',
    short: 'c',
    type: 'string',
    valueName: 'FILE',
    help: 'configuration file, YAML or JSON (env GATEHOUSE_CONFIG)',
  },
  ...CONFIG_FLAGS.filter((f) => !('command' in f)).map(flagOption),
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
