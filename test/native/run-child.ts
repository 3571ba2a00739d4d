/** Runs a child process to completion with captured output and a hard time limit (for the native tests). */
import { spawn } from 'node:child_process';

export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

export interface RunChildOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs: number;
  /** Start the child in a process group of its own. */
  detached?: boolean;
  /** What ends it at the time limit (default: SIGKILL to the child). */
  onTimeout?: () => void;
}

export function runChild(cmd: string, args: readonly string[], opts: RunChildOptions): Promise<ChildResult> {
  return new Promise((resolvePromise, reject) => {
    const started = Date.now();
    const child = spawn(cmd, args, {
      env: opts.env,
      cwd: opts.cwd,
      detached: opts.detached ?? false,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      if (opts.onTimeout) opts.onTimeout();
      else child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolvePromise({ status, signal, stdout, stderr, timedOut, ms: Date.now() - started });
    });
  });
}

/** The last `n` lines of a text, for assertion messages. */
export function tail(text: string, n = 40): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}
