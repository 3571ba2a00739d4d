/**
 * One VNC session: the socket edge around the sans-I/O RfbClient, its events turned into display-encoder
 * calls, and the Guacamole client's input turned into RFB messages.
 *
 * Pacing: one FramebufferUpdateRequest is outstanding at a time, and the next is sent only when the display
 * encoder says the client keeps up (DisplayEncoder.whenReady). Reading from the server pauses while the
 * sink to the client is above its high-water mark. Every failure ends this session with a status and a
 * log line; nothing escapes as an exception.
 */
import { connect, type Socket } from 'node:net';
import { encodeInstruction } from '../../protocol/guacamole/encoder.js';
import type { Instruction } from '../../protocol/guacamole/parser.js';
import { STATUS, statusName } from '../../protocol/guacamole/status.js';
import { RfbClient } from '../../protocol/rfb/client.js';
import { coreDecoders } from '../../protocol/rfb/decoders/core.js';
import { tightDecoder } from '../../protocol/rfb/decoders/tight.js';
import { zrleDecoder } from '../../protocol/rfb/decoders/zrle.js';
import { Encoding, encodingName } from '../../protocol/rfb/encodings.js';
import type { RfbEvent } from '../../protocol/rfb/events.js';
import { ExtendedClipboard } from '../../protocol/rfb/ext-clipboard.js';
import { DisplayEncoder } from '../display/display-encoder.js';
import { StreamIds } from '../display/instructions.js';
import { decodeJpegRgba } from '../display/jpeg-decode.js';
import { clipboardInstructions } from '../streams/clipboard-out.js';
import { InboundStreams } from '../streams/inbound-streams.js';
import type { EngineSession, EngineSessionOptions, SessionEnd } from '../types.js';
import type { VncParams } from './params.js';

export interface VncTimeouts {
  /** TCP connect to the VNC server. */
  connectMs: number;
  /** From connected to ServerInit (RFB version, security, authentication). */
  handshakeMs: number;
  /** `size` from the client is applied after this quiet time (a window being dragged sends many). */
  resizeDebounceMs: number;
}

export const DEFAULT_VNC_TIMEOUTS: Readonly<VncTimeouts> = Object.freeze({
  connectMs: 10_000,
  handshakeMs: 15_000,
  resizeDebounceMs: 250,
});

/** Tight JPEG quality asked of the server when the client takes JPEG and lossy output is allowed. */
const TIGHT_QUALITY = 8;
const MAX_CLIPBOARD_BYTES = 1 << 20;
/**
 * Bytes queued towards a VNC server that does not read them, above which the session ends (otherwise a
 * client pasting into a stalled server would grow the socket's write queue without bound).
 */
export const MAX_UPSTREAM_QUEUE_BYTES = 8 << 20;

export class VncSession implements EngineSession {
  readonly ended: Promise<SessionEnd>;
  private resolveEnded!: (end: SessionEnd) => void;
  private readonly opts: EngineSessionOptions;
  private readonly p: VncParams;
  private readonly timeouts: VncTimeouts;
  private readonly rfb: RfbClient;
  private readonly display: DisplayEncoder;
  private readonly streams = new StreamIds();
  private readonly inbound: InboundStreams;
  private readonly socket: Socket;
  private timer: NodeJS.Timeout | undefined;
  private resizeTimer: NodeJS.Timeout | undefined;
  private pendingSize: [number, number] | null = null;
  private state: 'connecting' | 'handshake' | 'connected' | 'ended' = 'connecting';
  private updateRequested = true; // the client sends the first (full) request itself at ServerInit
  private pausedForClient = false;

