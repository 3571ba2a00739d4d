/**
 * The relay phase's redeem shim, between the benchmark's `gatehouse proxy` and the webapps. The proxy
 * redeems every token through it (proxyAuth.mode webapp, its URL pointing here); the shim forwards the
 * request unchanged — but with the proxy secret of the webapp that issued the token — to that webapp's
 * /api/proxy/redeem, and adds `target.guacd` to the webapp's grant: the replaying guacd stand-in (a byte
 * source) or an idle guacd (latency), instead of the built-in VNC engine. The webapp does the real redeem
 * (token, audit session, credentials, policy); only the backend is chosen here. It is used once per
 * session, when the tunnel opens, so it is not on the measured data path. Tokens it does not know: 401.
 */
import {
  createServer,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { LOOPBACK } from '../../test/e2e/helpers/free-port.js';
import { readCapped } from '../helpers/http-body.js';

const MAX_BODY = 64 * 1024;
const FORWARD_TIMEOUT_MS = 10_000;

export interface RedeemRoute {
  /** The webapp that issued the token: http(s)://host:port. */
  base: string;
  /** The bench proxy's secret at that webapp. */
  secret: string;
  /** PEM trusted for an https webapp. */
  ca: string | null;
  /** guacd://host:port the session goes to. */
  guacd: string;
}

/** The webapp's redeem answer with `target.guacd` set; other answers (errors) unchanged. */
export function withGuacd(status: number, body: string, guacd: string): string {
  if (status !== 200) return body;
  const grant = JSON.parse(body) as { target?: Record<string, unknown> };
  if (!grant.target || typeof grant.target !== 'object') throw new Error('redeem answer without a target');
  grant.target.guacd = guacd;
  return JSON.stringify(grant);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const body = await readCapped(req, MAX_BODY, () => req.destroy(new Error('body over 64 KiB')));
  return body.toString('utf8');
}

export class RedeemShim {
  private readonly routes = new Map<string, RedeemRoute>();
  private readonly httpAgent = new HttpAgent({ keepAlive: true });
  private readonly httpsAgents = new Map<string, HttpsAgent>();
  /** Redeems forwarded, and failures (not 200, or no route). */
  forwarded = 0;
  failures: string[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly proxyToken: string,
  ) {}

  /** Listens on a free loopback port; the proxy must send `Authorization: Bearer <proxyToken>`. */
  static async start(proxyToken: string): Promise<RedeemShim> {
    let shim: RedeemShim | undefined;
    const server = createServer((req, res) => {
      void shim?.handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
    const port = (server.address() as { port: number }).port;
    shim = new RedeemShim(server, `http://${LOOPBACK}:${port}/api/proxy/redeem`, proxyToken);
    return shim;
  }

  /** Where redeems of this token go. */
  route(token: string, r: RedeemRoute): void {
    this.routes.set(token, r);
  }

  forgetAll(): void {
    this.routes.clear();
  }

  private answer(res: ServerResponse, status: number, body: string): void {
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const body = await readBody(req);
      if (req.headers.authorization !== `Bearer ${this.proxyToken}`) {
        this.answer(res, 401, '{"error":"proxy-unauthorized","message":"wrong shim credential"}');
        return;
      }
      const token = (JSON.parse(body) as { token?: unknown }).token;
      const route = typeof token === 'string' ? this.routes.get(token) : undefined;
      if (!route) {
        this.failures.push('a token the shim was not told about');
        this.answer(res, 401, '{"error":"token-invalid","message":"unknown token (bench shim)"}');
        return;
      }
      const out = await this.forward(route, body, req.headers['user-agent']);
      this.forwarded++;
      if (out.status !== 200) this.failures.push(`webapp answered ${out.status}: ${out.body.slice(0, 200)}`);
      this.answer(res, out.status, withGuacd(out.status, out.body, route.guacd));
    } catch (err) {
      this.failures.push(`shim: ${(err as Error).message}`);
      if (!res.headersSent) this.answer(res, 502, '{"error":"unavailable","message":"bench shim failed"}');
    }
  }

  private forward(
    r: RedeemRoute,
    body: string,
    userAgent: string | undefined,
  ): Promise<{ status: number; body: string }> {
    const url = new URL('/api/proxy/redeem', r.base);
    const secure = url.protocol === 'https:';
    let agent: HttpAgent = this.httpAgent;
    if (secure) {
      const key = r.ca ?? '';
      agent = this.httpsAgents.get(key) ?? new HttpsAgent({ keepAlive: true, ...(r.ca ? { ca: r.ca } : {}) });
      this.httpsAgents.set(key, agent as HttpsAgent);
    }
    const headers = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      authorization: `Bearer ${r.secret}`,
      ...(userAgent ? { 'user-agent': userAgent } : {}),
    };
    const send = secure ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, { method: 'POST', headers, agent, timeout: FORWARD_TIMEOUT_MS }, (res) => {
        readCapped(res, MAX_BODY, () => req.destroy(new Error('redeem answer over 64 KiB'))).then(
          (answer) => resolve({ status: res.statusCode ?? 0, body: answer.toString('utf8') }),
          reject,
        );
      });
      req.on('timeout', () => req.destroy(new Error('the webapp did not answer the redeem in time')));
      req.on('error', reject);
      req.end(body);
    });
  }

  async stop(): Promise<void> {
    this.httpAgent.destroy();
    for (const a of this.httpsAgents.values()) a.destroy();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
