/** The webapp benchmark's whole result (JSON) and its short markdown report. */
import type { MachineMeta } from '../helpers/bench-run.js';
import { goalsSection, type Verdict } from '../helpers/goals.js';
import {
  type ApiRow,
  PATH_LABELS,
  type PathId,
  type PingEntry,
  PLACEMENT_LABELS,
  type Placement,
  type PlacementResult,
  pingEntries,
  type RelayCell,
  type RelaySlot,
  summarizeRelay,
  verdicts,
} from './report.js';

export interface WebappMeta extends MachineMeta {
  quick: boolean;
  /** taskset cores, or null when nothing was pinned. */
  pinning: { webappCore: number; otherCore: number } | null;
  webappLogLevel: string;
  /** What answered the webapp's proxy health checks. */
  healthSource: string;
  api: { connections: number; connectSec: number; warmupSec: number };
  relay: {
    sessions: number[];
    rounds: number;
    slotSec: number;
    warmupSec: number;
    clientProcesses: number;
    frames: number;
    meanFrameBytes: number;
    framesInFlight: number;
    samplerEveryMs: number;
  } | null;
  ping: { probes: number; rounds: number; gapMs: number } | null;
  loadStart: number[];
  loadEnd: number[];
  durationSec: number;
}

export interface WebappReport {
  meta: WebappMeta;
  api: ApiRow[];
  /** The relay phases, once per placement of the processes on the cores. */
  placements: PlacementResult[];
  verdicts: Verdict[];
}

/** What the relay phases measured with one placement (raw: slots and ping samples). */
export interface PlacementRaw {
  placement: Placement;
  relaySlots: RelaySlot[] | null;
  pingSamples: Partial<Record<PathId, { samplesMs: number[]; lost: number }>> | null;
}

export function buildReport(meta: WebappMeta, api: ApiRow[], raw: readonly PlacementRaw[]): WebappReport {
  const placements: PlacementResult[] = raw.map((p) => ({
    placement: p.placement,
    relay: p.relaySlots ? { slots: p.relaySlots, summary: summarizeRelay(p.relaySlots) } : null,
    ping: p.pingSamples ? pingEntries(p.pingSamples) : null,
  }));
  return { meta, api, placements, verdicts: verdicts(api, placements) };
}

const f = (x: number | undefined, d = 1): string =>
  x !== undefined && Number.isFinite(x) ? x.toFixed(d) : '–';

function apiTable(rows: readonly ApiRow[]): string[] {
  const out = [
    '| endpoint | database | transport | req/s | p50 / p90 / p99 ms | non-2xx, errors | webapp CPU % of its core | webapp event loop waited for a core % | webapp CPU ms/req | req/s per webapp core | DB server CPU % | machine busy % |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    out.push(
      `| ${r.endpoint} | ${r.database} | ${r.transport} | **${f(r.rps, 0)}** | ${f(r.p50Ms, 2)} / ${f(r.p90Ms, 2)} / ${f(r.p99Ms, 2)} | ` +
        `${r.non2xx}, ${r.errors + r.timeouts} | ${f(r.webappCpuPercent, 0)} | ${f(r.webappWaitPercent, 0)} | ${f(r.webappCpuMsPerRequest, 3)} | ${f(r.perCoreRps, 0)} | ` +
        `${f(r.dbCpuPercent, 0)} | ${f(r.machineBusyPercent, 0)} |`,
    );
  }
  return out;
}

function relayTable(cells: readonly RelayCell[]): string[] {
  const out = [
    '| tunnels | path | MB/s total | MB/s per tunnel | × direct | webapp CPU % | webapp event loop waited for a core % | webapp ms/MB | proxy CPU % | proxy event loop waited % | clients CPU % | machine busy % | loaded ping p50 / p99 ms |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const c of cells) {
    out.push(
      `| ${c.sessions} | ${PATH_LABELS[c.path]} | ${f(c.mbps, 1)} | ${f(c.mbpsPerTunnel, 1)} | ${f(c.ratioToDirect, 2)} | ` +
        `${f(c.webappCpuPercent, 0)} | ${f(c.webappWaitPercent, 0)} | ${f(c.webappMsPerMB, 2)} | ${f(c.proxyCpuPercent, 0)} | ${f(c.proxyWaitPercent, 0)} | ${f(c.clientCpuPercent, 0)} | ` +
        `${f(c.machineBusyPercent, 0)} | ${f(c.loadedRtt.p50, 2)} / ${f(c.loadedRtt.p99, 2)} |`,
    );
  }
  return out;
}

