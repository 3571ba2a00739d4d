// An X display for the end-to-end tests: Xvfb started on a free display number (the server picks it and
// reports it through -displayfd, so parallel tests never collide), and the X clients the tests use on it:
// xsetroot, xterm, xdotool, xclip, xwd (screenshots, decoded by ./xwd.ts). stop() ends the server and every
// process started through the display, whatever state the test left them in.
import type { Readable } from 'node:stream';
import { ProcessGroup, pollUntil, type RunOptions, type RunResult, run } from './processes.js';
import { decodeXwd, type Rect, type RgbaImage } from './xwd.js';

export interface XScreenSize {
  width: number;
  height: number;
  depth: number;
}

export interface XvfbOptions {
  /** Default 1024. */
  width?: number;
  /** Default 768. */
  height?: number;
  /** 8, 16 or 24 (default 24). */
  depth?: 8 | 16 | 24;
  /** Appended to Xvfb's arguments. */
  extraArgs?: string[];
  /** Default 10 s. */
  startTimeoutMs?: number;
}

export type Selection = 'clipboard' | 'primary';

export interface XtermOptions {
  /** Window title (WM_NAME), used to find the window; default a unique one. */
  title?: string;
  /** X geometry, default '80x24+0+0'. */
  geometry?: string;
  /** More xterm arguments, e.g. ['-bg', 'black'] or ['-e', 'sh', '-c', '...'] (which must come last). */
  args?: string[];
  /** How long to wait for the window to appear, default 5 s. */
  timeoutMs?: number;
}

export interface XWindowProcess {
  group: ProcessGroup;
  /** The X window id (decimal, as xdotool prints it). */
  windowId: string;
  title: string;
  stop(): Promise<void>;
}

/**
 * The display name (":N") that an X server started with `-displayfd 3` (and a pipe on fd 3) reports once it
 * accepts clients. Fails with the server's output, and stops it, if it exits or stays silent for timeoutMs.
 */
