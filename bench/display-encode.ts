/**
 * Display encoding benchmark: encodeImage throughput on a 1920×1080 frame (PNG, JPEG, WebP; desktop-like
 * and photo-like content), then 20 full-screen frames through the DisplayEncoder (tiled, encoded on the
 * thread pool) with the event loop's delay monitored meanwhile (perf_hooks.monitorEventLoopDelay).
 *
 *   node dist/bench/display-encode.js [--rounds 5] [--frames 20] [--encodes N] [--only pipeline]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { encode as jpegJsEncode } from 'jpeg-js';
import { DEFAULT_CONCURRENT_ENCODES, DisplayEncoder } from '../src/engine/display/display-encoder.js';
import { encodeImage } from '../src/engine/display/encode-image.js';
import type { ImageFormat } from '../src/engine/display/format.js';
import { Framebuffer } from '../src/engine/display/framebuffer.js';
import type { GuacSink } from '../src/engine/types.js';
import { fromRoot } from '../src/util/paths.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    frames: { type: 'string', default: '20' },
    encodes: { type: 'string', default: String(DEFAULT_CONCURRENT_ENCODES) },
    only: { type: 'string', default: '' },
  },
});
const rounds = Number(values.rounds);
const frameCount = Number(values.frames);
const maxConcurrentEncodes = Number(values.encodes);
const W = 1920;
const H = 1080;
const BYTES = W * H * 4;

/** Windows with text-like glyph rows on flat backgrounds. */
function desktop(seed: number): Uint8Array {
  const px = new Uint8Array(BYTES);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const o = (y * W + x) * 4;
      const inWindow = x > 200 && x < 1500 && y > 100 && y < 900;
      const glyph = inWindow && y % 18 < 12 && ((x * 7 + y * 3 + seed) % 11 < 4 || (x >> 3) % 9 === 0);
      const bg = inWindow ? 250 : 40 + ((seed * 13) % 60);
      px[o] = glyph ? 20 : bg;
      px[o + 1] = glyph ? 20 : inWindow ? 250 : 90;
      px[o + 2] = glyph ? 30 : inWindow ? 250 : 140;
      px[o + 3] = 255;
    }
  }
  return px;
}

/** Smooth gradients with grain (video/photo-like). */
function photo(seed: number): Uint8Array {
  const px = new Uint8Array(BYTES);
  let s = seed * 2654435761;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      s = (s * 1103515245 + 12345) >>> 0;
      const n = (s >>> 24) & 31;
      const o = (y * W + x) * 4;
      px[o] = (128 + 100 * Math.sin((x + seed * 9) / 57 + y / 83) + n) & 255;
      px[o + 1] = (128 + 100 * Math.cos(x / 41 - (y + seed * 5) / 67) + n) & 255;
      px[o + 2] = (((x + seed) ^ y) & 255) >> 1;
      px[o + 3] = 255;
    }
  }
  return px;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** What the run measured, written to bench/results/display-encode.json (and a Markdown copy of the output). */
const record = {
  meta: { node: process.version, width: W, height: H, rounds, frames: frameCount, maxConcurrentEncodes },
  encode: [] as Array<Record<string, unknown>>,
  onThreadJpegJsMs: null as number | null,
  pipeline: [] as Array<Record<string, unknown>>,
};
const printed: string[] = [];
const print = console.log;
console.log = (...args: unknown[]): void => {
  printed.push(args.map(String).join(' '));
  print(...args);
};

async function throughput(name: string, px: Uint8Array, format: ImageFormat): Promise<void> {
  await encodeImage(px, W, H, format, 80, { opaque: true }); // warm-up
  const ms: number[] = [];
  let size = 0;
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    size = (await encodeImage(px, W, H, format, 80, { opaque: true })).length;
    ms.push(performance.now() - t0);
  }
  const m = median(ms);
  record.encode.push({ content: name, format, msPerFrame: m, mbPerSec: BYTES / m / 1e3, bytes: size });
  console.log(
    `${name.padEnd(8)} ${format.padEnd(5)} ${m.toFixed(1).padStart(7)} ms/frame ${(BYTES / m / 1e3).toFixed(0).padStart(5)} MB/s  ${(size / 1024).toFixed(0).padStart(6)} KiB`,
  );
}

/** Counts bytes and answers each sync at once, as a fast client would. */
class CountingSink implements GuacSink {
  bufferedBytes = 0;
  highWaterMark = Number.MAX_SAFE_INTEGER;
  bytes = 0;
  onSync: (ts: number) => void = () => {};
  write(s: string): void {
    this.bytes += s.length;
    const m = /4\.sync,\d+\.(\d+),/.exec(s.slice(-40));
    if (m) setImmediate(() => this.onSync(Number(m[1])));
  }
  onDrain(): void {}
}

