/**
 * The API phase's load: autocannon (in this process) against one webapp's connect endpoint and its proxy
 * callback. Connect runs for a fixed time as the signed-in bench user (cookie + CSRF header, as the UI
 * sends it) and keeps every token it is given; the callback run then redeems those tokens, each exactly
 * once (a fresh token per request, fed by setupRequest), as the bench proxy with its secret. Latency is
 * taken per response from autocannon's `response` event (sub-millisecond), beside autocannon's own
 * whole-millisecond histogram. CPU of the webapp (and of the database server) is read from /proc.
 */
import autocannon from 'autocannon';
import { machineCpu, sampleProcess } from '../vnc/proc-stats.js';
import type { BenchWebapp } from './processes.js';
import { descendants, PROXY_NAME } from './processes.js';
import type { AutocannonFigures, LoadMeasure } from './report.js';
import { busiestThreadWaitPercent, threadSched } from './sched.js';

export interface LoadOptions {
  connections: number;
  durationSec: number;
  warmupSec: number;
  /** The database server's root process (PostgreSQL's postmaster), for its CPU; -1 when none. */
  dbPid: number;
}

/** Most latency samples kept per run. */
const MAX_SAMPLES = 2_000_000;

/** utime + stime of a process and all its descendants, seconds (0 for a process that is gone). */
export function treeCpuSec(pid: number): number {
  if (pid <= 0) return 0;
  let sum = 0;
  for (const p of [pid, ...descendants(pid)]) {
    try {
      sum += sampleProcess(p).cpuSec;
    } catch {
      // gone meanwhile
    }
  }
  return sum;
}

function figures(r: autocannon.Result): AutocannonFigures {
  const statusCodes: Record<string, number> = {};
  for (const [code, v] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = Number(v?.count ?? 0);
  return {
    durationSec: r.duration,
    ok2xx: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    latencyP50Ms: r.latency.p50,
    latencyP99Ms: r.latency.p99,
    latencyMaxMs: r.latency.max,
    statusCodes,
  };
}

type Options = autocannon.Options;

/** One autocannon run with per-response latency samples and the CPU of the webapp and database. */
async function measured(w: BenchWebapp, dbPid: number, options: Options): Promise<LoadMeasure> {
  const latenciesMs: number[] = [];
  const cpu0 = {
    webapp: sampleProcess(w.pid).cpuSec,
    sched: threadSched(w.pid),
    db: treeCpuSec(dbPid),
    machine: machineCpu(),
  };
  const t0 = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options, (err: unknown, r: autocannon.Result) => {
      if (err) reject(err instanceof Error ? err : new Error(String(err)));
      else resolve(r);
    });
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300 && latenciesMs.length < MAX_SAMPLES) latenciesMs.push(ms);
    });
  });
  const wallSec = (performance.now() - t0) / 1000;
  const machine = machineCpu();
  return {
    autocannon: figures(result),
    latenciesMs,
    wallSec,
    webappCpuSec: sampleProcess(w.pid).cpuSec - cpu0.webapp,
    webappWaitPercent: busiestThreadWaitPercent(cpu0.sched, threadSched(w.pid), wallSec),
    dbCpuSec: dbPid > 0 ? treeCpuSec(dbPid) - cpu0.db : Number.NaN,
    machineBusySec: machine.busySec - cpu0.machine.busySec,
    machineTotalSec: machine.totalSec - cpu0.machine.totalSec,
  };
}

/** connect for warmupSec (not measured) then durationSec; returns the measure and every token issued. */
export async function connectLoad(
  w: BenchWebapp,
  o: LoadOptions,
): Promise<{ measure: LoadMeasure; tokens: string[] }> {
  const tokens: string[] = [];
  const options = (seconds: number): Options => ({
    url: w.url,
    connections: o.connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: `/api/servers/${w.serverId}/connect`,
        headers: w.user.authHeaders(),
        onResponse: (status: number, body: string) => {
          if (status !== 200) return;
          try {
            const token = (JSON.parse(body) as { token?: unknown }).token;
            if (typeof token === 'string') tokens.push(token);
          } catch {
            // counted by autocannon as a 200; a body that is not JSON leaves no token
          }
        },
      },
    ],
  });
  if (o.warmupSec > 0) await measured(w, o.dbPid, options(o.warmupSec));
  const measure = await measured(w, o.dbPid, options(o.durationSec));
  return { measure, tokens };
}

/**
 * Redeems the tokens, each once (a warm-up on the first tenth, at most 1000), as the bench proxy. Needs at
 * least 2 × connections tokens.
 */
export async function callbackLoad(
  w: BenchWebapp,
  tokens: readonly string[],
  o: LoadOptions,
): Promise<LoadMeasure> {
  if (tokens.length < 4 * o.connections) {
    throw new Error(
      `only ${tokens.length} tokens for ${o.connections} connections: the connect run issued too few`,
    );
  }
  let next = 0;
  const body = (): string => {
    // Past the end (never with the amounts below) a token nobody issued: a 401, counted as non-2xx.
    const token = tokens[next++] ?? 'x'.repeat(43);
    return JSON.stringify({ token, proxy: { id: PROXY_NAME }, client: { remoteAddress: '127.0.0.1' } });
  };
  const options = (amount: number): Options => ({
    url: w.url,
    connections: o.connections,
    amount,
    requests: [
      {
        method: 'POST',
        path: '/api/proxy/redeem',
        headers: { authorization: `Bearer ${w.proxySecret}`, 'content-type': 'application/json' },
        setupRequest: (req) => ({ ...req, body: body() }),
      },
    ],
  });
  const warm = Math.min(1000, Math.floor(tokens.length / 10));
  if (o.warmupSec > 0 && warm >= o.connections) await measured(w, o.dbPid, options(warm));
  const left = tokens.length - next - o.connections;
  return measured(w, o.dbPid, options(left));
}
