/**
 * The server side of guacd's handshake as a sans-I/O state machine (reference section 2).
 *
 *   client: select,<protocol>           server: args,VERSION_1_5_0,<parameter names...>
 *   client: size / audio / video / image / timezone / name, any order, unknown opcodes ignored
 *   client: connect,<version>,<values...>   server: ready,$<uuid>   (or error,<message>,<status>)
 *
 * Input: instructions from GuacamoleParser, codec errors, and the passing of time (the caller drives the
 * clock: it calls timeout() once `deadline` has passed). Output: the instructions to send and, once, either
 * `ready` (start the engine session) or `failure` (send, then close). Unlike guacd, the parameter values are
 * validated before `ready`, so a bad connection is refused with a message naming the parameter.
 */
import { randomUUID } from 'node:crypto';
import { encodeInstruction } from '../../protocol/guacamole/encoder.js';
import type { Instruction } from '../../protocol/guacamole/parser.js';
import { STATUS } from '../../protocol/guacamole/status.js';
import type { ClientInfo, ProtocolEngine } from '../types.js';
import { type ProtocolVersion, resolveClientVersion, SERVER_VERSION, versionSupports } from './versions.js';

/** guacd's timeout for `select` and for each later handshake instruction. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 15_000;
/** Most instructions accepted before `connect` (guacamole-client sends 6 or 7). */
export const DEFAULT_MAX_HANDSHAKE_INSTRUCTIONS = 64;
/** Most mimetypes in one `audio`, `video` or `image` instruction. */
export const MAX_MIMETYPES = 64;
/** Client info used when the client never sends `size` (guacd's usual defaults). */
export const DEFAULT_SIZE = Object.freeze({ width: 1024, height: 768, dpi: 96 });
/** Largest width, height or dpi accepted in `size`. */
export const MAX_DIMENSION = 65_535;

export interface HandshakeOptions {
  /** The engines this server provides, looked up by `select`. */
  engines: readonly ProtocolEngine[];
  /** Current time in ms (the clock the caller will pass to receive() and timeout()). */
  now: number;
  /** Time allowed for `select` and for each later instruction; default 15000. */
  stepTimeoutMs?: number;
  /** Most instructions before `connect`; default 64. */
  maxInstructions?: number;
  /** Makes the connection id sent in `ready`; default `$` + a random UUID. */
  newConnectionId?: () => string;
}

export type HandshakePhase = 'select' | 'client-info' | 'ready' | 'failed';

export interface HandshakeReady {
  /** The id sent in `ready`: `$` + lowercase UUID. */
  connectionId: string;
  engine: ProtocolEngine;
  /** Every parameter the engine declares, by name; "" where the client left it unset. */
  params: Record<string, string>;
  client: ClientInfo;
  /** The client's version answer, as sent (it may be "" or unknown; client.protocolVersion is the result). */
  versionAnswer: string;
}

export interface HandshakeFailure {
  status: number;
  message: string;
}

export interface HandshakeStep {
  /** Encoded instructions to send now, in order ('' when none). */
  send: string;
  /** The handshake completed: start the session (`send` holds `ready`). */
  ready?: HandshakeReady;
  /** The handshake failed: send `send` (which holds the `error`), then close. */
  failure?: HandshakeFailure;
}

const NOTHING: HandshakeStep = Object.freeze({ send: '' });
/** Longest client-supplied text quoted back in an error message. */
const QUOTE_MAX = 64;

/** `text` in double quotes, cut to QUOTE_MAX characters. */
function quote(text: string): string {
  const cut = text.length > QUOTE_MAX ? `${text.slice(0, QUOTE_MAX)}...` : text;
  return JSON.stringify(cut);
}

/** A `size` value: a decimal number (a fraction is dropped, as guacd's atoi does) from 0 to MAX_DIMENSION. */
function dimension(text: string): number | undefined {
  if (!/^\+?\d{1,9}(\.\d*)?$/.test(text.trim())) return undefined;
  const value = Math.floor(Number(text.trim()));
  return value <= MAX_DIMENSION ? value : undefined;
}

