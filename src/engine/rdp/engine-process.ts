/**
 * One native engine process (gatehouse-rdp) for one session: started in its own process group, as an
 * unprivileged user when we are root, with a clean environment; its stderr (JSON lines: level, msg, fields)
 * forwarded to the session's logger; stopped by closing stdin, SIGTERM to the group and, after a grace period,
 * SIGKILL to the group. Node reaps the process itself (libuv's SIGCHLD handler): `exited` resolves once it is
 * gone, so nothing is left as a zombie.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fromRoot } from '../../util/paths.js';
import type { SessionLogger } from '../types.js';

/** build/Release/gatehouse-rdp under the install root: engine.rdp.binary's default. */
export const defaultRdpBinary = (): string => fromRoot('build', 'Release', 'gatehouse-rdp');

export interface RunAs {
  uid: number;
  gid: number;
  /** USER[:GROUP] as configured, for messages. */
  spec: string;
  home: string;
}

/**
 * The uid and gid of `USER[:GROUP]` (names from /etc/passwd and /etc/group, or numbers; GROUP defaults to the
 * user's primary group). Throws an Error naming what is unknown.
 */
export function resolveRunAs(spec: string, files = { passwd: '/etc/passwd', group: '/etc/group' }): RunAs {
  const [user = '', group] = spec.split(':', 2);
  const passwd = readTable(files.passwd);
  const entry =
    passwd.find((f) => f[0] === user) ?? (/^\d+$/.test(user) ? passwd.find((f) => f[2] === user) : undefined);
  let uid: number;
  let gid: number;
  let home = '/';
  if (entry) {
    uid = Number(entry[2]);
    gid = Number(entry[3]);
    home = entry[5] || '/';
  } else if (/^\d+$/.test(user)) {
    uid = Number(user);
    gid = uid;
  } else {
    throw new Error(`engine.rdp.user: no user ${JSON.stringify(user)} in ${files.passwd}`);
  }
  if (group !== undefined) {
    const g = readTable(files.group).find((f) => f[0] === group);
    if (g) gid = Number(g[2]);
    else if (/^\d+$/.test(group)) gid = Number(group);
    else throw new Error(`engine.rdp.user: no group ${JSON.stringify(group)} in ${files.group}`);
  }
  if (!Number.isSafeInteger(uid) || !Number.isSafeInteger(gid) || uid < 0 || gid < 0) {
    throw new Error(`engine.rdp.user: ${JSON.stringify(spec)} gives no valid uid/gid`);
  }
  return { uid, gid, spec, home };
}

function readTable(path: string): string[][] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.split(':'));
}

/**
 * Why `path` cannot be run (by `runAs`, when given: every directory on the way must let it search, the file
 * let it execute), or undefined when it can.
 */
export function whyNotRunnable(path: string, runAs?: RunAs): string | undefined {
  try {
    if (!statSync(path).isFile()) return `${path} is not a file`;
    accessSync(path, constants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `${path} does not exist` : `${path} is not executable (${code ?? 'error'})`;
  }
  if (runAs === undefined || runAs.uid === 0) return undefined;
  const allowed = (p: string, bit: number): boolean => {
    const st = statSync(p);
    const shift = st.uid === runAs.uid ? 6 : st.gid === runAs.gid ? 3 : 0;
    return ((st.mode >> shift) & bit) !== 0;
  };
  if (!allowed(path, 1)) return `${path} is not executable by ${runAs.spec}`;
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    if (!allowed(dir, 1)) return `${runAs.spec} cannot enter ${dir} (on the way to ${path})`;
    if (dirname(dir) === dir) break;
  }
  return undefined;
}

/** How the process ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** 'exit code 1', 'signal SIGSEGV', or why it did not start. */
  description: string;
  /** It never started (spawn failed). */
  spawnError?: Error;
}

