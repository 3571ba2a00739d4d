/**
 * The VNC benchmark's deterministic twin: the RFB stream x11vnc sent during the scripted animation is
 * recorded once (with its arrival times), then replayed in this one process, round by round (order
 * alternating), through the raw decode floor (RfbClient only) and through the engine's pipeline
 * (RfbClient + DisplayEncoder, every sync answered at once, each frame written before the next is fed),
 * with and without force-lossless. CPU is utime + stime of all threads (/proc/self/task), so sharp's
 * thread-pool work counts; the clock the heat map and pacing see is the recording's, so lossy decisions
 * match the live run. No sockets, no other processes: what is left is the translation's own cost.
 *
 *   node dist/bench/vnc/replay.js [--capture FILE] [--record SECONDS] [--rounds 3]
 *
 * Without --record an existing capture (default bench/results/vnc-capture.bin) is reused; if there is
 * none, 10 s are recorded. Writes bench/results/vnc-replay.json and vnc-replay.md.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { DisplayEncoder } from '../../src/engine/display/display-encoder.js';
import type { ClientInfo, GuacSink, SessionLogger } from '../../src/engine/types.js';
import { parseVncParams } from '../../src/engine/vnc/params.js';
import { RfbClient } from '../../src/protocol/rfb/client.js';
import { coreDecoders } from '../../src/protocol/rfb/decoders/core.js';
import { tightDecoder } from '../../src/protocol/rfb/decoders/tight.js';
import { zrleDecoder } from '../../src/protocol/rfb/decoders/zrle.js';
import { Encoding } from '../../src/protocol/rfb/encodings.js';
import { fromRoot } from '../../src/util/paths.js';
import { sleep } from '../../test/e2e/helpers/processes.js';
import { startX11vnc } from '../../test/e2e/helpers/vnc-servers.js';
import { startXvfb } from '../../test/e2e/helpers/x-display.js';
import { startScene } from './animation.js';
import { emptyStats } from './consumer-protocol.js';
import { CLIENT_IMAGE_TYPES } from './guac-session.js';
import { median, sampleProcess } from './proc-stats.js';
import { RawSession } from './raw-session.js';

const MAGIC = 'GHVNCCAP';

interface Chunk {
  /** ms since the recording started. */
  at: number;
  data: Uint8Array;
}

/** Records `seconds` of the animation as the raw consumer receives it (after a 1.5 s settle). */
async function record(file: string, seconds: number, width: number, height: number): Promise<void> {
  const display = await startXvfb({ width, height });
  try {
    const vnc = await startX11vnc(display);
    const scene = await startScene(display);
    const chunks: Buffer[] = [];
    const t0 = performance.now();
    const session = new RawSession(vnc.host, vnc.port, emptyStats('raw'), (c) => {
      const head = Buffer.alloc(8);
      head.writeUInt32BE(Math.round(performance.now() - t0), 0);
      head.writeUInt32BE(c.length, 4);
      chunks.push(head, Buffer.from(c));
    });
    await session.ready;
    await sleep(1500);
    scene.start();
    await sleep(seconds * 1000);
    session.close();
    await scene.stopMotion();
    await vnc.stop();
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, Buffer.concat([Buffer.from(MAGIC), ...chunks]));
  } finally {
    await display.stop();
  }
}

function load(file: string): Chunk[] {
  const b = readFileSync(file);
  if (b.subarray(0, 8).toString('latin1') !== MAGIC) throw new Error(`${file} is not a VNC capture`);
  const out: Chunk[] = [];
  for (let o = 8; o + 8 <= b.length; ) {
    const at = b.readUInt32BE(o);
    const n = b.readUInt32BE(o + 4);
    out.push({ at, data: b.subarray(o + 8, o + 8 + n) });
    o += 8 + n;
  }
  return out;
}

function rfbClient(): RfbClient {
  const p = parseVncParams({ hostname: '127.0.0.1' });
  const decoders = coreDecoders();
  decoders.set(Encoding.ZRLE, zrleDecoder);
  decoders.set(Encoding.Tight, tightDecoder);
  return new RfbClient({ ...p, decoders, cursor: true });
}

const quiet: SessionLogger = { debug() {}, info() {}, warn() {}, error() {} };

interface Pass {
  frames: number;
  outBytes: number;
  images: Record<string, number>;
}

type Contender = { name: string; run(chunks: Chunk[]): Promise<Pass> };

const rawDecode: Contender = {
  name: 'raw decode (floor)',
  async run(chunks) {
    const rfb = rfbClient();
    let frames = 0;
    for (const c of chunks) for (const e of rfb.feed(c.data)) if (e.type === 'frame-end') frames++;
    return { frames, outBytes: 0, images: {} };
  },
};