export class GuacdHandshake {
  private phaseNow: HandshakePhase = 'select';
  private deadlineAt: number;
  private instructions = 0;
  private engine: ProtocolEngine | undefined;
  private readonly stepTimeoutMs: number;
  private readonly maxInstructions: number;
  private readonly engines: ReadonlyMap<string, ProtocolEngine>;
  private readonly newConnectionId: () => string;

  // What the client told us so far.
  private width: number = DEFAULT_SIZE.width;
  private height: number = DEFAULT_SIZE.height;
  private dpi: number = DEFAULT_SIZE.dpi;
  private audio: string[] = [];
  private video: string[] = [];
  private image: string[] = [];
  private timezone: string | undefined;
  private name: string | undefined;

  constructor(options: HandshakeOptions) {
    this.stepTimeoutMs = options.stepTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    this.maxInstructions = options.maxInstructions ?? DEFAULT_MAX_HANDSHAKE_INSTRUCTIONS;
    this.newConnectionId = options.newConnectionId ?? (() => `$${randomUUID()}`);
    this.engines = new Map(options.engines.map((e) => [e.protocol, e]));
    this.deadlineAt = options.now + this.stepTimeoutMs;
  }

  get phase(): HandshakePhase {
    return this.phaseNow;
  }

  /** When the current step times out (ms, same clock as `now`); Infinity once the handshake is over. */
  get deadline(): number {
    return this.deadlineAt;
  }

  /** Whether the handshake has completed or failed (later input is ignored). */
  get done(): boolean {
    return this.phaseNow === 'ready' || this.phaseNow === 'failed';
  }

  /** One instruction from the client. */
  receive(instruction: Instruction, now: number): HandshakeStep {
    if (this.done) return NOTHING;
    if (++this.instructions > this.maxInstructions) {
      return this.fail(
        STATUS.CLIENT_BAD_REQUEST,
        `Handshake not completed within ${this.maxInstructions} instructions`,
      );
    }
    this.deadlineAt = now + this.stepTimeoutMs;
    return this.phaseNow === 'select' ? this.select(instruction) : this.clientInfo(instruction);
  }

  /** The codec rejected the client's bytes. */
  malformed(error: Error): HandshakeStep {
    if (this.done) return NOTHING;
    return this.fail(
      STATUS.CLIENT_BAD_REQUEST,
      `Malformed Guacamole instruction during handshake: ${error.message}`,
    );
  }

  /** The clock advanced: fails the handshake if the current step's deadline has passed. */
  timeout(now: number): HandshakeStep {
    if (this.done || now < this.deadlineAt) return NOTHING;
    const waitingFor =
      this.phaseNow === 'select' ? '"select"' : 'the handshake to continue ("connect" not received)';
    return this.fail(
      STATUS.CLIENT_TIMEOUT,
      `Timed out after ${this.stepTimeoutMs} ms waiting for ${waitingFor}`,
    );
  }

  private fail(status: number, message: string): HandshakeStep {
    this.phaseNow = 'failed';
    this.deadlineAt = Number.POSITIVE_INFINITY;
    return { send: encodeInstruction('error', message, status), failure: { status, message } };
  }

  private select({ opcode, args }: Instruction): HandshakeStep {
    if (opcode !== 'select') {
      return this.fail(STATUS.CLIENT_BAD_REQUEST, `Expected "select" but received ${quote(opcode)}`);
    }
    if (args.length !== 1) {
      return this.fail(
        STATUS.CLIENT_BAD_REQUEST,
        `"select" takes one argument (a protocol or a connection id), got ${args.length}`,
      );
    }
    const selector = args[0]!;
    if (selector.startsWith('$')) {
      return this.fail(
        STATUS.RESOURCE_NOT_FOUND,
        `Connection ${quote(selector)} cannot be joined: joining an existing connection is not supported yet`,
      );
    }
    const engine = this.engines.get(selector);
    if (engine === undefined) {
      const offered = [...this.engines.keys()];
      return this.fail(
        STATUS.CLIENT_BAD_REQUEST,
        `No such protocol ${quote(selector)} (this server provides ${offered.length > 0 ? offered.join(', ') : 'no protocols'})`,
      );
    }
    this.engine = engine;
    this.phaseNow = 'client-info';
    return { send: encodeInstruction('args', SERVER_VERSION, ...engine.argNames) };
  }

