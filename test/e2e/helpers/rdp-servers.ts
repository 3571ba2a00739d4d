// RDP servers and a native RDP client for the end-to-end tests and bench/rdp.
//
// freerdp-shadow-cli (FreeRDP 2.11, freerdp2-shadow-x11) shares an existing X display (Xvfb) over RDP, on a
// free loopback port, with HOME pointing at a temp dir (it writes its self-signed TLS certificate to
// $XDG_CONFIG_HOME/freerdp/shadow/). Its flags, from /help: /port: /bind-address: /sec:rdp|tls|nla|ext
// /sam-file: +auth -may-view -may-interact. Observed, not as /help says: authentication is ON by default
// (the server checks the client's credentials through PAM against system accounts after the connection,
// except under NLA), so tls/rdp servers here run with -auth unless `auth: true` (then the credentials must
// be a system account's, e.g. from test-users.ts createTestUser). NLA checks them against a SAM file made
// with winpr-hash (user:domain::NThash:::). may-view/may-interact are on by default (no prompt).
//
// xfreerdp (freerdp2-x11) is the native client: run under its own Xvfb, /cert:ignore, with a temp HOME. It
// names its window "FreeRDP: host:port" once the connection is up.
//
// xrdp lives in ./xrdp-server.ts (re-exported here).
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, LOOPBACK } from './free-port.js';
import {
  type ExitInfo,
  ProcessGroup,
  pollUntil,
  registerTempDir,
  removeTempDir,
  run,
  within,
} from './processes.js';
import { PROTOCOL_HYBRID, PROTOCOL_RDP, PROTOCOL_SSL, waitForRdp } from './rdp-probe.js';
import type { XDisplay } from './x-display.js';

export { startXrdp, type XrdpOptions, type XrdpServer, xrdpSkipReason } from './xrdp-server.js';

/** Where a client connects, and with what. */
export interface RdpTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  domain?: string;
}

/** The engine's connection parameters for a server (a certificate it cannot verify is accepted), plus `extra`. */
export function rdpParams(server: RdpTarget, extra: Record<string, string> = {}): Record<string, string> {
  return {
    hostname: server.host,
    port: String(server.port),
    username: server.user,
    password: server.password,
    ...(server.domain ? { domain: server.domain } : {}),
    'ignore-cert': 'true',
    ...extra,
  };
}

export type ShadowSecurity = 'tls' | 'nla' | 'rdp';

export interface ShadowOptions {
  /** The X display to share. */
  display: XDisplay;
  security: ShadowSecurity;
  /** Default 'gatehouse'. For `auth: true`, a system account. */
  user?: string;
  /** Default a random one. */
  password?: string;
  /** Default '' (none). Written to the SAM file for nla. */
  domain?: string;
  /** tls/rdp only: check the client's credentials through PAM (system accounts). Default false (-auth). */
  auth?: boolean;
  /** Appended to freerdp-shadow-cli's arguments, e.g. ['-may-interact']. */
  extraArgs?: string[];
  /** Default 15 s. */
  startTimeoutMs?: number;
}

export interface ShadowServer extends Required<RdpTarget> {
  kind: 'shadow';
  security: ShadowSecurity;
  /** From spawn to the first answered X.224 request, of the attempt that started. */
  startupMs: number;
  /** The SAM file (nla only). */
  samFile?: string;
  group: ProcessGroup;
  output(): string;
  stop(): Promise<void>;
}

const START_ATTEMPTS = 3;

/** The requestedProtocols a client of this security would send (for the readiness probe). */
function protocolsFor(security: ShadowSecurity): number {
  if (security === 'rdp') return PROTOCOL_RDP;
  return security === 'nla' ? PROTOCOL_SSL | PROTOCOL_HYBRID : PROTOCOL_SSL;
}

/** freerdp-shadow-cli sharing `display` on a free loopback port; resolves once it answers an RDP handshake. */
export async function startShadowServer(opts: ShadowOptions): Promise<ShadowServer> {
  const user = opts.user ?? 'gatehouse';
  const password = opts.password ?? `pw-${Math.random().toString(36).slice(2, 12)}`;
  const domain = opts.domain ?? '';
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-shadow-'));
  registerTempDir(dir);
  try {
    const args = [`/sec:${opts.security}`];
    let samFile: string | undefined;
    if (opts.security === 'nla') {
      samFile = join(dir, 'SAM');
      const hashArgs = ['-u', user, '-p', password, '-f', 'sam', ...(domain ? ['-d', domain] : [])];
      const r = await run('winpr-hash', hashArgs);
      await writeFile(samFile, r.stdout, { mode: 0o600 });
      args.push(`/sam-file:${samFile}`);
    }
    args.push(opts.auth ? '+auth' : '-auth', ...(opts.extraArgs ?? []));
    const env: NodeJS.ProcessEnv = { ...opts.display.env, HOME: dir, XDG_CONFIG_HOME: join(dir, '.config') };
    const timeoutMs = opts.startTimeoutMs ?? 15_000;
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
      const port = await freePort();
      const started = Date.now();
      const group = new ProcessGroup(
        'freerdp-shadow-cli',
        [`/port:${port}`, `/bind-address:${LOOPBACK}`, ...args],
        { env, cwd: dir },
      );
      try {
        await waitForRdp(
          port,
          timeoutMs,
          () => (group.hasExited ? `${group.label} exited before serving:\n${group.output()}` : undefined),
          LOOPBACK,
          protocolsFor(opts.security),
        );
        const startupMs = Date.now() - started;
        let stopping: Promise<void> | undefined;
        const server: ShadowServer = {
          kind: 'shadow',
          host: LOOPBACK,
          port,
          user,
          password,
          domain,
          security: opts.security,
          startupMs,
          group,
          output: () => group.output(),
          stop: () => {
            stopping ??= (async () => {
              await group.stop();
              await removeTempDir(dir);
            })();
            return stopping;
          },
        };
        if (samFile !== undefined) server.samFile = samFile;
        return server;
      } catch (err) {
        lastError = err as Error;
        const died = group.hasExited;
        await group.stop();
        if (!died) break; // alive but not serving: another port will not help
      }
    }
    throw lastError ?? new Error('freerdp-shadow-cli did not start');
  } catch (err) {
    await removeTempDir(dir);
    throw err;
  }
}

