import type { OptionValues } from '../args.js';
import type { Io } from '../io.js';
import type { OptionSpec } from '../options.js';

export interface CommandContext {
  values: OptionValues;
  io: Io;
}

export interface Command {
  name: string;
  /** One line for the command list in --help. */
  summary: string;
  /** Paragraph for 'gatehouse COMMAND --help'. */
  description: string;
  /** Options only this command accepts (global options are accepted by all). */
  options: readonly OptionSpec[];
  /** False while the command is reserved: hidden from help, and invoking it is a usage error. */
  available: boolean;
  run(ctx: CommandContext): Promise<number>;
}