  private clientInfo({ opcode, args }: Instruction): HandshakeStep {
    switch (opcode) {
      case 'size':
        return this.size(args);
      case 'audio':
      case 'video':
      case 'image': {
        if (args.length > MAX_MIMETYPES) {
          return this.fail(
            STATUS.CLIENT_BAD_REQUEST,
            `"${opcode}" lists ${args.length} mimetypes; at most ${MAX_MIMETYPES} are accepted`,
          );
        }
        this[opcode] = args.filter((m) => m !== '');
        return NOTHING;
      }
      case 'timezone':
        this.timezone = args[0] || undefined;
        return NOTHING;
      case 'name':
        this.name = args[0] || undefined;
        return NOTHING;
      case 'connect':
        return this.connect(args);
      default:
        // guacd ignores opcodes it has no handshake handler for.
        return NOTHING;
    }
  }

  private size(args: string[]): HandshakeStep {
    if (args.length < 2) {
      return this.fail(
        STATUS.CLIENT_BAD_REQUEST,
        `"size" needs a width and a height, got ${args.length} values`,
      );
    }
    const width = dimension(args[0]!);
    const height = dimension(args[1]!);
    const dpi = args.length >= 3 ? dimension(args[2]!) : DEFAULT_SIZE.dpi;
    for (const [what, value, text] of [
      ['width', width, args[0]],
      ['height', height, args[1]],
      ['dpi', dpi, args[2]],
    ] as const) {
      if (value === undefined || (what === 'dpi' && value === 0)) {
        const range = what === 'dpi' ? `1 to ${MAX_DIMENSION}` : `0 to ${MAX_DIMENSION}`;
        return this.fail(
          STATUS.CLIENT_BAD_REQUEST,
          `"size" has an invalid ${what} ${quote(text ?? '')}: expected a number from ${range}`,
        );
      }
    }
    this.width = width!;
    this.height = height!;
    this.dpi = dpi!;
    return NOTHING;
  }

  private connect(values: string[]): HandshakeStep {
    const engine = this.engine!;
    const names = engine.argNames;
    if (values.length !== names.length + 1) {
      const listed = names.length > 0 ? `${names.length} parameters (${names.join(', ')})` : 'no parameters';
      return this.fail(
        STATUS.CLIENT_BAD_REQUEST,
        `"connect" has ${values.length} values; protocol ${quote(engine.protocol)} expects ${names.length + 1}: ` +
          `the protocol version followed by ${listed}`,
      );
    }
    const versionAnswer = values[0]!;
    const version = resolveClientVersion(versionAnswer);
    const params: Record<string, string> = {};
    names.forEach((name, i) => {
      params[name] = values[i + 1]!;
    });

    let issues: ReturnType<ProtocolEngine['validateParams']>;
    try {
      issues = engine.validateParams(params);
    } catch {
      return this.fail(
        STATUS.SERVER_ERROR,
        `Internal error validating the ${quote(engine.protocol)} parameters`,
      );
    }
    if (issues.length > 0) {
      const detail = issues.map((i) => `${quote(i.name)}: ${i.message}`).join('; ');
      const noun = issues.length === 1 ? 'parameter' : 'parameters';
      return this.fail(STATUS.CLIENT_BAD_REQUEST, `Invalid ${noun} ${detail}`);
    }

    const client = this.clientInfoFor(version);
    const connectionId = this.newConnectionId();
    this.phaseNow = 'ready';
    this.deadlineAt = Number.POSITIVE_INFINITY;
    return {
      send: encodeInstruction('ready', connectionId),
      ready: { connectionId, engine, params, client, versionAnswer },
    };
  }

  /** The client info as of `connect`: timezone and name only where the negotiated version has them. */
  private clientInfoFor(version: ProtocolVersion): ClientInfo {
    const client: ClientInfo = {
      width: this.width,
      height: this.height,
      dpi: this.dpi,
      audio: this.audio,
      video: this.video,
      image: this.image,
      protocolVersion: version,
    };
    if (this.timezone !== undefined && versionSupports(version, 'timezone')) client.timezone = this.timezone;
    if (this.name !== undefined && versionSupports(version, 'name')) client.name = this.name;
    return client;
  }
}
