/**
 * The RFB handshake (RFC 6143 §7.1–7.3) as a sans-I/O state machine: ProtocolVersion, security (None or
 * VNC Authentication; 3.3's server-chosen type or 3.7+'s list), SecurityResult, ClientInit, ServerInit.
 */
import { STATUS } from '../guacamole/status.js';
import type { ByteReader } from './byte-reader.js';
import { RfbProtocolError } from './decoders/types.js';
import { vncAuthResponse } from './des.js';
import { encodeClientInit, encodeProtocolVersion, type RfbVersion } from './messages.js';
import { decodePixelFormat, type PixelFormat } from './pixel-format.js';

/** A fatal condition with a specific Guacamole status (protocol errors use RfbProtocolError → 0x0203). */
export class RfbStatusError extends Error {
  override readonly name = 'RfbStatusError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type HandshakePhase =
  | 'protocol-version'
  | 'security'
  | 'vnc-auth'
  | 'security-result'
  | 'failure-reason'
  | 'server-init';

export interface ServerInit {
  version: RfbVersion;
  width: number;
  height: number;
  /** The server's native pixel format (informational: the client sets its own). */
  pixelFormat: PixelFormat;
  name: string;
}

export interface HandshakeOptions {
  password?: string | undefined;
  /** ClientInit shared flag (default true: other viewers stay connected, as guacd does). */
  shared?: boolean;
  maxWidth: number;
  maxHeight: number;
  /** Longest desktop name or failure reason accepted. */
  maxNameLength: number;
}

export const SecurityType = { Invalid: 0, None: 1, VncAuth: 2 } as const;

const SECURITY_NAMES: Record<number, string> = {
  1: 'None',
  2: 'VNC Authentication',
  5: 'RA2',
  6: 'RA2ne',
  16: 'Tight',
  17: 'Ultra',
  18: 'TLS',
  19: 'VeNCrypt',
  20: 'SASL',
  21: 'MD5',
  30: 'Apple Remote Desktop',
};

const securityName = (t: number): string => (SECURITY_NAMES[t] ? `${SECURITY_NAMES[t]} (${t})` : String(t));

/** Negotiates min(server, 3.8); 3.4–3.6 and other unknown 3.x below 3.7 count as 3.3, 3.8+ (Apple's 3.889) as 3.8. */
export function negotiateVersion(line: Uint8Array): RfbVersion {
  const text = String.fromCharCode(...line);
  const m = /^RFB (\d{3})\.(\d{3})\n$/.exec(text);
  if (!m) throw new RfbProtocolError(`not an RFB server: bad ProtocolVersion ${JSON.stringify(text)}`);
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major < 3) throw new RfbStatusError(STATUS.UNSUPPORTED, `unsupported RFB version ${major}.${minor}`);
  if (major > 3 || minor >= 8) return '3.8';
  return minor === 7 ? '3.7' : '3.3';
}

export class RfbHandshake {
  private state: HandshakePhase = 'protocol-version';
  private negotiated: RfbVersion = '3.8';
  private securityType: number | null = null;
  /** Status and prefix for the failure reason being read. */
  private failure = { status: STATUS.UNSUPPORTED as number, prefix: '' };

  constructor(
    private readonly opts: HandshakeOptions,
    private readonly send: (bytes: Uint8Array) => void,
  ) {}

  get phase(): HandshakePhase {
    return this.state;
  }

  /** The security type in use (1 None, 2 VNC Authentication), or null before it was chosen. */
  get security(): number | null {
    return this.securityType;
  }

  get version(): RfbVersion {
    return this.negotiated;
  }

  /** Advances as far as the bytes allow; returns ServerInit once complete. Throws on failure. */
  step(r: ByteReader): ServerInit | null {
    for (;;) {
      switch (this.state) {
        case 'protocol-version':
          if (!r.has(12)) return null;
          this.negotiated = negotiateVersion(r.bytes(12));
          this.send(encodeProtocolVersion(this.negotiated));
          this.state = 'security';
          break;
        case 'security':
          if (!(this.negotiated === '3.3' ? this.securityV33(r) : this.securityList(r))) return null;
          break;
        case 'vnc-auth':
          if (!r.has(16)) return null;
          this.send(vncAuthResponse(this.opts.password ?? '', r.bytes(16)));
          this.state = 'security-result';
          break;
        case 'security-result':
          if (!r.has(4)) return null;
          this.securityResult(r.u32());
          break;
        case 'failure-reason':
          return this.failureReason(r);
        case 'server-init':
          return this.serverInit(r);
      }
    }
  }

