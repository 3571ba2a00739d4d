/**
 * CPU time per thread of a process (/proc/PID/task/TID/stat), by thread id: node names every worker and
 * pool thread "node", so only the id tells the proxy's manager event loops apart. The busiest threads of a
 * slot show whether a tunnel's event loop was saturated (near 100 % of a core) or had room.
 */
import { forEachThread } from '../helpers/proc-walk.js';
import { statCpuSeconds } from '../vnc/proc-stats.js';

/** utime + stime (seconds) per live thread id. */
export function threadTimes(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  forEachThread(pid, (tid, read) => {
    out[tid] = statCpuSeconds(read('stat'));
  });
  return out;
}

/** The `count` largest per-thread CPU uses between two samples, % of one core, largest first. */
export function busiestThreads(
  a: Readonly<Record<string, number>>,
  b: Readonly<Record<string, number>>,
  wallSec: number,
  count = 2,
): number[] {
  const used = Object.entries(b).map(([tid, cpu]) => (100 * Math.max(0, cpu - (a[tid] ?? 0))) / wallSec);
  used.sort((x, y) => y - x);
  const out = used.slice(0, count);
  while (out.length < count) out.push(0);
  return out;
}