export async function readDisplayFd(server: ProcessGroup, timeoutMs: number): Promise<string> {
  const fd3 = server.child.stdio[3] as Readable | null | undefined;
  if (!fd3) throw new Error('the X server was not given a pipe on fd 3');
  let text = '';
  const reported = new Promise<string>((resolve, reject) => {
    const finish = (): void => {
      const m = /^(\d+)/.exec(text.trim());
      if (m) resolve(`:${m[1]}`);
      else reject(new Error(`the X server reported no display number (got ${JSON.stringify(text)})`));
    };
    fd3.on('data', (c: Buffer) => {
      text += c.toString();
      if (text.includes('\n')) finish();
    });
    fd3.on('end', finish);
    fd3.on('error', reject);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      reported,
      server.exited.then((e) => {
        throw new Error(
          `${server.label} exited (${e.code ?? e.signal}) before it was ready:\n${server.output()}`,
        );
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(`${server.label}: no display number within ${timeoutMs} ms\n${server.output()}`),
            ),
          timeoutMs,
        );
      }),
    ]);
  } catch (err) {
    await server.stop();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** Starts Xvfb on a free display number. */
export async function startXvfb(opts: XvfbOptions = {}): Promise<XDisplay> {
  const size = { width: opts.width ?? 1024, height: opts.height ?? 768, depth: opts.depth ?? 24 };
  const args = ['-displayfd', '3', '-screen', '0', `${size.width}x${size.height}x${size.depth}`];
  args.push('-nolisten', 'tcp', '-noreset', ...(opts.extraArgs ?? []));
  const server = new ProcessGroup('Xvfb', args, { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  const name = await readDisplayFd(server, opts.startTimeoutMs ?? 10_000);
  return new XDisplay(name, size, server);
}

let titleCounter = 0;

export class XDisplay {
  private readonly children = new Set<ProcessGroup>();
  private stopping: Promise<void> | undefined;

  /** `server`, when given, is stopped by stop() after the clients. */
  constructor(
    readonly name: string,
    readonly size: XScreenSize,
    private readonly server?: ProcessGroup,
  ) {}

  /** process.env with DISPLAY set to this display. */
  get env(): NodeJS.ProcessEnv {
    return { ...process.env, DISPLAY: this.name };
  }

  /** Runs an X client to completion (bounded, default 10 s; rejects on a non-zero exit unless check: false). */
  run(cmd: string, args: readonly string[], opts: Omit<RunOptions, 'env'> = {}): Promise<RunResult> {
    return run(cmd, args, { ...opts, env: this.env });
  }

  /** Starts a long-running X client; stop() of the display ends it too. */
  spawn(cmd: string, args: readonly string[]): ProcessGroup {
    const group = new ProcessGroup(cmd, args, { env: this.env });
    this.children.add(group);
    return group;
  }

  /** Fills the root window with a colour, e.g. '#336699' (xsetroot -solid). */
  async setRootColor(color: string): Promise<void> {
    await this.run('xsetroot', ['-solid', color]);
  }

  /** Runs xdotool with these arguments and returns its trimmed stdout. */
  async xdotool(...args: string[]): Promise<string> {
    const r = await this.run('xdotool', args);
    return r.stdout.toString().trim();
  }

  /** Starts an xterm and waits until its window exists. */
  async startXterm(opts: XtermOptions = {}): Promise<XWindowProcess> {
    const title = opts.title ?? `gatehouse-xterm-${process.pid}-${++titleCounter}`;
    const args = ['-T', title, '-geometry', opts.geometry ?? '80x24+0+0', ...(opts.args ?? [])];
    const group = this.spawn('xterm', args);
    const timeoutMs = opts.timeoutMs ?? 5000;
    const windowId = await pollUntil(
      `the xterm window "${title}"`,
      async () => {
        if (group.hasExited) throw new Error(`xterm exited early:\n${group.output()}`);
        const r = await this.run('xdotool', ['search', '--name', `^${escapeRegex(title)}$`], {
          check: false,
        });
        return r.stdout.toString().trim().split('\n')[0] || undefined;
      },
      timeoutMs,
    ).catch(async (err: unknown) => {
      await group.stop();
      throw err;
    });
    // The window exists (10x17 at 0,0) before xterm gives it its size and place: wait for those.
    await pollUntil(
      `the xterm window "${title}" sized`,
      async () => {
        const geo = await this.xdotool('getwindowgeometry', windowId).catch(() => '');
        const m = /Geometry: (\d+)x(\d+)/.exec(geo);
        return m && Number(m[1]) > 10 && Number(m[2]) > 17 ? true : undefined;
      },
      timeoutMs,
    ).catch(async (err: unknown) => {
      await group.stop();
      throw err;
    });
    return { group, windowId, title, stop: () => group.stop() };
  }

  /** The selection's text, or null when no client owns it (or the owner does not answer in time). */
  async readClipboard(selection: Selection = 'clipboard', timeoutMs = 5000): Promise<string | null> {
    const r = await this.run('xclip', ['-selection', selection, '-o'], { check: false, timeoutMs });
    return r.code === 0 ? r.stdout.toString('utf8') : null;
  }

  /** CUT_BUFFER0 as xprop prints it (`CUT_BUFFER0(STRING) = "text"`), or '' when unset. */
  async cutBuffer(): Promise<string> {
    const r = await this.run('xprop', ['-root', 'CUT_BUFFER0'], { check: false });
    return r.stdout.toString();
  }

  async setCutBuffer(text: string): Promise<void> {
    await this.run('xprop', ['-root', '-f', 'CUT_BUFFER0', '8s', '-set', 'CUT_BUFFER0', text]);
  }

  /**
   * Sets CUT_BUFFER0 to `text`, again every 2 s, until `seen()` holds (x11vnc mirrors the cut buffer to its
   * viewers, but may overlook a change made soon after it set the buffer itself).
   */
  async offerCutBuffer(text: string, seen: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
    let lastSet = 0;
    await pollUntil(
      `"${text}" offered through CUT_BUFFER0 to be seen`,
      async () => {
        if (Date.now() - lastSet > 2000) {
          lastSet = Date.now();
          await this.setCutBuffer(text);
        }
        return (await seen()) ? true : undefined;
      },
      timeoutMs,
      200,
    );
  }

  /**
   * Makes xclip own the selection with `text` and waits until it reads back. xclip stays in the foreground
   * (-quiet) serving it until another client takes the selection or the display stops.
   */
  async writeClipboard(text: string, selection: Selection = 'clipboard'): Promise<void> {
    const group = new ProcessGroup('xclip', ['-quiet', '-selection', selection, '-i'], {
      env: this.env,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    this.children.add(group);
    group.child.stdin?.on('error', () => {});
    group.child.stdin?.end(text);
    // Short reads: until xclip owns the selection, a read may go to the previous owner, which can stall
    // (xrdp's chansrv asking an RDP client that has no clipboard channel), so one read must not use it all.
    await pollUntil(
      `the ${selection} selection to read back`,
      async () => {
        const now = await this.readClipboard(selection, 1000);
        return now === text ? true : undefined;
      },
      10_000,
    );
  }

  /** The whole screen, or a region of it, as RGBA (xwd -root). */
  async screenshot(region?: Rect): Promise<RgbaImage> {
    const r = await this.run('xwd', ['-root', '-silent'], { timeoutMs: 10_000 });
    return decodeXwd(r.stdout, region);
  }

  /** RGBA bytes of a region of the screen, rows top to bottom. */
  async screenshotRegion(x: number, y: number, width: number, height: number): Promise<Uint8Array> {
    return (await this.screenshot({ x, y, width, height })).data;
  }

  /** Ends every client started through this display, then the X server (if this object owns it). */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.all([...this.children].map((c) => c.stop()));
      this.children.clear();
      await this.server?.stop();
    })();
    return this.stopping;
  }
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
