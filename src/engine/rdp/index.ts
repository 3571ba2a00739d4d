/**
 * The RDP engine: guacd's `rdp` protocol, one native gatehouse-rdp process (FreeRDP) per session, served by
 * `gatehouse engine` and the proxy role. Listed by the registry only when its executable is there.
 */
import type { GatehouseConfig } from '../../config/schema.js';
import { STATUS } from '../../protocol/guacamole/status.js';
import { DEFAULT_STEP_TIMEOUT_MS } from '../../proxy/backends/guacd-handshake.js';
import type { EngineSession, EngineSessionOptions, ParamIssue, ProtocolEngine } from '../types.js';
import { defaultRdpBinary, engineEnv, type RunAs, resolveRunAs, whyNotRunnable } from './engine-process.js';
import { RDP_ARG_NAMES, validateRdpParams } from './params.js';
import { RdpSession } from './session.js';

export { RDP_ARG_NAMES, validateRdpParams } from './params.js';
export { RdpSession } from './session.js';

export type RdpLogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface RdpEngineOptions {
  /** The executable; default build/Release/gatehouse-rdp under the install root. */
  binary?: string;
  /** USER[:GROUP] to run as when we are root; '' = no drop. Default 'nobody'. */
  user?: string;
  /** Default 256. */
  memoryLimitMb?: number;
  /** Default 5000. */
  killGraceMs?: number;
  /** The engine's --log-level; default 'info'. */
  logLevel?: RdpLogLevel;
  /** Each handshake step with the process; default 15000. */
  handshakeTimeoutMs?: number;
  /** Most bytes queued for the process's stdin; default 4 MiB. */
  maxQueuedBytes?: number;
  /** Our environment, from which PATH, locale and sanitizer options are passed on; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** After the process exits, how long its remaining output may take to arrive; default 1000 ms. */
  exitSettleMs?: number;
}

/** The engine options from the configuration (engine.rdp, log.level). */
export function rdpEngineOptions(config: Pick<GatehouseConfig, 'engine' | 'log'>): RdpEngineOptions {
  const rdp = config.engine.rdp;
  const level = config.log.level;
  const logLevel: RdpLogLevel =
    level === 'trace' || level === 'debug'
      ? 'debug'
      : level === 'info'
        ? 'info'
        : level === 'warn'
          ? 'warn'
          : 'error';
  return {
    binary: rdp.binary || defaultRdpBinary(),
    user: rdp.user,
    memoryLimitMb: rdp.memoryLimitMb,
    killGraceMs: rdp.killGraceMs,
    logLevel,
  };
}

export class RdpEngine implements ProtocolEngine {
  readonly protocol = 'rdp';
  readonly argNames: readonly string[] = RDP_ARG_NAMES;
  readonly binary: string;
  private readonly options: RdpEngineOptions;
  private readonly runAs: RunAs | undefined;
  /** Why engine.rdp.user cannot be used, if it cannot. */
  private readonly userProblem: string | undefined;

  constructor(options: RdpEngineOptions = {}) {
    this.options = options;
    this.binary = options.binary || defaultRdpBinary();
    const user = options.user ?? 'nobody';
    let runAs: RunAs | undefined;
    let problem: string | undefined;
    if (user !== '' && process.getuid?.() === 0) {
      try {
        runAs = resolveRunAs(user);
      } catch (err) {
        problem = (err as Error).message;
      }
    }
    this.runAs = runAs;
    this.userProblem = problem;
  }

  /** Why sessions cannot start (the executable missing or not runnable by the user), or undefined. */
  unavailable(): string | undefined {
    return this.userProblem ?? whyNotRunnable(this.binary, this.runAs);
  }

  /** The user sessions run as (undefined: ours). */
  get user(): RunAs | undefined {
    return this.runAs;
  }

  validateParams(params: Readonly<Record<string, string>>): ParamIssue[] {
    return validateRdpParams(params);
  }

  start(options: EngineSessionOptions): EngineSession {
    const o = this.options;
    if (this.userProblem !== undefined) {
      options.log.error(`rdp engine: ${this.userProblem}`);
      const end = { status: STATUS.SERVER_ERROR, message: 'The RDP engine is misconfigured' };
      return { handleInstruction() {}, close() {}, ended: Promise.resolve(end) };
    }
    return new RdpSession(options, {
      binary: this.binary,
      args: ['--memory-limit-mb', String(o.memoryLimitMb ?? 256), '--log-level', o.logLevel ?? 'info'],
      runAs: this.runAs,
      env: engineEnv(o.env ?? process.env, this.runAs),
      killGraceMs: o.killGraceMs ?? 5000,
      handshakeTimeoutMs: o.handshakeTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS,
      maxQueuedBytes: o.maxQueuedBytes ?? 4 * 1024 * 1024,
      exitSettleMs: o.exitSettleMs ?? 1000,
    });
  }
}
