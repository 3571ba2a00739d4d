// `gatehouse config`: print the effective configuration with secrets redacted, or validate it (--check).
import { EXIT, USAGE_HINT } from '../io.js';
import { loadConfigForCli } from '../load-config.js';
import type { Command } from './types.js';

export const CONFIG_FORMATS = ['yaml', 'json'] as const;
export type ConfigFormat = (typeof CONFIG_FORMATS)[number];

export const configCommand: Command = {
  name: 'config',
  summary: 'print the effective configuration (secrets redacted), or validate it with --check',
  description:
    'Prints the configuration after defaults, file, GATEHOUSE_* environment and flags are applied, with\n' +
    'secrets redacted. With --check, only validates: prints "configuration OK" and exits 0, or prints the\n' +
    'problems and exits 2.',
  options: [
    {
      name: 'check',
      type: 'boolean',
      help: 'validate only: "configuration OK" (exit 0) or the problems (exit 2)',
    },
    { name: 'format', type: 'string', valueName: 'FORMAT', help: 'output format: yaml (default) or json' },
  ],
  available: true,
  async run({ values, io }) {
    const format = (values.format as string | undefined) ?? 'yaml';
    if (!(CONFIG_FORMATS as readonly string[]).includes(format)) {
      io.err(`gatehouse: invalid value for --format: '${format}' (expected yaml or json)\n${USAGE_HINT}\n`);
      return EXIT.USAGE;
    }
    const loaded = await loadConfigForCli(values, io);
    if (loaded === undefined) return EXIT.USAGE;
    if (values.check === true) io.out('configuration OK\n');
    else {
      const { renderConfig } = await import('../render-config.js');
      io.out(renderConfig(loaded.config, format as ConfigFormat));
    }
    return EXIT.OK;
  },
};
