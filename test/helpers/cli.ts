/** Running the built CLI (dist/src/cli/main.js) as a child process, for the CLI tests. */
import { execFile } from 'node:child_process';
import { fromRoot } from './paths.js';

export const MAIN = fromRoot('dist', 'src', 'cli', 'main.js');

/** The caller's environment without GATEHOUSE_* variables (the test runner may set some). */
export const baseEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.startsWith('GATEHOUSE_')),
);

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** `gatehouse ARGS` with `env` over baseEnv; bounded to 20 s. */
export function gatehouse(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN, ...args],
      { env: { ...baseEnv, ...env }, timeout: 20_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