function pingTable(entries: readonly PingEntry[]): string[] {
  const out = [
    '| path | p50 / p90 / p99 / max ms | added p50 ms (95 % interval) | added p99 ms (95 % interval) | pings (lost) |',
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  const iv = (x: [number, number] | null): string => (x ? ` (${f(x[0], 3)} … ${f(x[1], 3)})` : '');
  for (const e of entries) {
    const s = e.stats;
    out.push(
      `| ${PATH_LABELS[e.path]} | ${f(s.p50, 3)} / ${f(s.p90, 3)} / ${f(s.p99, 3)} / ${f(s.max, 2)} | ` +
        `${e.path === 'direct' ? '–' : `${f(e.addedP50Ms, 3)}${iv(e.addedP50Interval)}`} | ` +
        `${e.path === 'direct' ? '–' : `${f(e.addedP99Ms, 3)}${iv(e.addedP99Interval)}`} | ${s.n} (${s.lost}) |`,
    );
  }
  return out;
}

export function formatMarkdown(r: WebappReport): string {
  const m = r.meta;
  const pin = m.pinning
    ? `API phase: webapp pinned to core ${m.pinning.webappCore} (taskset), everything else (autocannon, PostgreSQL, proxy) to core ${m.pinning.otherCore}`
    : 'nothing pinned (no taskset, a single core or --no-pin): "one core" is not enforced';
  const out: string[] = [
    `# Webapp benchmark, ${m.date.slice(0, 10)}${m.quick ? ' (--quick)' : ''}`,
    '',
    `${m.cpus} × ${m.cores}, Node ${m.node}; ${pin}. Webapp log level ${m.webappLogLevel}; proxy health checks answered by ${m.healthSource}. ` +
      `Load average at start ${m.loadStart.join(' ')}, at end ${m.loadEnd.join(' ')}; run ${f(m.durationSec, 0)} s.`,
    '',
  ];
  if (r.api.length > 0) {
    out.push(
      `## API (autocannon, ${m.api.connections} connections, keep-alive)`,
      '',
      `connect: ${m.api.connectSec} s after ${m.api.warmupSec} s warm-up, as a signed-in user (cookie + CSRF header); ` +
        'callback (`POST /api/proxy/redeem`): every token the connect run issued, each redeemed once.',
      '',
      ...apiTable(r.api),
      '',
    );
  }
  for (const p of r.placements) {
    const where = `${p.placement}: ${PLACEMENT_LABELS[p.placement]}`;
    if (p.relay && m.relay) {
      out.push(
        `## Relay throughput [${where}]`,
        '',
        `${m.relay.frames} synthetic frames of ${f(m.relay.meanFrameBytes / 1000, 1)} kB looped by a guacd stand-in, ` +
          `${m.relay.framesInFlight} in flight per tunnel; median of ${m.relay.rounds} round(s) × ${m.relay.slotSec} s after ` +
          `${m.relay.warmupSec} s warm-up, ${m.relay.clientProcesses} load-generator process(es); loaded ping: one tunnel ` +
          `ping every ${m.relay.samplerEveryMs} ms on one session per load generator.`,
        '',
        ...relayTable(p.relay.summary),
        '',
      );
    }
    if (p.ping && m.ping) {
      out.push(
        `## Ping round trip on an idle tunnel [${where}]`,
        '',
        `${m.ping.probes} pings per path in ${m.ping.rounds} round(s), one at a time, 0–${m.ping.gapMs} ms apart.`,
        '',
        ...pingTable(p.ping),
        '',
      );
    }
  }
  out.push(...goalsSection(r.verdicts));
  return out.join('\n');
}
