// The webapp's HTTP(S) server: /api/* to the route table, /api/tunnel upgrades to the relay, the rest to the
// web UI's static files (unknown paths without an extension get the UI's index.html: client-side routes).
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { AppContext } from '../context.js';
import { dispatch, sendError } from './dispatch.js';
import { HttpError } from './errors.js';
import type { CompiledRoute } from './route.js';
import type { StaticFile } from './static-files.js';

export const UI_CSP =
  "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; style-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export interface ServerParts {
  ctx: AppContext;
  routes: readonly CompiledRoute[];
  files: ReadonlyMap<string, StaticFile>;
  tls: { cert: string; key: string } | null;
}

function securityHeaders(res: ServerResponse, secure: boolean): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  if (secure) res.setHeader('Strict-Transport-Security', 'max-age=31536000');
}

function serveStatic(
  files: ReadonlyMap<string, StaticFile>,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('Method Not Allowed\n');
    return;
  }
  let file = files.get(url.pathname);
  // Client-side routes: /session/<server id> is the session page, any other extension-less path the app.
  if (!file && url.pathname.startsWith('/session/')) file = files.get('/session.html');
  else if (!file && !/\.[a-z0-9]+$/i.test(url.pathname)) file = files.get('/index.html');
  if (!file) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not Found\n');
    return;
  }
  if (req.headers['if-none-match'] === file.etag) {
    res.writeHead(304, { ETag: file.etag }).end();
    return;
  }
  res.writeHead(200, {
    'Content-Type': file.type,
    'Content-Length': file.body.length,
    ETag: file.etag,
    'Cache-Control': 'no-cache',
    'Content-Security-Policy': UI_CSP,
  });
  res.end(req.method === 'HEAD' ? undefined : file.body);
}

/** The server, plus a way to end the upgraded (tunnel) sockets it no longer tracks. */
export type WebappServer = Server & { destroyUpgraded(): void };

export function createWebappServer(parts: ServerParts): WebappServer {
  const { ctx, routes, files } = parts;
  const secure = parts.tls !== null;
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    securityHeaders(res, secure);
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://x');
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (!url.pathname.startsWith('/api/')) {
      serveStatic(files, req, res, url);
      return;
    }
    dispatch(ctx, routes, req, res, url).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof HttpError) {
        if (err.status >= 500) ctx.log.error({ path: url.pathname, err: err.message }, 'api error');
        sendError(res, err);
        return;
      }
      ctx.log.error({ err, method: req.method, path: url.pathname }, 'api: internal error');
      sendError(res, new HttpError(500, 'internal', 'Internal error; see the webapp log'));
    });
  };
  const server: Server = parts.tls
    ? (createHttpsServer({ cert: parts.tls.cert, key: parts.tls.key }, onRequest) as unknown as Server)
    : createHttpServer(onRequest);
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  server.keepAliveTimeout = 65_000;
  server.maxHeadersCount = 100;
  // Upgrade sockets leave the server's connection tracking: keep them so close() can end them.
  const upgraded = new Set<Duplex>();
  (server as WebappServer).destroyUpgraded = () => {
    for (const s of upgraded) s.destroy();
  };
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/api/tunnel') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    ctx.relay.handleUpgrade(req, socket, head, secure);
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  return server as WebappServer;
}
