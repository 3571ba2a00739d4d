// Child processes for the end-to-end tests. Every process is spawned as the leader of its own process group
// (detached), so stopping it also ends whatever it forked (xclip's selection daemon, chromium's helpers,
// Xvnc's children). Live groups are remembered, and a process 'exit' hook SIGKILLs any left over (and
// removes registered temp dirs), so a failed, thrown or timed-out test leaves no X server, VNC server or
// browser behind. Only a SIGKILL of the test process itself escapes this (CI ends what is left after a run).
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { groupAlive, liveProcesses } from './proc-scan.js';

/** How a process ended: exit code, or the signal that killed it. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const liveGroups = new Set<number>();
/** Every process group started (or registered) in this process, stopped or not: for leftoverProcesses(). */
const everyGroup = new Set<number>();
const everyMarker = new Set<string>();
const tempDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pgid of liveGroups) signalGroup(pgid, 'SIGKILL');
    liveGroups.clear();
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
}

/** A directory removed by the 'exit' hook if the test process ends before its owner removes it. */
export function registerTempDir(dir: string): void {
  installExitHook();
  tempDirs.add(dir);
}

/** Removes a temp directory now (and forgets it). */
export async function removeTempDir(dir: string): Promise<void> {
  tempDirs.delete(dir);
  await rm(dir, { recursive: true, force: true });
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the whole group is gone already.
  }
}

/**
 * Forgets a group once none of its processes is left, so its number (pids wrap at pid_max, 32768 here) can
 * never make us signal or report a later, unrelated group that happens to get the same id.
 */
export function forgetIfGone(pgid: number): void {
  if (pgid > 0 && !groupAlive(pgid)) {
    liveGroups.delete(pgid);
    everyGroup.delete(pgid);
  }
}

/** Remembers a process group started by other code (chromium, by playwright) for leftoverProcesses(). */
export function registerGroup(pgid: number): void {
  if (pgid > 0) everyGroup.add(pgid);
}

/** Remembers a marker (a unique temp path) whose processes leftoverProcesses() reports while they live. */
export function registerMarker(marker: string): void {
  everyMarker.add(marker);
}

/**
 * The processes started by this test process that still run: members of any group it started or
 * registered, and processes carrying a registered marker. After the tests have stopped everything this
 * should be empty. Other test files' servers do not count. Each entry is "pid command line".
 */
export function leftoverProcesses(): string[] {
  const procs = liveProcesses();
  if (procs === null) return [...everyGroup].filter(groupAlive).map((g) => `process group ${g}`);
  const markers = [...everyMarker];
  return procs
    .filter((p) => everyGroup.has(p.pgid) || markers.some((m) => p.cmdline.includes(m)))
    .map((p) => `${p.pid} ${p.cmdline}`);
}

/** Keeps the last `limit` characters written to it (a process's combined stdout and stderr). */
export class TailBuffer {
  private text = '';
  constructor(private readonly limit = 64 * 1024) {}
  push(chunk: Buffer | string): void {
    this.text += chunk.toString();
    if (this.text.length > this.limit) this.text = this.text.slice(this.text.length - this.limit);
  }
  toString(): string {
    return this.text;
  }
}

export interface GroupOptions {
  env?: NodeJS.ProcessEnv;
  /** stdio for fds 0..n; default ['ignore', 'pipe', 'pipe']. Piped stdout/stderr feed output(). */
  stdio?: SpawnOptions['stdio'];
  cwd?: string;
}

/** A spawned process group. stop() is idempotent and always resolves. */
export class ProcessGroup {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly label: string;
  /** Resolves when the leader has exited. */
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | undefined;
  private readonly out = new TailBuffer();
  private stopping: Promise<void> | undefined;

