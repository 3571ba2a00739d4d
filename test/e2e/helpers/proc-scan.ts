// Looking at live processes through /proc (Linux): which members of a process group still run, and which
// processes carry a marker (a unique temp path) on their command line. Zombies are not counted: a dead
// process waiting for init to reap it runs nothing.
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcInfo {
  pid: number;
  pgid: number;
  /** One letter: R, S, D, Z, T... */
  state: string;
  /** The command line, arguments joined by spaces (truncated to 300 characters). */
  cmdline: string;
}

/** Every live (non-zombie) process, or null where /proc cannot be read. */
export function liveProcesses(): ProcInfo[] | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  const out: ProcInfo[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so parse after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const state = fields[0] ?? '?';
      if (state === 'Z' || state === 'X') continue;
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'latin1')
        .replace(/\0/g, ' ')
        .trim()
        .slice(0, 300);
      out.push({ pid: Number(name), pgid: Number(fields[2]), state, cmdline });
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

/** Whether a process of the group is alive (not a zombie). Without /proc: whether any member exists. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  const procs = liveProcesses();
  return procs === null ? true : procs.some((p) => p.pgid === pgid);
}
