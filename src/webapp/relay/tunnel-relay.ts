// The tunnel relay: the browser's WebSocket upgrade to the webapp (/api/tunnel?token=...) is checked (origin,
// login cookie, the token belongs to this login and is still valid) and then spliced, byte for byte, to the
// proxy the token is bound to: the upgrade request is re-sent to the proxy's /tunnel and both sockets are
// piped (stream backpressure both ways, no WebSocket parsing, no copies beyond the kernel's). The proxy's
// 101 answer reaches the browser unchanged. Bytes are counted for the session's audit row.
import type { IncomingMessage } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import type { Logger } from 'pino';
import { STATUS } from '../../protocol/guacamole/status.js';
import type { WebSessions } from '../http/web-sessions.js';
import { sha256Hex, TOKEN_PATTERN } from '../security/tokens.js';
import type { Store } from '../store/types.js';
import { refuseHttp, refuseTunnel } from './guac-refusal.js';
import { LiveRelays, type Relay } from './live-relays.js';

export interface RelayOptions {
  store: Store;
  sessions: WebSessions;
  log: Logger;
  connectTimeoutMs: number;
  /** Live relays at most; beyond, SERVER_BUSY. */
  maxTunnels: number;
  /** Origins allowed to open tunnels ('' entries ignored); empty = the request's own Host only. */
  allowedOrigins: readonly string[];
  /** CA certificates for https:// proxy addresses (else the system store). */
  proxyCa?: string | undefined;
  now?: () => number;
}

/** Request headers passed on to the proxy (the rest — cookies above all — stay here). */
const FORWARDED = [
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'user-agent',
];

export class TunnelRelay {
  readonly live = new LiveRelays();
  private readonly now: () => number;

  constructor(private readonly opts: RelayOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** The http(s) server's 'upgrade' handler for /api/tunnel. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, secure: boolean): void {
    socket.on('error', () => socket.destroy());
    const key = req.headers['sec-websocket-key'];
    if (
      req.headers.upgrade?.toLowerCase() !== 'websocket' ||
      typeof key !== 'string' ||
      !/^[A-Za-z0-9+/]{22}==$/.test(key)
    ) {
      refuseHttp(socket, 400, 'Bad Request');
      return;
    }
    if (!this.originAllowed(req, secure)) {
      this.opts.log.warn(
        { origin: req.headers.origin, host: req.headers.host },
        'tunnel refused: foreign Origin',
      );
      refuseHttp(socket, 403, 'Forbidden');
      return;
    }
    this.admit(req, socket, head).catch((err: unknown) => {
      this.opts.log.error({ err }, 'tunnel relay failed');
      refuseTunnel(req, socket, STATUS.SERVER_ERROR, 'Internal error');
    });
  }

