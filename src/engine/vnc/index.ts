/** The VNC protocol engine: guacd's `vnc` protocol, served by `gatehouse engine` and the proxy role. */
import type { EngineSession, EngineSessionOptions, ParamIssue, ProtocolEngine } from '../types.js';
import { parseVncParams, VNC_ARG_NAMES, validateVncParams } from './params.js';
import { DEFAULT_VNC_TIMEOUTS, VncSession, type VncTimeouts } from './session.js';

export class VncEngine implements ProtocolEngine {
  readonly protocol = 'vnc';
  readonly argNames: readonly string[] = VNC_ARG_NAMES;
  private readonly timeouts: VncTimeouts;

  constructor(timeouts: Partial<VncTimeouts> = {}) {
    this.timeouts = { ...DEFAULT_VNC_TIMEOUTS, ...timeouts };
  }

  validateParams(params: Readonly<Record<string, string>>): ParamIssue[] {
    return validateVncParams(params);
  }

  start(options: EngineSessionOptions): EngineSession {
    return new VncSession(options, parseVncParams(options.params), this.timeouts);
  }
}
