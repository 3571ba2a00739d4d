/**
 * Records what `gatehouse engine` sends for the scripted animation (one guacd-protocol session straight to
 * the engine), as frames: the instructions between two `sync`s, the `sync` itself left out (the replay
 * writes a fresh one). bench/tunnel/replay-guacd.ts then plays the frames to the tunnels as fast as their
 * clients answer, so the tunnels can be loaded far beyond what the engine can produce on this machine.
 */
import { sleep } from '../../test/e2e/helpers/processes.js';
import { emptyClientStats } from './client-protocol.js';
import { GuacdSession, type GuacdTarget } from './sessions.js';

export interface RecordOptions {
  target: GuacdTarget;
  seconds: number;
  /** Frames that end before this (ms after the first frame) are left out: the initial full screen. */
  skipMs: number;
}

/** Frames grouped from instruction texts: each `sync` closes a frame; internal ones and `nop` dropped. */
export class FrameCollector {
  readonly frames: string[] = [];
  private current: string[] = [];
  private collecting = false;

  /** Starts collecting at the next frame boundary. */
  start(): void {
    this.collecting = true;
    this.current = [];
  }

  push(text: string, opcode: string): void {
    if (opcode === 'sync') {
      if (this.collecting && this.current.length > 0) this.frames.push(this.current.join(''));
      this.current = [];
      return;
    }
    if (opcode === '' || opcode === 'nop') return;
    this.current.push(text);
  }
}

export async function recordEngineStream(o: RecordOptions): Promise<string[]> {
  const stats = emptyClientStats();
  const session = new GuacdSession(o.target, { stats, onDraw: () => {} });
  const collector = new FrameCollector();
  session.onInstruction = (text, opcode) => collector.push(text, opcode);
  try {
    await session.ready;
    await sleep(o.skipMs);
    collector.start();
    await sleep(o.seconds * 1000);
  } finally {
    await session.close();
  }
  if (stats.errors.length > 0) throw new Error(`recording failed: ${stats.errors.join('; ')}`);
  if (collector.frames.length === 0) throw new Error('recording: no frame from the engine');
  return collector.frames;
}
