/**
 * The connection managers' shared status board: one SharedArrayBuffer that every manager thread and the
 * supervisor can read without messages, so any manager can answer /health for all of them at once.
 * Each manager writes only its own slot; the supervisor writes the header (draining) and `alive`.
 */

const HEADER = 2; // draining, managers
const SLOT = 7; // sessions, lagMeanMs, lagMaxMs, heartbeatMs, alive, restarts, sessionsTotal

export interface ManagerStatus {
  index: number;
  alive: boolean;
  sessions: number;
  sessionsTotal: number;
  eventLoopLagMs: { mean: number; max: number };
  heartbeatAgeMs: number;
  restarts: number;
}

export class StatsBoard {
  readonly buffer: SharedArrayBuffer;
  private readonly f: Float64Array;

  constructor(bufferOrManagers: SharedArrayBuffer | number) {
    if (typeof bufferOrManagers === 'number') {
      this.buffer = new SharedArrayBuffer((HEADER + SLOT * bufferOrManagers) * 8);
      this.f = new Float64Array(this.buffer);
      this.f[1] = bufferOrManagers;
    } else {
      this.buffer = bufferOrManagers;
      this.f = new Float64Array(this.buffer);
    }
  }

  get managers(): number {
    return this.f[1] as number;
  }

  get draining(): boolean {
    return this.f[0] === 1;
  }

  set draining(v: boolean) {
    this.f[0] = v ? 1 : 0;
  }

  setAlive(index: number, alive: boolean): void {
    this.f[this.base(index) + 4] = alive ? 1 : 0;
    if (!alive) this.f[this.base(index)] = 0;
  }

  addRestart(index: number): void {
    this.f[this.base(index) + 5] = (this.f[this.base(index) + 5] as number) + 1;
  }

  /** A manager's session counts, written as they change (so a drain never misses a session just opened). */
  setSessions(index: number, sessions: number, sessionsTotal: number): void {
    const b = this.base(index);
    this.f[b] = sessions;
    this.f[b + 6] = sessionsTotal;
  }

  /** A manager's periodic report of itself. */
  report(
    index: number,
    sessions: number,
    sessionsTotal: number,
    lagMeanMs: number,
    lagMaxMs: number,
    now: number,
  ): void {
    const b = this.base(index);
    this.f[b] = sessions;
    this.f[b + 1] = lagMeanMs;
    this.f[b + 2] = lagMaxMs;
    this.f[b + 3] = now;
    this.f[b + 6] = sessionsTotal;
  }

  status(index: number, now: number): ManagerStatus {
    const b = this.base(index);
    const f = this.f;
    return {
      index,
      alive: f[b + 4] === 1,
      sessions: f[b] as number,
      sessionsTotal: f[b + 6] as number,
      eventLoopLagMs: { mean: round(f[b + 1] as number), max: round(f[b + 2] as number) },
      heartbeatAgeMs: f[b + 3] === 0 ? -1 : Math.max(0, Math.round(now - (f[b + 3] as number))),
      restarts: f[b + 5] as number,
    };
  }

  all(now: number): ManagerStatus[] {
    return Array.from({ length: this.managers }, (_, i) => this.status(i, now));
  }

  private base(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.managers) {
      throw new RangeError(`no manager ${index} (there are ${this.managers})`);
    }
    return HEADER + SLOT * index;
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
