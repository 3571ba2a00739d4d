/**
 * The cost floor: an RFB session that only reads and decodes. The same sans-I/O RfbClient, decoders,
 * encodings (guacd's default list), cursor and quality options the engine's VncSession uses, over a plain
 * socket; the next incremental FramebufferUpdateRequest goes out as soon as an update has been decoded.
 * Nothing is encoded or sent anywhere: pixels land in the client's framebuffer and stay there.
 */
import { connect, type Socket } from 'node:net';
import { decodeJpegRgba } from '../../src/engine/display/jpeg-decode.js';
import { parseVncParams } from '../../src/engine/vnc/params.js';
import { RfbClient } from '../../src/protocol/rfb/client.js';
import { coreDecoders } from '../../src/protocol/rfb/decoders/core.js';
import { tightDecoder } from '../../src/protocol/rfb/decoders/tight.js';
import { zrleDecoder } from '../../src/protocol/rfb/decoders/zrle.js';
import { Encoding } from '../../src/protocol/rfb/encodings.js';
import { ExtendedClipboard } from '../../src/protocol/rfb/ext-clipboard.js';
import type { ConsumerStats } from './consumer-protocol.js';

/** What the engine asks of Tight when the client takes JPEG (VncSession's TIGHT_QUALITY). */
const TIGHT_QUALITY = 8;
const MAX_CLIPBOARD_BYTES = 1 << 20;

export class RawSession {
  private readonly socket: Socket;
  private readonly rfb: RfbClient;
  private firstFrame: (() => void) | null = null;
  private closed = false;
  /** Resolves after the first FramebufferUpdate was decoded; rejects if the session ends before. */
  readonly ready: Promise<void>;

  /** `onChunk` sees every chunk received from the server (to record a stream for bench/vnc/replay.ts). */
  constructor(host: string, port: number, stats: ConsumerStats, onChunk?: (chunk: Buffer) => void) {
    const p = parseVncParams({ hostname: host, port: String(port) });
    const decoders = coreDecoders();
    decoders.set(Encoding.ZRLE, zrleDecoder);
    decoders.set(Encoding.Tight, tightDecoder);
    this.rfb = new RfbClient({
      password: p.password,
      username: p.username,
      encodings: p.encodings,
      colorDepth: p.colorDepth,
      swapRedBlue: p.swapRedBlue,
      readOnly: p.readOnly,
      clipboardEncoding: p.clipboardEncoding,
      decoders,
      jpegDecoder: decodeJpegRgba,
      cursor: p.cursor === 'local',
      qualityLevel: TIGHT_QUALITY,
      extendedClipboard: new ExtendedClipboard({ maxTextBytes: MAX_CLIPBOARD_BYTES }),
      limits: { maxCutTextBytes: MAX_CLIPBOARD_BYTES },
    });
    let fail: (e: Error) => void = () => {};
    this.ready = new Promise((resolve, reject) => {
      this.firstFrame = resolve;
      fail = reject;
    });
    this.ready.catch(() => {});
    const end = (message: string): void => {
      if (this.closed) return;
      this.closed = true;
      stats.errors.push(`raw: ${message}`);
      fail(new Error(message));
      this.socket.destroy();
    };
    this.socket = connect({ host, port });
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => {
      stats.bytesIn += chunk.length;
      onChunk?.(chunk);
      for (const e of this.rfb.feed(chunk)) {
        switch (e.type) {
          case 'update':
          case 'fill':
          case 'copy':
          case 'jpeg':
            stats.rects++;
            stats.pixels += e.rect.w * e.rect.h;
            break;
          case 'frame-end':
            stats.frames++;
            stats.serverFrames++;
            this.rfb.requestUpdate(true);
            this.firstFrame?.();
            this.firstFrame = null;
            break;
          case 'error':
            end(e.message);
            return;
          default:
            break;
        }
      }
      const out = this.rfb.takeOutput();
      if (out && !this.closed) this.socket.write(out);
    });
    this.socket.on('error', (err) => end(err.message));
    this.socket.on('close', () => end('the VNC server closed the connection'));
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }
}
