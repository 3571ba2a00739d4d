// Test plumbing for the proxy's registration: a node:http(s) server standing in for the webapp that records
// each request and answers as the test says, a recording logger, and a webapp-mode proxyAuth configuration.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { defaultsOf } from '../../src/config/schema-node.js';
import { type ProxyAuthConfig, proxyAuthSchema } from '../../src/config/sections/proxy-auth.js';
import type { RegistrationLog } from '../../src/proxy/auth/registration.js';
import type { RegisterRequest } from '../../src/proxy/auth/schemas.js';
import { LOOPBACK } from '../e2e/helpers/free-port.js';

export const TOKEN = 'proxy-credential-1';
export const FAST = { firstRetryMs: 40, maxRetryMs: 200, refusedRetryMs: 100, refreshMs: 60_000 };

export interface Seen {
  at: number;
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: RegisterRequest;
}
export type Reply = { status: number; body?: unknown; contentType?: string };

/** The fake webapp: records each request and answers with `reply(n)` (n counts from 0). */
export async function fakeWebapp(
  reply: (n: number, seen: Seen) => Reply | null,
  opts: { port?: number; tls?: { cert: string; key: string } } = {},
): Promise<{ url: string; port: number; seen: Seen[]; openConnections(): number; close(): Promise<void> }> {
  const seen: Seen[] = [];
  let open = 0;
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = {
        at: performance.now(),
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as RegisterRequest,
      };
      seen.push(s);
      const r = reply(seen.length - 1, s);
      if (r === null) return; // never answers
      res.writeHead(r.status, { 'content-type': r.contentType ?? 'application/json' });
      res.end(r.body === undefined ? '' : typeof r.body === 'string' ? r.body : JSON.stringify(r.body));
    });
  };
  const server = opts.tls ? https.createServer(opts.tls, handler) : http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, LOOPBACK, () => resolve());
  });
  server.on('connection', (socket) => {
    open++;
    socket.on('close', () => open--);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${opts.tls ? 'https' : 'http'}://${LOOPBACK}:${port}/api/proxy/redeem`,
    port,
    seen,
    openConnections: () => open,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Line {
  level: string;
  obj: object;
  msg: string;
}
export function recordingLog(): RegistrationLog & { lines: Line[] } {
  const lines: Line[] = [];
  const at =
    (level: string) =>
    (obj: object, msg: string): void => {
      lines.push({ level, obj, msg });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export function config(
  url: string,
  webapp: Partial<ProxyAuthConfig['webapp']> = {},
): { proxyAuth: ProxyAuthConfig } {
  const d = structuredClone(defaultsOf(proxyAuthSchema) as unknown as ProxyAuthConfig);
  return {
    proxyAuth: {
      ...d,
      mode: 'webapp',
      webapp: {
        ...d.webapp,
        url,
        proxyId: 'proxy-eu-1',
        proxyToken: TOKEN,
        allowInsecureHttp: true,
        timeoutMs: 1000,
        advertiseUrl: 'http://10.0.0.7:8080',
        zone: 'eu',
        ...webapp,
      },
    },
  };
}

export const ok = (id = 'p-7', zone = 'eu'): Reply => ({ status: 200, body: { id, zone } });
