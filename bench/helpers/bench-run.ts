/**
 * The life of a benchmark program (bench/vnc.ts, tunnel.ts, webapp.ts): everything it starts is owned and
 * stopped in reverse order — at the end, on an error, on Ctrl-C / SIGTERM and after a time budget — its
 * progress goes to stderr, and its report to stdout and to bench/results/NAME.json + NAME.md.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { fromRoot } from '../../src/util/paths.js';

export interface Stoppable {
  stop(): Promise<void>;
}

export interface BenchRunOptions {
  /** The name in messages: "<name> bench failed: …", "<name> bench: over its N s budget". */
  name: string;
  budgetMs: number;
}

export class BenchRun {
  private readonly resources: Stoppable[] = [];
  private cleaning: Promise<void> | undefined;
  private readonly watchdog: NodeJS.Timeout;
  /** Set once Ctrl-C, SIGTERM or the budget stopped everything (what fails after that is not news). */
  aborting = false;
  /** performance.now() at the start, for the elapsed time in log lines and the report. */
  readonly started = performance.now();

  constructor(private readonly o: BenchRunOptions) {
    process.once('SIGINT', () => this.abort(130, 'interrupted: stopping everything'));
    process.once('SIGTERM', () => this.abort(143, 'terminated: stopping everything'));
    this.watchdog = setTimeout(
      () => this.abort(1, `${o.name} bench: over its ${o.budgetMs / 1000} s budget`),
      o.budgetMs,
    );
  }

  /** Stops `r` with the rest (last owned, first stopped); returns it. */
  readonly own = <T extends Stoppable>(r: T): T => {
    this.resources.push(r);
    return r;
  };

  /** Stops everything owned so far (once; errors ignored). */
  cleanup(): Promise<void> {
    this.cleaning ??= (async () => {
      for (const r of this.resources.splice(0).reverse()) await r.stop().catch(() => {});
    })();
    return this.cleaning;
  }

  /** A progress line on stderr: `[<name> bench   12 s] …`. */
  readonly log = (s: string): void => {
    process.stderr.write(`[${this.o.name} bench ${this.elapsedSec().toFixed(0).padStart(4)} s] ${s}\n`);
  };

  elapsedSec(): number {
    return (performance.now() - this.started) / 1000;
  }

  /** Runs the bench: a failure is reported (unless after an abort) and sets exit code 1; then cleanup. */
  async run(main: () => Promise<void>): Promise<void> {
    try {
      await main();
    } catch (err) {
      // After Ctrl-C or the time budget, the phase fails because its processes were stopped: not news.
      if (!this.aborting) {
        process.stderr.write(
          `${this.o.name} bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
        );
      }
      process.exitCode = 1;
    } finally {
      await this.cleanup();
      clearTimeout(this.watchdog);
    }
  }

  private abort(code: number, message: string): void {
    this.aborting = true;
    process.stderr.write(`\n${message}\n`);
    void this.cleanup().finally(() => process.exit(code));
  }
}

/** The machine a report was made on (the first fields of every bench's meta). */
export interface MachineMeta {
  date: string;
  node: string;
  cpus: string;
  cores: number;
}

/** Now, this Node, the CPU model and `cores` (default: the cores this process may run on now). */
export function machineMeta(cores = availableParallelism()): MachineMeta {
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus()[0]?.model ?? 'unknown',
    cores,
  };
}

/** The machine's 1, 5 and 15 minute load averages. */
export function loadavg(): number[] {
  return readFileSync('/proc/loadavg', 'utf8').trim().split(/\s+/).slice(0, 3).map(Number);
}

/** Prints the markdown report, then writes bench/results/NAME.json (2-space JSON) and NAME.md. */
export async function writeResults(name: string, json: unknown, markdown: string): Promise<void> {
  process.stdout.write(`${markdown}\n`);
  const outDir = fromRoot('bench', 'results');
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, `${name}.json`), `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(join(outDir, `${name}.md`), `${markdown}\n`);
  process.stdout.write(`\nwrote ${outDir}/${name}.json and ${name}.md\n`);
}
