// `gatehouse engine`: the guacd-compatible listener serving the built-in protocol engines, so that stock
// Guacamole software (guacamole-client, guacamole-lite) can use Gatehouse as its guacd. Runs until SIGTERM or
// SIGINT, which stop the listener and end every session with SESSION_CLOSED.
import { EXIT } from '../io.js';
import { loadConfigForCli } from '../load-config.js';
import { commandConfigOptions } from '../options.js';
import { nextSignal } from '../signals.js';
import { packageVersion } from '../version.js';
import type { Command } from './types.js';

export const engineCommand: Command = {
  name: 'engine',
  summary: 'run the engine role: a guacd-compatible listener (default 127.0.0.1:4822)',
  description:
    "Serves the built-in protocol engines over guacd's wire protocol on engine.listen (--listen HOST:PORT),\n" +
    'so guacamole-client or guacamole-lite can use Gatehouse as their guacd. Runs until SIGTERM or SIGINT,\n' +
    'which close the listener and end every session with SESSION_CLOSED. See docs/engine.md.',
  options: commandConfigOptions('engine'),
  available: true,
  async run({ values, io }) {
    const loaded = await loadConfigForCli(values, io, 'engine');
    if (loaded === undefined) return EXIT.USAGE;
    const { runEngineListener } = await import('../../engine/guacd/run.js');
    return runEngineListener(loaded.config, packageVersion(), nextSignal);
  },
};
