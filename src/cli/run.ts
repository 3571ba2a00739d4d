// The CLI without the process: argv in, exit status out. main.ts supplies the process.
import { closest } from '../config/describe.js';
import { parseCommandLine, UsageError } from './args.js';
import { availableCommands, COMMANDS, findCommand } from './commands/index.js';
import type { Command } from './commands/types.js';
import { renderCommandHelp, renderHelp } from './help.js';
import { EXIT, type Io, USAGE_HINT } from './io.js';
import { GLOBAL_OPTIONS, type OptionSpec } from './options.js';
import { packageVersion } from './version.js';

function usageError(io: Io, message: string): number {
  io.err(`gatehouse: ${message}\n${USAGE_HINT}\n`);
  return EXIT.USAGE;
}

/** The command named, or the exit status of the error reported for it. */
function resolveCommand(io: Io, name: string): Command | number {
  const command = findCommand(name);
  if (command?.available) return command;
  if (command) return usageError(io, `'${name}' is not available in this version`);
  const guess = closest(
    name,
    availableCommands().map((c) => c.name),
  );
  return usageError(io, `unknown command '${name}'${guess ? ` (did you mean '${guess}'?)` : ''}`);
}

export async function run(argv: readonly string[], io: Io): Promise<number> {
  const commandOptions: OptionSpec[] = COMMANDS.flatMap((c) => c.options);
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv, [...GLOBAL_OPTIONS, ...commandOptions]);
  } catch (err) {
    if (err instanceof UsageError) return usageError(io, err.message);
    throw err;
  }
  const { command: name, values, given } = parsed;

  if (values.help === true && name === undefined) {
    io.out(renderHelp(packageVersion()));
    return EXIT.OK;
  }
  if (values.version === true) {
    io.out(`${packageVersion()}\n`);
    return EXIT.OK;
  }
  if (name === undefined) return usageError(io, 'no command given');

  const command = resolveCommand(io, name);
  if (typeof command === 'number') return command;
  const global = new Set(GLOBAL_OPTIONS.map((o) => o.name));
  const own = new Set(command.options.map((o) => o.name));
  const stray = given.find((g) => !global.has(g.name) && !own.has(g.name));
  if (stray) return usageError(io, `option '${stray.rawName}' is not valid for 'gatehouse ${command.name}'`);

  if (values.help === true) {
    io.out(renderCommandHelp(command));
    return EXIT.OK;
  }
  return command.run({ values, io });
}