export interface EngineProcessOptions {
  binary: string;
  args: readonly string[];
  /** Run as this user (only applied when we are root). */
  runAs?: RunAs | undefined;
  /** The environment given to the process (nothing of ours is inherited). */
  env: Record<string, string>;
  log: SessionLogger;
  /** Time from SIGTERM to SIGKILL of the group. */
  killGraceMs: number;
  /** 'rdp engine': prefix of log lines. */
  logPrefix: string;
  /** Longest stderr line forwarded (characters; the rest of the line is dropped); default 4096. */
  maxLineChars?: number;
  /** Most stderr lines forwarded per process; default 10000. */
  maxLines?: number;
}

/** The variables passed through to the engine when set (the rest of our environment may hold secrets). */
const PASSED_ENV = [
  'PATH',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'ASAN_OPTIONS',
  'UBSAN_OPTIONS',
  'LSAN_OPTIONS',
];

/** The engine's environment: PATH, locale, sanitizer options and WLOG_* (FreeRDP's logging) from ours. */
export function engineEnv(env: NodeJS.ProcessEnv, runAs: RunAs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && (PASSED_ENV.includes(name) || name.startsWith('WLOG_'))) out[name] = value;
  }
  out.PATH ??= '/usr/local/bin:/usr/bin:/bin';
  if (runAs) out.HOME = runAs.home;
  else if (env.HOME) out.HOME = env.HOME;
  return out;
}

type Level = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<string, Level> = {
  trace: 'debug',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  fatal: 'error',
};

export class EngineProcess {
  readonly pid: number | undefined;
  /** Resolves once when the process has exited and was reaped (or could not be started). */
  readonly exited: Promise<ProcessExit>;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  private readonly o: EngineProcessOptions;
  private exitInfo: ProcessExit | undefined;
  private stopping = false;
  private killTimer: NodeJS.Timeout | undefined;
  private resolveExited!: (exit: ProcessExit) => void;
  private lineParts: string[] = [];
  private lineChars = 0;
  private lineTruncated = false;
  private lines = 0;

