/**
 * Streams the Guacamole client opens towards the engine (`clipboard`, `file`, `pipe`, `put`, `audio`...),
 * sans-I/O: instructions in, reply instructions and completed clipboard texts out.
 *
 * Only text clipboard streams are accepted (guacd's rules, reference section 5): each is acked once when it
 * opens and once per blob, and its text is delivered on `end`. Everything else is refused with ack 0x0100;
 * a blob or end for a stream that is not open gets ack 0x0300. Limits: at most `maxOpen` streams at once and
 * `maxBytes` per clipboard text (a longer one is cut at the limit and reported as truncated).
 */
import { Buffer } from 'node:buffer';
import { encodeInstruction } from '../../protocol/guacamole/encoder.js';
import { STATUS } from '../../protocol/guacamole/status.js';

export interface InboundStreamOptions {
  /** Refuse clipboard streams (guacd's disable-paste): acked with CLIENT_FORBIDDEN. */
  refuseClipboard: boolean;
  /** Largest clipboard text kept, in bytes (default 1 MiB). */
  maxBytes?: number;
  /** Streams open at once (default 16). */
  maxOpen?: number;
}

export interface InboundResult {
  /** Instructions to send to the client (acks). */
  reply: string;
  /** A clipboard text completed by this instruction. */
  clipboard?: { text: string; mimetype: string; truncated: boolean };
  /** Something worth a log line (never contains the data). */
  warning?: string;
}

interface OpenStream {
  mimetype: string;
  chunks: Buffer[];
  bytes: number;
  truncated: boolean;
}

/** Opcodes that open a stream from the client; the stream index is their first argument. */
const STREAM_OPENERS = new Set(['clipboard', 'file', 'pipe', 'put', 'audio', 'video', 'argv']);
const STREAM_INDEX = /^\d{1,9}$/;
const NONE: InboundResult = Object.freeze({ reply: '' });

export class InboundStreams {
  private readonly open = new Map<string, OpenStream>();
  private readonly maxBytes: number;
  private readonly maxOpen: number;

  constructor(private readonly options: InboundStreamOptions) {
    this.maxBytes = options.maxBytes ?? 1 << 20;
    this.maxOpen = options.maxOpen ?? 16;
  }

  /** True when this instruction belongs to the stream machinery (handled by handle()). */
  static handles(opcode: string): boolean {
    return STREAM_OPENERS.has(opcode) || opcode === 'blob' || opcode === 'end';
  }

  handle(opcode: string, args: readonly string[]): InboundResult {
    const index = args[0] ?? '';
    if (!STREAM_INDEX.test(index)) {
      return { reply: '', warning: `${opcode} with an invalid stream index '${index.slice(0, 16)}' ignored` };
    }
    if (opcode === 'blob') return this.blob(index, args[1] ?? '');
    if (opcode === 'end') return this.end(index);
    if (opcode !== 'clipboard') {
      return { reply: ack(index, `${opcode} streams are not supported`, STATUS.UNSUPPORTED) };
    }
    const mimetype = args[1] ?? '';
    if (this.options.refuseClipboard) {
      return { reply: ack(index, 'Clipboard paste is disabled', STATUS.CLIENT_FORBIDDEN) };
    }
    if (!mimetype.startsWith('text/')) {
      return {
        reply: ack(index, `Clipboard type ${mimetype.slice(0, 64)} not supported`, STATUS.CLIENT_BAD_TYPE),
      };
    }
    if (!this.open.has(index) && this.open.size >= this.maxOpen) {
      return { reply: ack(index, 'Too many open streams', STATUS.CLIENT_TOO_MANY) };
    }
    this.open.set(index, { mimetype, chunks: [], bytes: 0, truncated: false });
    return { reply: ack(index, 'OK', STATUS.SUCCESS) };
  }

  /** Forgets all open streams (the session ended). */
  clear(): void {
    this.open.clear();
  }

  private blob(index: string, base64: string): InboundResult {
    const s = this.open.get(index);
    if (!s) return { reply: ack(index, 'Invalid stream index', STATUS.CLIENT_BAD_REQUEST) };
    if (!s.truncated) {
      const data = Buffer.from(base64, 'base64');
      const room = this.maxBytes - s.bytes;
      if (data.length > room) s.truncated = true;
      const kept = data.length > room ? data.subarray(0, room) : data;
      s.chunks.push(kept);
      s.bytes += kept.length;
    }
    return { reply: ack(index, 'OK', STATUS.SUCCESS) };
  }

  private end(index: string): InboundResult {
    const s = this.open.get(index);
    if (!s) return NONE;
    this.open.delete(index);
    const text = trimPartialUtf8(Buffer.concat(s.chunks, s.bytes)).toString('utf8');
    const result: InboundResult = {
      reply: '',
      clipboard: { text, mimetype: s.mimetype, truncated: s.truncated },
    };
    if (s.truncated) result.warning = `client clipboard text truncated to ${this.maxBytes} bytes`;
    return result;
  }
}

function ack(index: string, message: string, status: number): string {
  return encodeInstruction('ack', index, message, status);
}

/** Drops an incomplete UTF-8 sequence at the end (a text cut at a byte limit). */
function trimPartialUtf8(b: Buffer): Buffer {
  let i = b.length;
  let back = 0;
  while (i > 0 && back < 4 && ((b[i - 1] as number) & 0xc0) === 0x80) {
    i--;
    back++;
  }
  if (i === 0) return b;
  const lead = b[i - 1] as number;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return need > back + 1 ? b.subarray(0, i - 1) : b;
}
