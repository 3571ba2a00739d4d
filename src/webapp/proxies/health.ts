// Health checks of connection proxies: GET <address>/health under one deadline (connect, TLS and answer),
// keep-alive connections, the answer read up to 64 KiB. Results are cached (healthy for cacheMs, unhealthy for
// downMs) and concurrent checks of one proxy share one request. Addresses without a scheme (HOST:PORT, the RDP
// gateways) are checked by opening a TCP connection.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { performance } from 'node:perf_hooks';

export interface HealthResult {
  ok: boolean;
  /** Short reason: 'HTTP 200', 'HTTP 503 (draining)', 'timeout after 1500 ms', 'connection refused', ... */
  detail: string;
  /** How long the check took, ms (0 when the address could not be checked at all). */
  latencyMs: number;
  /** When the check finished (the `now` clock). */
  at: number;
  /** true when the result came from the cache rather than a request made for this call. */
  cached: boolean;
}

export interface ProxyRef {
  id: string;
  /** http(s)://HOST:PORT[/prefix] (its /health is asked), or HOST:PORT (a TCP connection is opened). */
  address: string;
}

export interface HealthCheckerOptions {
  /** Deadline of one check: connect, TLS and the whole answer, ms. */
  timeoutMs: number;
  /** A healthy result is reused this long, ms (0: every check asks). */
  cacheMs: number;
  /** An unhealthy result is reused this long, ms: a down proxy is skipped without asking. */
  downMs: number;
  /** Clock for the cache, ms; default Date.now. */
  now?: () => number;
  /** CA certificates (PEM) trusted for https:// proxies instead of the system store. */
  caPem?: string;
  /** Open connections per proxy (default 2) and in all (default 256). */
  maxSocketsPerProxy?: number;
  maxSockets?: number;
  /**
   * Gets fresh (not cached) results, throttled per proxy: the first one, every change of `ok`, and otherwise
   * at most one per onResultEveryMs. For persisting the last health; its errors and rejections are ignored.
   */
  onResult?: (proxy: ProxyRef, result: HealthResult) => void | Promise<void>;
  /** Default 60 000 ms. */
  onResultEveryMs?: number;
}

/** Longest part of a /health answer read; the rest is not read (the status decides). */
export const MAX_HEALTH_BODY_BYTES = 64 * 1024;
/** Idle kept-alive connections are closed after this long (below common server keep-alive timeouts). */
const IDLE_SOCKET_MS = 4000;
/** Above this many cached proxies, expired entries are dropped. */
const PRUNE_ABOVE = 4096;

type Probe = { ok: boolean; detail: string };

const NET_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connect timed out',
};

/** A short description of a connection error (no stack, no addresses beyond the code). */
export function describeNetError(err: NodeJS.ErrnoException): string {
  const code = err.code ?? '';
  if (err.message === 'socket hang up') return 'connection closed without an answer';
  if (NET_ERRORS[code] !== undefined) return NET_ERRORS[code];
  if (/CERT|SSL|TLS|EPROTO/.test(code)) return `TLS: ${code}`;
  return `${code || 'error'}: ${err.message}`.slice(0, 120);
}

/** What an unhealthy answer says: 'HTTP 503 (draining)' when the body is a /health document. */
function answerDetail(status: number, body: Buffer): string {
  let said = '';
  try {
    const state = (JSON.parse(body.toString('utf8')) as { status?: unknown } | null)?.status;
    if (typeof state === 'string' && /^[a-z][a-z-]{0,31}$/.test(state)) said = ` (${state})`;
  } catch {
    // not a health document: the status alone
  }
  return `HTTP ${status}${said}`;
}