  constructor(options: EngineProcessOptions) {
    this.o = options;
    this.exited = new Promise((resolve) => {
      this.resolveExited = resolve;
    });
    const drop = options.runAs !== undefined && process.getuid?.() === 0;
    let child: ChildProcess | undefined;
    try {
      child = spawn(options.binary, [...options.args], {
        detached: true, // setsid(): its own session and process group, killed as a whole
        stdio: ['pipe', 'pipe', 'pipe'],
        env: options.env,
        cwd: '/',
        ...(drop ? { uid: options.runAs!.uid, gid: options.runAs!.gid } : {}),
      });
    } catch (err) {
      this.failed(err as Error);
    }
    this.pid = child?.pid;
    this.stdin = child?.stdin ?? null;
    this.stdout = child?.stdout ?? null;
    if (child === undefined) return;
    child.on('error', (err) => this.failed(err));
    child.on('exit', (code, signal) => this.onExit(code, signal));
    this.stdin?.on('error', () => {}); // EPIPE once it has gone: its exit tells why
    this.stdout?.on('error', () => {});
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => this.stderr(text));
    child.stderr?.on('end', () => this.flushLine());
    child.stderr?.on('error', () => {});
  }

  get running(): boolean {
    return this.pid !== undefined && this.exitInfo === undefined;
  }

  /** How it ended, once it has. */
  get exit(): ProcessExit | undefined {
    return this.exitInfo;
  }

  /**
   * Ends it: closes stdin, SIGTERM to the group, SIGKILL to the group after killGraceMs if it is still there.
   * Idempotent.
   */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.stdin?.end();
    if (this.pid === undefined) return;
    if (!this.signalGroup('SIGTERM') && this.exitInfo) return; // all gone already
    this.killTimer = setTimeout(() => {
      this.killTimer = undefined;
      if (this.signalGroup('SIGKILL')) {
        this.o.log.warn(
          { pid: this.pid },
          `${this.o.logPrefix}: process ${this.pid} still there ${this.o.killGraceMs} ms after SIGTERM: SIGKILL to its group`,
        );
      }
    }, this.o.killGraceMs);
    this.killTimer.unref();
  }

  /** SIGKILL to the whole group now (whatever is left of it). */
  kill(): void {
    this.stopping = true;
    this.stdin?.destroy();
    if (this.killTimer) clearTimeout(this.killTimer);
    this.killTimer = undefined;
    this.signalGroup('SIGKILL');
  }

  /** Sends a signal to the process group; false when none of it is left. */
  private signalGroup(signal: NodeJS.Signals): boolean {
    if (this.pid === undefined) return false;
    try {
      process.kill(-this.pid, signal);
      return true;
    } catch {
      return false; // ESRCH: the group is gone
    }
  }

  /** Whether any process of the group is left (signal 0 only checks). */
  private groupAlive(): boolean {
    if (this.pid === undefined) return false;
    try {
      process.kill(-this.pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  private failed(err: Error): void {
    if (this.exitInfo) return;
    this.exitInfo = {
      code: null,
      signal: null,
      description: `cannot start ${this.o.binary}: ${err.message}`,
      spawnError: err,
    };
    this.resolveExited(this.exitInfo);
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exitInfo) return;
    this.exitInfo = { code, signal, description: signal ? `signal ${signal}` : `exit code ${code ?? '?'}` };
    // Whatever it left in its group goes with it; a SIGKILL still pending stays armed until it has.
    if (!this.stopping) this.signalGroup('SIGKILL');
    else if (this.killTimer && !this.groupAlive()) {
      clearTimeout(this.killTimer);
      this.killTimer = undefined;
    }
    this.resolveExited(this.exitInfo);
  }

  // --- stderr -----------------------------------------------------------------------------------------

  private stderr(text: string): void {
    const max = this.o.maxLineChars ?? 4096;
    let from = 0;
    for (;;) {
      const nl = text.indexOf('\n', from);
      const end = nl < 0 ? text.length : nl;
      if (!this.lineTruncated) {
        const room = max - this.lineChars;
        const piece = text.slice(from, Math.min(end, from + room));
        this.lineParts.push(piece);
        this.lineChars += piece.length;
        if (end - from > room) this.lineTruncated = true;
      }
      if (nl < 0) return;
      this.flushLine();
      from = nl + 1;
    }
  }

  private flushLine(): void {
    const line = this.lineParts.join('');
    const truncated = this.lineTruncated;
    this.lineParts = [];
    this.lineChars = 0;
    this.lineTruncated = false;
    if (line.trim() === '') return;
    const max = this.o.maxLines ?? 10_000;
    this.lines++;
    if (this.lines > max) {
      if (this.lines === max + 1) {
        this.o.log.warn(
          { pid: this.pid },
          `${this.o.logPrefix}: more than ${max} log lines from process ${this.pid}; dropping the rest`,
        );
      }
      return;
    }
    const { level, msg, fields } = parseLine(line);
    this.o.log[level](
      { pid: this.pid, ...(fields ? { native: fields } : {}), ...(truncated ? { truncated: true } : {}) },
      `${this.o.logPrefix}: ${msg}`,
    );
  }
}

/** One stderr line: a JSON object with `level` and `msg` (its other fields kept), or plain text (warn). */
function parseLine(line: string): { level: Level; msg: string; fields?: Record<string, unknown> } {
  if (line.startsWith('{')) {
    try {
      const obj = JSON.parse(line) as unknown;
      if (obj !== null && typeof obj === 'object' && !Array.isArray(obj)) {
        const { level, msg, ...fields } = obj as Record<string, unknown>;
        const lvl = (typeof level === 'string' && LEVELS[level.toLowerCase()]) || 'info';
        const text = typeof msg === 'string' ? msg : JSON.stringify(msg ?? '');
        return Object.keys(fields).length > 0 ? { level: lvl, msg: text, fields } : { level: lvl, msg: text };
      }
    } catch {
      // not JSON after all: plain text
    }
  }
  return { level: 'warn', msg: line };
}