  private originAllowed(req: IncomingMessage, secure: boolean): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true; // not a browser (browsers always send Origin on WebSocket)
    if (this.opts.allowedOrigins.includes(origin)) return true;
    return origin === `${secure ? 'https' : 'http'}://${req.headers.host ?? ''}`;
  }

  private async admit(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const login = await this.opts.sessions.authenticate(req);
    if (!login) {
      refuseTunnel(req, socket, STATUS.CLIENT_UNAUTHORIZED, 'Your sign-in expired; sign in again');
      return;
    }
    const token = url.searchParams.get('token') ?? '';
    if (!TOKEN_PATTERN.test(token)) {
      refuseTunnel(req, socket, STATUS.CLIENT_UNAUTHORIZED, 'Token invalid, expired or already used');
      return;
    }
    const hash = sha256Hex(token);
    const record = await this.opts.store.getToken(hash);
    if (
      record?.kind !== 'tunnel' ||
      record.userId !== login.user.id ||
      (record.redeemedAt === null && record.expiresAt <= this.now())
    ) {
      refuseTunnel(req, socket, STATUS.CLIENT_UNAUTHORIZED, 'Token invalid, expired or already used');
      return;
    }
    if (this.live.size >= this.opts.maxTunnels) {
      this.opts.log.warn({ max: this.opts.maxTunnels }, 'tunnel refused: relay limit reached');
      refuseTunnel(req, socket, STATUS.SERVER_BUSY, 'Too many sessions on this server; try again later');
      return;
    }
    const proxy = await this.opts.store.getProxy(record.proxyId);
    if (!proxy?.address) {
      refuseTunnel(req, socket, STATUS.UPSTREAM_UNAVAILABLE, 'Connection proxy unavailable');
      return;
    }
    const clientAddress = req.socket.remoteAddress ?? '';
    const upstream = await this.open(proxy.address).catch((err: Error) => err);
    if (upstream instanceof Error) {
      this.opts.log.warn({ proxy: proxy.name, err: upstream.message }, 'tunnel relay: proxy unreachable');
      refuseTunnel(req, socket, STATUS.UPSTREAM_UNAVAILABLE, 'Connection proxy unavailable');
      return;
    }
    if (socket.destroyed) {
      upstream.destroy();
      return;
    }
    const target = new URL(proxy.address);
    const lines = [
      `GET ${target.pathname.replace(/\/$/, '')}/tunnel${url.search} HTTP/1.1`,
      `Host: ${target.host}`,
    ];
    lines.push('Upgrade: websocket', 'Connection: Upgrade');
    for (const name of FORWARDED) {
      const v = req.headers[name];
      if (typeof v === 'string') lines.push(`${name}: ${v}`);
    }
    lines.push(`X-Forwarded-For: ${clientAddress}`);
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length > 0) upstream.write(head);

    const relay: Relay = {
      tokenHash: hash,
      sessionId: record.sessionId,
      userId: login.user.id,
      proxyId: proxy.id,
      bytesUp: 0,
      bytesDown: 0,
      endReason: null,
      close: (reason) => {
        relay.endReason ??= reason;
        socket.destroy();
        upstream.destroy();
      },
    };
    this.live.add(relay);
    socket.on('data', (chunk: Buffer) => {
      relay.bytesUp += chunk.length;
    });
    upstream.on('data', (chunk: Buffer) => {
      relay.bytesDown += chunk.length;
    });
    // The proxy must answer the upgrade within the deadline (a proxy that accepts and hangs).
    const answered = setTimeout(
      () => relay.close('proxy did not answer the upgrade'),
      this.opts.connectTimeoutMs,
    );
    upstream.once('data', () => clearTimeout(answered));
    upstream.once('close', () => clearTimeout(answered));
    socket.pipe(upstream);
    upstream.pipe(socket);
    if ('setNoDelay' in socket) (socket as Socket).setNoDelay(true); // a net or TLS socket: both have it
    let done = false;
    const finish = (reason: string) => {
      if (done) return;
      done = true;
      relay.endReason ??= reason;
      socket.destroy();
      upstream.destroy();
      this.live.remove(relay);
      void this.recordEnd(relay);
    };
    socket.on('close', () => finish('closed by the browser'));
    upstream.on('close', () => finish('closed by the proxy'));
    upstream.on('error', () => finish('proxy connection failed'));
    this.opts.log.info({ proxy: proxy.name, user: login.user.username }, 'tunnel relayed');
  }

  /** A socket to the proxy (plain or TLS by the address's scheme) within the connect deadline. */
  private open(address: string): Promise<Socket> {
    const url = new URL(address);
    const tls = url.protocol === 'https:';
    const port = Number(url.port || (tls ? 443 : 80));
    const host = url.hostname.replace(/^\[|\]$/g, '');
    return new Promise((resolve, reject) => {
      const sock: Socket = tls
        ? tlsConnect({ host, port, servername: host, ca: this.opts.proxyCa, ALPNProtocols: ['http/1.1'] })
        : netConnect({ host, port });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`no connection within ${this.opts.connectTimeoutMs} ms`));
      }, this.opts.connectTimeoutMs);
      sock.setNoDelay(true);
      sock.once(tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        sock.removeAllListeners('error');
        resolve(sock);
      });
      sock.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /** Writes end, reason and bytes to the session row the proxy's redeem created (if it got that far). */
  private async recordEnd(relay: Relay): Promise<void> {
    try {
      const sessionId =
        relay.sessionId ?? (await this.opts.store.getToken(relay.tokenHash))?.sessionId ?? null;
      if (!sessionId) return;
      await this.opts.store.endSession(
        sessionId,
        this.now(),
        relay.endReason ?? 'closed',
        relay.bytesUp,
        relay.bytesDown,
      );
    } catch (err) {
      this.opts.log.error({ err }, 'tunnel relay: could not record the session end');
    }
  }

  /** The live relays, each with its session id looked up once the proxy has redeemed the token. */
  async liveRelays(): Promise<Relay[]> {
    const all = this.live.all();
    for (const relay of all) {
      if (relay.sessionId === null) {
        relay.sessionId = (await this.opts.store.getToken(relay.tokenHash))?.sessionId ?? null;
      }
    }
    return all;
  }

  /** Ends a live session (admin): true when a relay carried it. */
  async endSession(sessionId: string, reason: string): Promise<boolean> {
    for (const relay of await this.liveRelays()) {
      if (relay.sessionId === sessionId) {
        relay.close(reason);
        return true;
      }
    }
    return false;
  }

  closeAll(reason: string): void {
    for (const relay of this.live.all()) relay.close(reason);
  }
}
