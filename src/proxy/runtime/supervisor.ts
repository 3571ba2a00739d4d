/**
 * The proxy's supervisor (main thread): starts N connection managers (worker threads, one per core by
 * default), restarts one that dies, keeps the cross-manager state (single use of token ids, the status
 * board, /metrics aggregation) and drains on request.
 *
 * Why worker_threads and not Piscina for the managers: a manager is a long-lived owner of sockets with its
 * own event loop, not a task; Piscina's model (tasks, idle timeouts, respawn to minThreads) does not fit, as
 * its maintainers say for persistent connection handlers. CPU-bound image encoding runs on libuv's pool
 * inside each manager (sharp), so no task pool is needed there either (docs/architecture.md).
 */
import { Worker } from 'node:worker_threads';
import { AggregatorRegistry } from 'prom-client';
import type { GatehouseConfig } from '../../config/schema.js';
import { parseListen } from '../../config/sections/engine.js';
import { resolveClusterSize } from '../../config/sections/proxy.js';
import { STATUS } from '../../protocol/guacamole/status.js';
import { JtiRegistry } from '../auth/index.js';
import type { FromManager, ManagerData, MetricsJson, ToManager } from './messages.js';
import { StatsBoard } from './stats-board.js';

export interface SupervisorLogger {
  info(o: object | string, m?: string): void;
  warn(o: object | string, m?: string): void;
  error(o: object | string, m?: string): void;
}

export interface SupervisorOptions {
  config: GatehouseConfig;
  version: string;
  log: SupervisorLogger;
  /** Accept the `crash` fault-injection request (tests only). */
  faultInjection?: boolean;
  /** Restart delay after a crash, doubled per crash in a row, at most 10 s (default 100 ms). */
  restartDelayMs?: number;
}

interface Slot {
  index: number;
  worker: Worker | undefined;
  listening: boolean;
  crashesInARow: number;
  stopping: boolean;
}

const WORKER_URL = new URL('./manager.js', import.meta.url);

export class Supervisor {
  readonly board: StatsBoard;
  readonly managers: number;
  port = 0;
  private readonly o: SupervisorOptions;
  private readonly slots: Slot[];
  private readonly jti = new JtiRegistry();
  private readonly host: string;
  private nextId = 1;
  private readonly metricsRounds = new Map<
    number,
    { want: number; got: MetricsJson[]; done: (json: MetricsJson[]) => void }
  >();
  private stopped = false;
  readonly restarts: number[];

  constructor(options: SupervisorOptions) {
    this.o = options;
    this.managers = resolveClusterSize(options.config.proxy.clusterSize);
    this.board = new StatsBoard(this.managers);
    const { host, port } = parseListen(options.config.proxy.listen);
    this.host = host;
    this.port = port;
    this.slots = Array.from({ length: this.managers }, (_, index) => ({
      index,
      worker: undefined,
      listening: false,
      crashesInARow: 0,
      stopping: false,
    }));
    this.restarts = this.slots.map(() => 0);
  }

  /** Starts every manager; resolves once all listen (the first one fixes the port when 0 was asked). */
  async start(): Promise<void> {
    const first = this.slots[0] as Slot;
    await this.spawn(first);
    await Promise.all(this.slots.slice(1).map((s) => this.spawn(s)));
  }

  /** Fault injection: makes manager `index` throw (only when enabled). */
  crash(index: number): void {
    if (!this.o.faultInjection) throw new Error('fault injection is not enabled');
    this.send(this.slots[index] as Slot, { type: 'crash' });
  }

