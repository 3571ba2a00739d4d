/**
 * One RDP session: a gatehouse-rdp process (EngineProcess) spoken to as guacd is, over its stdin and stdout,
 * by the proxy's guacd client (GuacdLink): `select,rdp`, its `args` (authoritative: a non-empty parameter it
 * does not ask for fails the session naming it), our client info and `connect`, its `ready`; then its whole
 * instructions go to the sink and the client's to its stdin, with the sink's backpressure pausing its stdout.
 *
 * Ends:
 * - its `error` → that status; its `disconnect` → SUCCESS;
 * - it dies without either (a signal, a non-zero exit, or exit 0 without a word) or closes its stdout → SERVER_ERROR
 *   (0x0200), logged with the signal or exit code; it never started (binary missing) → SERVER_ERROR naming the path;
 * - close() / the client's `disconnect` → `disconnect` sent, stdin closed, SIGTERM to its group, SIGKILL after
 *   killGraceMs.
 * Whichever way, the process group is stopped and the process reaped (`exited`).
 */

import type { Instruction } from '../../protocol/guacamole/parser.js';
import { STATUS, statusName } from '../../protocol/guacamole/status.js';
import { GuacdLink, type LinkChannel } from '../../proxy/backends/guacd-link.js';
import type { EngineSession, EngineSessionOptions, SessionEnd } from '../types.js';
import { EngineProcess, type ProcessExit, type RunAs } from './engine-process.js';

export interface RdpSessionSettings {
  binary: string;
  args: readonly string[];
  runAs: RunAs | undefined;
  env: Record<string, string>;
  killGraceMs: number;
  handshakeTimeoutMs: number;
  maxQueuedBytes: number;
  /** How long to wait for the rest of its output once it has exited (or for its exit once its output ended). */
  exitSettleMs: number;
}

const LOG = 'rdp engine';

export class RdpSession implements EngineSession {
  readonly ended: Promise<SessionEnd>;
  readonly process: EngineProcess;
  private readonly link: GuacdLink;
  private readonly o: EngineSessionOptions;
  private readonly settings: RdpSessionSettings;
  private stdoutEnded = false;
  private settleTimer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();

  constructor(options: EngineSessionOptions, settings: RdpSessionSettings) {
    this.o = options;
    this.settings = settings;
    const log = options.log;
    this.process = new EngineProcess({
      binary: settings.binary,
      args: settings.args,
      runAs: settings.runAs,
      env: settings.env,
      log,
      killGraceMs: settings.killGraceMs,
      logPrefix: LOG,
    });
    const proc = this.process;
    const channel: LinkChannel = {
      write: (text) => proc.stdin?.write(text),
      get writableLength() {
        return proc.stdin?.writableLength ?? 0;
      },
      get writable() {
        return proc.stdin?.writable ?? false;
      },
      cork: () => proc.stdin?.cork(),
      uncork: () => proc.stdin?.uncork(),
      pause: () => proc.stdout?.pause(),
      resume: () => proc.stdout?.resume(),
    };
    this.link = new GuacdLink({
      protocol: 'rdp',
      params: options.params,
      client: options.client,
      sink: options.sink,
      log,
      channel,
      framer: undefined,
      // It connects to the RDP server before `ready`, within the `timeout` parameter (seconds, default 10).
      handshakeTimeoutMs: Math.max(
        settings.handshakeTimeoutMs,
        (Number(options.params.timeout) || 10) * 1000 + 5000,
      ),
      idleTimeoutMs: Number.POSITIVE_INFINITY, // the process's exit is the signal, not silence
      nopIntervalMs: Number.POSITIVE_INFINITY,
      maxQueuedBytes: settings.maxQueuedBytes,
      peer: 'RDP engine',
      logPrefix: LOG,
      rejectUnrequested: true,
      plainErrors: true, // it connects to the RDP server before `ready`: its errors are the user's
      logFields: { pid: proc.pid },
      onEnd: (end, info) => this.onEnd(end, info),
    });
    this.ended = this.link.ended;
    const guard = (what: string, fn: () => void): void => this.link.guard(what, fn);
    proc.exited.then((exit) => guard('exit', () => this.onExit(exit)));
    if (proc.pid === undefined) return; // spawn failed: onExit reports it
    log.debug({ pid: proc.pid, binary: settings.binary }, `${LOG}: process ${proc.pid} started`);
    proc.stdout?.on('data', (chunk: Buffer) => guard('data', () => this.link.data(chunk)));
    proc.stdout?.on('end', () => guard('end', () => this.onStdoutEnd()));
    this.link.start();
  }

