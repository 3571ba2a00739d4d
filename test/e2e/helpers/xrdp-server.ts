// xrdp 0.9.21 for the end-to-end tests: xrdp + xrdp-sesman started by the test, a throwaway account, and an
// Xorg (xorgxrdp) session per login that paints its root window a known colour and runs an xterm, with
// xrdp-chansrv (clipboard) beside it.
//
// What xrdp needed (Debian 12, as root, headless):
// - Paths compiled into the binaries, whatever -c says: xrdp reads /etc/xrdp/{xrdp.ini,rsakeys.ini,km-*.ini,
//   cert.pem,key.pem}, takes sesman's port from /etc/xrdp/sesman.ini, refuses to start while
//   /var/run/xrdp/xrdp.pid exists; sesman writes /var/run/xrdp/xrdp-sesman.pid and runs /etc/xrdp/startwm.sh;
//   chansrv reads /etc/xrdp/sesman.ini; all three meet in /run/xrdp/sockdir (xrdp_display_N,
//   xrdp_chansrv_socket_N). So the servers run in a private mount namespace (unshare --mount) where a temp
//   dir is bind-mounted over /etc/xrdp and another over /run/xrdp: the system's files are never touched, and
//   parallel instances do not meet (they share only /tmp/.X11-unix, and get far-apart display numbers).
// - A TCP port each for xrdp (X.224 probe for readiness) and sesman (it binds ::1 even for 127.0.0.1).
// - security_layer tls (default) or negotiate/rdp (crypt_level fips: see cryptLevel); an RSA key file from
//   xrdp-keygen (xrdp will not start without one, even for TLS only); a self-signed
//   certificate from openssl; require_credentials + autorun=Xorg so a wrong password fails at once (xfreerdp
//   then exits 12, ERRINFO_LOGOFF_BY_USER) instead of showing xrdp's login screen.
// - The Xorg backend works as is: sesman runs /usr/lib/xorg/Xorg directly as the user (no Xwrapper), with
//   /etc/X11/xrdp/xorg.conf from xorgxrdp; sesman needs xauth for the session's ~/.Xauthority.
// - sesman and xrdp both run with --nodaemon in the wrapper's process group, and sesman's session processes
//   (Xorg, startwm.sh, chansrv) stay in that group too; stop() also ends whatever is left in the namespace
//   and every process of the account, deletes the account (userdel -r) and the temp dir.
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canConnect, freePort, LOOPBACK } from './free-port.js';
import { liveProcesses, type ProcInfo } from './proc-scan.js';
import {
  ProcessGroup,
  pollUntil,
  registerMarker,
  registerTempDir,
  removeTempDir,
  sleep,
} from './processes.js';
import { PROTOCOL_RDP, PROTOCOL_SSL, waitForRdp } from './rdp-probe.js';
import { createTestUser, type TestUser } from './test-users.js';
import { XDisplay } from './x-display.js';
import {
  SBIN_PATH,
  writeConfigs,
  type XrdpBackend,
  type XrdpCryptLevel,
  type XrdpSecurity,
} from './xrdp-config.js';

export type { XrdpBackend, XrdpCryptLevel, XrdpSecurity } from './xrdp-config.js';

/** The colour a session paints its root window unless told otherwise. */
export const XRDP_ROOT_COLOR = '#2a7f62';

export interface XrdpOptions {
  /** xrdp.ini security_layer, default 'tls'. */
  security?: XrdpSecurity;
  /**
   * crypt_level for Standard RDP Security, default 'fips': with low, medium or high, xrdp 0.9.21 fails
   * FreeRDP 2.11's first encrypted PDU ("MAC checksum error for non-FIPS PDU") and the client ends with 131.
   */
  cryptLevel?: XrdpCryptLevel;
  /** The session's X server, default 'Xorg' (xorgxrdp); 'Xvnc' goes through xrdp's VNC module. */
  backend?: XrdpBackend;
  /** xsetroot -solid colour of each session, default XRDP_ROOT_COLOR. */
  rootColor?: string;
  /**
   * Shell run as the session's window manager after xsetroot; the session lasts while it does. Default: an
   * xterm at +0+0 titled "gatehouse-xrdp-session".
   */
  sessionCommand?: string;
  /** xrdp/sesman log level, default 'INFO'. */
  logLevel?: 'ERROR' | 'WARN' | 'INFO' | 'DEBUG';
  /** Default 20 s. */
  startTimeoutMs?: number;
}