  /**
   * Drains: /health turns 503 and new tunnels are refused at once; live sessions continue for graceMs, then
   * every manager ends its sessions with SESSION_CLOSED and stops. Resolves when all managers have exited.
   */
  async drain(graceMs: number): Promise<void> {
    this.board.draining = true;
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && this.liveSessions() > 0 && !this.stopped) {
      await new Promise((r) => setTimeout(r, Math.min(250, Math.max(1, deadline - Date.now()))));
    }
    await this.stop(STATUS.SESSION_CLOSED, 'The server is shutting down');
  }

  /** Ends every session with `status` and stops every manager. */
  async stop(status: number = STATUS.SESSION_CLOSED, message = 'The server is shutting down'): Promise<void> {
    this.stopped = true;
    this.board.draining = true;
    await Promise.all(
      this.slots.map(async (slot) => {
        slot.stopping = true;
        const w = slot.worker;
        if (!w) return;
        const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
        this.send(slot, { type: 'shutdown', status, message });
        const timer = setTimeout(() => void w.terminate(), 5000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  liveSessions(): number {
    return this.board.all(Date.now()).reduce((n, m) => n + m.sessions, 0);
  }

  /** Every manager's metrics summed, plus the supervisor's own, as Prometheus text. */
  async metricsText(): Promise<{ text: string; contentType: string }> {
    const id = this.nextId++;
    const live = this.slots.filter((s) => s.worker && s.listening);
    const json = await new Promise<MetricsJson[]>((resolve) => {
      const timer = setTimeout(() => {
        const r = this.metricsRounds.get(id);
        this.metricsRounds.delete(id);
        resolve(r?.got ?? []);
      }, 2000);
      this.metricsRounds.set(id, {
        want: live.length,
        got: [],
        done: (got) => {
          clearTimeout(timer);
          resolve(got);
        },
      });
      if (live.length === 0) this.metricsRounds.get(id)?.done([]);
      for (const s of live) this.send(s, { type: 'metrics-collect', id });
    });
    this.metricsRounds.delete(id);
    const registry = AggregatorRegistry.aggregate(json);
    const restarts = this.restarts.reduce((a, b) => a + b, 0);
    const own =
      '# HELP gatehouse_manager_restarts_total Connection managers restarted after a crash.\n' +
      '# TYPE gatehouse_manager_restarts_total counter\n' +
      `gatehouse_manager_restarts_total ${restarts}\n` +
      '# HELP gatehouse_managers Connection managers configured.\n' +
      '# TYPE gatehouse_managers gauge\n' +
      `gatehouse_managers ${this.managers}\n`;
    return { text: (await registry.metrics()) + own, contentType: registry.contentType };
  }

  // ---- managers ----

  private spawn(slot: Slot): Promise<void> {
    const data: ManagerData = {
      index: slot.index,
      host: this.host,
      port: this.port,
      board: this.board.buffer,
      version: this.o.version,
      config: this.o.config,
    };
    const worker = new Worker(WORKER_URL, { workerData: data });
    slot.worker = worker;
    slot.listening = false;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      worker.on('message', (m: FromManager) => {
        if (m.type === 'listening') {
          slot.listening = true;
          if (this.port === 0) this.port = m.port;
          this.board.setAlive(slot.index, true);
          if (!settled) {
            settled = true;
            resolve();
          }
          return;
        }
        if (m.type === 'listen-failed' && !settled) {
          settled = true;
          reject(new Error(`connection manager ${slot.index}: ${m.message}`));
          return;
        }
        this.onMessage(slot, m);
      });
      worker.on('error', (err) => {
        this.o.log.error(
          { err, manager: slot.index },
          `proxy: connection manager ${slot.index} failed: ${err.message}`,
        );
        if (!settled) {
          settled = true;
          reject(err);
        }
      });
      worker.on('exit', (code) => {
        this.board.setAlive(slot.index, false);
        slot.listening = false;
        slot.worker = undefined;
        if (!settled) {
          settled = true;
          reject(new Error(`connection manager ${slot.index} exited with code ${code} before listening`));
          return;
        }
        if (slot.stopping || this.stopped) return;
        this.restart(slot, code);
      });
    });
  }

  private restart(slot: Slot, code: number): void {
    slot.crashesInARow++;
    this.restarts[slot.index] = (this.restarts[slot.index] ?? 0) + 1;
    this.board.addRestart(slot.index);
    const delay = Math.min(10_000, (this.o.restartDelayMs ?? 100) * 2 ** (slot.crashesInARow - 1));
    this.o.log.warn(
      { manager: slot.index, code, delayMs: delay, restarts: this.restarts[slot.index] },
      `proxy: connection manager ${slot.index} exited (code ${code}); restarting in ${delay} ms`,
    );
    setTimeout(() => {
      if (this.stopped) return;
      this.spawn(slot).then(
        () => {
          setTimeout(() => {
            slot.crashesInARow = 0;
          }, 30_000).unref();
        },
        (err: Error) => {
          this.o.log.error(
            { manager: slot.index },
            `proxy: restarting manager ${slot.index} failed: ${err.message}`,
          );
        },
      );
    }, delay).unref();
  }

  private onMessage(slot: Slot, m: FromManager): void {
    switch (m.type) {
      case 'claim':
        this.send(slot, { type: 'claimed', id: m.id, ok: this.jti.claim(m.jti, m.expiresAt, Date.now()) });
        break;
      case 'metrics-request':
        void this.metricsText().then(
          (r) =>
            this.send(slot, { type: 'metrics-text', id: m.id, text: r.text, contentType: r.contentType }),
          (err: Error) =>
            this.send(slot, {
              type: 'metrics-text',
              id: m.id,
              text: `# metrics unavailable: ${err.message}\n`,
              contentType: 'text/plain',
            }),
        );
        break;
      case 'metrics': {
        const round = this.metricsRounds.get(m.id);
        if (!round) break;
        round.got.push(m.metrics);
        if (round.got.length >= round.want) round.done(round.got);
        break;
      }
      default:
        break;
    }
  }

  private send(slot: Slot, m: ToManager): void {
    slot.worker?.postMessage(m);
  }
}
