/** Runs async tasks at most `max` at a time, in the order they were given. */
export class Limiter {
  private active = 0;
  private readonly queue: Array<() => void> = [];

  constructor(private readonly max: number) {
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`limit must be ≥ 1, got ${max}`);
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.active++;
        let p: Promise<T>;
        try {
          p = task();
        } catch (err) {
          p = Promise.reject(err);
        }
        p.then(resolve, reject).finally(() => {
          this.active--;
          this.queue.shift()?.();
        });
      };
      if (this.active < this.max) start();
      else this.queue.push(start);
    });
  }

  get running(): number {
    return this.active;
  }

  get waiting(): number {
    return this.queue.length;
  }
}
