// The native RDP engine (build/Release/gatehouse-rdp) driven directly as a guacd client: spawn it, write
// Guacamole instructions to its stdin, parse its stdout with the project's parser, and keep a model of the
// client's default layer (size / rect+cfill / copy / img+blob+end, images decoded with sharp) so a test can
// compare what the engine drew with what the remote X display shows.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { encodeInstruction } from '../../../src/protocol/guacamole/encoder.js';
import { GuacamoleParser, type Instruction } from '../../../src/protocol/guacamole/parser.js';
import { jsonLines, ProcessGroup, TailBuffer, within } from './processes.js';

export const REPO_ROOT = join(import.meta.dirname, '..', '..', '..', '..');

/** The engine binary: GATEHOUSE_RDP_ENGINE, else build/Release/gatehouse-rdp. */
export function engineBinary(): string {
  return process.env.GATEHOUSE_RDP_ENGINE ?? join(REPO_ROOT, 'build', 'Release', 'gatehouse-rdp');
}

/** Why the engine tests cannot run here, or undefined. */
export function engineSkipReason(binary = engineBinary()): string | undefined {
  return existsSync(binary)
    ? undefined
    : `${binary} not built (node scripts/build-native.mjs; needs freerdp2-dev libpng-dev libjpeg62-turbo-dev libwebp-dev)`;
}

/** The client's layer 0 as RGBA. */
export class LayerModel {
  width = 0;
  height = 0;
  rgba = new Uint8Array(0);

  resize(w: number, h: number): void {
    const next = new Uint8Array(w * h * 4);
    for (let y = 0; y < Math.min(h, this.height); y++) {
      const n = Math.min(w, this.width) * 4;
      next.set(this.rgba.subarray(y * this.width * 4, y * this.width * 4 + n), y * w * 4);
    }
    this.width = w;
    this.height = h;
    this.rgba = next;
  }

  fill(x: number, y: number, w: number, h: number, rgba: readonly number[]): void {
    for (let yy = Math.max(0, y); yy < Math.min(this.height, y + h); yy++) {
      for (let xx = Math.max(0, x); xx < Math.min(this.width, x + w); xx++) {
        this.rgba.set(rgba, (yy * this.width + xx) * 4);
      }
    }
  }

  blit(x: number, y: number, w: number, h: number, src: Uint8Array): void {
    for (let yy = 0; yy < h; yy++) {
      if (y + yy < 0 || y + yy >= this.height) continue;
      for (let xx = 0; xx < w; xx++) {
        if (x + xx < 0 || x + xx >= this.width) continue;
        const s = (yy * w + xx) * 4;
        this.rgba.set(src.subarray(s, s + 4), ((y + yy) * this.width + x + xx) * 4);
      }
    }
  }

  copy(sx: number, sy: number, w: number, h: number, dx: number, dy: number): void {
    const tmp = this.crop(sx, sy, w, h);
    this.blit(dx, dy, w, h, tmp);
  }

  crop(x: number, y: number, w: number, h: number): Uint8Array {
    const out = new Uint8Array(w * h * 4);
    for (let yy = 0; yy < h; yy++) {
      for (let xx = 0; xx < w; xx++) {
        const sx = x + xx;
        const sy = y + yy;
        if (sx < 0 || sy < 0 || sx >= this.width || sy >= this.height) continue;
        const s = (sy * this.width + sx) * 4;
        out.set(this.rgba.subarray(s, s + 4), (yy * w + xx) * 4);
      }
    }
    return out;
  }
}

interface PendingImage {
  layer: number;
  mimetype: string;
  x: number;
  y: number;
  chunks: string[];
}

export interface EngineOptions {
  args?: string[];
  env?: NodeJS.ProcessEnv;
  binary?: string;
}

/** One engine process. Everything it wrote is in `received`, in order; `layer` models layer 0. */
export class EngineProcess {
  readonly group: ProcessGroup;
  readonly received: Instruction[] = [];
  readonly layer = new LayerModel();
  readonly stderr = new TailBuffer(512 * 1024);
  /** Time each instruction arrived (Date.now()), parallel to `received`. */
  readonly arrivedAt: number[] = [];
  parseError: Error | undefined;
  private readonly parser = new GuacamoleParser();
  private readonly streams = new Map<string, PendingImage>();
  private drawing: Promise<void> = Promise.resolve();
  private listeners: Array<() => void> = [];
  private stdoutEnded = false;