export interface XrdpServer {
  kind: 'xrdp';
  host: string;
  port: number;
  user: string;
  password: string;
  domain: string;
  security: XrdpSecurity;
  sesmanPort: number;
  rootColor: string;
  /** From starting the wrapper to xrdp answering X.224 with sesman listening. */
  startupMs: number;
  /** The whole startXrdp(): account, RSA key, certificate, configs, then startupMs. */
  setupMs: number;
  account: TestUser;
  /** The temp dir (etc/ over /etc/xrdp, run/ over /run/xrdp, log/, home/). */
  dir: string;
  group: ProcessGroup;
  /** xrdp's and sesman's console output. */
  output(): string;
  /** The log files (xrdp, sesman, Xorg), last 8 KiB of each. */
  logs(): string;
  /** Display numbers of the sessions started so far. */
  sessionDisplayNumbers(): number[];
  /**
   * The X display of the first session, once its Xorg runs (a client must have logged in), with XAUTHORITY
   * set to the session's cookie, so X clients run as root can draw on it or screenshot it.
   */
  sessionDisplay(timeoutMs?: number): Promise<XDisplay>;
  /** Processes in the servers' mount namespace (xrdp, sesman, sessions). */
  namespaceProcesses(): ProcInfo[];
  stop(): Promise<void>;
}

/** Why startXrdp cannot run here, or undefined. */
export function xrdpSkipReason(): string | undefined {
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    return 'xrdp tests need root (useradd, mount)';
  for (const f of [
    '/usr/sbin/xrdp',
    '/usr/sbin/xrdp-sesman',
    '/usr/sbin/xrdp-chansrv',
    '/usr/lib/xorg/Xorg',
  ]) {
    if (!existsSync(f)) return `missing ${f} (apt-get install xrdp xorgxrdp)`;
  }
  if (!existsSync('/usr/lib/xorg/modules/drivers/xrdpdev_drv.so'))
    return 'missing xorgxrdp (apt-get install xorgxrdp)';
  if (!existsSync('/etc/X11/xrdp/xorg.conf'))
    return 'missing /etc/X11/xrdp/xorg.conf (apt-get install xorgxrdp)';
  if (!existsSync('/etc/xrdp')) return 'missing /etc/xrdp (apt-get install xrdp)';
  return undefined;
}

class SessionDisplay extends XDisplay {
  constructor(
    name: string,
    size: { width: number; height: number; depth: number },
    private readonly xauthority: string,
  ) {
    super(name, size);
  }
  override get env(): NodeJS.ProcessEnv {
    return { ...process.env, DISPLAY: this.name, XAUTHORITY: this.xauthority };
  }
}

/** Runs in the new mount namespace: $1 is the temp dir. */
const WRAPPER = [
  'set -e',
  'mkdir -p /run/xrdp',
  'mount --bind "$1/etc" /etc/xrdp',
  'mount --bind "$1/run" /run/xrdp',
  'xrdp-sesman --nodaemon &',
  'exec xrdp --nodaemon',
].join('\n');

function mountNs(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return undefined;
  }
}

function processesInNs(ns: string | undefined): ProcInfo[] {
  if (ns === undefined) return [];
  return (liveProcesses() ?? []).filter((p) => mountNs(p.pid) === ns);
}

function tail(file: string, bytes = 8192): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text.length > bytes ? text.slice(text.length - bytes) : text;
  } catch {
    return '';
  }
}

/** Starts xrdp + sesman (see the file comment); resolves once xrdp answers X.224 and sesman listens. */
export async function startXrdp(opts: XrdpOptions = {}): Promise<XrdpServer> {
  const reason = xrdpSkipReason();
  if (reason) throw new Error(reason);
  const t0 = Date.now();
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-xrdp-'));
  registerTempDir(dir);
  registerMarker(dir);
  await chmod(dir, 0o755); // the account's home is inside
  let account: TestUser | undefined;
  try {
    account = await createTestUser({ home: join(dir, 'home') });
    const server = await startIn(dir, account, opts);
    server.setupMs = Date.now() - t0;
    return server;
  } catch (err) {
    await account?.remove();
    await removeTempDir(dir);
    throw err;
  }
}

