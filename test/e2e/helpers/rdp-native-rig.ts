// The native RDP engine driven directly as a guacd client (test/e2e/rdp-native*.test.ts): engines started with
// a private TMPDIR (each must remove its certificate-store directory), and the steps those tests share.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { matchColor, parseColor } from './pixels.js';
import { pollUntil, registerTempDir } from './processes.js';
import { EngineProcess } from './rdp-engine-process.js';

/** Every engine this test file started (stopped and checked for sanitizer reports in its `after`). */
export const engines: EngineProcess[] = [];

/** The engines' TMPDIR: each makes its private certificate-store directory here and must remove it. */
const engineTmp = mkdtempSync(join(tmpdir(), 'gatehouse-rdp-native-test-'));
registerTempDir(engineTmp);

export function engine(args?: string[]): EngineProcess {
  const env = { ...process.env, TMPDIR: engineTmp };
  const e = new EngineProcess(args ? { args, env } : { env });
  engines.push(e);
  return e;
}

/** Every engine removed its temporary directory. */
export function assertNoTempLeft(): void {
  assert.deepEqual(readdirSync(engineTmp), [], 'engines left temporary directories behind');
}

/** Waits for `error` and the process's exit; returns [message, status]. */
export async function expectError(e: EngineProcess, timeoutMs = 20_000): Promise<[string, number]> {
  const i = await e.waitFor((x) => x.opcode === 'error', timeoutMs, 0, 'error');
  const [message, status] = e.received[i]!.args;
  const exit = await e.exit(5000);
  assert.notEqual(exit, 'timeout', 'the engine did not exit after its error');
  if (exit !== 'timeout') assert.notEqual(exit.code, 0, 'an error exit must be non-zero');
  return [message!, Number(status)];
}

/** Connects, waits for ready and for the first sync; returns the timings. */
export async function connectAndFirstFrame(
  e: EngineProcess,
  params: Record<string, string>,
  size: [number, number, number] = [1024, 768, 96],
): Promise<{ readyMs: number; firstSyncMs: number; connectAt: number }> {
  await e.handshake(params, { size });
  const connectAt = Date.now();
  const r = await e.waitFor((x) => x.opcode === 'ready' || x.opcode === 'error', 20_000, 0, 'ready');
  assert.equal(e.received[r]!.opcode, 'ready', `expected ready, got ${e.summary()}`);
  const s = await e.waitFor((x) => x.opcode === 'sync', 20_000, r, 'the first sync');
  return { readyMs: e.arrivedAt[r]! - connectAt, firstSyncMs: e.arrivedAt[s]! - connectAt, connectAt };
}

/** Answers every sync the engine sent so far (as a client does after rendering). */
export function ackSyncs(e: EngineProcess): void {
  const last = [...e.received].reverse().find((x) => x.opcode === 'sync');
  if (last) e.send('sync', last.args[0]!);
}

/** Waits until the model's region [x,y,w,h] is all `color` (the engine keeps sending frames). */
export async function waitForColor(
  e: EngineProcess,
  region: [number, number, number, number],
  color: string,
  timeoutMs = 15_000,
  intervalMs = 100,
): Promise<void> {
  const rgb = parseColor(color);
  await pollUntil(
    `region ${region.join(',')} to show ${color}`,
    async () => {
      ackSyncs(e);
      await e.drawn();
      if (e.layer.width === 0) return undefined;
      // RemoteFX (the shadow server's GFX codec) is lossy: a few levels off per channel.
      const m = matchColor(e.layer.crop(...region), rgb, 6);
      return m.matching === m.pixels ? true : undefined;
    },
    timeoutMs,
    intervalMs,
  );
}

export function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : -1;
}

/** Private (not shared-library) resident memory of a process, KiB, from smaps_rollup. */
export function privateKiB(pid: number): number {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return field('Private_Clean') + field('Private_Dirty');
}
