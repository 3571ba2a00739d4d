// Failed-login limiter: at most `max` failures per key in a sliding window (fixed-size ring of timestamps
// per key); bounded memory (oldest keys evicted past `maxKeys`).

export class FailureLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly maxKeys = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until the key may try again; 0 when it may now. */
  retryAfter(key: string): number {
    const list = this.live(key);
    if (!list || list.length < this.max) return 0;
    const oldest = list[0] as number;
    return Math.max(1, Math.ceil((oldest + this.windowMs - this.now()) / 1000));
  }

  fail(key: string): void {
    const list = this.live(key) ?? [];
    list.push(this.now());
    while (list.length > this.max) list.shift();
    this.hits.delete(key);
    this.hits.set(key, list);
    if (this.hits.size > this.maxKeys) {
      const first = this.hits.keys().next().value;
      if (first !== undefined) this.hits.delete(first);
    }
  }

  reset(key: string): void {
    this.hits.delete(key);
  }

  private live(key: string): number[] | undefined {
    const list = this.hits.get(key);
    if (!list) return undefined;
    const cutoff = this.now() - this.windowMs;
    while (list.length > 0 && (list[0] as number) <= cutoff) list.shift();
    if (list.length === 0) {
      this.hits.delete(key);
      return undefined;
    }
    return list;
  }
}
