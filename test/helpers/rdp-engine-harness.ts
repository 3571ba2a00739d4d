// The harness of the RDP engine's process tests (rdp-engine-process.test.ts): a sink that can stall, a
// logger that keeps records, sessions started with every parameter set, and /proc scans for leftovers.
import { readdirSync, readFileSync } from 'node:fs';
import { RDP_ARG_NAMES, type RdpEngine, type RdpSession } from '../../src/engine/rdp/index.js';
import type { ClientInfo, GuacSink, SessionLogger } from '../../src/engine/types.js';

export interface LogRecord {
  level: string;
  obj: Record<string, unknown>;
  msg: string;
}

export function captureLog(records: LogRecord[]): SessionLogger {
  const at =
    (level: string) =>
    (obj: object | string, msg?: string): void => {
      if (typeof obj === 'string') records.push({ level, obj: {}, msg: obj });
      else records.push({ level, obj: obj as Record<string, unknown>, msg: msg ?? '' });
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export class TestSink implements GuacSink {
  readonly highWaterMark = 64 * 1024;
  text = '';
  written = 0;
  /** A stalled sink never drains: bufferedBytes only grows. */
  stalled = false;
  private buffered = 0;
  private drains: (() => void)[] = [];

  write(instructions: string): void {
    this.written += instructions.length;
    if (this.text.length < 1_000_000) this.text += instructions;
    if (this.stalled) this.buffered += instructions.length;
  }

  get bufferedBytes(): number {
    return this.buffered;
  }

  onDrain(cb: () => void): void {
    this.drains.push(cb);
  }

  drain(): void {
    this.stalled = false;
    this.buffered = 0;
    const cbs = this.drains;
    this.drains = [];
    for (const cb of cbs) cb();
  }
}

export const CLIENT: ClientInfo = {
  width: 1024,
  height: 768,
  dpi: 96,
  audio: ['audio/L16'],
  video: [],
  image: ['image/png', 'image/jpeg', 'image/webp'],
  timezone: 'Europe/Paris',
  name: 'tester',
  protocolVersion: 'VERSION_1_5_0',
};

export function params(extra: Record<string, string>): Record<string, string> {
  const full: Record<string, string> = {};
  for (const name of RDP_ARG_NAMES) full[name] = '';
  return { ...full, ...extra };
}

export interface Started {
  session: RdpSession;
  sink: TestSink;
  logs: LogRecord[];
}

export function start(engine: RdpEngine, hostname: string, extra: Record<string, string> = {}): Started {
  const sink = new TestSink();
  const logs: LogRecord[] = [];
  const session = engine.start({
    params: params({ hostname, ...extra }),
    client: CLIENT,
    sink,
    log: captureLog(logs),
  }) as RdpSession;
  return { session, sink, logs };
}

export async function waitFor(what: string, ok: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function within<V>(p: Promise<V>, ms: number, what: string): Promise<V> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Live (non-zombie) processes in any of these process groups, and zombie children of ours. */
export function leftovers(pgids: ReadonlySet<number>): { live: string[]; zombies: string[] } {
  const live: string[] = [];
  const zombies: string[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [state, ppid, pgrp] = [fields[0], Number(fields[1]), Number(fields[2])];
    if (state === 'Z' && (ppid === process.pid || pgids.has(pgrp)))
      zombies.push(`${name} ${stat.slice(0, 80)}`);
    else if (state !== 'Z' && pgids.has(pgrp)) live.push(`${name} ${stat.slice(0, 80)}`);
  }
  return { live, zombies };
}

export const fdCount = (): number => readdirSync('/proc/self/fd').length;
