/** Bounded reading of an HTTP body for the benchmarks' small HTTP pieces (bench/webapp's shim and client). */
import type { Readable } from 'node:stream';

/**
 * Collects `stream` (an incoming request or an answer) until it ends. Past `maxBytes` nothing more is
 * kept and `tooLarge` is called: it destroys the request with an error, which rejects. Rejects on the
 * stream's errors.
 */
export function readCapped(stream: Readable, maxBytes: number, tooLarge: () => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) tooLarge();
      else chunks.push(c);
    });
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}
