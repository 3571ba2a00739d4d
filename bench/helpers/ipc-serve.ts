/**
 * The child side of ipc-child.ts, for a benchmark's helper processes (bench/vnc's consumers, bench/tunnel's
 * and bench/webapp's load generators): every request `{id, op, …}` from the parent is answered by one reply
 * with its id — `{id, ok: true, …what the handler returned}`, or `{id, ok: false, error}` when it threw.
 * The process exits when the channel closes (the parent went away) or after its maximum life.
 */
import type { IpcReply } from './ipc-child.js';

/** The fields of a successful reply besides id and ok. */
export type ReplyFields<Rep extends IpcReply> = Omit<Extract<Rep, { ok: true }>, 'id' | 'ok'>;

/**
 * Serves the parent's requests with `handle` until the IPC channel closes (exit 0) or `maxLifeMs` passed
 * (exit 2). `handle` resolves with the reply's fields besides id and ok.
 */
export function serveIpc<Req extends { id: number; op: string }, Rep extends IpcReply>(
  handle: (req: Req) => Promise<ReplyFields<Rep>>,
  maxLifeMs: number,
): void {
  process.on('message', (m) => {
    const req = m as Req;
    void handle(req).then(
      (fields) => process.send?.({ id: req.id, ok: true, ...fields }),
      (err: unknown) =>
        process.send?.({ id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
  setTimeout(() => process.exit(2), maxLifeMs).unref();
}

/** `p`, or a rejection `<what>: not within <ms> ms` if it has not settled by then. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** This process's own CPU (user + system) seconds and RSS bytes so far. */
export function ownUsage(): { cpuSec: number; rssBytes: number } {
  const cpu = process.cpuUsage();
  return { cpuSec: (cpu.user + cpu.system) / 1e6, rssBytes: process.memoryUsage.rss() };
}
