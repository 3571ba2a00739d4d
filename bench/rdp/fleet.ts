/**
 * Memory of several sessions at once, on a static screen: more sessions are opened next to the measured
 * one (each waited for until its first frame), and the memory of every gatehouse-rdp process of the
 * engine is summed. Shared library pages count once in the PSS sum, as in guacd's "memory / sessions".
 */
import { sleep } from '../../test/e2e/helpers/processes.js';
import { withTimeout } from '../helpers/ipc-serve.js';
import { RdpGuacClient, type RdpGuacTarget } from './guac-client.js';
import { type MemorySample, sampleMemory } from './memory.js';
import { childPids } from './processes.js';

const FIRST_FRAME_TIMEOUT_MS = 20_000;
const SETTLE_MS = 1500;

/**
 * Opens `more` sessions to `t`, waits, samples every gatehouse-rdp of the engine, closes the sessions it
 * opened; returns the samples (one per process, the ones already open included).
 */
export async function sampleSessions(
  t: RdpGuacTarget,
  enginePid: number,
  more: number,
): Promise<MemorySample[]> {
  const clients: RdpGuacClient[] = [];
  try {
    for (let i = 0; i < more; i++) {
      const c = new RdpGuacClient(t);
      clients.push(c);
      await withTimeout(c.firstSync, FIRST_FRAME_TIMEOUT_MS, `extra session ${i + 1}: the first frame`);
    }
    await sleep(SETTLE_MS);
    return childPids(enginePid, 'gatehouse-rdp').map(sampleMemory);
  } finally {
    for (const c of clients) c.close();
    await Promise.all(clients.map((c) => c.closed()));
  }
}
