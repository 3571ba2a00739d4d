// What a command may touch: output streams, environment, working directory. main.ts wires the process.

export interface Io {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export const EXIT = {
  OK: 0,
  /** Runtime failure. */
  FAILURE: 1,
  /** Bad usage or invalid configuration. */
  USAGE: 2,
} as const;

export const USAGE_HINT = "Run 'gatehouse --help' for usage.";
