/**
 * The top functions by self time of a V8 CPU profile (node --cpu-prof), main thread only: work that sharp
 * does on libuv/libvips threads is not in it (the bench's per-thread CPU split shows that part).
 *
 *   node dist/bench/vnc/profile-summary.js FILE.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  name: string;
  selfMs: number;
  percent: number;
}

/** Self time per function (name + file:line), largest first; percentages of all sampled time. */
export function summarizeProfile(
  profile: CpuProfile,
  top = 25,
): { totalMs: number; entries: ProfileEntry[] } {
  const byId = new Map<number, ProfileNode>(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    total += dt;
    const n = byId.get(id);
    if (!n) return;
    const cf = n.callFrame;
    const where = cf.url ? ` ${shortUrl(cf.url)}:${cf.lineNumber + 1}` : '';
    const key = `${cf.functionName || '(anonymous)'}${where}`;
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  const entries = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, ms]) => ({ name, selfMs: ms, percent: (100 * ms) / Math.max(total, 1e-9) }));
  return { totalMs: total, entries };
}

function shortUrl(url: string): string {
  const m = /\/(dist\/.*|node_modules\/.*)$/.exec(url);
  return m ? (m[1] as string) : url.startsWith('node:') ? url : basename(url);
}

export function formatProfile(file: string, top = 25): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const { totalMs, entries } = summarizeProfile(profile, top);
  const lines = [`Main-thread profile ${basename(file)}: ${(totalMs / 1000).toFixed(1)} s sampled`, ''];
  lines.push('| self ms | % | function |', '| ---: | ---: | --- |');
  for (const e of entries) lines.push(`| ${e.selfMs.toFixed(0)} | ${e.percent.toFixed(1)} | \`${e.name}\` |`);
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node dist/bench/vnc/profile-summary.js FILE.cpuprofile [--top N]\n');
    process.exit(2);
  }
  const i = process.argv.indexOf('--top');
  const top = i > 0 ? Number(process.argv[i + 1]) || 25 : 25;
  process.stdout.write(`${formatProfile(file, top)}\n`);
}
