/**
 * Webapp benchmark (issue 6): the broker's connect and proxy-callback endpoints under autocannon on SQLite
 * and on PostgreSQL, and the tunnel relay's throughput and added latency against connecting to the proxy
 * directly — all in one run, with the webapp in a process of its own pinned to one core (taskset).
 *
 * - API: `gatehouse webapp` (HTTPS, the default; and plain HTTP on SQLite) with a bench user, a VNC server
 *   granted to them and a record of a real `gatehouse proxy` (which answers the health checks). autocannon
 *   (in this process, on the other core) posts connect for --seconds, keeping every token issued; the
 *   callback run then redeems each of those tokens once, as the proxy.
 * - Relay: the same proxy and the same byte source (bench/tunnel's replaying guacd stand-in looping
 *   synthetic frames) reached directly, through the HTTP webapp's relay and through the HTTPS webapp's
 *   relay: MB/s at 1, 10 and 50 tunnels, and tunnel-ping round trips on an idle tunnel.
 *
 * Writes bench/results/webapp.json and webapp.md (webapp-quick.* with --quick).
 *
 *   node dist/bench/webapp.js [--quick] [--seconds 10] [--warmup 2] [--connections 16]
 *        [--relay-sessions 1,10,50] [--rounds 2] [--slot 4] [--relay-warmup 1] [--frame-kb 16] [--clients 2]
 *        [--probes 2000] [--ping-rounds 3] [--ping-gap 1] [--sampler-ms 20] [--log-level warn]
 *        [--skip-api] [--skip-pg] [--skip-relay] [--skip-ping] [--placements pinned,shared] [--no-pin]
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LOOPBACK } from '../test/e2e/helpers/free-port.js';
import { registerTempDir, removeTempDir } from '../test/e2e/helpers/processes.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { BenchRun, loadavg, machineMeta, writeResults } from './helpers/bench-run.js';
import { startReplayGuacd } from './tunnel/processes.js';
import { callbackLoad, connectLoad } from './webapp/api-load.js';
import { syntheticFrames } from './webapp/frames.js';
import { buildReport, formatMarkdown, type PlacementRaw, type WebappMeta } from './webapp/markdown.js';
import {
  allCores,
  type BenchWebapp,
  findPostmaster,
  pinningPlan,
  pinTree,
  RelayClientProcess,
  startBenchWebapp,
  startIdleGuacd,
  startRedeemingProxy,
} from './webapp/processes.js';
import { RedeemShim } from './webapp/redeem-shim.js';
import { pingPhase, type RelayWorld, throughputPhase } from './webapp/relay-phase.js';
import { type ApiRow, apiRow, PLACEMENT_LABELS, type Placement } from './webapp/report.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string', default: '16' },
    'relay-sessions': { type: 'string' },
    rounds: { type: 'string' },
    slot: { type: 'string' },
    'relay-warmup': { type: 'string' },
    'frame-kb': { type: 'string', default: '16' },
    clients: { type: 'string', default: '2' },
    probes: { type: 'string' },
    'ping-rounds': { type: 'string' },
    'ping-gap': { type: 'string', default: '1' },
    'sampler-ms': { type: 'string', default: '20' },
    'log-level': { type: 'string', default: 'warn' },
    'skip-api': { type: 'boolean', default: false },
    'skip-pg': { type: 'boolean', default: false },
    'skip-relay': { type: 'boolean', default: false },
    'skip-ping': { type: 'boolean', default: false },
    'no-pin': { type: 'boolean', default: false },
    placements: { type: 'string' },
  },
});
const quick = values.quick === true;
const num = (
  name: keyof typeof values,
  full: string,
  fast: string,
  min: number,
  integer: boolean,
): number => {
  const raw = values[name];
  const v = Number(typeof raw === 'string' ? raw : quick ? fast : full);
  if (!Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
    throw new Error(`--${name} must be ${integer ? 'an integer' : 'a number'} ≥ ${min}`);
  }
  return v;
};
const connectSec = num('seconds', '10', '2', 1, false);
const warmupSec = num('warmup', '2', '0.5', 0, false);
const connections = num('connections', '16', '16', 1, true);
const rounds = num('rounds', '2', '1', 1, true);
const slotSec = num('slot', '4', '2', 0.5, false);
const relayWarmupSec = num('relay-warmup', '1', '0.5', 0, false);
const frameKb = num('frame-kb', '16', '16', 1, false);
const clientCount = num('clients', '2', '2', 1, true);
const probes = num('probes', '2000', '300', 10, true);
const pingRounds = num('ping-rounds', '3', '1', 1, true);
const pingGapMs = num('ping-gap', '1', '1', 0, false);
const samplerMs = num('sampler-ms', '20', '20', 0, true);
const relaySessions = String(values['relay-sessions'] ?? (quick ? '1,10' : '1,10,50'))
  .split(',')
  .map(Number);
if (relaySessions.some((n) => !Number.isInteger(n) || n < 1 || n > 500)) {
  throw new Error('--relay-sessions must be a comma-separated list of integers 1..500');
}
const placements = String(values.placements ?? (quick ? 'pinned' : 'pinned,shared'))
  .split(',')
  .filter((p) => p !== '') as Placement[];
if (placements.length === 0 || placements.some((p) => p !== 'pinned' && p !== 'shared')) {
  throw new Error('--placements must be a comma-separated list of pinned and shared');
}
const logLevel = String(values['log-level']);
if (!['warn', 'info', 'debug'].includes(logLevel)) throw new Error('--log-level must be warn, info or debug');
/** Frames in flight per tunnel in bench/tunnel/replay-guacd.ts (its WINDOW; that file is a program, not a module). */
const FRAMES_IN_FLIGHT = 3;
const WIDTH = 1024;
const HEIGHT = 768;
const budgetMs = (quick ? 3 : 15) * 60_000;
// Everything started is stopped: at the end, on error, on Ctrl-C, and after the time budget.
const run = new BenchRun({ name: 'webapp', budgetMs });
const { log, own } = run;