  handleInstruction(instruction: Instruction): void {
    this.link.handleInstruction(instruction);
  }

  close(reason?: SessionEnd): void {
    this.link.end(reason ?? { status: STATUS.SUCCESS, message: 'The session was closed' });
  }

  /** Reading its stdout is paused (the sink is above its high-water mark). */
  get paused(): boolean {
    return this.link.paused;
  }

  get connectionId(): string | undefined {
    return this.link.connectionId;
  }

  // --- the process ending by itself ------------------------------------------------------------------

  private onStdoutEnd(): void {
    this.stdoutEnded = true;
    if (this.link.state === 'ended') return;
    if (this.process.exit) {
      this.conclude(this.process.exit);
      return;
    }
    // Its output is over: it should exit now; if it does not, it is ended as broken.
    this.settle(() => this.conclude(this.process.exit));
  }

  private onExit(exit: ProcessExit): void {
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
    if (this.link.state === 'ended') return;
    if (exit.spawnError) {
      this.o.log.error(
        { binary: this.settings.binary, err: exit.spawnError.message },
        `${LOG}: ${exit.description}`,
      );
      this.link.end(
        { status: STATUS.SERVER_ERROR, message: `The RDP engine could not be started: ${exit.description}` },
        false,
      );
      return;
    }
    // Its last words (an `error`) may still be in the pipe: read them first, within exitSettleMs.
    if (this.stdoutEnded || this.process.stdout === null) this.conclude(exit);
    else this.settle(() => this.conclude(exit));
  }

  private settle(fn: () => void): void {
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      this.link.guard('exit', fn);
    }, this.settings.exitSettleMs);
    this.settleTimer.unref();
  }

  /** It stopped (or stopped talking) without `error` or `disconnect`: SERVER_ERROR, logged with why. */
  private conclude(exit: ProcessExit | undefined): void {
    if (this.link.state === 'ended') return;
    const pid = this.process.pid;
    const why = exit
      ? exit.signal
        ? `was killed by ${exit.signal}`
        : `exited with code ${exit.code ?? '?'} without an error`
      : 'closed its output';
    this.o.log.error(
      { pid, code: exit?.code, signal: exit?.signal, phase: this.link.state },
      `${LOG}: process ${pid} ${why}`,
    );
    this.link.end(
      {
        status: STATUS.SERVER_ERROR,
        message: exit?.signal ? `The RDP engine crashed (${exit.signal})` : `The RDP engine ${why}`,
      },
      false,
    );
  }

  // --- end --------------------------------------------------------------------------------------------

  private onEnd(end: SessionEnd, info: { graceful: boolean; wasSession: boolean; durationMs: number }): void {
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
    this.process.stop(); // stdin closed (after `disconnect` when graceful), SIGTERM, SIGKILL after the grace
    this.o.log.info(
      {
        pid: this.process.pid,
        status: end.status,
        statusName: statusName(end.status),
        durationMs: info.wasSession ? info.durationMs : Date.now() - this.startedAt,
        bytesRead: bytesOf(this.process.stdout),
      },
      `${LOG}: session ended: ${end.message}`,
    );
  }
}

function bytesOf(stream: unknown): number {
  return (stream as { bytesRead?: number }).bytesRead ?? 0;
}
