/**
 * The client side of guacd's handshake as a sans-I/O state machine (reference section 2), as guacamole-client's
 * ConfiguredGuacamoleSocket performs it:
 *
 *   we: select,<protocol>                  guacd: args,[VERSION_x_y_z,]<parameter names...>
 *   we: size,<w>,<h>,<dpi>  audio,...  video,...  image,...  [timezone,<tz>]  [name,<name>]
 *   we: connect,[<version>,]<value per requested name>        guacd: ready,<connection id>
 *
 * Version: when `args` starts with `VERSION_x_y_z`, we speak the newest version we know that is not above the
 * server's (at most VERSION_1_5_0) and answer it first in `connect`; `timezone` needs 1.1.0, `name` 1.5.0. A
 * server without the version element (guacd 1.0.0) gets neither and no version in `connect`.
 *
 * Input: instructions decoded from guacd, codec errors, the connection closing, and the passing of time (the
 * edge calls timeout() once `deadline` has passed). Output: what to send and, once, `ready` or `failure`.
 */

import {
  type ProtocolVersion,
  parseVersion,
  resolveClientVersion,
  versionSupports,
} from '../../engine/guacd/versions.js';
import type { ClientInfo } from '../../engine/types.js';
import { encodeInstruction } from '../../protocol/guacamole/encoder.js';
import type { Instruction } from '../../protocol/guacamole/parser.js';
import { STATUS } from '../../protocol/guacamole/status.js';

/** guacamole-client's timeout for each step of the handshake. */
export const DEFAULT_STEP_TIMEOUT_MS = 15_000;
/** The newest protocol version this client speaks. */
export const CLIENT_VERSION: ProtocolVersion = 'VERSION_1_5_0';

export interface ClientHandshakeOptions {
  /** The protocol to `select` (e.g. 'vnc', 'rdp'). */
  protocol: string;
  /** Parameter values by guacd name; only the names guacd asks for are sent. */
  params: Readonly<Record<string, string>>;
  /** What the browser said about itself (its protocolVersion is ignored: the version is negotiated here). */
  client: ClientInfo;
  /** Current time in ms, on the clock later passed to receive() and timeout(). */
  now: number;
  /** Time guacd has to answer each step; default 15000. */
  stepTimeoutMs?: number;
  /** How the server is named in failure messages; default 'guacd' (an engine process: 'RDP engine'). */
  peer?: string;
  /**
   * Fail (CLIENT_BAD_REQUEST, naming them) when `params` gives a non-empty value for a name the server did not
   * ask for, instead of leaving it out. For a built-in engine process, whose `args` must match ours.
   */
  rejectUnrequested?: boolean;
  /**
   * The server's `error` message as the failure's message, as is (an engine process, whose messages are meant
   * for the user), instead of "<peer> refused the connection: <message>".
   */
  plainErrors?: boolean;
}

export type ClientHandshakePhase = 'new' | 'args' | 'ready-wait' | 'ready' | 'failed';

export interface GuacdReady {
  /** guacd's id for the connection (`$` + UUID for real guacd). */
  connectionId: string;
  /** The version spoken (VERSION_1_0_0 when the server did not negotiate). */
  version: ProtocolVersion;
  /** What the server offered first in `args`, or undefined when it sent no version. */
  serverVersion: string | undefined;
  /** The parameter names guacd asked for, in its order (the version element removed). */
  argNames: string[];
  /** Names given in `params` that guacd did not ask for, so were not sent (for a debug log; no values). */
  unrequested: string[];
}

export interface ClientHandshakeFailure {
  status: number;
  message: string;
}

export interface ClientHandshakeStep {
  /** Encoded instructions to send to guacd now, in order ('' when none). */
  send: string;
  ready?: GuacdReady;
  failure?: ClientHandshakeFailure;
}

const NOTHING: ClientHandshakeStep = Object.freeze({ send: '' });
const QUOTE_MAX = 64;

function quote(text: string): string {
  return JSON.stringify(text.length > QUOTE_MAX ? `${text.slice(0, QUOTE_MAX)}...` : text);
}

/**
 * The status of guacd's `error,<message>,<status>`: a decimal status code. Anything else, and SUCCESS (an
 * error that claims success), becomes UPSTREAM_ERROR.
 */
export function guacdErrorStatus(text: string | undefined): number {
  if (text === undefined || !/^\d{1,5}$/.test(text)) return STATUS.UPSTREAM_ERROR;
  const status = Number(text);
  return status === STATUS.SUCCESS || status > 0xffff ? STATUS.UPSTREAM_ERROR : status;
}

export class GuacdClientHandshake {
  private phaseNow: ClientHandshakePhase = 'new';
  private deadlineAt: number;
  private readonly stepTimeoutMs: number;
  private readonly peer: string;
  private readonly options: ClientHandshakeOptions;
  private negotiated: {
    version: ProtocolVersion;
    serverVersion: string | undefined;
    argNames: string[];
    unrequested: string[];
  } = { version: 'VERSION_1_0_0', serverVersion: undefined, argNames: [], unrequested: [] };

  constructor(options: ClientHandshakeOptions) {
    this.options = options;
    this.stepTimeoutMs = options.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
    this.peer = options.peer ?? 'guacd';
    this.deadlineAt = options.now + this.stepTimeoutMs;
  }

  get phase(): ClientHandshakePhase {
    return this.phaseNow;
  }

  /** When the current step times out (same clock as `now`); Infinity once the handshake is over. */
  get deadline(): number {
    return this.deadlineAt;
  }

