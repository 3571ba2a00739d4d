/** Running the built CLI (dist/src/cli/main.js) as a child process, for the CLI tests. */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
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

/** `gatehouse ARGS` with `env` over baseEnv, in `cwd` (default: this process's); bounded to 20 s. */
export function gatehouse(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN, ...args],
      { env: { ...baseEnv, ...env }, timeout: 20_000, ...(cwd === undefined ? {} : { cwd }) },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** One JSON log line of a role (pino); only the fields the tests look at are typed. */
export interface LogRecord {
  level: number;
  msg?: string;
  role?: string;
  codec?: { impl: string; requested: string; reason: string };
  plan?: { roles: string[]; connectionManagers: number };
  /** engine: { host, port }; proxy: "HOST:PORT". */
  listen?: { host: string; port: number } | string;
  /** webapp: its URL, e.g. https://127.0.0.1:8443 */
  url?: string;
}

/** A long-running `gatehouse ROLE ...` (engine, proxy, webapp, all) with its output as it comes. */
export interface RoleProcess {
  child: ChildProcess;
  /** stdout and stderr so far, interleaved as they arrived. */
  output(): string;
  /** The JSON log records of stdout so far (lines that are not JSON, like the admin password box, skipped). */
  records(): LogRecord[];
  /** The first record matching `test`, waiting up to `timeoutMs`; throws (with the output) if none comes. */
  waitFor(test: (r: LogRecord) => boolean, timeoutMs?: number): Promise<LogRecord>;
  /** Resolves with the exit code (null when killed by a signal). */
  exit: Promise<number | null>;
}

function parseRecord(line: string): LogRecord | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as LogRecord;
  } catch {
    return undefined;
  }
}

/**
 * Spawns `gatehouse ARGS` with `env` over baseEnv in `cwd`. The caller must stop it (`child.kill`) in a
 * finally block.
 */
export function startGatehouse(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): RoleProcess {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { ...baseEnv, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
  });
  let output = '';
  let stdout = '';
  const records: LogRecord[] = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output += text;
    stdout += text;
    const lines = stdout.split('\n');
    stdout = lines.pop()!;
    for (const line of lines) {
      const record = parseRecord(line.trim());
      if (record) records.push(record);
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    exit,
    output: () => output,
    records: () => [...records],
    async waitFor(test, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = records.find(test);
        if (hit) return hit;
        if (Date.now() > deadline || child.exitCode !== null || child.signalCode !== null)
          throw new Error(`log record not seen; output so far:\n${output}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}
