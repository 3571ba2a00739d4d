/**
 * The measured processes of the VNC benchmark, each in its own process group (stopped with the bench):
 * `gatehouse engine` (the built CLI) on a free loopback port, and the consumer processes
 * (bench/vnc/consumer.ts) driven over an IPC channel.
 */
import { mkdirSync } from 'node:fs';
import { fromRoot } from '../../src/util/paths.js';
import { freePort, LOOPBACK, waitForPort } from '../../test/e2e/helpers/free-port.js';
import { ProcessGroup } from '../../test/e2e/helpers/processes.js';
import {
  type ConsumerReply,
  type ConsumerRequest,
  type ConsumerStats,
  type ConsumerTarget,
  targetArgs,
} from './consumer-protocol.js';

export interface EngineOptions {
  /** Writes a V8 CPU profile (--cpu-prof) of the engine into this directory when it stops. */
  cpuProfDir?: string | undefined;
  /** The engine's log level (default warn: the bench measures the engine, not its logging). */
  logLevel?: string;
  /** The CLI to run (default dist/src/cli/main.js): another build, to compare before/after a change. */
  mainJs?: string | undefined;
}

export interface BenchEngine {
  port: number;
  pid: number;
  group: ProcessGroup;
  stop(): Promise<void>;
}

export async function startEngine(o: EngineOptions = {}): Promise<BenchEngine> {
  const port = await freePort();
  const nodeArgs: string[] = [];
  if (o.cpuProfDir) {
    mkdirSync(o.cpuProfDir, { recursive: true });
    nodeArgs.push('--cpu-prof', '--cpu-prof-dir', o.cpuProfDir);
  }
  const group = new ProcessGroup(
    process.execPath,
    [...nodeArgs, o.mainJs ?? fromRoot('dist/src/cli/main.js'), 'engine', '--listen', `${LOOPBACK}:${port}`],
    { env: { ...process.env, GATEHOUSE_LOG__LEVEL: o.logLevel ?? 'warn', NO_COLOR: '1' } },
  );
  await waitForPort(port, 15_000, () =>
    group.hasExited ? `gatehouse engine exited:\n${group.output()}` : undefined,
  );
  // A generous grace period: the CPU profile is written while the engine exits.
  return { port, pid: group.pid, group, stop: () => group.stop(10_000) };
}

const REQUEST_TIMEOUT_MS = 60_000;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A consumer process: requests go over IPC, each answered by the reply with its id. */
export class ConsumerProcess {
  readonly group: ProcessGroup;
  private nextId = 1;
  private readonly waiting = new Map<number, (r: ConsumerReply) => void>();

  constructor(readonly target: ConsumerTarget) {
    this.group = new ProcessGroup(
      process.execPath,
      [fromRoot('dist/bench/vnc/consumer.js'), ...targetArgs(target)],
      { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
    );
    this.group.child.on('message', (m) => {
      const r = m as ConsumerReply;
      const cb = this.waiting.get(r.id);
      this.waiting.delete(r.id);
      cb?.(r);
    });
    void this.group.exited.then(() => {
      const waiters = [...this.waiting.values()];
      this.waiting.clear();
      for (const cb of waiters) cb({ id: 0, ok: false, error: `consumer exited:\n${this.group.output()}` });
    });
  }

  get pid(): number {
    return this.group.pid;
  }

  private request(body: DistributiveOmit<ConsumerRequest, 'id'>): Promise<ConsumerReply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(
          new Error(`${this.target.kind} consumer: no answer to ${body.op} within ${REQUEST_TIMEOUT_MS} ms`),
        );
      }, REQUEST_TIMEOUT_MS);
      this.waiting.set(id, (r) => {
        clearTimeout(timer);
        if (r.ok) resolve(r);
        else reject(new Error(`${this.target.kind} consumer: ${r.error}`));
      });
      if (this.group.hasExited || !this.group.child.send({ ...body, id } as ConsumerRequest)) {
        clearTimeout(timer);
        this.waiting.delete(id);
        reject(new Error(`${this.target.kind} consumer is not running:\n${this.group.output()}`));
      }
    });
  }

  async open(count: number): Promise<void> {
    await this.request({ op: 'open', count });
  }

  async stats(): Promise<ConsumerStats> {
    const r = await this.request({ op: 'stats' });
    if (!r.ok || !r.stats) throw new Error(`${this.target.kind} consumer sent no stats`);
    return r.stats;
  }

  async closeAll(): Promise<void> {
    await this.request({ op: 'close' });
  }

  stop(): Promise<void> {
    return this.group.stop(2000);
  }
}
