/**
 * CPU time and memory of another process, read from /proc (Linux): utime + stime of every thread (the
 * whole process, from /proc/PID/stat, or per thread from /proc/PID/task/TID/stat), VmRSS / VmHWM from
 * /proc/PID/status, and rchar / wchar (bytes through read()/write(), sockets included) from /proc/PID/io.
 */
import { readFileSync } from 'node:fs';
import { findProcess, forEachThread, statParent } from '../helpers/proc-walk.js';

/** Clock ticks per second of /proc's utime/stime (sysconf(_SC_CLK_TCK); 100 on every Linux we run). */
export const CLK_TCK = 100;

export interface ProcSample {
  /** When the sample was taken (ms, performance.now()). */
  at: number;
  /** utime + stime of all threads, seconds. */
  cpuSec: number;
  rssBytes: number;
  /** Peak RSS so far. */
  hwmBytes: number;
  /** Bytes read through read()-like calls (sockets included); -1 if /proc/PID/io is not readable. */
  rchar: number;
  wchar: number;
  /** CPU seconds per thread group: 'main' (the thread whose id is the pid), else the thread's name. */
  threads: Record<string, number>;
}

/** utime + stime (seconds) from a /proc stat line; the command name may contain spaces and parentheses. */
export function statCpuSeconds(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name: state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15)
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

function statusKb(status: string, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

function ioCounters(pid: number): { rchar: number; wchar: number } {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const get = (k: string): number => Number(new RegExp(`^${k}: (\\d+)`, 'm').exec(io)?.[1] ?? -1);
    return { rchar: get('rchar'), wchar: get('wchar') };
  } catch {
    return { rchar: -1, wchar: -1 };
  }
}

/** CPU seconds per thread group (see ProcSample.threads). Threads that ended are not counted here. */
function threadCpu(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  forEachThread(pid, (tid, read) => {
    const cpu = statCpuSeconds(read('stat'));
    const name = tid === String(pid) ? 'main' : read('comm').trim();
    out[name] = (out[name] ?? 0) + cpu;
  });
  return out;
}

/** A sample of the process; throws if it is gone. */
export function sampleProcess(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    at: performance.now(),
    cpuSec: statCpuSeconds(stat),
    rssBytes: statusKb(status, 'VmRSS'),
    hwmBytes: statusKb(status, 'VmHWM'),
    ...ioCounters(pid),
    threads: threadCpu(pid),
  };
}

/** Differences between two samples of one process. */
export interface ProcDelta {
  wallSec: number;
  cpuSec: number;
  rchar: number;
  wchar: number;
  threads: Record<string, number>;
}

export function procDelta(a: ProcSample, b: ProcSample): ProcDelta {
  const threads: Record<string, number> = {};
  for (const [k, v] of Object.entries(b.threads)) threads[k] = Math.max(0, v - (a.threads[k] ?? 0));
  return {
    wallSec: (b.at - a.at) / 1000,
    cpuSec: b.cpuSec - a.cpuSec,
    rchar: a.rchar < 0 || b.rchar < 0 ? -1 : b.rchar - a.rchar,
    wchar: a.wchar < 0 || b.wchar < 0 ? -1 : b.wchar - a.wchar,
    threads,
  };
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** The whole machine's CPU time so far (all cores, seconds): busy and total (busy + idle + iowait). */
export function machineCpu(): { busySec: number; totalSec: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busySec: (total - idle) / CLK_TCK, totalSec: total / CLK_TCK };
}

/** The pid of a direct child of `parent` whose command name (comm) is `comm`, or -1. */
export function findChild(parent: number, comm: string): number {
  return findProcess((_pid, read) => {
    const stat = read('stat');
    return statParent(stat) === parent && stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === comm;
  });
}