async function apiPhase(
  apps: Array<{ app: BenchWebapp; transport: ApiRow['transport'] }>,
  dbPid: number,
): Promise<ApiRow[]> {
  const rows: ApiRow[] = [];
  for (const { app, transport } of apps) {
    const o = {
      connections,
      durationSec: connectSec,
      warmupSec,
      dbPid: app.dialect === 'postgres' ? dbPid : -1,
    };
    const { measure, tokens } = await connectLoad(app, o);
    const connect = apiRow('connect', app.dialect, transport, measure);
    rows.push(connect);
    log(
      `${app.label} connect: ${connect.rps.toFixed(0)} req/s, p99 ${connect.p99Ms.toFixed(2)} ms, ${tokens.length} tokens`,
    );
    const callback = apiRow('callback', app.dialect, transport, await callbackLoad(app, tokens, o));
    rows.push(callback);
    log(`${app.label} callback: ${callback.rps.toFixed(0)} req/s, p99 ${callback.p99Ms.toFixed(2)} ms`);
  }
  return rows;
}

async function main(): Promise<void> {
  const loadStart = loadavg();
  // Before this process is pinned: availableParallelism() follows the CPU affinity.
  const cores = availableParallelism();
  const pin = values['no-pin'] ? null : pinningPlan();
  const other = pin?.otherCore ?? null;
  if (pin) await pinTree(process.pid, pin.otherCore);
  log(
    pin
      ? `webapp on core ${pin.webappCore}, the rest on core ${pin.otherCore}`
      : 'no CPU pinning (taskset or a second core missing)',
  );

  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-bench-webapp-frames-'));
  registerTempDir(dir);
  own({ stop: () => removeTempDir(dir) });
  const frames = syntheticFrames(64, Math.round(frameKb * 1000));
  const framesFile = join(dir, 'frames.json');
  await writeFile(framesFile, JSON.stringify(frames.frames));
  const replay = own(await startReplayGuacd(framesFile));
  const idle = own(await startIdleGuacd());
  const shimToken = randomBytes(24).toString('hex');
  const shim = own(await RedeemShim.start(shimToken));
  const proxy = own(await startRedeemingProxy({ redeemUrl: shim.url, proxyToken: shimToken, core: other }));
  if (pin) await pinTree(replay.pid, pin.otherCore);
  log(
    `proxy pid ${proxy.pid}, replaying guacd pid ${replay.pid} (${frames.frames.length} frames of ${(frames.meanBytes / 1000).toFixed(1)} kB)`,
  );

  const withPg = !values['skip-api'] && !values['skip-pg'];
  let dbPid = -1;
  let pgUrl = '';
  if (withPg) {
    const pg = own(await startPostgres());
    pgUrl = pg.url;
    dbPid = findPostmaster(pg.port);
    if (pin && dbPid > 0) await pinTree(dbPid, pin.otherCore);
    log(`PostgreSQL on port ${pg.port} (postmaster pid ${dbPid})`);
  }
  const webappCore = pin?.webappCore ?? null;
  const start = (label: string, database: string, tls: boolean) =>
    startBenchWebapp({ label, database, tls, core: webappCore, logLevel, proxyAddress: proxy.url }).then(own);
  const tlsApp = await start('sqlite-https', '', true);
  const httpApp = await start('sqlite-http', '', false);
  const pgApp = withPg ? await start('postgres-https', pgUrl, true) : null;
  log(
    `webapps: ${[tlsApp, httpApp, pgApp]
      .filter((a) => a)
      .map((a) => `${a?.label} pid ${a?.pid}`)
      .join(', ')}`,
  );

  let api: ApiRow[] = [];
  if (!values['skip-api']) {
    const apps: Array<{ app: BenchWebapp; transport: ApiRow['transport'] }> = [
      { app: tlsApp, transport: 'https' },
    ];
    if (pgApp) apps.push({ app: pgApp, transport: 'https' });
    if (!quick) apps.push({ app: httpApp, transport: 'http' });
    api = await apiPhase(apps, dbPid);
  }

  const raw: PlacementRaw[] = [];
  if (!values['skip-relay'] || !values['skip-ping']) {
    const clients = Array.from({ length: clientCount }, (_, i) =>
      own(new RelayClientProcess(`relay client ${i + 1}`)),
    );
    const world: RelayWorld = {
      proxy,
      shim,
      clients,
      replay: { guacd: `guacd://${LOOPBACK}:${replay.port}`, pid: replay.pid },
      idleGuacd: `guacd://${LOOPBACK}:${idle.port}`,
      paths: [
        { id: 'direct', webapp: httpApp },
        { id: 'relay-http', webapp: httpApp },
        { id: 'relay-tls', webapp: tlsApp },
      ],
      width: WIDTH,
      height: HEIGHT,
    };
    const others = [process.pid, proxy.pid, replay.pid, ...clients.map((c) => c.pid)];
    // Without pinning there is one placement: wherever the scheduler puts the processes.
    const layouts: Placement[] = pin ? placements : ['shared'];
    for (const placement of layouts) {
      if (pin) {
        // pinned: the webapps on their core, the rest on the other; shared: every process on every core.
        const pinned = placement === 'pinned';
        for (const app of [tlsApp, httpApp]) await pinTree(app.pid, pinned ? pin.webappCore : allCores());
        for (const pid of others) await pinTree(pid, pinned ? pin.otherCore : allCores());
      }
      log(`relay phases, ${placement}: ${PLACEMENT_LABELS[placement]}`);
      const relaySlots = values['skip-relay']
        ? null
        : await throughputPhase(world, {
            sessions: relaySessions,
            rounds,
            slotSec,
            warmupSec: relayWarmupSec,
            samplerEveryMs: samplerMs,
            log,
          });
      const pingSamples = values['skip-ping']
        ? null
        : await pingPhase(world, { probes, rounds: pingRounds, gapMs: pingGapMs, log });
      raw.push({ placement, relaySlots, pingSamples });
    }
  }
  if (shim.failures.length > 0)
    log(`redeem shim: ${shim.failures.length} failures, first: ${shim.failures[0]}`);

  log('stopping everything');
  await run.cleanup();
  const meta: WebappMeta = {
    ...machineMeta(cores),
    quick,
    pinning: pin,
    webappLogLevel: logLevel,
    healthSource: 'a real `gatehouse proxy` (GET /health; healthy answers cached 2000 ms, the default)',
    api: { connections, connectSec, warmupSec },
    relay:
      !values['skip-relay'] && raw.length > 0
        ? {
            sessions: relaySessions,
            rounds,
            slotSec,
            warmupSec: relayWarmupSec,
            clientProcesses: clientCount,
            frames: frames.frames.length,
            meanFrameBytes: frames.meanBytes,
            framesInFlight: FRAMES_IN_FLIGHT,
            samplerEveryMs: samplerMs,
          }
        : null,
    ping:
      !values['skip-ping'] && raw.length > 0
        ? {
            probes: Math.max(1, Math.round(probes / pingRounds)) * pingRounds,
            rounds: pingRounds,
            gapMs: pingGapMs,
          }
        : null,
    loadStart,
    loadEnd: loadavg(),
    durationSec: run.elapsedSec(),
  };
  const report = buildReport(meta, api, raw);
  await writeResults(
    quick ? 'webapp-quick' : 'webapp',
    { ...report, pingSamplesMs: raw.map((p) => ({ placement: p.placement, samples: p.pingSamples })) },
    formatMarkdown(report),
  );
}

await run.run(main);
