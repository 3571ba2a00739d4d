/**
 * One browser-like tunnel session of the relay load generator: bench/tunnel's WsSession (every `sync`
 * answered at once, `nop` every 5 s, the tunnel's internal ping every 500 ms as guacamole-common-js sends
 * it, counters) with the upgrade's request headers (the webapp's sign-in cookie) and a CA (the webapp's
 * self-signed certificate), plus `ping(id)`, which times one ping round trip.
 */
import { type SessionHooks, WsSession } from '../tunnel/sessions.js';
import { pingEcho, pingInstruction, type RelaySessionSpec } from './relay-protocol.js';

export class RelayWsSession extends WsSession {
  /** Pings in flight: id → its callback with the echo's arrival time. */
  private readonly pending = new Map<string, (at: number) => void>();

  constructor(spec: RelaySessionSpec, hooks: SessionHooks) {
    super(spec.url, hooks, { headers: spec.headers, ca: spec.ca });
    this.onInstruction = (text, opcode) => {
      if (opcode !== '' || this.pending.size === 0) return;
      const id = pingEcho(text);
      const cb = id === null ? undefined : this.pending.get(id);
      if (id !== null && cb) {
        this.pending.delete(id);
        cb(performance.now());
      }
    };
  }

  /**
   * Sends a ping with this id; resolves with the round trip in ms, or null after timeoutMs (or when the
   * session ends first).
   */
  ping(id: string, timeoutMs: number): Promise<number | null> {
    return new Promise((resolve) => {
      if (!this.running()) {
        resolve(null);
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(null);
      }, timeoutMs);
      const t0 = performance.now();
      this.pending.set(id, (at) => {
        clearTimeout(timer);
        resolve(at - t0);
      });
      this.sendText(pingInstruction(id));
    });
  }
}
