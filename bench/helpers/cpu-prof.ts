/** Node's CPU profiler on the command line of a benchmark's child process. */
import { mkdirSync } from 'node:fs';

/**
 * The node flags that write a V8 CPU profile of every thread into `dir` when the process exits (made here
 * if missing); none without a directory. They must go on the command line: NODE_OPTIONS refuses them.
 */
export function cpuProfArgs(dir: string | undefined): string[] {
  if (!dir) return [];
  mkdirSync(dir, { recursive: true });
  return ['--cpu-prof', '--cpu-prof-dir', dir];
}
