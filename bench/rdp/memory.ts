/**
 * A process's memory from /proc (Linux): VmRSS and VmHWM (peak) from /proc/PID/status, and from
 * /proc/PID/smaps_rollup the proportional set size (PSS: shared pages divided among the processes that map
 * them), the unique set size (USS: Private_Clean + Private_Dirty, what ending the process would free) and
 * the anonymous memory (heap, framebuffers). For one process per session, USS is the cost of one more
 * session once the shared libraries are loaded by another; RSS counts those libraries in full.
 */
import { readFileSync } from 'node:fs';

export interface MemorySample {
  rssBytes: number;
  hwmBytes: number;
  /** -1 when smaps_rollup cannot be read. */
  pssBytes: number;
  ussBytes: number;
  anonBytes: number;
}

/** `key:   123 kB` from a /proc status or smaps file, in bytes; -1 if absent. */
export function kbField(text: string, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) * 1024 : -1;
}

/** PSS, USS and anonymous bytes from the text of /proc/PID/smaps_rollup (-1 each if missing). */
export function parseSmapsRollup(text: string): Pick<MemorySample, 'pssBytes' | 'ussBytes' | 'anonBytes'> {
  const clean = kbField(text, 'Private_Clean');
  const dirty = kbField(text, 'Private_Dirty');
  return {
    pssBytes: kbField(text, 'Pss'),
    ussBytes: clean < 0 || dirty < 0 ? -1 : clean + dirty,
    anonBytes: kbField(text, 'Anonymous'),
  };
}

/** The memory of `pid`; throws if the process is gone. */
export function sampleMemory(pid: number): MemorySample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  let rollup = '';
  try {
    rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  } catch {
    // older kernels, or not ours to read
  }
  return {
    rssBytes: kbField(status, 'VmRSS'),
    hwmBytes: kbField(status, 'VmHWM'),
    ...parseSmapsRollup(rollup),
  };
}

/** The resident memory of one mapped file (or of all anonymous mappings: '[anon]', '[heap]', '[stack]'). */
export interface MappingRss {
  name: string;
  rssBytes: number;
  /** Of which anonymous (for a file: its copied-on-write pages, e.g. relocations). */
  anonBytes: number;
}

export interface MemoryBreakdown {
  /** Anonymous memory of the whole process (heap, framebuffers, stacks, relocated pages). */
  anonBytes: number;
  /** Resident pages of mapped files that are not anonymous: shared libraries' code and data. */
  fileBytes: number;
  /** The largest mappings by RSS, largest first. */
  top: MappingRss[];
}

/** RSS by mapping name from the text of /proc/PID/smaps (unnamed mappings as '[anon]'). */
export function parseSmaps(text: string, top = 10): MemoryBreakdown {
  const by = new Map<string, MappingRss>();
  let current: MappingRss | undefined;
  for (const line of text.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+(?:\s+(.*))?$/.exec(line);
    if (head) {
      const name = head[1]?.trim() || '[anon]';
      current = by.get(name);
      if (!current) {
        current = { name, rssBytes: 0, anonBytes: 0 };
        by.set(name, current);
      }
      continue;
    }
    const kb = /^(Rss|Anonymous):\s+(\d+) kB/.exec(line);
    if (kb && current) {
      if (kb[1] === 'Rss') current.rssBytes += Number(kb[2]) * 1024;
      else current.anonBytes += Number(kb[2]) * 1024;
    }
  }
  const all = [...by.values()];
  const anonBytes = all.reduce((n, m) => n + m.anonBytes, 0);
  const fileBytes = all
    .filter((m) => m.name.startsWith('/'))
    .reduce((n, m) => n + m.rssBytes - m.anonBytes, 0);
  return { anonBytes, fileBytes, top: all.sort((a, b) => b.rssBytes - a.rssBytes).slice(0, top) };
}

/** The memory breakdown of `pid` (null if smaps cannot be read). */
export function memoryBreakdown(pid: number): MemoryBreakdown | null {
  try {
    return parseSmaps(readFileSync(`/proc/${pid}/smaps`, 'utf8'));
  } catch {
    return null;
  }
}
