// Help text, built from the command registry: only available commands are listed.
import { availableCommands } from './commands/index.js';
import type { Command } from './commands/types.js';
import { GLOBAL_OPTIONS, type OptionSpec } from './options.js';

function optionLines(specs: readonly OptionSpec[]): string[] {
  const left = specs.map((s) => {
    const flag = `${s.short ? `-${s.short}, ` : '    '}--${s.name}`;
    return s.type === 'string' ? `${flag} ${s.valueName ?? 'VALUE'}` : flag;
  });
  const width = Math.max(...left.map((l) => l.length)) + 2;
  return specs.map((s, i) => `  ${left[i]!.padEnd(width)}${s.help}`);
}

const FOOTER = [
  'Configuration: built-in defaults < file (--config or GATEHOUSE_CONFIG) < GATEHOUSE_* environment < flags.',
  'Keys, variables and examples: docs/configuration.md.',
  'Exit status: 0 success, 1 runtime failure, 2 usage or configuration error.',
];

export function renderHelp(version: string): string {
  const commands = availableCommands();
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    `gatehouse ${version}: HTML5 remote access (RDP, VNC, SSH) over the Guacamole protocol`,
    '',
    'Usage: gatehouse [options] COMMAND [command options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Options:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    ...FOOTER,
    '',
  ].join('\n');
}

export function renderCommandHelp(command: Command): string {
  const own = command.options.map((o) =>
    o.type === 'string' ? `[--${o.name} ${o.valueName}]` : `[--${o.name}]`,
  );
  return [
    `Usage: gatehouse ${command.name} ${[...own, '[options]'].join(' ')}`,
    '',
    command.description,
    '',
    ...(command.options.length > 0
      ? [`Options of '${command.name}':`, ...optionLines(command.options), '']
      : []),
    'Options:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    ...FOOTER,
    '',
  ].join('\n');
}