  get done(): boolean {
    return this.phaseNow === 'ready' || this.phaseNow === 'failed';
  }

  /** The first bytes: `select,<protocol>`. Call once, when the connection is up. */
  start(now: number): ClientHandshakeStep {
    if (this.phaseNow !== 'new') return NOTHING;
    this.phaseNow = 'args';
    this.deadlineAt = now + this.stepTimeoutMs;
    return { send: encodeInstruction('select', this.options.protocol) };
  }

  /** One instruction from guacd. */
  receive(instruction: Instruction, now: number): ClientHandshakeStep {
    if (this.done) return NOTHING;
    const { opcode, args } = instruction;
    if (opcode === 'error') {
      const message = args[0] || 'no message';
      return this.fail(
        guacdErrorStatus(args[1]),
        this.options.plainErrors ? message : `${this.peer} refused the connection: ${message}`,
      );
    }
    if (this.phaseNow === 'args' && opcode === 'args') return this.answer(args, now);
    if (this.phaseNow === 'ready-wait' && opcode === 'ready') return this.ready(args);
    const expected = this.phaseNow === 'ready-wait' ? 'ready' : 'args';
    return this.fail(
      STATUS.UPSTREAM_ERROR,
      this.phaseNow === 'new'
        ? `${this.peer} sent ${quote(opcode)} before "select"`
        : `Expected "${expected}" from ${this.peer} but received ${quote(opcode)}`,
    );
  }

  /** guacd's bytes could not be decoded. */
  malformed(error: Error): ClientHandshakeStep {
    if (this.done) return NOTHING;
    return this.fail(
      STATUS.UPSTREAM_ERROR,
      `${this.peer} sent malformed data during the handshake: ${error.message}`,
    );
  }

  /** The connection to guacd closed (or failed) before `ready`. */
  closed(reason?: string): ClientHandshakeStep {
    if (this.done) return NOTHING;
    return this.fail(
      STATUS.UPSTREAM_ERROR,
      `${this.peer} closed the connection during the handshake${reason ? `: ${reason}` : ''}`,
    );
  }

  /** The clock advanced: fails the handshake once the current step's deadline has passed. */
  timeout(now: number): ClientHandshakeStep {
    if (this.done || now < this.deadlineAt) return NOTHING;
    const waitingFor = this.phaseNow === 'ready-wait' ? '"ready"' : '"args"';
    return this.fail(
      STATUS.UPSTREAM_TIMEOUT,
      `${this.peer} did not answer within ${this.stepTimeoutMs} ms (waiting for ${waitingFor})`,
    );
  }

  private fail(status: number, message: string): ClientHandshakeStep {
    this.phaseNow = 'failed';
    this.deadlineAt = Number.POSITIVE_INFINITY;
    return { send: '', failure: { status, message } };
  }

  /** `args` received: the client info, then `connect` with a value for every name guacd asked for. */
  private answer(args: string[], now: number): ClientHandshakeStep {
    const { params, client } = this.options;
    const first = args[0];
    const negotiates = first !== undefined && parseVersion(first) !== undefined;
    const version: ProtocolVersion = negotiates
      ? lowerOf(resolveClientVersion(first), CLIENT_VERSION)
      : 'VERSION_1_0_0';
    const argNames = negotiates ? args.slice(1) : args;
    const requested = new Set(argNames);
    const unrequested = Object.keys(params).filter((name) => !requested.has(name));
    if (this.options.rejectUnrequested) {
      const refused = unrequested.filter((name) => (params[name] ?? '') !== '');
      if (refused.length > 0) {
        return this.fail(
          STATUS.CLIENT_BAD_REQUEST,
          `${this.peer} does not support the parameter(s) ${refused.map((n) => quote(n)).join(', ')}`,
        );
      }
    }

    let send = encodeInstruction('size', client.width, client.height, client.dpi);
    send += encodeInstruction('audio', ...client.audio);
    send += encodeInstruction('video', ...client.video);
    send += encodeInstruction('image', ...client.image);
    if (client.timezone && versionSupports(version, 'timezone')) {
      send += encodeInstruction('timezone', client.timezone);
    }
    if (client.name && versionSupports(version, 'name')) send += encodeInstruction('name', client.name);
    const values = argNames.map((name) => (Object.hasOwn(params, name) ? (params[name] ?? '') : ''));
    send += negotiates
      ? encodeInstruction('connect', version, ...values)
      : encodeInstruction('connect', ...values);

    this.negotiated = { version, serverVersion: negotiates ? first : undefined, argNames, unrequested };
    this.phaseNow = 'ready-wait';
    this.deadlineAt = now + this.stepTimeoutMs;
    return { send };
  }

  private ready(args: string[]): ClientHandshakeStep {
    const connectionId = args[0];
    if (connectionId === undefined || connectionId === '') {
      return this.fail(STATUS.UPSTREAM_ERROR, `${this.peer} sent "ready" without a connection id`);
    }
    this.phaseNow = 'ready';
    this.deadlineAt = Number.POSITIVE_INFINITY;
    return { send: '', ready: { connectionId, ...this.negotiated } };
  }
}

/** The older of two known versions. */
function lowerOf(a: ProtocolVersion, b: ProtocolVersion): ProtocolVersion {
  const va = parseVersion(a)!;
  const vb = parseVersion(b)!;
  for (let i = 0; i < 3; i++) {
    if (va[i]! !== vb[i]!) return va[i]! < vb[i]! ? a : b;
  }
  return a;
}
