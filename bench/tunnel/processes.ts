/**
 * The processes of the tunnel benchmark besides the X/VNC side: `gatehouse proxy` (log level warn, optionally
 * under `node --cpu-prof`), guacamole-lite in its own process (lite-server.ts), the replaying guacd
 * stand-in (replay-guacd.ts), and the load-generator processes (client.ts) driven over IPC. `gatehouse engine` comes from bench/vnc.
 * Every process runs in its own process group and is stopped with the bench.
 */
import { createPrivateKey, randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKeyPair } from '../../src/proxy/auth/keys.js';
import { mintToken } from '../../src/proxy/auth/mint.js';
import type { Target } from '../../src/proxy/types.js';
import { fromRoot } from '../../src/util/paths.js';
import { freePort, LOOPBACK, waitForPort } from '../../test/e2e/helpers/free-port.js';
import type { HealthBody } from '../../test/e2e/helpers/gatehouse-proxy.js';
import { makeLiteToken } from '../../test/e2e/helpers/guacamole-lite-server.js';
import { ProcessGroup, registerTempDir, removeTempDir } from '../../test/e2e/helpers/processes.js';
import { cpuProfArgs } from '../helpers/cpu-prof.js';
import { IpcChild } from '../helpers/ipc-child.js';
import type {
  ClientReply,
  ClientRequest,
  ClientStats,
  ProbeOptions,
  ProbeResult,
  SessionSpec,
} from './client-protocol.js';

export interface BenchProxyOptions {
  managers: number;
  /** Writes V8 CPU profiles (main thread and each manager thread) into this directory when it stops. */
  cpuProfDir?: string | undefined;
}

export interface BenchProxy {
  port: number;
  pid: number;
  group: ProcessGroup;
  /** A signed token for one session to `target` (single use). */
  token(target: Target): Promise<string>;
  health(): Promise<HealthBody>;
  /** SIGTERM (drain: with no session left it ends at once), SIGKILL after the grace period. */
  stop(): Promise<void>;
}

/**
 * `gatehouse proxy` with N managers on a free loopback port and a fresh Ed25519 key pair for its tokens,
 * log level warn. Started here rather than through the e2e helper because node flags (`--cpu-prof`, not
 * allowed in NODE_OPTIONS) must go on the command line.
 */
export async function startBenchProxy(o: BenchProxyOptions): Promise<BenchProxy> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-bench-proxy-'));
  registerTempDir(dir);
  const pair = generateSigningKeyPair();
  const publicPem = join(dir, 'public.pem');
  await writeFile(publicPem, pair.publicPem);
  const privateKey = createPrivateKey(pair.privatePem);
  const port = await freePort();
  const group = new ProcessGroup(
    process.execPath,
    [
      ...cpuProfArgs(o.cpuProfDir),
      fromRoot('dist/src/cli/main.js'),
      'proxy',
      '--listen',
      `${LOOPBACK}:${port}`,
      '--guac-cluster-size',
      String(o.managers),
      '--log-format',
      'json',
    ],
    {
      env: {
        ...process.env,
        GATEHOUSE_PROXY_AUTH__SIGNED__PUBLIC_KEYS: publicPem,
        GATEHOUSE_LOG__LEVEL: 'warn',
        NO_COLOR: '1',
      },
    },
  );
  const stop = async (): Promise<void> => {
    // A generous grace period: CPU profiles are written while the threads exit.
    await group.stop(15_000);
    await removeTempDir(dir);
  };
  try {
    await waitForPort(port, 20_000, () =>
      group.hasExited ? `gatehouse proxy exited:\n${group.output()}` : undefined,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    port,
    pid: group.pid,
    group,
    token: (target) => mintToken({ privateKey, kid: pair.kid, target, ttlSeconds: 240 }),
    async health() {
      const r = await fetch(`http://${LOOPBACK}:${port}/health`);
      return (await r.json()) as HealthBody;
    },
    stop,
  };
}

