/**
 * The measured processes of the VNC benchmark, each in its own process group (stopped with the bench):
 * `gatehouse engine` (the built CLI) on a free loopback port, and the consumer processes
 * (bench/vnc/consumer.ts) driven over an IPC channel.
 */
import { fromRoot } from '../../src/util/paths.js';
import { freePort, LOOPBACK, waitForPort } from '../../test/e2e/helpers/free-port.js';
import { ProcessGroup } from '../../test/e2e/helpers/processes.js';
import { cpuProfArgs } from '../helpers/cpu-prof.js';
import { IpcChild } from '../helpers/ipc-child.js';
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
  const group = new ProcessGroup(
    process.execPath,
    [
      ...cpuProfArgs(o.cpuProfDir),
      o.mainJs ?? fromRoot('dist/src/cli/main.js'),
      'engine',
      '--listen',
      `${LOOPBACK}:${port}`,
    ],
    { env: { ...process.env, GATEHOUSE_LOG__LEVEL: o.logLevel ?? 'warn', NO_COLOR: '1' } },
  );
  await waitForPort(port, 15_000, () =>
    group.hasExited ? `gatehouse engine exited:\n${group.output()}` : undefined,
  );
  // A generous grace period: the CPU profile is written while the engine exits.
  return { port, pid: group.pid, group, stop: () => group.stop(10_000) };
}

const REQUEST_TIMEOUT_MS = 60_000;

/** A consumer process: requests go over IPC, each answered by the reply with its id. */
export class ConsumerProcess extends IpcChild<ConsumerRequest, ConsumerReply> {
  constructor(readonly target: ConsumerTarget) {
    super(
      `${target.kind} consumer`,
      [fromRoot('dist/bench/vnc/consumer.js'), ...targetArgs(target)],
      REQUEST_TIMEOUT_MS,
    );
  }

  async open(count: number): Promise<void> {
    await this.request({ op: 'open', count });
  }

  async stats(): Promise<ConsumerStats> {
    const r = await this.request({ op: 'stats' });
    if (!r.ok || !r.stats) throw new Error(`${this.label} sent no stats`);
    return r.stats;
  }

  async closeAll(): Promise<void> {
    await this.request({ op: 'close' });
  }
}
