/**
 * The CPU profiles of a `--profile DIR` run, summarised for the report: for each profiled process (one
 * sub-directory each), every thread's profile (node names them CPU.<date>.<time>.<pid>.<thread>.<seq>;
 * thread 0 is the main thread, the proxy's managers are the worker threads 1..N) with its busiest functions.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { summarizeProfile } from '../vnc/profile-summary.js';

const PROCESS_LABELS: Record<string, string> = {
  'proxy-tunnel': "(a') gatehouse proxy → engine",
  'proxy-builtin': '(a) gatehouse proxy, built-in engine',
  lite: '(b) guacamole-lite',
};

/** The thread number of a node CPU profile file name, or -1. */
export function profileThread(file: string): number {
  const m = /^CPU\.\d+\.\d+\.\d+\.(\d+)\.\d+\.cpuprofile$/.exec(file);
  return m ? Number(m[1]) : -1;
}

function threadLabel(dir: string, thread: number): string {
  if (thread === 0) return 'main thread';
  return dir.startsWith('proxy') ? `manager ${thread - 1} (worker thread ${thread})` : `thread ${thread}`;
}

export function profileSection(root: string, top = 12): string {
  const out = ['## CPU profiles (whole run)', ''];
  let dirs: string[];
  try {
    dirs = readdirSync(root).sort();
  } catch {
    return `(no profiles in ${root})`;
  }
  for (const dir of dirs) {
    let files: string[];
    try {
      files = readdirSync(join(root, dir)).filter((f) => profileThread(f) >= 0);
    } catch {
      continue;
    }
    files.sort((a, b) => profileThread(a) - profileThread(b));
    for (const file of files) {
      const profile = JSON.parse(readFileSync(join(root, dir, file), 'utf8'));
      const { totalMs, entries } = summarizeProfile(profile, top);
      const idle = entries.find((e) => e.name.startsWith('(idle)'))?.selfMs ?? 0;
      out.push(
        `### ${PROCESS_LABELS[dir] ?? dir}, ${threadLabel(dir, profileThread(file))}`,
        '',
        `${join(dir, file)}: ${(totalMs / 1000).toFixed(1)} s sampled, ${((totalMs - idle) / 1000).toFixed(1)} s busy`,
        '',
        '| self ms | % of sampled | function |',
        '| ---: | ---: | --- |',
      );
      for (const e of entries)
        out.push(`| ${e.selfMs.toFixed(0)} | ${e.percent.toFixed(1)} | \`${e.name}\` |`);
      out.push('');
    }
  }
  return out.join('\n');
}
