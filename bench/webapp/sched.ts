/**
 * How long a process's busiest thread (its event loop: the webapp's main thread, the proxy's connection
 * manager) was ready to run but waited for a CPU: the run-queue delay from the scheduler's statistics
 * (/proc/PID/task/TID/schedstat: on-CPU ns, run-queue wait ns, timeslices). On a machine shared with other
 * work this shows whether a process got its core: time waiting is time its requests or relayed bytes were
 * held up by something else. (Threads are not summed: GC and libuv threads wait in parallel and would add
 * up past 100 %.)
 */
import { forEachThread } from '../helpers/proc-walk.js';

/** Per thread id: on-CPU and run-queue wait seconds so far. */
export type ThreadSched = Record<string, { cpuSec: number; waitSec: number }>;

/** Every live thread of `pid`; empty when unreadable (no schedstat, or the process is gone). */
export function threadSched(pid: number): ThreadSched {
  const out: ThreadSched = {};
  if (pid <= 0) return out;
  forEachThread(pid, (tid, read) => {
    const [cpu, wait] = read('schedstat').split(' ').map(Number);
    if (Number.isFinite(cpu) && Number.isFinite(wait))
      out[tid] = { cpuSec: (cpu as number) / 1e9, waitSec: (wait as number) / 1e9 };
  });
  return out;
}

/** The run-queue wait of the thread that ran most between a and b, % of wallSec; NaN without data. */
export function busiestThreadWaitPercent(a: ThreadSched, b: ThreadSched, wallSec: number): number {
  let best: { cpu: number; wait: number } | null = null;
  for (const [tid, end] of Object.entries(b)) {
    const start = a[tid];
    if (!start) continue;
    const cpu = end.cpuSec - start.cpuSec;
    if (!best || cpu > best.cpu) best = { cpu, wait: end.waitSec - start.waitSec };
  }
  return best && wallSec > 0 ? (100 * best.wait) / wallSec : Number.NaN;
}