function engine(name: string, forceLossless: boolean): Contender {
  return {
    name,
    async run(chunks) {
      const rfb = rfbClient();
      let clock = 0;
      let outBytes = 0;
      let enc: DisplayEncoder | null = null;
      const sink: GuacSink = {
        bufferedBytes: 0,
        highWaterMark: 1 << 30,
        onDrain() {},
        write(text) {
          outBytes += text.length;
          const m = /4\.sync,\d+\.(\d+)/.exec(text);
          if (m) queueMicrotask(() => enc?.clientSync(Number(m[1])));
        },
      };
      const client: ClientInfo = {
        ...{ width: 1024, height: 768, dpi: 96, audio: [], video: [] },
        image: CLIENT_IMAGE_TYPES,
        protocolVersion: 'VERSION_1_5_0',
      };
      for (const c of chunks) {
        clock = c.at;
        for (const e of rfb.feed(c.data)) {
          if (e.type === 'ready') {
            const fb = rfb.framebuffer;
            enc = new DisplayEncoder({ sink, client, forceLossless, fb, log: quiet, now: () => clock });
            enc.resize(e.width, e.height);
          } else if (!enc) continue;
          else if (e.type === 'update') enc.damage(e.rect);
          else if (e.type === 'fill') enc.fill(e.rect, e.rgb);
          else if (e.type === 'copy') enc.copy(e.srcX, e.srcY, e.rect);
          else if (e.type === 'jpeg') enc.jpeg(e.rect, e.data);
          else if (e.type === 'cursor') enc.cursor(e.hotX, e.hotY, e.width, e.height, e.rgba);
          else if (e.type === 'frame-end') {
            enc.endFrame();
            await enc.whenIdle();
          }
        }
      }
      const s = enc?.stats;
      const images: Record<string, number> = s
        ? { png: s.png, jpeg: s.jpeg, webp: s.webp, fills: s.fills }
        : {};
      return { frames: s?.frames ?? 0, outBytes, images };
    },
  };
}

interface Row {
  contender: string;
  frames: number;
  outMB: number;
  images: Record<string, number>;
  cpuMsPerFrame: number;
  /** Of which on the main thread (event loop: decode, tiling, base64, instruction text). */
  mainMsPerFrame: number;
  samples: number[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      capture: { type: 'string', default: fromRoot('bench', 'results', 'vnc-capture.bin') },
      record: { type: 'string' },
      rounds: { type: 'string', default: '3' },
      width: { type: 'string', default: '1024' },
      height: { type: 'string', default: '768' },
    },
  });
  const file = values.capture;
  if (values.record !== undefined || !existsSync(file)) {
    const secs = Number(values.record ?? 10);
    process.stderr.write(`recording ${secs} s of the animation into ${file}\n`);
    await record(file, secs, Number(values.width), Number(values.height));
  }
  const chunks = load(file);
  const contenders = [
    rawDecode,
    engine('engine pipeline', false),
    engine('engine pipeline, force-lossless', true),
  ];
  const rounds = Math.max(1, Number(values.rounds));
  const samples = new Map<string, { cpu: number[]; main: number[]; pass: Pass }>();
  for (const c of contenders) samples.set(c.name, { cpu: [], main: [], pass: await c.run(chunks) }); // warm-up
  for (let r = 0; r < rounds; r++) {
    for (const c of r % 2 === 0 ? contenders : [...contenders].reverse()) {
      const a = sampleProcess(process.pid);
      const pass = await c.run(chunks);
      const b = sampleProcess(process.pid);
      const s = samples.get(c.name)!;
      s.cpu.push(((b.cpuSec - a.cpuSec) * 1000) / Math.max(1, pass.frames));
      s.main.push((((b.threads.main ?? 0) - (a.threads.main ?? 0)) * 1000) / Math.max(1, pass.frames));
    }
  }
  const rows: Row[] = contenders.map((c) => {
    const s = samples.get(c.name)!;
    return {
      contender: c.name,
      frames: s.pass.frames,
      outMB: s.pass.outBytes / 1e6,
      images: s.pass.images,
      cpuMsPerFrame: median(s.cpu),
      mainMsPerFrame: median(s.main),
      samples: s.cpu,
    };
  });
  const floor = rows[0]!.cpuMsPerFrame;
  const span = ((chunks[chunks.length - 1]?.at ?? 0) - (chunks[0]?.at ?? 0)) / 1000;
  const lines = [
    `### VNC replay — ${new Date().toISOString().slice(0, 10)}: ${chunks.length} chunks, ` +
      `${(chunks.reduce((n, c) => n + c.data.length, 0) / 1e6).toFixed(2)} MB of RFB over ${span.toFixed(1)} s, ` +
      `${rounds} rounds (medians)`,
    '',
    '| contender | frames | CPU ms/frame | of which main thread | × floor | Guacamole MB | images |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.map(
      (r) =>
        `| ${r.contender} | ${r.frames} | ${r.cpuMsPerFrame.toFixed(2)} | ${r.mainMsPerFrame.toFixed(2)} | ` +
        `${(r.cpuMsPerFrame / floor).toFixed(2)} | ${r.outMB.toFixed(1)} | ` +
        `${Object.entries(r.images)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')} |`,
    ),
  ];
  const md = lines.join('\n');
  process.stdout.write(`${md}\n`);
  const out = fromRoot('bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(`${out}/vnc-replay.json`, `${JSON.stringify({ capture: file, rounds, rows }, null, 2)}\n`);
  writeFileSync(`${out}/vnc-replay.md`, `${md}\n`);
}

await main();
