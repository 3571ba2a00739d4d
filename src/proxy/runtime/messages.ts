/** Messages between the supervisor (main thread) and the connection managers (worker threads). */
import type { Registry } from 'prom-client';
import type { GatehouseConfig } from '../../config/schema.js';

export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** Manager → supervisor. */
export type FromManager =
  | { type: 'listening'; port: number }
  | { type: 'listen-failed'; message: string }
  /** Single use of a token id across all managers. */
  | { type: 'claim'; id: number; jti: string; expiresAt: number }
  /** A browser asked this manager for /metrics: the supervisor answers with every manager's sum. */
  | { type: 'metrics-request'; id: number }
  | { type: 'metrics'; id: number; metrics: MetricsJson }
  | { type: 'stopped' };

/** Supervisor → manager. */
export type ToManager =
  | { type: 'claimed'; id: number; ok: boolean }
  | { type: 'metrics-collect'; id: number }
  | { type: 'metrics-text'; id: number; text: string; contentType: string }
  /** End every session with this status, close the listener and exit. */
  | { type: 'shutdown'; status: number; message: string }
  /** Fault injection (only when the supervisor was started with it enabled): throw from the event loop. */
  | { type: 'crash' };

export interface ManagerData {
  index: number;
  host: string;
  port: number;
  board: SharedArrayBuffer;
  version: string;
  /** The resolved configuration (plain data). */
  config: GatehouseConfig;
}
