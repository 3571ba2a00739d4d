import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.js';

/** Largest JSON request body the API reads (bytes). */
export const MAX_JSON_BODY = 64 * 1024;

/**
 * Reads a JSON body: `application/json` only, at most `limit` bytes (413 beyond, the rest is not read), UTF-8,
 * parsed. An empty body is `undefined`.
 */
export async function readJsonBody(req: IncomingMessage, limit = MAX_JSON_BODY): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) {
    throw new HttpError(413, 'too-large', `Request body over ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.unpipe();
      throw new HttpError(413, 'too-large', `Request body over ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new HttpError(415, 'unsupported-media-type', 'Send the body as application/json');
  }
  try {
    return JSON.parse(Buffer.concat(chunks, size).toString('utf8'));
  } catch {
    throw new HttpError(400, 'bad-json', 'The request body is not valid JSON');
  }
}
