/**
 * The /health document: ready (200) when not draining and at least one manager is healthy; 503 otherwise.
 * A manager is healthy when alive, its heartbeat is recent and its event loop is not stalled.
 */
import type { ManagerStatus, StatsBoard } from './stats-board.js';

/** A heartbeat older than this, or an event-loop lag above it, makes a manager unhealthy. */
export const UNHEALTHY_AFTER_MS = 5000;

export interface HealthDocument {
  status: 'ok' | 'draining' | 'unavailable';
  version: string;
  draining: boolean;
  sessions: number;
  managers: Array<ManagerStatus & { healthy: boolean }>;
}

export function healthOf(
  board: StatsBoard,
  version: string,
  now: number,
): { code: number; body: HealthDocument } {
  const managers = board.all(now).map((m) => ({
    ...m,
    healthy:
      m.alive &&
      m.heartbeatAgeMs >= 0 &&
      m.heartbeatAgeMs < UNHEALTHY_AFTER_MS &&
      m.eventLoopLagMs.max < UNHEALTHY_AFTER_MS,
  }));
  const draining = board.draining;
  const anyHealthy = managers.some((m) => m.healthy);
  const status = draining ? 'draining' : anyHealthy ? 'ok' : 'unavailable';
  return {
    code: status === 'ok' ? 200 : 503,
    body: {
      status,
      version,
      draining,
      sessions: managers.reduce((n, m) => n + m.sessions, 0),
      managers,
    },
  };
}