async function startIn(dir: string, account: TestUser, opts: XrdpOptions): Promise<XrdpServer> {
  const security = opts.security ?? 'tls';
  const timeoutMs = opts.startTimeoutMs ?? 20_000;
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const sesmanPort = await freePort();
    await rm(join(dir, 'etc'), { recursive: true, force: true });
    await rm(join(dir, 'run'), { recursive: true, force: true });
    await rm(join(dir, 'log'), { recursive: true, force: true });
    await writeConfigs(
      dir,
      port,
      sesmanPort,
      {
        security,
        cryptLevel: opts.cryptLevel ?? 'fips',
        backend: opts.backend ?? 'Xorg',
        rootColor: opts.rootColor ?? XRDP_ROOT_COLOR,
        sessionCommand: opts.sessionCommand,
        logLevel: opts.logLevel ?? 'INFO',
      },
      account,
    );
    const started = Date.now();
    const group = new ProcessGroup(
      'unshare',
      ['--mount', '--propagation', 'private', '--', 'sh', '-c', WRAPPER, 'gatehouse-xrdp', dir],
      { env: { ...process.env, PATH: SBIN_PATH } },
    );
    const selfNs = mountNs(process.pid);
    let ns: string | undefined;
    const gaveUp = (): string | undefined =>
      group.hasExited
        ? `xrdp exited before serving:\n${group.output()}\n${tail(join(dir, 'log', 'xrdp.log'))}`
        : undefined;
    try {
      await pollUntil(
        'the xrdp wrapper to enter its mount namespace',
        () => {
          const r = gaveUp();
          if (r) throw new Error(r);
          const now = mountNs(group.pid);
          if (now !== undefined && now !== selfNs) ns = now;
          return ns;
        },
        5000,
        10,
      );
      await waitForRdp(port, timeoutMs, gaveUp, LOOPBACK, security === 'rdp' ? PROTOCOL_RDP : PROTOCOL_SSL);
      await pollUntil(
        `xrdp-sesman on port ${sesmanPort}`,
        async () => {
          const r = gaveUp();
          if (r) throw new Error(r);
          const alive = processesInNs(ns).some((p) => /(^|\/)xrdp-sesman\b/.test(p.cmdline));
          if (!alive) throw new Error(`xrdp-sesman is not running:\n${group.output()}`);
          const up =
            (await canConnect(sesmanPort, '::1', 500)) || (await canConnect(sesmanPort, LOOPBACK, 500));
          return up ? true : undefined;
        },
        timeoutMs,
        50,
      );
      return makeServer({
        dir,
        account,
        opts,
        security,
        port,
        sesmanPort,
        group,
        ns,
        startupMs: Date.now() - started,
      });
    } catch (err) {
      lastError = err as Error;
      const died = group.hasExited || !processesInNs(ns).some((p) => /xrdp-sesman/.test(p.cmdline));
      await group.stop();
      killNamespace(ns);
      if (!died) break;
    }
  }
  throw lastError ?? new Error('xrdp did not start');
}

function killNamespace(ns: string | undefined): number {
  const procs = processesInNs(ns).filter((p) => p.pid !== process.pid);
  for (const p of procs) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  return procs.length;
}

interface ServerParts {
  dir: string;
  account: TestUser;
  opts: XrdpOptions;
  security: XrdpSecurity;
  port: number;
  sesmanPort: number;
  group: ProcessGroup;
  ns: string | undefined;
  startupMs: number;
}

