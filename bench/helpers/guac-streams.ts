/** Realistic Guacamole server→client and client→server streams for the codec benchmark. */
import { randomBytes } from 'node:crypto';
import { encodeBlobs, encodeInstruction } from '../../src/protocol/guacamole/encoder.js';
import type { Stream } from './harness.js';

/** Deterministic PRNG so every run measures the same stream. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

function finish(
  name: string,
  description: string,
  parts: string[],
  count: number,
  chunkSize: number,
): Stream {
  const text = parts.join('');
  const bytes = new TextEncoder().encode(text);
  const chunks: Uint8Array[] = [];
  const textChunks: string[] = [];
  const decoder = new TextDecoder();
  for (let off = 0; off < bytes.length; off += chunkSize) {
    const chunk = bytes.slice(off, Math.min(bytes.length, off + chunkSize));
    chunks.push(chunk);
    textChunks.push(decoder.decode(chunk, { stream: true }));
  }
  return { name, description, chunks, textChunks, bytes: bytes.length, instructions: count };
}

/**
 * Server→browser display traffic: per frame a few `img` streams of PNG-sized payloads sent as ~6 KB
 * base64 `blob`s, `end`, the odd `copy`/`rect`/`cfill`, and `sync`.
 */
export function imageHeavyStream(targetBytes: number, chunkSize: number): Stream {
  const rnd = prng(42);
  const payload = randomBytes(64 * 1024);
  const parts: string[] = [];
  let size = 0;
  let count = 0;
  let ts = 1_700_000_000_000;
  const push = (s: string): void => {
    parts.push(s);
    size += s.length;
    count++;
  };
  while (size < targetBytes) {
    const images = 1 + Math.floor(rnd() * 4);
    for (let i = 0; i < images; i++) {
      const stream = 1 + Math.floor(rnd() * 20);
      const x = Math.floor(rnd() * 1920);
      const y = Math.floor(rnd() * 1080);
      push(encodeInstruction('img', stream, 14, 0, 'image/png', x, y));
      const len = 2048 + Math.floor(rnd() * 30_000);
      const start = Math.floor(rnd() * (payload.length - len));
      for (const blob of encodeBlobs(stream, payload.subarray(start, start + len))) push(blob);
      push(encodeInstruction('end', stream));
    }
    if (rnd() < 0.3) push(encodeInstruction('copy', 0, 0, 0, 640, 480, 12, 0, 0, 16));
    if (rnd() < 0.3) {
      push(encodeInstruction('rect', 0, 100, 100, 64, 64));
      push(encodeInstruction('cfill', 14, 0, 255, 255, 255, 255));
    }
    ts += 16;
    push(encodeInstruction('sync', ts, 1));
  }
  return finish(
    'image-heavy',
    'img + ~6 KB base64 blob + end + sync (server→browser)',
    parts,
    count,
    chunkSize,
  );
}

/** Browser→server input traffic: mouse moves, key presses, sync replies. */
export function inputHeavyStream(targetBytes: number, chunkSize: number): Stream {
  const rnd = prng(7);
  const parts: string[] = [];
  let size = 0;
  let count = 0;
  let ts = 1_700_000_000_000;
  while (size < targetBytes) {
    const r = rnd();
    let s: string;
    if (r < 0.7) s = encodeInstruction('mouse', Math.floor(rnd() * 1920), Math.floor(rnd() * 1080), 0);
    else if (r < 0.9) s = encodeInstruction('key', 0x61 + Math.floor(rnd() * 26), rnd() < 0.5 ? 1 : 0);
    else {
      ts += 16;
      s = encodeInstruction('sync', ts);
    }
    parts.push(s);
    size += s.length;
    count++;
  }
  return finish('input-heavy', 'mouse / key / sync (browser→server)', parts, count, chunkSize);
}
