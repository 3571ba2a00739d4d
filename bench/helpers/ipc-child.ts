/**
 * A benchmark helper process driven over Node's IPC channel: requests carry an id, the child answers each with
 * `{id, ok, error?}`; a request gets no answer within the timeout, or the child exits, and it fails with the
 * child's output. Used by bench/vnc's consumers and bench/tunnel's and bench/webapp's load generators (each a
 * subclass with the requests of its protocol); the child side is ipc-serve.ts.
 */
import { ProcessGroup } from '../../test/e2e/helpers/processes.js';

export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface IpcReply {
  id: number;
  ok: boolean;
  error?: string;
}

export class IpcChild<Req extends { id: number; op: string }, Rep extends IpcReply> {
  readonly group: ProcessGroup;
  private nextId = 1;
  private readonly waiting = new Map<number, (r: Rep) => void>();

  constructor(
    readonly label: string,
    args: string[],
    private readonly timeoutMs: number,
  ) {
    this.group = new ProcessGroup(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    this.group.child.on('message', (m) => {
      const r = m as Rep;
      const cb = this.waiting.get(r.id);
      this.waiting.delete(r.id);
      cb?.(r);
    });
    void this.group.exited.then(() => {
      const waiters = [...this.waiting.values()];
      this.waiting.clear();
      for (const cb of waiters)
        cb({ id: 0, ok: false, error: `${label} exited:\n${this.group.output()}` } as Rep);
    });
  }

  get pid(): number {
    return this.group.pid;
  }

  /** Stops the child (SIGTERM, SIGKILL after 2 s). */
  stop(): Promise<void> {
    return this.group.stop(2000);
  }

  /** Sends one request; resolves with its reply if ok, else rejects with the child's error. */
  request(body: DistributiveOmit<Req, 'id'>): Promise<Rep> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.label}: no answer to ${body.op} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.waiting.set(id, (r) => {
        clearTimeout(timer);
        if (r.ok) resolve(r);
        else reject(new Error(`${this.label}: ${r.error}`));
      });
      if (this.group.hasExited || !this.group.child.send({ ...body, id })) {
        clearTimeout(timer);
        this.waiting.delete(id);
        reject(new Error(`${this.label} is not running:\n${this.group.output()}`));
      }
    });
  }
}
