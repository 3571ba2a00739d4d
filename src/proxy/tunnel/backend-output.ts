/**
 * The backend → browser direction of one Guacamole WebSocket tunnel, sans I/O: whole-instruction text from
 * a backend (a built-in engine's writes, or an external guacd's bytes cut at instruction boundaries and
 * decoded) in, WebSocket messages of whole instructions out.
 *
 * Batching: pushed text is appended to the current message until it would pass `batchBytes` UTF-8 bytes
 * (default 8192); then the message is sealed and a new one started. A push is never split, so a push larger
 * than `batchBytes` goes in a message of its own. `flush()` seals the current message (the edge calls it at
 * the end of an event-loop turn); `take()` hands over the sealed messages.
 *
 * Policy (outbound filters): disableCopy drops `clipboard` streams (the opening instruction and that
 * stream's `blob`/`end`); disableDownload drops `file` and `pipe` streams and `body` streams other than
 * directory listings, and queues `ack,<stream>,<message>,771` (0x0303) for the backend (`toBackend()`).
 * With neither filter on, the text is not looked at at all: it is only measured and batched. With one on,
 * the light scanner (scan.ts) reads each instruction's opcode and first arguments and skips the rest by
 * length, never decoding blob payloads.
 *
 * Precondition: every push is a sequence of whole instructions. In filtering (or counting) mode a push that
 * does not scan as such is a backend fault: with a filter on, its unscannable rest is dropped (fail closed)
 * and `failure` says why, so the edge can end the session with UPSTREAM_ERROR.
 */
import { Buffer } from 'node:buffer';
import { DEFAULT_POLICY, type Policy } from '../types.js';
import {
  countInstructions,
  elementIndex,
  elementIs,
  elementText,
  hasSurrogates,
  InstructionHead,
  scanInstruction,
} from './scan.js';
import { forbiddenAck, MAX_TRACKED_STREAMS, StreamSet } from './streams.js';

export interface BackendOutputOptions {
  /** What the browser may receive; DEFAULT_POLICY (everything) when absent. */
  policy?: Readonly<Policy>;
  /** Target WebSocket message size in UTF-8 bytes (default DEFAULT_BATCH_BYTES). */
  batchBytes?: number;
  /**
   * Count instructions even when no filter is on (a length-skipping scan per push, no decoding). Off by
   * default: without a filter, instructionsOut then stays 0 and only bytes are counted.
   */
  countInstructions?: boolean;
  /** Stream indices tracked for refused streams (default MAX_TRACKED_STREAMS). */
  maxStreams?: number;
}

export const DEFAULT_BATCH_BYTES = 8192;
export const DOWNLOAD_REFUSED = 'File download is disabled.';
/** The mimetype of a `body` that lists a directory (an index of streams), not a file's content. */
export const STREAM_INDEX_MIMETYPE = 'application/vnd.glyptodon.guacamole.stream-index+json';

const CHAR_A = 0x61;
const CHAR_B = 0x62;
const CHAR_C = 0x63;
const CHAR_E = 0x65;
const CHAR_F = 0x66;
const CHAR_I = 0x69;
const CHAR_P = 0x70;
const CHAR_V = 0x76;

export class BackendOutput {
  private readonly batchLimit: number;
  private readonly disableCopy: boolean;
  private readonly disableDownload: boolean;
  private readonly filtering: boolean;
  private readonly counting: boolean;
  private readonly refused: StreamSet;
  private readonly head = new InstructionHead();

  private batch = '';
  private batchSize = 0;
  private ready: string[] = [];
  private readyBytes = 0;
  private replies = '';
  private firstFailure: string | null = null;

  /** Bytes kept for the browser (UTF-8), dropped instructions excluded. */
  bytesOut = 0;
  /** Instructions kept for the browser: exact with a filter or countInstructions, else 0. */
  instructionsOut = 0;
  /** Instructions dropped by the policy. */
  instructionsDropped = 0;
  /** WebSocket messages sealed so far. */
  messagesOut = 0;

  constructor(options: BackendOutputOptions = {}) {
    const batch = options.batchBytes ?? DEFAULT_BATCH_BYTES;
    if (!Number.isSafeInteger(batch) || batch < 1) {
      throw new RangeError(`batchBytes must be a positive integer, got ${String(batch)}`);
    }
    this.batchLimit = batch;
    const policy = options.policy ?? DEFAULT_POLICY;
    this.disableCopy = policy.disableCopy;
    this.disableDownload = policy.disableDownload;
    this.filtering = this.disableCopy || this.disableDownload;
    this.counting = options.countInstructions ?? false;
    this.refused = new StreamSet(options.maxStreams ?? MAX_TRACKED_STREAMS);
  }

  /** True when the policy filters this direction (text is scanned). */
  get filters(): boolean {
    return this.filtering;
  }

  /** Bytes held: the current message and the sealed ones not yet taken. */
  get pendingBytes(): number {
    return this.batchSize + this.readyBytes;
  }

  /** Why a push could not be scanned (the first time), or null. */
  get failure(): string | null {
    return this.firstFailure;
  }

  /** Stream indices currently refused. */
  get refusedStreams(): number {
    return this.refused.size;
  }

