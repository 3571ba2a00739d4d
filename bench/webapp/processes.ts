/**
 * The processes of the webapp benchmark: `gatehouse webapp` (pinned to its own core, with a bench user, a
 * server and the bench proxy's record made through the admin API), `gatehouse proxy` redeeming through the
 * redeem shim, an idle guacd, the relay load generators, and CPU pinning with taskset. Every process runs in
 * its own process group and is stopped with the bench.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromRoot } from '../../src/util/paths.js';
import { startFakeGuacd } from '../../test/e2e/helpers/fake-guacd.js';
import { freePort, LOOPBACK, waitForPort } from '../../test/e2e/helpers/free-port.js';
import {
  ProcessGroup,
  pollUntil,
  registerTempDir,
  removeTempDir,
  run,
} from '../../test/e2e/helpers/processes.js';
import { IpcChild } from '../helpers/ipc-child.js';
import { findProcess, forEachProcess, statParent } from '../helpers/proc-walk.js';
import { JsonClient } from './http-json.js';
import type {
  PingProbeOptions,
  ProbeAnswer,
  RelayReply,
  RelayRequest,
  RelaySessionSpec,
  RelayStats,
} from './relay-protocol.js';

const TASKSET = '/usr/bin/taskset';
export const ADMIN_PASSWORD = 'bench-admin-password';
const USER = { username: 'bench', password: 'bench-user-password' };
/** The bench proxy's name in every webapp. */
export const PROXY_NAME = 'bench';

// ---- CPU pinning ----

/** Cores for the webapp and for everything else, or null when pinning is not possible (no taskset, 1 core). */
export function pinningPlan(): { webappCore: number; otherCore: number } | null {
  if (!existsSync(TASKSET) || availableParallelism() < 2) return null;
  return { webappCore: 1, otherCore: 0 };
}

/** The pids of every descendant of `pid` (children, grandchildren, ...), from /proc. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  forEachProcess((p, read) => {
    const ppid = statParent(read('stat'));
    const list = children.get(ppid) ?? [];
    list.push(p);
    children.set(ppid, list);
  });
  const out: number[] = [];
  const pending = [...(children.get(pid) ?? [])];
  while (pending.length > 0) {
    const p = pending.pop() as number;
    out.push(p);
    pending.push(...(children.get(p) ?? []));
  }
  return out;
}

/**
 * Pins a process, all its threads and all its descendants to `cpus` (a core number or a taskset list such
 * as '0-1'); later threads and children inherit it.
 */
export async function pinTree(pid: number, cpus: number | string): Promise<void> {
  for (const p of [pid, ...descendants(pid)]) {
    await run(TASKSET, ['-a', '-cp', String(cpus), String(p)], { check: false, timeoutMs: 5000 });
  }
}

/** Every core of the machine as a taskset list ('0-1' on 2 cores). */
export const allCores = (): string => `0-${Math.max(0, cpus().length - 1)}`;

/** The PostgreSQL postmaster listening on `port` (a `postgres` process with `-p PORT`), or -1. */
export function findPostmaster(port: number): number {
  return findProcess((_pid, read) => {
    const argv = read('cmdline').split('\0');
    const p = argv.indexOf('-p');
    return argv[0]?.endsWith('/postgres') === true && p > 0 && argv[p + 1] === String(port);
  });
}

const nodeCommand = (core: number | null, args: string[]): [string, string[]] =>
  core === null ? [process.execPath, args] : [TASKSET, ['-c', String(core), process.execPath, ...args]];

// ---- the webapp ----

export interface WebappSpec {
  label: string;
  /** '' = SQLite in the data directory; a postgres:// URL. */
  database: string;
  tls: boolean;
  /** Core to pin it to (taskset -c), or null. */
  core: number | null;
  logLevel: string;
  /** The bench proxy's address as the webapp reaches it (http://host:port). */
  proxyAddress: string;
}