export type ClientSecurity = 'tls' | 'nla' | 'rdp' | 'any';

export interface XfreerdpOptions {
  server: RdpTarget;
  /** The X display xfreerdp draws on (its own Xvfb: the client side). */
  display: XDisplay;
  /** /sec:..., default 'any' (xfreerdp negotiates). */
  security?: ClientSecurity;
  /** /size:WxH, default xfreerdp's 1024x768. */
  width?: number;
  height?: number;
  /** Appended to xfreerdp's arguments, e.g. ['/gfx', '+clipboard', '/log-level:DEBUG']. */
  extraArgs?: string[];
}

export interface XfreerdpViewer {
  /** xfreerdp's own pid (for CPU and RSS figures). */
  pid: number;
  group: ProcessGroup;
  /** The title of xfreerdp's window: "FreeRDP: host:port". */
  windowTitle: string;
  exited: Promise<ExitInfo>;
  output(): string;
  /**
   * Waits until xfreerdp's window is mapped (the RDP connection is up) and returns its id; fails with the
   * exit code and output if xfreerdp exits first.
   */
  waitConnected(timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

function xfreerdpArgs(opts: Omit<XfreerdpOptions, 'display'>): string[] {
  const s = opts.server;
  const args = [`/v:${s.host}:${s.port}`, `/u:${s.user}`, `/p:${s.password}`];
  if (s.domain) args.push(`/d:${s.domain}`);
  args.push('/cert:ignore');
  if (opts.security && opts.security !== 'any') args.push(`/sec:${opts.security}`);
  if (opts.width !== undefined && opts.height !== undefined) args.push(`/size:${opts.width}x${opts.height}`);
  return [...args, ...(opts.extraArgs ?? [])];
}

/** xfreerdp connected to `server`, drawing on `display`. Resolves once spawned; see waitConnected(). */
export async function startXfreerdpViewer(opts: XfreerdpOptions): Promise<XfreerdpViewer> {
  const home = await mkdtemp(join(tmpdir(), 'gatehouse-xfreerdp-'));
  registerTempDir(home);
  const group = new ProcessGroup('xfreerdp', xfreerdpArgs(opts), {
    env: { ...opts.display.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config') },
  });
  const windowTitle = `FreeRDP: ${opts.server.host}:${opts.server.port}`;
  let stopping: Promise<void> | undefined;
  return {
    pid: group.pid,
    group,
    windowTitle,
    exited: group.exited,
    output: () => group.output(),
    waitConnected: (timeoutMs = 15_000) =>
      pollUntil(
        `the xfreerdp window "${windowTitle}"`,
        async () => {
          if (group.hasExited) {
            const e = await group.exited;
            throw new Error(`xfreerdp exited (${e.code ?? e.signal}) before connecting:\n${group.output()}`);
          }
          const r = await opts.display.run(
            'xdotool',
            ['search', '--onlyvisible', '--name', `^${windowTitle}$`],
            {
              check: false,
            },
          );
          return r.stdout.toString().trim().split('\n')[0] || undefined;
        },
        timeoutMs,
        100,
      ),
    stop: () => {
      stopping ??= (async () => {
        await group.stop();
        await removeTempDir(home);
      })();
      return stopping;
    },
  };
}

export interface AuthOnlyResult extends ExitInfo {
  output: string;
}

/**
 * xfreerdp +auth-only against `server` (a display is needed although nothing is drawn). Exit 0 when the
 * security layer accepted the credentials; under NLA a wrong password ends it non-zero (seen: 147,
 * ERRCONNECT_CONNECT_TRANSPORT_FAILED, as the server hangs up). Without NLA nothing is checked (0).
 */
export async function xfreerdpAuthOnly(
  opts: Omit<XfreerdpOptions, 'width' | 'height'> & { timeoutMs?: number },
): Promise<AuthOnlyResult> {
  const viewer = await startXfreerdpViewer({ ...opts, extraArgs: ['+auth-only', ...(opts.extraArgs ?? [])] });
  const exit = await within(opts.timeoutMs ?? 20_000, viewer.exited);
  const output = viewer.output();
  await viewer.stop();
  if (exit === 'timeout') throw new Error(`xfreerdp +auth-only did not finish:\n${output}`);
  return { ...exit, output };
}