  constructor(options: EngineSessionOptions, params: VncParams, timeouts: VncTimeouts) {
    this.opts = options;
    this.p = params;
    this.timeouts = timeouts;
    this.ended = new Promise((resolve) => {
      this.resolveEnded = resolve;
    });
    const lossyJpeg = !params.forceLossless && options.client.image.includes('image/jpeg');
    const decoders = coreDecoders();
    decoders.set(Encoding.ZRLE, zrleDecoder);
    decoders.set(Encoding.Tight, tightDecoder);
    this.rfb = new RfbClient({
      password: params.password,
      username: params.username,
      encodings: params.encodings,
      colorDepth: params.colorDepth,
      swapRedBlue: params.swapRedBlue,
      readOnly: params.readOnly,
      clipboardEncoding: params.clipboardEncoding,
      decoders,
      jpegDecoder: decodeJpegRgba,
      cursor: params.cursor === 'local',
      qualityLevel: lossyJpeg ? TIGHT_QUALITY : undefined,
      extendedClipboard: new ExtendedClipboard({ maxTextBytes: MAX_CLIPBOARD_BYTES }),
      limits: { maxCutTextBytes: MAX_CLIPBOARD_BYTES },
      onWarning: (message) => options.log.warn(`vnc: ${message}`),
    });
    this.display = new DisplayEncoder({
      sink: options.sink,
      client: options.client,
      forceLossless: params.forceLossless,
      fb: this.rfb.framebuffer,
      log: options.log,
      streams: this.streams,
    });
    this.inbound = new InboundStreams({
      // read-only sends nothing to the server (as guacd): refuse the paste rather than ack and drop it.
      refuseClipboard: params.disablePaste || params.readOnly,
      maxBytes: MAX_CLIPBOARD_BYTES,
    });
    if (params.skippedEncodings.length > 0) {
      options.log.info(`vnc: encodings not implemented, not requested: ${params.skippedEncodings.join(' ')}`);
    }
    const host = params.hostname.replace(/^\[(.*)\]$/, '$1');
    this.socket = connect({ host, port: params.port });
    this.socket.setNoDelay(true);
    this.arm(timeouts.connectMs, () =>
      this.end(
        STATUS.UPSTREAM_NOT_FOUND,
        `Unable to connect to the VNC server at ${this.target()}: no answer within ${timeouts.connectMs} ms`,
      ),
    );
    this.socket.on('connect', () => this.guard(() => this.onConnect()));
    this.socket.on('data', (chunk: Buffer) => this.guard(() => this.onData(chunk)));
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.guard(() => this.onSocketError(err)));
    this.socket.on('close', () => this.guard(() => this.onSocketClose()));
  }

  handleInstruction(instruction: Instruction): void {
    if (this.state === 'ended') return;
    this.guard(() => this.dispatch(instruction));
  }

  close(reason?: SessionEnd): void {
    this.finish(reason ?? { status: STATUS.SUCCESS, message: 'Session closed' });
  }

  // ---- the VNC server side ----

  private onConnect(): void {
    if (this.state !== 'connecting') return;
    this.state = 'handshake';
    this.opts.log.debug(`vnc: connected to ${this.target()}`);
    this.arm(this.timeouts.handshakeMs, () =>
      this.end(
        STATUS.UPSTREAM_TIMEOUT,
        `The VNC server at ${this.target()} did not complete the handshake within ${this.timeouts.handshakeMs} ms`,
      ),
    );
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'ended') return;
    const events = this.rfb.feed(chunk);
    for (const event of events) {
      this.onEvent(event);
      if (this.isEnded()) return;
    }
    this.flushToServer();
    this.applyBackpressure();
  }

  private onEvent(e: RfbEvent): void {
    const d = this.display;
    switch (e.type) {
      case 'ready':
        this.onReady(e.width, e.height, e.name);
        break;
      case 'update':
        d.damage(e.rect);
        break;
      case 'fill':
        d.fill(e.rect, e.rgb);
        break;
      case 'copy':
        d.copy(e.srcX, e.srcY, e.rect);
        break;
      case 'jpeg':
        d.jpeg(e.rect, e.data);
        break;
      case 'frame-end':
        d.endFrame();
        this.updateRequested = false;
        this.scheduleUpdateRequest();
        break;
      case 'resize':
        d.resize(e.width, e.height);
        break;
      case 'cursor':
        d.cursor(e.hotX, e.hotY, e.width, e.height, e.rgba);
        break;
      case 'clipboard':
        if (!this.p.disableCopy) this.opts.sink.write(clipboardInstructions(this.streams, e.text));
        break;
      case 'error':
        this.end(e.status, e.message);
        break;
      default: // frame-start, bell
        break;
    }
  }

  private onReady(width: number, height: number, name: string): void {
    this.state = 'connected';
    this.disarm();
    const encodings = this.p.encodings.map(encodingName).join(' ');
    this.opts.log.info(
      { vncServer: this.target(), rfbVersion: this.rfb.version, width, height, encodings },
      `vnc: connected to "${name.slice(0, 64)}" (${width}x${height}, RFB ${this.rfb.version})`,
    );
    if (name !== '') this.opts.sink.write(encodeInstruction('name', name.slice(0, 256)));
    this.display.resize(width, height);
    if (this.pendingSize) this.applyResize();
  }

  /** After a frame: ask for the next one as soon as the client keeps up. */
  private scheduleUpdateRequest(): void {
    this.display.whenReady(() =>
      this.guard(() => {
        if (this.state !== 'connected' || this.updateRequested) return;
        this.updateRequested = true;
        this.rfb.requestUpdate(true);
        this.flushToServer();
      }),
    );
  }

  private flushToServer(): void {
    const out = this.rfb.takeOutput();
    if (!out || this.state === 'ended' || !this.socket.writable) return;
    this.socket.write(out);
    const queued = this.socket.writableLength;
    if (queued > MAX_UPSTREAM_QUEUE_BYTES) {
      this.end(
        STATUS.UPSTREAM_TIMEOUT,
        `The VNC server is not reading its data (${queued} bytes queued for it)`,
      );
    }
  }

  /** Stops reading the VNC server while the client's side is backed up. */
  private applyBackpressure(): void {
    const sink = this.opts.sink;
    if (this.state === 'ended' || this.pausedForClient || sink.bufferedBytes <= sink.highWaterMark) return;
    this.pausedForClient = true;
    this.socket.pause();
    sink.onDrain(() =>
      this.guard(() => {
        this.pausedForClient = false;
        if (this.state !== 'ended') this.socket.resume();
      }),
    );
  }

  private onSocketError(err: NodeJS.ErrnoException): void {
    if (this.state === 'connecting') {
      this.end(
        STATUS.UPSTREAM_NOT_FOUND,
        `Unable to connect to the VNC server at ${this.target()}: ${err.message}`,
      );
    } else {
      this.end(STATUS.UPSTREAM_ERROR, `The connection to the VNC server failed: ${err.message}`);
    }
  }

  private onSocketClose(): void {
    if (this.state === 'ended') return;
    const phase = this.rfb.phase;
    if (this.state === 'connecting') {
      this.end(STATUS.UPSTREAM_NOT_FOUND, `Unable to connect to the VNC server at ${this.target()}`);
    } else if ((phase === 'security-result' || phase === 'failure-reason') && this.rfb.securityType === 2) {
      this.end(STATUS.CLIENT_UNAUTHORIZED, 'The VNC server closed the connection during authentication');
    } else if (this.state === 'handshake') {
      this.end(STATUS.UPSTREAM_ERROR, `The VNC server closed the connection during the handshake (${phase})`);
    } else {
      this.end(STATUS.UPSTREAM_ERROR, 'The VNC server closed the connection');
    }
  }

  // ---- the Guacamole client side ----

  private dispatch({ opcode, args }: Instruction): void {
    switch (opcode) {
      case 'sync':
        this.display.clientSync(Number(args[0]));
        return;
      case 'key': {
        const keysym = intArg(args[0]);
        if (keysym !== null && keysym >= 0 && keysym <= 0xffffffff) this.rfb.key(keysym, args[1] === '1');
        break;
      }
      case 'mouse': {
        const x = intArg(args[0]);
        const y = intArg(args[1]);
        const mask = intArg(args[2]);
        if (x !== null && y !== null && mask !== null) this.rfb.pointer(x, y, mask & 0xff);
        break;
      }
      case 'size': {
        const w = intArg(args[0]);
        const h = intArg(args[1]);
        if (w !== null && h !== null && w > 0 && h > 0) this.requestResize(w, h);
        return;
      }
      case 'ack':
        return; // acks of our clipboard streams; never awaited
      default:
        if (InboundStreams.handles(opcode)) {
          this.onStreamInstruction(opcode, args);
          break;
        }
        this.opts.log.debug(`vnc: ignoring instruction "${opcode.slice(0, 32)}" from the client`);
        return;
    }
    this.flushToServer();
  }

  private onStreamInstruction(opcode: string, args: readonly string[]): void {
    const r = this.inbound.handle(opcode, args);
    if (r.reply !== '') this.opts.sink.write(r.reply);
    if (r.warning) this.opts.log.warn(`vnc: ${r.warning}`);
    if (r.clipboard && !this.p.disablePaste) this.rfb.clipboard(r.clipboard.text);
  }

  private requestResize(w: number, h: number): void {
    this.pendingSize = [w, h];
    if (this.resizeTimer) clearTimeout(this.resizeTimer);
    this.resizeTimer = setTimeout(() => this.guard(() => this.applyResize()), this.timeouts.resizeDebounceMs);
    this.resizeTimer.unref();
  }

  private applyResize(): void {
    if (this.state !== 'connected' || !this.pendingSize) return;
    const [w, h] = this.pendingSize;
    this.pendingSize = null;
    if (!this.rfb.canResize) {
      this.opts.log.debug(`vnc: the server cannot be resized; client size ${w}x${h} ignored`);
      return;
    }
    this.rfb.resize(w, h);
    this.flushToServer();
  }

  // ---- ending ----

  private end(status: number, message: string): void {
    if (this.state === 'ended') return;
    const level = status === STATUS.SUCCESS ? 'info' : 'warn';
    this.opts.log[level](
      { status, statusName: statusName(status), vncServer: this.target() },
      `vnc: ${message}`,
    );
    this.finish({ status, message });
  }

  private finish(end: SessionEnd): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.disarm();
    if (this.resizeTimer) clearTimeout(this.resizeTimer);
    this.display.close();
    this.inbound.clear();
    this.socket.destroy();
    this.resolveEnded(end);
  }

  /** Runs fn; an exception ends the session as an internal error (logged), never escapes. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.opts.log.error(
        { err },
        `vnc: internal error: ${err instanceof Error ? err.message : String(err)}`,
      );
      this.finish({ status: STATUS.SERVER_ERROR, message: 'Internal server error' });
    }
  }

  private arm(ms: number, onTimeout: () => void): void {
    this.disarm();
    this.timer = setTimeout(() => this.guard(onTimeout), ms);
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private isEnded(): boolean {
    return this.state === 'ended';
  }

  private target(): string {
    return `${this.p.hostname}:${this.p.port}`;
  }
}

function intArg(s: string | undefined): number | null {
  if (s === undefined || !/^-?\d{1,10}$/.test(s)) return null;
  return Number(s);
}