export interface BenchWebapp {
  label: string;
  dialect: 'sqlite' | 'postgres';
  secure: boolean;
  /** http(s)://127.0.0.1:port */
  url: string;
  port: number;
  pid: number;
  /** Its certificate (PEM), the CA for https; null over http. */
  ca: string | null;
  /** The bench proxy's secret at this webapp. */
  proxySecret: string;
  serverId: string;
  /** The signed-in bench user (cookie + CSRF token). */
  user: JsonClient;
  /** A fresh one-time tunnel token through the connect API. */
  connect(): Promise<string>;
  stop(): Promise<void>;
}

/** Starts `gatehouse webapp` and makes the bench user, a VNC server granted to them and the proxy record. */
export async function startBenchWebapp(spec: WebappSpec): Promise<BenchWebapp> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-bench-webapp-'));
  registerTempDir(dir);
  const port = await freePort();
  const dataDir = join(dir, 'data');
  const [cmd, args] = nodeCommand(spec.core, [
    fromRoot('dist/src/cli/main.js'),
    'webapp',
    '--listen',
    `${LOOPBACK}:${port}`,
    '--log-format',
    'json',
  ]);
  const group = new ProcessGroup(cmd, args, {
    cwd: dir,
    env: {
      ...process.env,
      GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      GATEHOUSE_WEBAPP__DATA_DIR: dataDir,
      GATEHOUSE_WEBAPP__DATABASE: spec.database,
      GATEHOUSE_WEBAPP__TLS__ENABLED: String(spec.tls),
      // The callback run redeems tokens the connect run issued up to ~25 s earlier.
      GATEHOUSE_WEBAPP__TOKENS__TTL_SECONDS: '60',
      GATEHOUSE_LOG__LEVEL: spec.logLevel,
      NO_COLOR: '1',
    },
  });
  const clients: JsonClient[] = [];
  const stop = async (): Promise<void> => {
    for (const c of clients) c.close();
    await group.stop(10_000);
    await removeTempDir(dir);
  };
  try {
    const exited = (): string | undefined =>
      group.hasExited ? `gatehouse webapp (${spec.label}) exited:\n${group.output()}` : undefined;
    await waitForPort(port, 30_000, exited);
    // The initial admin is made just after the server listens; its log line is at warn level.
    await pollUntil(
      `the initial administrator of ${spec.label}`,
      () => {
        const why = exited();
        if (why) throw new Error(why);
        return group.output().includes('created the initial administrator') ? true : undefined;
      },
      30_000,
    );
    const ca = spec.tls ? readFileSync(join(dataDir, 'webapp-tls.crt'), 'utf8') : null;
    const base = `${spec.tls ? 'https' : 'http'}://${LOOPBACK}:${port}`;
    const adm = new JsonClient(base, ca);
    clients.push(adm);
    await adm.login('admin', ADMIN_PASSWORD);
    const zoneId = await pollUntil(
      'the default zone',
      async () => {
        const zones = await adm.must<{ items: { id: string; name: string }[] }>(
          200,
          'GET',
          '/api/admin/zones',
        );
        return zones.items.find((z) => z.name === 'default')?.id;
      },
      10_000,
    );
    const proxy = await adm.must<{ secret: string }>(201, 'POST', '/api/admin/proxies', {
      name: PROXY_NAME,
      zoneId,
      kind: 'guac',
      address: spec.proxyAddress,
    });
    const u = await adm.must<{ id: string }>(201, 'POST', '/api/admin/users', { ...USER, role: 'user' });
    const server = await adm.must<{ id: string }>(201, 'POST', '/api/admin/servers', {
      name: 'bench-desk',
      protocol: 'vnc',
      host: LOOPBACK,
      port: 5900,
      zoneId,
      userIds: [u.id],
      credentials: { username: 'bench', password: 'stored-encrypted' },
    });
    adm.close();
    const signedIn = new JsonClient(base, ca);
    clients.push(signedIn);
    await signedIn.login(USER.username, USER.password);
    return {
      label: spec.label,
      dialect: spec.database.startsWith('postgres') ? 'postgres' : 'sqlite',
      secure: spec.tls,
      url: base,
      port,
      pid: group.pid,
      ca,
      proxySecret: proxy.secret,
      serverId: server.id,
      user: signedIn,
      async connect() {
        const r = await signedIn.must<{ token: string }>(200, 'POST', `/api/servers/${server.id}/connect`);
        return r.token;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

// ---- the proxy ----

export interface RedeemingProxy {
  port: number;
  pid: number;
  /** http://127.0.0.1:port (the address in the webapps' proxy records). */
  url: string;
  stop(): Promise<void>;
}

/** `gatehouse proxy` (1 manager, log level warn) redeeming tokens at `redeemUrl` (the shim, plain HTTP). */
export async function startRedeemingProxy(o: {
  redeemUrl: string;
  proxyToken: string;
  core: number | null;
}): Promise<RedeemingProxy> {
  const port = await freePort();
  const [cmd, args] = nodeCommand(o.core, [
    fromRoot('dist/src/cli/main.js'),
    'proxy',
    '--listen',
    `${LOOPBACK}:${port}`,
    '--guac-cluster-size',
    '1',
    '--log-format',
    'json',
  ]);
  const group = new ProcessGroup(cmd, args, {
    env: {
      ...process.env,
      GATEHOUSE_PROXY_AUTH__MODE: 'webapp',
      GATEHOUSE_PROXY_AUTH__WEBAPP__URL: o.redeemUrl,
      GATEHOUSE_PROXY_AUTH__WEBAPP__PROXY_ID: PROXY_NAME,
      GATEHOUSE_PROXY_AUTH__WEBAPP__PROXY_TOKEN: o.proxyToken,
      GATEHOUSE_PROXY_AUTH__WEBAPP__ALLOW_INSECURE_HTTP: 'true',
      GATEHOUSE_LOG__LEVEL: 'warn',
      NO_COLOR: '1',
    },
  });
  const stop = (): Promise<void> => group.stop(10_000);
  try {
    await waitForPort(port, 20_000, () =>
      group.hasExited ? `gatehouse proxy exited:\n${group.output()}` : undefined,
    );
    await pollUntil(
      'the proxy healthy',
      async () => ((await fetch(`http://${LOOPBACK}:${port}/health`)).status === 200 ? true : undefined),
      20_000,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, pid: group.pid, url: `http://${LOOPBACK}:${port}`, stop };
}

// ---- an idle guacd (latency) ----

/** A guacd that completes the handshake, sends one `sync` and then only a `nop` every 2 s. */
export async function startIdleGuacd(): Promise<{ port: number; stop(): Promise<void> }> {
  const timers = new Set<NodeJS.Timeout>();
  const guacd = await startFakeGuacd({
    argNames: ['hostname', 'port'],
    onReady: (session) => {
      session.send('sync', Date.now());
      const t = setInterval(() => session.send('nop'), 2000);
      timers.add(t);
    },
  });
  return {
    port: guacd.port,
    async stop() {
      for (const t of timers) clearInterval(t);
      await guacd.close();
    },
  };
}

// ---- the relay load generator ----

const REQUEST_TIMEOUT_MS = 120_000;

export class RelayClientProcess extends IpcChild<RelayRequest, RelayReply> {
  constructor(label: string) {
    super(label, [fromRoot('dist/bench/webapp/relay-client.js')], REQUEST_TIMEOUT_MS);
  }

  async open(specs: RelaySessionSpec[], batch = 10, timeoutMs = 60_000): Promise<void> {
    if (specs.length > 0) await this.request({ op: 'open', specs, batch, timeoutMs });
  }

  async stats(): Promise<RelayStats> {
    const r = await this.request({ op: 'stats' });
    if (!r.ok || !r.stats) throw new Error(`${this.label} sent no stats`);
    return r.stats;
  }

  async probe(options: PingProbeOptions): Promise<ProbeAnswer> {
    const r = await this.request({ op: 'probe', options });
    if (!r.ok || !r.probe) throw new Error(`${this.label} sent no probe result`);
    return r.probe;
  }

  async sampler(everyMs: number): Promise<void> {
    await this.request({ op: 'sampler', everyMs });
  }

  async closeAll(): Promise<void> {
    await this.request({ op: 'close' });
  }
}