  /** Whole instructions from the backend. */
  push(text: string): void {
    if (text.length === 0) return;
    if (this.filtering) {
      this.filter(text);
      return;
    }
    if (this.counting) {
      const n = countInstructions(text);
      if (n >= 0) this.instructionsOut += n;
      else this.fail('backend output is not a sequence of whole instructions (not counted)');
    }
    this.append(text);
  }

  /** Seals the current message, so the next take() returns everything pushed so far. */
  flush(): void {
    if (this.batchSize > 0) this.seal();
  }

  /** The sealed messages, oldest first (each a sequence of whole instructions); clears them. */
  take(): string[] {
    const out = this.ready;
    if (out.length === 0) return out;
    this.ready = [];
    this.readyBytes = 0;
    return out;
  }

  /** Instructions the policy generated for the backend (refusal acks) since the last call; '' if none. */
  toBackend(): string {
    const out = this.replies;
    this.replies = '';
    return out;
  }

  private append(text: string, bytes = Buffer.byteLength(text)): void {
    this.bytesOut += bytes;
    if (this.batchSize > 0 && this.batchSize + bytes > this.batchLimit) this.seal();
    this.batch += text;
    this.batchSize += bytes;
    if (this.batchSize >= this.batchLimit) this.seal();
  }

  private seal(): void {
    this.ready.push(this.batch);
    this.readyBytes += this.batchSize;
    this.messagesOut++;
    this.batch = '';
    this.batchSize = 0;
  }

  private fail(why: string): void {
    if (this.firstFailure === null) this.firstFailure = why;
  }

  /** Scans `text`, appending the runs of kept instructions. */
  private filter(text: string): void {
    const n = text.length;
    const bytes = Buffer.byteLength(text);
    const ascii = bytes === n; // then no surrogates, and every slice's byte length is its length
    const astral = !ascii && hasSurrogates(text);
    const head = this.head;
    let pos = 0;
    let keepFrom = 0;
    while (pos < n) {
      const end = scanInstruction(text, pos, astral, head);
      if (end < 0) {
        this.fail(`backend output is not a sequence of whole instructions (offset ${pos}); rest dropped`);
        break;
      }
      if (this.keep(text, head)) {
        this.instructionsOut++;
      } else {
        this.instructionsDropped++;
        if (pos > keepFrom) this.appendSlice(text, keepFrom, pos, ascii);
        keepFrom = end;
      }
      pos = end;
    }
    if (keepFrom === 0 && pos === n) this.append(text, bytes);
    else if (pos > keepFrom) this.appendSlice(text, keepFrom, pos, ascii);
  }

  private appendSlice(text: string, from: number, to: number, ascii: boolean): void {
    const slice = text.slice(from, to);
    this.append(slice, ascii ? to - from : Buffer.byteLength(slice));
  }

  /** The outbound policy for the instruction just scanned: true to send it to the browser. */
  private keep(text: string, head: InstructionHead): boolean {
    // Classify the opcode by its first character, then compare in place (no string is built).
    switch (head.end[0] === head.start[0] ? 0 : text.charCodeAt(head.start[0] as number)) {
      case CHAR_B:
        if (elementIs(text, head, 0, 'blob')) return !this.refused.has(elementIndex(text, head, 1));
        // body,<object>,<stream>,<mimetype>,<name>: a download unless it lists a directory.
        if (elementIs(text, head, 0, 'body')) {
          const content = !elementIs(text, head, 3, STREAM_INDEX_MIMETYPE);
          return this.open(text, head, 2, this.disableDownload && content, true);
        }
        return true;
      case CHAR_E:
        if (elementIs(text, head, 0, 'end')) {
          const index = elementIndex(text, head, 1);
          if (!this.refused.has(index)) return true;
          this.refused.delete(index);
          return false;
        }
        return true;
      case CHAR_C:
        return elementIs(text, head, 0, 'clipboard')
          ? this.open(text, head, 1, this.disableCopy, false)
          : true;
      case CHAR_F:
        return elementIs(text, head, 0, 'file') ? this.open(text, head, 1, this.disableDownload, true) : true;
      case CHAR_P:
        return elementIs(text, head, 0, 'pipe') ? this.open(text, head, 1, this.disableDownload, true) : true;
      case CHAR_I:
        return elementIs(text, head, 0, 'img') ? this.open(text, head, 1, false, false) : true;
      case CHAR_A:
        return elementIs(text, head, 0, 'audio') || elementIs(text, head, 0, 'argv')
          ? this.open(text, head, 1, false, false)
          : true;
      case CHAR_V:
        return elementIs(text, head, 0, 'video') ? this.open(text, head, 1, false, false) : true;
      default:
        return true;
    }
  }

  /**
   * A stream opened by the backend, its index in element `k`: refused (tracked, acked when `ack`) or kept.
   * Any stream opened on an index replaces whatever was refused there.
   */
  private open(text: string, head: InstructionHead, k: number, refuse: boolean, ack: boolean): boolean {
    const index = elementIndex(text, head, k);
    this.refused.delete(index);
    if (!refuse) return true;
    const stream = elementText(text, head, k);
    if (stream !== undefined) {
      this.refused.add(index);
      if (ack) this.replies += forbiddenAck(stream, DOWNLOAD_REFUSED);
    }
    return false;
  }
}