async function pipeline(
  name: string,
  gen: (seed: number) => Uint8Array,
  forceLossless: boolean,
): Promise<void> {
  const frames = Array.from({ length: frameCount }, (_, i) => gen(i + 1));
  const fb = new Framebuffer(W, H);
  const sink = new CountingSink();
  const log = { debug() {}, info() {}, warn() {}, error() {} };
  const image = ['image/png', 'image/jpeg'];
  const enc = new DisplayEncoder({
    sink,
    client: { width: W, height: H, dpi: 96, audio: [], video: [], image, protocolVersion: 'VERSION_1_5_0' },
    forceLossless,
    fb,
    log,
    maxConcurrentEncodes,
  });
  sink.onSync = (ts) => enc.clientSync(ts);
  enc.resize(W, H);
  enc.endFrame();
  await enc.whenIdle();
  const h = monitorEventLoopDelay({ resolution: 1 });
  let syncMax = 0;
  const t0 = performance.now();
  h.enable();
  for (const px of frames) {
    // The engine's path: wait until the encoder is ready, then a frame arrives.
    await new Promise<void>((resolve) => enc.whenReady(resolve));
    const s = performance.now();
    fb.put({ x: 0, y: 0, w: W, h: H }, px);
    enc.damage({ x: 0, y: 0, w: W, h: H });
    enc.endFrame(); // snapshot (fb.read of every tile) + start of async encoding
    syncMax = Math.max(syncMax, performance.now() - s);
  }
  await enc.whenIdle();
  h.disable();
  const total = performance.now() - t0;
  const st = enc.stats;
  record.pipeline.push({
    content: name,
    mode: forceLossless ? 'lossless' : 'lossy',
    msPerFrame: total / frameCount,
    bytesPerFrame: sink.bytes / frameCount,
    png: st.png,
    jpeg: st.jpeg,
    loopDelayMs: { max: h.max / 1e6, p99: h.percentile(99) / 1e6, mean: h.mean / 1e6 },
    longestSyncPartMs: syncMax,
  });
  console.log(
    `${name.padEnd(8)} ${(forceLossless ? 'lossless' : 'lossy').padEnd(8)} ${(total / frameCount).toFixed(1).padStart(6)} ms/frame ` +
      `${((BYTES * frameCount) / total / 1e3).toFixed(0).padStart(4)} MB/s  ${(sink.bytes / frameCount / 1024).toFixed(0).padStart(5)} KiB/frame  ` +
      `png ${st.png} jpeg ${st.jpeg}  loop delay max ${(h.max / 1e6).toFixed(1)} ms p99 ${(h.percentile(99) / 1e6).toFixed(1)} ms ` +
      `mean ${(h.mean / 1e6).toFixed(1)} ms; longest sync part (put+damage+endFrame) ${syncMax.toFixed(1)} ms`,
  );
  enc.close();
}

if (values.only !== 'pipeline') {
  console.log(`encodeImage, one ${W}x${H} RGBA frame (${(BYTES / 1e6).toFixed(1)} MB), median of ${rounds}:`);
  const d = desktop(1);
  const p = photo(1);
  for (const f of ['png', 'jpeg', 'webp'] as const) {
    await throughput('desktop', d, f);
    await throughput('photo', p, f);
  }
  {
    // For contrast: how long encoding on the event loop itself (pure-JS jpeg-js) would block it.
    const t0 = performance.now();
    jpegJsEncode({ width: W, height: H, data: p }, 80);
    record.onThreadJpegJsMs = performance.now() - t0;
    console.log(
      `on-thread jpeg-js encode of the photo frame (for contrast): ${(performance.now() - t0).toFixed(0)} ms blocked`,
    );
  }
}
console.log(
  `\nDisplayEncoder (max ${maxConcurrentEncodes} encodes at once), ${frameCount} full-screen frames (tiles ≤ 512², thread pool), event loop monitored:`,
);
await pipeline('desktop', desktop, true);
await pipeline('photo', photo, true);
await pipeline('photo', photo, false);

{
  // The headline ratio: worst event-loop stall while frames encode off-thread vs encoding one on the loop.
  const worst = Math.max(...record.pipeline.map((r) => (r.loopDelayMs as { max: number }).max));
  const summary =
    record.onThreadJpegJsMs === null
      ? `worst event-loop delay while encoding: ${worst.toFixed(1)} ms`
      : `worst event-loop delay while encoding: ${worst.toFixed(1)} ms = ${(worst / record.onThreadJpegJsMs).toFixed(3)}× ` +
        `the ${record.onThreadJpegJsMs.toFixed(0)} ms an on-thread JPEG encode blocks`;
  console.log(`\n${summary}`);
  console.log = print;
  const dir = fromRoot('bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'display-encode.json'), `${JSON.stringify({ ...record, summary }, null, 2)}\n`);
  writeFileSync(
    join(dir, 'display-encode.md'),
    `# Display encoding benchmark\n\n\`\`\`\n${printed.join('\n')}\n\`\`\`\n`,
  );
  print(`wrote ${join(dir, 'display-encode.json')} and display-encode.md`);
}
