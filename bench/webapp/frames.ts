/**
 * Synthetic display frames for the relay phase: what bench/tunnel's replaying guacd stand-in
 * (replay-guacd.ts) loops to every session, each frame then followed by its `sync`. A frame is one to three
 * PNG-like image updates (`img`, base64 `blob`s of at most 6048 raw bytes, `end`) and now and then a
 * `rect` + `cfill`, as the engine sends them; sizes vary from a quarter to 1.75× the mean. Deterministic
 * for a seed, so every run relays the same bytes. (bench/tunnel records the engine's real output instead,
 * which needs an X display and a VNC server; the relay only moves bytes, so their content does not matter.)
 */
import { encodeBlobs, encodeInstruction } from '../../src/protocol/guacamole/encoder.js';
import { seededRandom } from '../tunnel/metrics.js';

export interface FrameSet {
  frames: string[];
  meanBytes: number;
}

/** `count` frames of about `meanBytes` bytes each (UTF-8 = ASCII here), `sync` excluded. */
export function syntheticFrames(count: number, meanBytes: number, seed = 7): FrameSet {
  if (!Number.isInteger(count) || count < 1 || count > 10_000) throw new RangeError('count must be 1..10000');
  if (!Number.isInteger(meanBytes) || meanBytes < 256 || meanBytes > 4 << 20) {
    throw new RangeError('meanBytes must be an integer from 256 to 4 MiB');
  }
  const rnd = seededRandom(seed);
  // Random (incompressible, like PNG data) but the same for a seed: a PRNG-filled pool.
  const raw = Buffer.alloc(Math.ceil(meanBytes * 1.5) + 64);
  for (let i = 0; i < raw.length; i++) raw[i] = Math.floor(rnd() * 256);
  const frames: string[] = [];
  let total = 0;
  for (let f = 0; f < count; f++) {
    // Base64 is 4/3 of the raw bytes; instruction overhead is small beside it.
    const target = meanBytes * (0.25 + 1.5 * rnd());
    const images = 1 + Math.floor(rnd() * 3);
    const parts: string[] = [];
    for (let i = 0; i < images; i++) {
      const stream = 1 + Math.floor(rnd() * 20);
      const len = Math.max(16, Math.floor((target * 0.75) / images));
      const start = Math.floor(rnd() * Math.max(1, raw.length - len));
      parts.push(
        encodeInstruction(
          'img',
          stream,
          14,
          0,
          'image/png',
          Math.floor(rnd() * 1024),
          Math.floor(rnd() * 768),
        ),
      );
      parts.push(...encodeBlobs(stream, raw.subarray(start, start + len)));
      parts.push(encodeInstruction('end', stream));
    }
    if (rnd() < 0.3) {
      parts.push(encodeInstruction('rect', 0, 100, 100, 64, 64));
      parts.push(encodeInstruction('cfill', 14, 0, 255, 255, 255, 255));
    }
    const frame = parts.join('');
    total += frame.length;
    frames.push(frame);
  }
  return { frames, meanBytes: total / count };
}