  private securityV33(r: ByteReader): boolean {
    if (!r.has(4)) return false;
    const type = r.u32();
    if (type === SecurityType.Invalid) {
      this.fail(STATUS.UNSUPPORTED, 'VNC server refused the connection');
    } else {
      this.chosen(type, [type]);
    }
    return true;
  }

  private securityList(r: ByteReader): boolean {
    if (!r.has(1)) return false;
    const n = r.peek(0);
    if (n === 0) {
      r.skip(1);
      this.fail(STATUS.UNSUPPORTED, 'VNC server refused the connection');
      return true;
    }
    if (!r.has(1 + n)) return false;
    r.skip(1);
    const offered = Array.from(r.bytes(n));
    const type = offered.find((t) => t === SecurityType.None || t === SecurityType.VncAuth);
    if (type === undefined) {
      throw new RfbStatusError(
        STATUS.UNSUPPORTED,
        `VNC server offers no supported security type (offered: ${offered.map(securityName).join(', ')}; ` +
          'supported: None, VNC Authentication)',
      );
    }
    this.send(Uint8Array.of(type));
    this.chosen(type, offered);
    return true;
  }

  private chosen(type: number, offered: number[]): void {
    this.securityType = type;
    if (type === SecurityType.VncAuth) {
      this.state = 'vnc-auth';
    } else if (type === SecurityType.None) {
      // 3.8 sends a SecurityResult after None; 3.3 and 3.7 go straight on.
      if (this.negotiated === '3.8') this.state = 'security-result';
      else this.clientInit();
    } else {
      throw new RfbStatusError(
        STATUS.UNSUPPORTED,
        `VNC server requires an unsupported security type ${offered.map(securityName).join(', ')}`,
      );
    }
  }

  private securityResult(result: number): void {
    if (result === 0) {
      this.clientInit();
    } else if (this.negotiated === '3.8') {
      this.fail(STATUS.CLIENT_UNAUTHORIZED, 'VNC authentication failed');
    } else {
      throw new RfbStatusError(
        STATUS.CLIENT_UNAUTHORIZED,
        result === 2 ? 'VNC authentication failed: too many attempts' : 'VNC authentication failed',
      );
    }
  }

  /** Reads a failure reason next, then throws with this status. */
  private fail(status: number, prefix: string): void {
    this.failure = { status, prefix };
    this.state = 'failure-reason';
  }

  private failureReason(r: ByteReader): null {
    r.save();
    if (!r.has(4)) return null;
    const len = r.u32();
    if (len > this.opts.maxNameLength) {
      throw new RfbProtocolError(`RFB failure reason of ${len} bytes exceeds ${this.opts.maxNameLength}`);
    }
    if (!r.has(len)) {
      r.rewind();
      return null;
    }
    const reason = printable(new TextDecoder().decode(r.bytes(len)));
    throw new RfbStatusError(
      this.failure.status,
      reason ? `${this.failure.prefix}: ${reason}` : this.failure.prefix,
    );
  }

  private clientInit(): void {
    this.send(encodeClientInit(this.opts.shared ?? true));
    this.state = 'server-init';
  }

  private serverInit(r: ByteReader): ServerInit | null {
    r.save();
    if (!r.has(24)) return null;
    const width = r.u16();
    const height = r.u16();
    const pixelFormat = decodePixelFormat(r.bytes(16).slice());
    const nameLength = r.u32();
    if (width > this.opts.maxWidth || height > this.opts.maxHeight) {
      throw new RfbProtocolError(
        `VNC desktop ${width}x${height} exceeds the limit ${this.opts.maxWidth}x${this.opts.maxHeight}`,
      );
    }
    if (!pixelFormat) throw new RfbProtocolError('ServerInit has an invalid pixel format (bits per pixel)');
    if (nameLength > this.opts.maxNameLength) {
      throw new RfbProtocolError(`desktop name of ${nameLength} bytes exceeds ${this.opts.maxNameLength}`);
    }
    if (!r.has(nameLength)) {
      r.rewind();
      return null;
    }
    const name = new TextDecoder().decode(r.bytes(nameLength));
    return { version: this.negotiated, width, height, pixelFormat, name };
  }
}

/** Server-supplied text made safe for a log line or status message. */
export function printable(s: string, max = 200): string {
  const clean = s.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
