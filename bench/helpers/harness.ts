/** A small interleaved benchmark harness: every contender runs once per round, rounds alternate order. */

export interface Stream {
  name: string;
  description: string;
  /** The stream cut into chunks as a socket would deliver them. */
  chunks: Uint8Array[];
  /** The same chunks decoded to strings (for string-fed peers), cut at character boundaries. */
  textChunks: string[];
  bytes: number;
  instructions: number;
}

export interface Contender {
  name: string;
  kind: 'framer' | 'parser';
  note?: string;
  /** Processes the whole stream once; returns a count used to check that it did the work. */
  run(stream: Stream): number;
}

export interface Result {
  stream: string;
  contender: string;
  kind: 'framer' | 'parser';
  note?: string;
  check: number;
  /** Median over rounds. */
  mbPerSec: number;
  instructionsPerSec: number;
  samplesMbPerSec: number[];
}

export function runBench(
  streams: Stream[],
  contenders: Contender[],
  opts: { rounds: number; minMs: number },
): Result[] {
  const results: Result[] = [];
  for (const stream of streams) {
    const samples = new Map<string, number[]>();
    const checks = new Map<string, number>();
    for (const c of contenders) {
      checks.set(c.name, c.run(stream)); // warm-up + correctness count
      samples.set(c.name, []);
    }
    for (let round = 0; round < opts.rounds; round++) {
      const order = round % 2 === 0 ? contenders : [...contenders].reverse();
      for (const c of order) {
        let passes = 0;
        const start = process.hrtime.bigint();
        let elapsedNs = 0n;
        do {
          c.run(stream);
          passes++;
          elapsedNs = process.hrtime.bigint() - start;
        } while (elapsedNs < BigInt(opts.minMs) * 1_000_000n);
        const seconds = Number(elapsedNs) / 1e9;
        samples.get(c.name)!.push((stream.bytes * passes) / seconds / 1e6);
      }
    }
    for (const c of contenders) {
      const s = samples.get(c.name)!;
      const mb = median(s);
      results.push({
        stream: stream.name,
        contender: c.name,
        kind: c.kind,
        ...(c.note ? { note: c.note } : {}),
        check: checks.get(c.name)!,
        mbPerSec: mb,
        instructionsPerSec: (mb * 1e6 * stream.instructions) / stream.bytes,
        samplesMbPerSec: s,
      });
    }
  }
  return results;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