  constructor(cmd: string, args: readonly string[], opts: GroupOptions = {}) {
    installExitHook();
    this.label = [cmd, ...args].join(' ');
    this.child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child.stdout?.on('data', (c: Buffer) => this.out.push(c));
    this.child.stderr?.on('data', (c: Buffer) => this.out.push(c));
    this.exited = new Promise((resolve) => {
      const done = (info: ExitInfo): void => {
        this.exitInfo ??= info;
        resolve(this.exitInfo);
      };
      this.child.once('exit', (code, signal) => {
        done({ code, signal });
        forgetIfGone(this.pid);
      });
      this.child.once('error', (err) => {
        this.out.push(`spawn error: ${err.message}\n`);
        done({ code: null, signal: null });
      });
    });
    // pid is undefined when the spawn itself failed (ENOENT); 'error' then resolves exited.
    this.pid = this.child.pid ?? -1;
    if (this.pid > 0) {
      liveGroups.add(this.pid);
      everyGroup.add(this.pid);
    }
  }

  /** Whether the leader has exited. */
  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  /** The last 64 KiB of stdout and stderr. */
  output(): string {
    return this.out.toString();
  }

  /** SIGTERM to the group, SIGKILL after graceMs if anything of it is still alive. */
  stop(graceMs = 2000): Promise<void> {
    this.stopping ??= this.doStop(graceMs);
    return this.stopping;
  }

  private async doStop(graceMs: number): Promise<void> {
    if (this.pid <= 0) return;
    signalGroup(this.pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && (groupAlive(this.pid) || !this.hasExited)) await sleep(20);
    if (groupAlive(this.pid)) signalGroup(this.pid, 'SIGKILL');
    await within(1000, this.exited);
    liveGroups.delete(this.pid);
    forgetIfGone(this.pid);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `p`, or 'timeout' after ms; the timer is cleared either way, so it never holds the process open. */
export async function within<T>(ms: number, p: Promise<T>): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed. */
  input?: string | Buffer;
  /** Default 10 s; the whole group is killed when it runs out. */
  timeoutMs?: number;
  /** Reject when the exit code is not 0 (default true). */
  check?: boolean;
  /** Largest stdout kept, default 64 MiB; more fails the run. */
  maxStdoutBytes?: number;
}

export interface RunResult extends ExitInfo {
  stdout: Buffer;
  stderr: string;
}

/** Runs a command to completion in its own process group, bounded in time and output. */
export async function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const maxStdout = opts.maxStdoutBytes ?? 64 * 1024 * 1024;
  const group = new ProcessGroup(cmd, args, {
    env: opts.env,
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  const chunks: Buffer[] = [];
  let size = 0;
  let overflow = false;
  const stderr = new TailBuffer(16 * 1024);
  group.child.stdout?.on('data', (c: Buffer) => {
    size += c.length;
    if (size > maxStdout) {
      overflow = true;
      void group.stop(0);
    } else chunks.push(c);
  });
  group.child.stderr?.on('data', (c: Buffer) => stderr.push(c));
  if (opts.input !== undefined) {
    group.child.stdin?.on('error', () => {});
    group.child.stdin?.end(opts.input);
  }
  const closed = new Promise<void>((resolve) => {
    group.child.once('close', () => resolve());
    group.child.once('error', () => resolve());
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    closed.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  await group.stop(500);
  const info = await group.exited;
  const result: RunResult = { ...info, stdout: Buffer.concat(chunks), stderr: stderr.toString() };
  const what = `${group.label.slice(0, 200)}`;
  if (timedOut) throw new Error(`${what}: timed out after ${timeoutMs} ms; stderr: ${result.stderr.trim()}`);
  if (overflow) throw new Error(`${what}: more than ${maxStdout} bytes of output`);
  if ((opts.check ?? true) && info.code !== 0) {
    throw new Error(
      `${what}: exit ${info.code ?? info.signal}; stderr: ${result.stderr.trim() || group.output().trim()}`,
    );
  }
  return result;
}

/** Polls `probe` every intervalMs until it returns a value other than undefined, or fails after timeoutMs. */
export async function pollUntil<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await sleep(intervalMs);
  }
}

/** A process's output as JSON log records, one per line (a line that is not JSON becomes {msg: line}). */
export function jsonLines(output: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return { msg: l };
      }
    });
}
