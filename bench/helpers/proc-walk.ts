/**
 * Walks over the processes of the machine and the threads of a process in /proc (Linux), skipping those
 * that end while they are read: the one loop behind bench/vnc's per-thread CPU and child lookup,
 * bench/tunnel's per-thread CPU and bench/webapp's scheduler statistics and process tree.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Reads one file of a process's (or thread's) /proc directory, e.g. 'stat'; throws if it is gone. */
export type ProcReader = (file: string) => string;

/**
 * The first live process for which `match` (given its pid and a reader of its /proc files) is true, or -1;
 * a process that ends meanwhile (`match` throws) is skipped.
 */
export function findProcess(match: (pid: number, read: ProcReader) => boolean): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (match(Number(entry), (file) => readFileSync(`/proc/${entry}/${file}`, 'utf8')))
        return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return -1;
}

/** Calls visit with every live process (as findProcess does). */
export function forEachProcess(visit: (pid: number, read: ProcReader) => void): void {
  findProcess((pid, read) => {
    visit(pid, read);
    return false;
  });
}

/**
 * Calls visit with every live thread id of `pid` and a reader of its /proc/PID/task/TID files; nothing
 * when the process is gone; a thread that ends meanwhile (visit throws) is skipped.
 */
export function forEachThread(pid: number, visit: (tid: string, read: ProcReader) => void): void {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return;
  }
  for (const tid of tids) {
    try {
      visit(tid, (file) => readFileSync(`/proc/${pid}/task/${tid}/${file}`, 'utf8'));
    } catch {
      // the thread ended meanwhile
    }
  }
}

/** The parent pid from a /proc stat line (the field after the state; the name may hold spaces and ')'). */
export function statParent(stat: string): number {
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}
