/**
 * Clipboard text from the remote side to the Guacamole client: `clipboard,<stream>,text/plain`, the UTF-8
 * text in `blob`s of 4096 bytes (as guacd sends them), `end`. The client's acks are not awaited; the stream
 * index is free again once the instructions are written.
 */
import { encodeBlobs, encodeInstruction } from '../../protocol/guacamole/encoder.js';
import type { StreamIds } from '../display/instructions.js';

const CLIPBOARD_BLOB_BYTES = 4096;

export function clipboardInstructions(streams: StreamIds, text: string, mimetype = 'text/plain'): string {
  const stream = streams.alloc();
  try {
    return (
      encodeInstruction('clipboard', stream, mimetype) +
      encodeBlobs(stream, Buffer.from(text, 'utf8'), CLIPBOARD_BLOB_BYTES).join('') +
      encodeInstruction('end', stream)
    );
  } finally {
    streams.free(stream);
  }
}