/** A node child process (own process group, IPC channel) and the first message it sends, its port. */
async function startIpcServer(
  label: string,
  script: string,
  args: readonly string[],
  cpuProfDir: string | undefined,
  timeoutMs = 15_000,
): Promise<{ group: ProcessGroup; port: number }> {
  const group = new ProcessGroup(process.execPath, [...cpuProfArgs(cpuProfDir), fromRoot(script), ...args], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const port = await Promise.race([
      new Promise<number>((resolve) =>
        group.child.once('message', (m) => resolve((m as { port: number }).port)),
      ),
      group.exited.then((e) => {
        throw new Error(`${label} exited (${e.code ?? e.signal}):\n${group.output()}`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${label} did not start`)), timeoutMs);
      }),
    ]);
    return { group, port };
  } catch (err) {
    await group.stop(2000);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** guacamole-lite in its own process in front of guacd at 127.0.0.1:guacdPort. */
export class LiteProcess {
  private constructor(
    readonly group: ProcessGroup,
    readonly port: number,
    readonly key: Buffer,
  ) {}

  /** Starts it in front of guacd at 127.0.0.1:guacdPort; with cpuProfDir under `node --cpu-prof`. */
  static async start(guacdPort: number, cpuProfDir?: string): Promise<LiteProcess> {
    const key = randomBytes(32);
    const { group, port } = await startIpcServer(
      'guacamole-lite',
      'dist/bench/tunnel/lite-server.js',
      [String(guacdPort), key.toString('hex')],
      cpuProfDir,
    );
    return new LiteProcess(group, port, key);
  }

  get pid(): number {
    return this.group.pid;
  }

  /**
   * The tunnel URL for one session to a VNC server (guacamole-lite's AES-256-CBC token); `guacdPort` routes
   * it to another guacd than the one it was started with.
   */
  url(
    vnc: { host: string; port: number },
    display: { width: number; height: number; image: readonly string[] },
    guacdPort?: number,
  ): string {
    const token = makeLiteToken(this.key, {
      type: 'vnc',
      settings: { hostname: vnc.host, port: String(vnc.port), image: [...display.image] },
      ...(guacdPort ? { guacdHost: LOOPBACK, guacdPort } : {}),
    });
    const q = new URLSearchParams({ token, width: String(display.width), height: String(display.height) });
    return `ws://${LOOPBACK}:${this.port}/?${q.toString()}`;
  }

  stop(): Promise<void> {
    return this.group.stop(10_000);
  }
}

/** The replaying guacd stand-in (replay-guacd.ts) for the frames in `framesFile` (a JSON array). */
export async function startReplayGuacd(
  framesFile: string,
): Promise<{ port: number; pid: number; stop(): Promise<void> }> {
  const { group, port } = await startIpcServer(
    'replay guacd',
    'dist/bench/tunnel/replay-guacd.js',
    [framesFile],
    undefined,
  );
  return { port, pid: group.pid, stop: () => group.stop(2000) };
}

const REQUEST_TIMEOUT_MS = 120_000;

/** A load-generator process: requests go over IPC, each answered by the reply with its id. */
export class ClientProcess extends IpcChild<ClientRequest, ClientReply> {
  constructor(label: string) {
    super(label, [fromRoot('dist/bench/tunnel/client.js')], REQUEST_TIMEOUT_MS);
  }

  async open(specs: SessionSpec[], batch = 20, timeoutMs = 60_000): Promise<void> {
    if (specs.length > 0) await this.request({ op: 'open', specs, batch, timeoutMs });
  }

  async stats(): Promise<ClientStats> {
    const r = await this.request({ op: 'stats' });
    if (!r.ok || !r.stats) throw new Error(`${this.label} sent no stats`);
    return r.stats;
  }

  async probe(options: ProbeOptions): Promise<ProbeResult> {
    const r = await this.request({ op: 'probe', options });
    if (!r.ok || !r.probe) throw new Error(`${this.label} sent no probe result`);
    return r.probe;
  }

  async closeAll(): Promise<void> {
    await this.request({ op: 'close' });
  }
}