/** The /health URL of an http(s) address, or an error text. */
export function healthUrl(address: string): URL | string {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return 'invalid address';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `unsupported scheme ${url.protocol}`;
  if (url.username || url.password) return 'invalid address (credentials in it)';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/health`;
  url.search = '';
  url.hash = '';
  return url;
}

/** HOST:PORT (IPv6 in brackets) for a TCP check, or undefined. */
function tcpTarget(address: string): { host: string; port: number } | undefined {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/.exec(address);
  const port = Number(m?.[2]);
  if (!m || port < 1 || port > 65_535) return undefined;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

const elapsed = (since: number): number => Math.round((performance.now() - since) * 10) / 10;

export class ProxyHealthChecker {
  private readonly timeoutMs: number;
  private readonly cacheMs: number;
  private readonly downMs: number;
  private readonly now: () => number;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly onResult: HealthCheckerOptions['onResult'];
  private readonly onResultEveryMs: number;
  private readonly cache = new Map<string, { address: string; result: HealthResult; until: number }>();
  private readonly inflight = new Map<string, { address: string; promise: Promise<HealthResult> }>();
  private readonly reported = new Map<string, { ok: boolean; at: number }>();
  private closed = false;

  constructor(options: HealthCheckerOptions) {
    for (const key of ['timeoutMs', 'cacheMs', 'downMs'] as const) {
      const v = options[key];
      if (!Number.isFinite(v) || v < 0 || (key === 'timeoutMs' && v < 1)) {
        throw new RangeError(
          `${key} must be a number of milliseconds${key === 'timeoutMs' ? ' from 1' : ''}`,
        );
      }
    }
    this.timeoutMs = options.timeoutMs;
    this.cacheMs = options.cacheMs;
    this.downMs = options.downMs;
    this.now = options.now ?? Date.now;
    this.onResult = options.onResult;
    this.onResultEveryMs = options.onResultEveryMs ?? 60_000;
    const common = {
      keepAlive: true,
      maxSockets: options.maxSocketsPerProxy ?? 2,
      maxTotalSockets: options.maxSockets ?? 256,
      maxFreeSockets: 2,
      timeout: IDLE_SOCKET_MS,
      scheduling: 'lifo' as const,
    };
    this.httpAgent = new http.Agent(common);
    this.httpsAgent = new https.Agent({ ...common, ...(options.caPem ? { ca: options.caPem } : {}) });
  }

  /** The proxy's health: cached when fresh, else one request shared by every concurrent caller. Never rejects. */
  check(proxy: ProxyRef): Promise<HealthResult> {
    const now = this.now();
    const hit = this.cache.get(proxy.id);
    if (hit !== undefined && hit.address === proxy.address && now < hit.until) {
      return Promise.resolve({ ...hit.result, cached: true });
    }
    const running = this.inflight.get(proxy.id);
    if (running !== undefined && running.address === proxy.address) return running.promise;
    let entry: { address: string; promise: Promise<HealthResult> } | undefined;
    const promise = this.probe(proxy.address).then((p) => {
      const result: HealthResult = { ...p, at: this.now(), cached: false };
      // Only the request still current for this proxy (not forgotten, not replaced) updates the cache.
      if (entry !== undefined && this.inflight.get(proxy.id) === entry) {
        this.inflight.delete(proxy.id);
        if (!this.closed) {
          this.remember(proxy, result);
          this.report(proxy, result);
        }
      }
      return result;
    });
    entry = { address: proxy.address, promise };
    this.inflight.set(proxy.id, entry);
    return promise;
  }

  /** The last result known for a proxy (even when stale), without asking. */
  peek(id: string): HealthResult | undefined {
    const hit = this.cache.get(id);
    return hit === undefined ? undefined : { ...hit.result, cached: true };
  }

  /** Drops what is known about a proxy (its address or state changed); the next check asks. */
  forget(id: string): void {
    this.cache.delete(id);
    this.inflight.delete(id);
    this.reported.delete(id);
  }

  /** Closes the kept-alive connections; later checks fail with 'health checker closed'. */
  close(): void {
    this.closed = true;
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
    this.cache.clear();
    this.inflight.clear();
  }

  private remember(proxy: ProxyRef, result: HealthResult): void {
    if (this.cache.size >= PRUNE_ABOVE) {
      for (const [id, c] of this.cache) if (c.until <= result.at) this.cache.delete(id);
    }
    const until = result.at + (result.ok ? this.cacheMs : this.downMs);
    this.cache.set(proxy.id, { address: proxy.address, result, until });
  }

  private report(proxy: ProxyRef, result: HealthResult): void {
    if (this.onResult === undefined) return;
    const last = this.reported.get(proxy.id);
    if (last !== undefined && last.ok === result.ok && result.at - last.at < this.onResultEveryMs) return;
    if (this.reported.size >= PRUNE_ABOVE && last === undefined) this.reported.clear();
    this.reported.set(proxy.id, { ok: result.ok, at: result.at });
    try {
      const r = this.onResult({ id: proxy.id, address: proxy.address }, { ...result });
      if (r !== undefined && typeof r.then === 'function') r.then(undefined, () => {});
    } catch {
      // the hook's own business
    }
  }

  private async probe(address: string): Promise<Probe & { latencyMs: number }> {
    if (this.closed) return { ok: false, detail: 'health checker closed', latencyMs: 0 };
    const started = performance.now();
    try {
      if (!address.includes('://')) {
        const tcp = tcpTarget(address);
        if (tcp === undefined) return { ok: false, detail: 'invalid address', latencyMs: 0 };
        return { ...(await this.connect(tcp.host, tcp.port)), latencyMs: elapsed(started) };
      }
      const url = healthUrl(address);
      if (typeof url === 'string') return { ok: false, detail: url, latencyMs: 0 };
      return { ...(await this.get(url)), latencyMs: elapsed(started) };
    } catch (err) {
      return {
        ok: false,
        detail: `check failed: ${(err as Error).message}`.slice(0, 120),
        latencyMs: elapsed(started),
      };
    }
  }

  /** GET /health: 200 healthy, anything else unhealthy. One retry when a reused connection turns out closed. */
  private get(url: URL): Promise<Probe> {
    const secure = url.protocol === 'https:';
    const transport = secure ? https : http;
    const agent = secure ? this.httpsAgent : this.httpAgent;
    return new Promise<Probe>((resolve) => {
      let settled = false;
      let req: http.ClientRequest | undefined;
      const finish = (ok: boolean, detail: string, destroy: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (destroy) req?.destroy();
        resolve({ ok, detail });
      };
      const timer = setTimeout(
        () => finish(false, `timeout after ${this.timeoutMs} ms`, true),
        this.timeoutMs,
      );
      const attempt = (mayRetry: boolean): void => {
        const r = transport.get(url, {
          agent,
          headers: { accept: 'application/json', 'user-agent': 'gatehouse-webapp' },
        });
        req = r;
        r.on('error', (err: NodeJS.ErrnoException) => {
          if (settled) return;
          if (mayRetry && r.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
            attempt(false);
            return;
          }
          finish(false, describeNetError(err), false);
        });
        r.on('response', (res) => {
          const status = res.statusCode ?? 0;
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            if (settled) return;
            size += chunk.length;
            if (size > MAX_HEALTH_BODY_BYTES) {
              // Enough read: the status decides; the connection is not reused.
              finish(status === 200, status === 200 ? 'HTTP 200' : `HTTP ${status}`, true);
              return;
            }
            chunks.push(chunk);
          });
          res.on('error', () => finish(false, 'answer cut off', true));
          res.on('end', () => {
            if (!res.complete) finish(false, 'answer cut off', true);
            else if (status === 200) finish(true, 'HTTP 200', false);
            else finish(false, answerDetail(status, Buffer.concat(chunks)), false);
          });
        });
      };
      attempt(true);
    });
  }

  /** A TCP connection accepted within the deadline (RDP gateways: HOST:PORT addresses). */
  private connect(host: string, port: number): Promise<Probe> {
    return new Promise<Probe>((resolve) => {
      const socket = net.connect({ host, port });
      const done = (ok: boolean, detail: string): void => {
        clearTimeout(timer);
        socket.destroy();
        resolve({ ok, detail });
      };
      const timer = setTimeout(() => done(false, `timeout after ${this.timeoutMs} ms`), this.timeoutMs);
      socket.once('connect', () => done(true, 'TCP connect'));
      socket.once('error', (err: NodeJS.ErrnoException) => done(false, describeNetError(err)));
    });
  }
}
