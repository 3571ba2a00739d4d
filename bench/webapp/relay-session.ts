/**
 * One browser-like tunnel session of the relay load generator: bench/tunnel's BenchSession (every `sync`
 * answered at once, `nop` every 5 s, counters) over a `ws` WebSocket that may carry request headers (the
 * webapp's sign-in cookie) and a CA (the webapp's self-signed certificate), plus the tunnel's internal ping
 * as guacamole-common-js sends it every 500 ms, and `ping(id)`, which times one ping round trip.
 */
import WebSocket from 'ws';
import { BenchSession, type SessionHooks } from '../tunnel/sessions.js';
import { pingEcho, pingInstruction, type RelaySessionSpec } from './relay-protocol.js';

const KEEPALIVE_MS = 500;
const CLOSE_WAIT_MS = 2000;

export class RelayWsSession extends BenchSession {
  private readonly ws: WebSocket;
  private readonly closed: Promise<void>;
  private readonly keepalive: NodeJS.Timeout;
  /** Pings in flight: id → its callback with the echo's arrival time. */
  private readonly pending = new Map<string, (at: number) => void>();

  constructor(spec: RelaySessionSpec, hooks: SessionHooks) {
    super(hooks);
    this.ws = new WebSocket(spec.url, 'guacamole', {
      perMessageDeflate: false,
      headers: spec.headers,
      ...(spec.ca ? { ca: spec.ca } : {}),
    });
    this.closed = new Promise((resolve) => this.ws.once('close', () => resolve()));
    this.onInstruction = (text, opcode) => {
      if (opcode !== '' || this.pending.size === 0) return;
      const id = pingEcho(text);
      const cb = id === null ? undefined : this.pending.get(id);
      if (id !== null && cb) {
        this.pending.delete(id);
        cb(performance.now());
      }
    };
    this.ws.on('message', (data: Buffer) => this.receive(data));
    this.ws.on('error', (err: Error) => this.fail(`WebSocket error: ${err.message}`));
    this.ws.on('unexpected-response', (_req, res) =>
      this.fail(`the server refused the WebSocket upgrade (HTTP ${res.statusCode ?? '?'})`),
    );
    this.ws.on('close', (code: number, reason: Buffer) => {
      if (!this.ended) this.fail(`the tunnel closed (${code} ${reason.toString()})`);
    });
    this.keepalive = setInterval(() => this.sendText(pingInstruction(String(Date.now()))), KEEPALIVE_MS);
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

  protected sendText(text: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
  }

  protected running(): boolean {
    return !this.ended && this.ws.readyState === WebSocket.OPEN;
  }

  protected override stopTimers(): void {
    clearInterval(this.keepalive);
  }

  protected async closeTransport(): Promise<void> {
    try {
      this.ws.close();
    } catch {
      // not open yet: terminated below
    }
    const timer = setTimeout(() => this.ws.terminate(), CLOSE_WAIT_MS);
    await this.closed;
    clearTimeout(timer);
  }
}