  constructor(opts: EngineOptions = {}) {
    this.group = new ProcessGroup(opts.binary ?? engineBinary(), opts.args ?? ['--log-level', 'debug'], {
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.group.child.stdin?.on('error', () => {});
    this.group.child.stdout?.on('data', (chunk: Buffer) => {
      try {
        for (const ins of this.parser.feed(chunk)) this.onInstruction(ins);
      } catch (err) {
        this.parseError ??= err as Error;
      }
      this.notify();
    });
    this.group.child.stdout?.on('end', () => {
      this.stdoutEnded = true;
      this.notify();
    });
    this.group.child.stderr?.on('data', (c: Buffer) => this.stderr.push(c));
    void this.group.exited.then(() => this.notify());
  }

  get pid(): number {
    return this.group.pid;
  }

  /** The JSON log records the engine wrote to stderr. */
  logs(): Array<Record<string, unknown>> {
    return jsonLines(this.stderr.toString());
  }

  send(opcode: string, ...args: Array<string | number>): void {
    this.sendRaw(encodeInstruction(opcode, ...args));
  }

  sendRaw(data: string | Buffer): void {
    this.group.child.stdin?.write(data);
  }

  closeInput(): void {
    this.group.child.stdin?.end();
  }

  /** Waits for the first instruction at or after index `from` that satisfies `pred`; returns its index. */
  async waitFor(
    pred: (ins: Instruction) => boolean,
    timeoutMs: number,
    from = 0,
    what = 'an instruction',
  ): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = from; i < this.received.length; i++) if (pred(this.received[i]!)) return i;
      if (this.stdoutEnded || this.group.hasExited) {
        // Last chance: output may have arrived with the exit.
        for (let i = from; i < this.received.length; i++) if (pred(this.received[i]!)) return i;
        throw new Error(
          `engine ended without ${what}; got ${this.summary()}\n${this.stderr.toString().slice(-4000)}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${this.summary()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.listeners.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Opcodes received so far (abridged), for failure messages. */
  summary(): string {
    const ops = this.received.map((i) => (i.opcode === 'error' ? `error(${i.args.join(',')})` : i.opcode));
    return ops.length > 60 ? `${ops.slice(0, 30).join(' ')} ... ${ops.slice(-30).join(' ')}` : ops.join(' ');
  }

  /** Resolves once every image received so far has been decoded into the layer model. */
  drawn(): Promise<void> {
    return this.drawing;
  }

  /** Standard guacd handshake up to `connect`; returns the `args` names. */
  async handshake(params: Record<string, string>, opts: HandshakeOptions = {}): Promise<string[]> {
    this.send('select', 'rdp');
    const i = await this.waitFor((x) => x.opcode === 'args', 5000, 0, 'args');
    const args = this.received[i]!.args;
    const names = args.slice(1);
    const size = opts.size ?? [1024, 768, 96];
    this.send('size', ...size);
    this.send('audio', ...(opts.audio ?? ['audio/L16']));
    this.send('video');
    this.send('image', ...(opts.image ?? ['image/png', 'image/jpeg', 'image/webp']));
    this.send('timezone', 'UTC');
    this.send('name', 'test');
    this.send('connect', 'VERSION_1_5_0', ...names.map((n) => params[n] ?? ''));
    return names;
  }

  async exit(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | 'timeout'> {
    return within(timeoutMs, this.group.exited);
  }

  stop(): Promise<void> {
    return this.group.stop(3000);
  }

  private notify(): void {
    const l = this.listeners;
    this.listeners = [];
    for (const f of l) f();
  }

  private onInstruction(ins: Instruction): void {
    this.received.push(ins);
    this.arrivedAt.push(Date.now());
    const a = ins.args;
    const n = (i: number): number => Number(a[i]);
    switch (ins.opcode) {
      case 'size':
        if (a[0] === '0') this.queue(() => this.layer.resize(n(1), n(2)));
        break;
      case 'rect':
        if (a[0] === '0') this.pendingRect = [n(1), n(2), n(3), n(4)];
        break;
      case 'cfill':
        if (a[1] === '0' && this.pendingRect) {
          const [x, y, w, h] = this.pendingRect;
          const color = [n(2), n(3), n(4), n(5)];
          this.queue(() => this.layer.fill(x, y, w, h, color));
        }
        break;
      case 'copy':
        if (a[0] === '0' && a[6] === '0') {
          const [sx, sy, w, h, dx, dy] = [n(1), n(2), n(3), n(4), n(7), n(8)];
          this.queue(() => this.layer.copy(sx, sy, w, h, dx, dy));
        }
        break;
      case 'img':
        this.streams.set(a[0]!, { layer: n(2), mimetype: a[3]!, x: n(4), y: n(5), chunks: [] });
        break;
      case 'blob':
        this.streams.get(a[0]!)?.chunks.push(a[1]!);
        break;
      case 'end': {
        const img = this.streams.get(a[0]!);
        this.streams.delete(a[0]!);
        if (img && img.layer === 0) {
          const data = Buffer.concat(img.chunks.map((c) => Buffer.from(c, 'base64')));
          const decoded = sharp(data).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
          this.queue(async () => {
            const { data: px, info } = await decoded;
            this.layer.blit(img.x, img.y, info.width, info.height, new Uint8Array(px));
          });
        }
        break;
      }
      default:
        break;
    }
  }

  private pendingRect: [number, number, number, number] | undefined;

  private queue(step: () => void | Promise<void>): void {
    this.drawing = this.drawing.then(step).catch((err: unknown) => {
      this.parseError ??= err as Error;
    });
  }
}

export interface HandshakeOptions {
  size?: [number, number, number];
  image?: string[];
  /** The client's `audio` mimetypes, default ['audio/L16']. */
  audio?: string[];
}

/** No engine printed an AddressSanitizer / UndefinedBehaviorSanitizer / LeakSanitizer report. */
export function assertNoSanitizerReports(engines: readonly EngineProcess[]): void {
  for (const e of engines) {
    const text = e.stderr.toString();
    const hit = /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:/.exec(text);
    const at = hit?.index ?? 0;
    assert.equal(
      hit,
      null,
      `sanitizer report from engine ${e.pid}:\n${text.slice(Math.max(0, at - 200), at + 6000)}`,
    );
  }
}
