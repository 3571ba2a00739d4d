// Picking a proxy: the candidates in random order (spreads load), all health checks started at once (bounded),
// the first healthy one in that order wins. A hanging proxy therefore costs at most one check deadline, not
// one per proxy, and a cached result costs nothing.
import type { ConnectionProxy } from '../store/types.js';

/** What selection needs of a health checker (ProxyHealthChecker fits). */
export interface HealthCheck {
  check(proxy: { id: string; address: string }): Promise<{ ok: boolean; detail: string }>;
}

export interface SelectionTry {
  id: string;
  ok: boolean;
  detail: string;
}

export type Selection<P> = { proxy: P; tried: SelectionTry[] } | { proxy: null; tried: SelectionTry[] };

export interface SelectOptions {
  /** Random source in [0, 1) for the order; default Math.random. */
  random?: () => number;
  /** Checks running at once; default 16. */
  concurrency?: number;
}

export const DEFAULT_SELECT_CONCURRENCY = 16;

/** A shuffled copy (Fisher–Yates). */
export function shuffle<T>(items: readonly T[], random: () => number = Math.random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(random() * (i + 1)));
    const a = out[i]!;
    out[i] = out[j]!;
    out[j] = a;
  }
  return out;
}

async function safeCheck(checker: HealthCheck, p: { id: string; address: string }): Promise<SelectionTry> {
  try {
    const r = await checker.check({ id: p.id, address: p.address });
    return { id: p.id, ok: r.ok === true, detail: String(r.detail) };
  } catch (err) {
    return {
      id: p.id,
      ok: false,
      detail: `check failed: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}

/**
 * The first healthy candidate in a random order, with what was checked on the way (in that order); or
 * proxy null and every candidate's reason. Checks still running when a proxy is picked finish in the
 * background (their results land in the checker's cache); checks not started yet are not started.
 */
export async function selectProxy<P extends { id: string; address: string } = ConnectionProxy>(
  candidates: readonly P[],
  checker: HealthCheck,
  opts: SelectOptions = {},
): Promise<Selection<P>> {
  const order = shuffle(candidates, opts.random);
  const limit = Math.max(1, Math.floor(opts.concurrency ?? DEFAULT_SELECT_CONCURRENCY));
  const slots = order.map(() => {
    let resolve!: (t: SelectionTry) => void;
    const promise = new Promise<SelectionTry>((r) => {
      resolve = r;
    });
    return { promise, resolve };
  });
  let next = 0;
  let stopped = false;
  const worker = async (): Promise<void> => {
    while (!stopped && next < order.length) {
      const i = next++;
      slots[i]!.resolve(await safeCheck(checker, order[i]!));
    }
  };
  for (let k = 0; k < Math.min(limit, order.length); k++) void worker();

  const tried: SelectionTry[] = [];
  try {
    for (let i = 0; i < order.length; i++) {
      const t = await slots[i]!.promise;
      tried.push(t);
      if (t.ok) return { proxy: order[i]!, tried };
    }
    return { proxy: null, tried };
  } finally {
    stopped = true;
  }
}