function makeServer(p: ServerParts): XrdpServer {
  const displays = new Set<number>();
  const sockdir = join(p.dir, 'run', 'sockdir');
  const scanDisplays = (): number[] => {
    try {
      for (const f of readdirSync(sockdir)) {
        const m = /^xrdp_display_(\d+)$/.exec(f);
        if (m) displays.add(Number(m[1]));
      }
    } catch {
      // removed already
    }
    const out = `${p.group.output()}\n${tail(join(p.dir, 'log', 'sesman.log'), 65_536)}`;
    for (const m of out.matchAll(/Session started successfully for user \S+ on display (\d+)/g))
      displays.add(Number(m[1]));
    // Xvnc sessions (no xorgxrdp socket; sesman says this instead)
    for (const m of out.matchAll(/Starting X server on display (\d+)/g)) displays.add(Number(m[1]));
    return [...displays].sort((a, b) => a - b);
  };
  let stopping: Promise<void> | undefined;
  trackServer(p, scanDisplays);
  const xauthority = join(p.account.home, '.Xauthority');
  return {
    kind: 'xrdp',
    host: LOOPBACK,
    port: p.port,
    user: p.account.name,
    password: p.account.password,
    domain: '',
    security: p.security,
    sesmanPort: p.sesmanPort,
    rootColor: p.opts.rootColor ?? XRDP_ROOT_COLOR,
    startupMs: p.startupMs,
    setupMs: p.startupMs,
    account: p.account,
    dir: p.dir,
    group: p.group,
    output: () => p.group.output(),
    logs: () =>
      ['xrdp.log', 'sesman.log', ...safeList(join(p.dir, 'log')).filter((f) => f.startsWith('xorg.'))]
        .map((f) => `== ${f}\n${tail(join(p.dir, 'log', f))}`)
        .join('\n'),
    sessionDisplayNumbers: scanDisplays,
    sessionDisplay: async (timeoutMs = 15_000) => {
      const n = await pollUntil(
        'an xrdp session X server',
        () => scanDisplays().find((d) => existsSync(`/tmp/.X11-unix/X${d}`) && existsSync(xauthority)),
        timeoutMs,
        100,
      );
      const probe = new SessionDisplay(`:${n}`, { width: 0, height: 0, depth: 24 }, xauthority);
      const info = await pollUntil(
        `xdpyinfo on :${n}`,
        async () => {
          const r = await probe.run('xdpyinfo', [], { check: false });
          return r.code === 0 ? r.stdout.toString() : undefined;
        },
        timeoutMs,
        100,
      );
      const dims = /dimensions:\s+(\d+)x(\d+) pixels/.exec(info);
      const depth = /depth of root window:\s+(\d+)/.exec(info);
      return new SessionDisplay(
        `:${n}`,
        { width: Number(dims?.[1] ?? 0), height: Number(dims?.[2] ?? 0), depth: Number(depth?.[1] ?? 24) },
        xauthority,
      );
    },
    namespaceProcesses: () => processesInNs(p.ns),
    stop: () => {
      stopping ??= stopServer(p, scanDisplays);
      return stopping;
    },
  };
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Xorg killed outright leaves its lock and socket behind: removes those of `displays` owned by `uid`. */
function removeStaleXFiles(displays: readonly number[], uid: number): void {
  for (const n of displays) {
    for (const f of [`/tmp/.X${n}-lock`, `/tmp/.X11-unix/X${n}`]) {
      try {
        if (statSync(f).uid === uid) rmSync(f, { force: true });
      } catch {
        // not there
      }
    }
  }
}

/** Servers not stopped yet: the 'exit' hook ends their namespaces and X files if the test process dies. */
const liveServers = new Map<ServerParts, () => number[]>();
let exitHookInstalled = false;

function trackServer(p: ServerParts, scanDisplays: () => number[]): void {
  liveServers.set(p, scanDisplays);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Runs after processes.ts's hook (installed first) has killed the wrapper's group; test-users.ts's hook
  // then deletes the accounts.
  process.on('exit', () => {
    for (const [parts, scan] of liveServers) {
      const displays = scan();
      killNamespace(parts.ns);
      removeStaleXFiles(displays, parts.account.uid);
    }
  });
}

async function stopServer(p: ServerParts, scanDisplays: () => number[]): Promise<void> {
  const displays = scanDisplays();
  await p.group.stop(3000);
  for (let i = 0; i < 40 && killNamespace(p.ns) > 0; i++) await sleep(50);
  await p.account.remove();
  removeStaleXFiles(displays, p.account.uid);
  await removeTempDir(p.dir);
  liveServers.delete(p);
}
