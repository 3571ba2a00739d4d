/**
 * Bytes each client process has received on its TCP connections to the RDP server, from the kernel's
 * tcp_info (`ss -tinp`: bytes_received per socket, with the owning process). /proc/PID/io cannot give this:
 * FreeRDP reads its socket with recv(), which rchar does not count.
 */
import { run } from '../../test/e2e/helpers/processes.js';

/**
 * pid → bytes received, summed over its sockets, from `ss -H -tinp` output: one record per socket, its first
 * line with `users:(("name",pid=N,fd=M),...)`, continued on lines that start with whitespace (bytes_received).
 */
export function parseSsReceived(text: string): Map<number, number> {
  const out = new Map<number, number>();
  const records: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (/^\s/.test(line) && records.length > 0) records[records.length - 1] += ` ${line.trim()}`;
    else records.push(line);
  }
  for (const rec of records) {
    const bytes = /\bbytes_received:(\d+)/.exec(rec);
    if (!bytes) continue;
    const pids = new Set([...rec.matchAll(/\bpid=(\d+)/g)].map((m) => Number(m[1])));
    for (const pid of pids) out.set(pid, (out.get(pid) ?? 0) + Number(bytes[1]));
  }
  return out;
}

/** pid → bytes received on established connections to host:port (the RDP server). */
export async function bytesFromServer(host: string, port: number): Promise<Map<number, number>> {
  const r = await run('ss', ['-H', '-tinp', 'state', 'established', 'dst', `${host}:${port}`], {
    timeoutMs: 5000,
  });
  return parseSsReceived(r.stdout.toString('utf8'));
}
