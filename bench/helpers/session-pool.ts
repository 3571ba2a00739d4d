/**
 * The sessions a load-generator process holds (bench/tunnel/client.ts, bench/webapp/relay-client.ts):
 * opened `batch` at a time, each batch waited for until every session in it is ready, and closed all at
 * once.
 */
import { withTimeout } from './ipc-serve.js';

export interface PooledSession {
  /** Resolves when the session is ready (its first frame); rejects if it ends before. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export class SessionPool<Spec, S extends PooledSession> {
  /** Every session opened and not closed through closeAll (ended ones included). */
  sessions: S[] = [];

  /**
   * @param create makes one session from its spec.
   * @param readyWhat names what a batch waits for in the timeout error, e.g. 'a first frame'.
   */
  constructor(
    private readonly create: (spec: Spec) => S,
    private readonly readyWhat: string,
  ) {}

  /** Opens the sessions `batch` at a time; fails when a batch is not ready within timeoutMs. */
  async open(specs: readonly Spec[], batch: number, timeoutMs: number): Promise<void> {
    const size = Math.max(1, batch);
    for (let i = 0; i < specs.length; i += size) {
      const group = specs.slice(i, i + size).map((spec) => this.create(spec));
      this.sessions.push(...group);
      const total = this.sessions.length;
      await withTimeout(
        Promise.all(group.map((s) => s.ready)),
        timeoutMs,
        `${this.readyWhat} on sessions ${total - group.length + 1}..${total}`,
      );
    }
  }

  /** Closes every session and waits until they are closed. */
  async closeAll(): Promise<void> {
    const all = this.sessions;
    this.sessions = [];
    await Promise.all(all.map((s) => s.close()));
  }
}
