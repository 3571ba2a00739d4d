// VNC servers for the end-to-end tests, listening on a free loopback port: x11vnc in front of an existing X
// display (Xvfb), and TigerVNC's Xvnc (an X server of its own). With a password they use VNC Authentication
// through a password file (x11vnc -storepasswd / TigerVNC vncpasswd -f); without, security type None.
// start* resolves once the port accepts TCP connections; stop() ends the server and removes its files.
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, LOOPBACK, waitForPort } from './free-port.js';
import { ProcessGroup, registerTempDir, removeTempDir, run } from './processes.js';
import { readDisplayFd, XDisplay } from './x-display.js';

export interface VncServer {
  kind: 'x11vnc' | 'Xvnc';
  host: string;
  port: number;
  /** The VNC password when VNC Authentication is on (VNC uses its first 8 characters). */
  password?: string;
  /** The X display the server shows: the one given to x11vnc, or Xvnc's own. */
  display: XDisplay;
  /** The server's recent stdout/stderr, for failure messages. */
  output(): string;
  /** Ends the server (and, for Xvnc, its display and the clients started on it). */
  stop(): Promise<void>;
}

export interface X11vncOptions {
  password?: string;
  /** More x11vnc options, e.g. ['-ncache', '0'] or ['-defer', '5']. */
  extraArgs?: string[];
  /** Default 15 s. */
  startTimeoutMs?: number;
}

export interface XvncOptions {
  /** Default 1024. */
  width?: number;
  /** Default 768. */
  height?: number;
  /** 16, 24 or 32 (default 24). */
  depth?: 16 | 24 | 32;
  password?: string;
  /** More Xvnc options, e.g. ['-AcceptSetDesktopSize=0']. */
  extraArgs?: string[];
  /** Default 15 s. */
  startTimeoutMs?: number;
}

const START_ATTEMPTS = 3;

/** The reason a starting server failed, or undefined while it runs. */
function exitReason(group: ProcessGroup): string | undefined {
  return group.hasExited
    ? `${group.label} exited before accepting connections:\n${group.output()}`
    : undefined;
}

/** Free port, start, wait for the port; again on another port if the server died (the port was taken). */
async function startOnFreePort(
  start: (port: number) => Promise<ProcessGroup>,
  timeoutMs: number,
): Promise<{ group: ProcessGroup; port: number }> {
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    const port = await freePort();
    const group = await start(port);
    try {
      await waitForPort(port, timeoutMs, () => exitReason(group));
      return { group, port };
    } catch (err) {
      lastError = err as Error;
      const died = group.hasExited;
      await group.stop();
      if (!died) break; // alive but not listening: retrying will not help
    }
  }
  throw lastError ?? new Error('VNC server did not start');
}

/** x11vnc serving `display` on a free loopback port, shared, forever (until stop()). */
export async function startX11vnc(display: XDisplay, opts: X11vncOptions = {}): Promise<VncServer> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-x11vnc-'));
  registerTempDir(dir);
  try {
    const auth: string[] = ['-nopw'];
    if (opts.password !== undefined) {
      const file = join(dir, 'passwd');
      await run('x11vnc', ['-storepasswd', opts.password, file]);
      auth.splice(0, 1, '-rfbauth', file);
    }
    const { group, port } = await startOnFreePort(async (port) => {
      const args = ['-display', display.name, '-rfbport', String(port), '-localhost', '-noipv6'];
      args.push('-forever', '-shared', ...auth, '-nocmds', ...(opts.extraArgs ?? []));
      return new ProcessGroup('x11vnc', args, { env: display.env });
    }, opts.startTimeoutMs ?? 15_000);
    return vncServer('x11vnc', port, opts.password, display, group, async () => {
      await group.stop();
      await removeTempDir(dir);
    });
  } catch (err) {
    await removeTempDir(dir);
    throw err;
  }
}

