/**
 * Prometheus metrics of one connection manager (prom-client, a registry per worker thread). The supervisor
 * collects every manager's registry as JSON and serves the sum at /metrics (AggregatorRegistry.aggregate).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export class ManagerMetrics {
  readonly registry = new Registry();
  readonly sessions: Gauge<'protocol' | 'manager'>;
  readonly sessionsStarted: Counter<'protocol'>;
  readonly handshakeSeconds: Histogram<'protocol'>;
  readonly bytes: Counter<'direction'>;
  readonly instructions: Counter<'direction'>;
  readonly errors: Counter<'status'>;
  readonly eventLoopLag: Gauge<'manager'>;

  constructor(readonly manager: number) {
    const registers = [this.registry];
    this.sessions = new Gauge({
      name: 'gatehouse_sessions',
      help: 'Live tunnel sessions, by protocol and connection manager.',
      labelNames: ['protocol', 'manager'],
      registers,
    });
    this.sessionsStarted = new Counter({
      name: 'gatehouse_sessions_started_total',
      help: 'Tunnel sessions whose backend was started, by protocol.',
      labelNames: ['protocol'],
      registers,
    });
    this.handshakeSeconds = new Histogram({
      name: 'gatehouse_tunnel_handshake_seconds',
      help: 'From the WebSocket opening to the backend starting (token redeemed, target known).',
      labelNames: ['protocol'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.bytes = new Counter({
      name: 'gatehouse_tunnel_bytes_total',
      help: 'Bytes through the tunnel: in = from browsers, out = to browsers.',
      labelNames: ['direction'],
      registers,
    });
    this.instructions = new Counter({
      name: 'gatehouse_tunnel_instructions_total',
      help: 'Guacamole instructions through the tunnel: in = from browsers, out = to browsers.',
      labelNames: ['direction'],
      registers,
    });
    this.errors = new Counter({
      name: 'gatehouse_tunnel_errors_total',
      help: 'Tunnels that ended with an error, by Guacamole status name.',
      labelNames: ['status'],
      registers,
    });
    this.eventLoopLag = new Gauge({
      name: 'gatehouse_manager_event_loop_lag_seconds',
      help: "Mean event-loop delay of each connection manager's thread over the last report interval.",
      labelNames: ['manager'],
      registers,
    });
  }
}
