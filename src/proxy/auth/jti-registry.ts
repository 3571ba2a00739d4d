// Single use of signed tokens: the set of jtis seen and not yet expired. Sans-I/O (the caller passes the
// time); lives in the proxy's main thread, which answers the connection managers' claims, so that a token
// cannot be used twice through two managers.
//
// Entries sit in time buckets (bucketMs wide) keyed by the end of their bucket; a small min-heap orders the
// bucket keys. Each claim first drops up to 1024 entries of buckets that have ended, so every entry is
// inserted once and removed once: O(1) amortised per claim, plus O(log B) per new bucket (B = live buckets,
// about the token lifetime divided by bucketMs). About 100 bytes per entry (UUID jtis): 1e6 ≈ 100 MB.

export interface JtiRegistryOptions {
  /** Entries kept at most; when full (after dropping expired ones), new claims are refused. */
  maxEntries?: number;
  /** Width of a cleanup bucket in ms: an entry may outlive its expiry by up to this much. */
  bucketMs?: number;
}

export interface JtiRegistryStats {
  /** Live entries. */
  size: number;
  /** Claims granted (first use). */
  granted: number;
  /** Claims refused because the jti was used already. */
  reused: number;
  /** Claims refused because the registry was full of unexpired entries. */
  refusedFull: number;
  /** Entries dropped after their expiry. */
  expired: number;
}

export const DEFAULT_MAX_JTI_ENTRIES = 1_000_000;
/** Expired entries a claim drops at most (more than one per claim, so cleanup always keeps up). */
const SWEEP_BUDGET = 1024;

/** Binary min-heap of numbers (bucket keys). */
class MinHeap {
  private readonly items: number[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): number | undefined {
    return this.items[0];
  }
  push(value: number): void {
    const a = this.items;
    a.push(value);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent]! <= value) break;
      a[i] = a[parent]!;
      i = parent;
    }
    a[i] = value;
  }
  pop(): number | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= a.length) break;
      const r = l + 1;
      const c = r < a.length && a[r]! < a[l]! ? r : l;
      if (a[c]! >= last) break;
      a[i] = a[c]!;
      i = c;
    }
    a[i] = last;
    return top;
  }
}

export class JtiRegistry {
  readonly maxEntries: number;
  readonly bucketMs: number;
  /** jti → expiry (ms). */
  private readonly entries = new Map<string, number>();
  /** bucket end (ms) → jtis whose expiry falls in the bucket. */
  private readonly buckets = new Map<number, string[]>();
  private readonly bucketEnds = new MinHeap();
  private readonly counters = { granted: 0, reused: 0, refusedFull: 0, expired: 0 };

  constructor(options: JtiRegistryOptions = {}) {
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_JTI_ENTRIES;
    this.bucketMs = options.bucketMs ?? 1000;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer, not ${this.maxEntries}`);
    }
    if (!Number.isInteger(this.bucketMs) || this.bucketMs < 1) {
      throw new RangeError(`bucketMs must be a positive integer, not ${this.bucketMs}`);
    }
  }

  /**
   * True the first time `jti` is claimed (and until `expiresAtMs`, false for it after that); false when it
   * was claimed already and has not expired, or when the registry is full. A claim whose expiry has passed
   * is granted without being stored: nothing is left to protect.
   */
  claim(jti: string, expiresAtMs: number, now: number): boolean {
    this.sweep(now, SWEEP_BUDGET);
    const known = this.entries.get(jti);
    if (known !== undefined && known > now) {
      this.counters.reused++;
      return false;
    }
    if (expiresAtMs <= now) {
      this.counters.granted++;
      return true;
    }
    if (known === undefined && this.entries.size >= this.maxEntries) {
      this.sweep(now);
      if (this.entries.size >= this.maxEntries) {
        this.counters.refusedFull++;
        return false;
      }
    }
    this.entries.set(jti, expiresAtMs);
    const end = (Math.floor(expiresAtMs / this.bucketMs) + 1) * this.bucketMs;
    const bucket = this.buckets.get(end);
    if (bucket === undefined) {
      this.buckets.set(end, [jti]);
      this.bucketEnds.push(end);
    } else bucket.push(jti);
    this.counters.granted++;
    return true;
  }

  /**
   * Drops entries whose bucket has ended by `now`, at most `budget` of them (claims sweep a bounded amount
   * each, so a backlog after a quiet spell is cleared over the next claims rather than in one long pause;
   * a claim that finds the registry full sweeps everything first).
   */
  sweep(now: number, budget = Number.POSITIVE_INFINITY): void {
    let left = budget;
    for (
      let end = this.bucketEnds.peek();
      end !== undefined && end <= now && left > 0;
      end = this.bucketEnds.peek()
    ) {
      const jtis = this.buckets.get(end) ?? [];
      while (jtis.length > 0 && left > 0) {
        const jti = jtis.pop()!;
        left--;
        const expiry = this.entries.get(jti);
        // A jti claimed again after expiring sits in a later bucket too; only its current expiry counts.
        if (expiry !== undefined && expiry <= now) {
          this.entries.delete(jti);
          this.counters.expired++;
        }
      }
      if (jtis.length === 0) {
        this.bucketEnds.pop();
        this.buckets.delete(end);
      }
    }
  }

  get size(): number {
    return this.entries.size;
  }

  stats(): JtiRegistryStats {
    return { size: this.entries.size, ...this.counters };
  }
}

/** A `claimOnce` for SignedTokenRedeemer backed by a registry in this thread. */
export function claimOnceWith(
  registry: JtiRegistry,
  now: () => number = Date.now,
): (jti: string, expiresAtMs: number) => Promise<boolean> {
  return (jti, expiresAtMs) => Promise.resolve(registry.claim(jti, expiresAtMs, now()));
}