/** TigerVNC Xvnc on a free display number and a free loopback port. */
export async function startXvnc(opts: XvncOptions = {}): Promise<VncServer> {
  const size = { width: opts.width ?? 1024, height: opts.height ?? 768, depth: opts.depth ?? 24 };
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-xvnc-'));
  registerTempDir(dir);
  try {
    const security: string[] = ['-SecurityTypes', 'None'];
    if (opts.password !== undefined) {
      const file = join(dir, 'passwd');
      const r = await run('vncpasswd', ['-f'], { input: `${opts.password}\n` });
      await writeFile(file, r.stdout);
      await chmod(file, 0o600);
      security.splice(0, 2, '-SecurityTypes', 'VncAuth', '-PasswordFile', file);
    }
    let displayName = '';
    const timeoutMs = opts.startTimeoutMs ?? 15_000;
    const { group, port } = await startOnFreePort(async (port) => {
      const args = [
        '-displayfd',
        '3',
        '-geometry',
        `${size.width}x${size.height}`,
        '-depth',
        String(size.depth),
      ];
      args.push('-rfbport', String(port), '-localhost', '-interface', LOOPBACK, ...security);
      args.push('-nolisten', 'tcp', '-noreset', '-desktop', 'gatehouse-test', ...(opts.extraArgs ?? []));
      const g = new ProcessGroup('Xvnc', args, { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
      displayName = await readDisplayFd(g, timeoutMs).catch(() => '');
      return g;
    }, timeoutMs);
    const display = new XDisplay(displayName, size, group);
    return vncServer('Xvnc', port, opts.password, display, group, async () => {
      await display.stop();
      await removeTempDir(dir);
    });
  } catch (err) {
    await removeTempDir(dir);
    throw err;
  }
}

function vncServer(
  kind: VncServer['kind'],
  port: number,
  password: string | undefined,
  display: XDisplay,
  group: ProcessGroup,
  stop: () => Promise<void>,
): VncServer {
  let stopping: Promise<void> | undefined;
  const server: VncServer = {
    kind,
    host: LOOPBACK,
    port,
    display,
    output: () => group.output(),
    stop: () => {
      stopping ??= stop();
      return stopping;
    },
  };
  if (password !== undefined) server.password = password;
  return server;
}

export interface RfbGreeting {
  /** The 12-byte ProtocolVersion, e.g. 'RFB 003.008\n'. */
  banner: string;
  /** The security types offered after answering 'RFB 003.008' (3.8 servers); [] if it sent a failure. */
  securityTypes: number[];
}

/**
 * Connects to a VNC server, reads its version banner, answers 3.8 and reads the security types it offers
 * (1 None, 2 VNC Authentication), then disconnects. Bounded by timeoutMs.
 */
export function probeRfb(host: string, port: number, timeoutMs = 5000): Promise<RfbGreeting> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let buf = Buffer.alloc(0);
    let banner: string | undefined;
    const finish = (err: Error | null, value?: RfbGreeting): void => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value!);
    };
    const timer = setTimeout(
      () =>
        finish(
          new Error(`no RFB greeting from ${host}:${port} within ${timeoutMs} ms (got ${buf.length} bytes)`),
        ),
      timeoutMs,
    );
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish(new Error(`${host}:${port} closed after ${buf.length} bytes`)));
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (banner === undefined) {
        if (buf.length < 12) return;
        banner = buf.subarray(0, 12).toString('latin1');
        buf = buf.subarray(12);
        if (!/^RFB 003\.00[3-8]\n$/.test(banner))
          return finish(new Error(`not an RFB banner: ${JSON.stringify(banner)}`));
        socket.write('RFB 003.008\n');
      }
      if (buf.length < 1) return;
      const count = buf[0]!;
      if (count === 0) return finish(null, { banner, securityTypes: [] });
      if (buf.length < 1 + count) return;
      finish(null, { banner, securityTypes: [...buf.subarray(1, 1 + count)] });
    });
  });
}
