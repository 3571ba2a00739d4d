// Every subcommand, in help order. Role commands are reserved (available: false) until they work; then
// they move to their own file here and appear in --help.
import { EXIT } from '../io.js';
import { allCommand } from './all.js';
import { configCommand } from './config.js';
import { engineCommand } from './engine.js';
import { proxyCommand } from './proxy.js';
import { tokenCommand } from './token.js';
import type { Command } from './types.js';
import { webappCommand } from './webapp.js';

function _reserved(name: string, summary: string): Command {
  return {
    name,
    summary,
    description: summary,
    options: [],
    available: false,
    run: async () => EXIT.USAGE,
  };
}

export const COMMANDS: readonly Command[] = [
  allCommand,
  configCommand,
  engineCommand,
  proxyCommand,
  webappCommand,
  tokenCommand,
];

export const findCommand = (name: string): Command | undefined => COMMANDS.find((c) => c.name === name);
export const availableCommands = (): Command[] => COMMANDS.filter((c) => c.available);
