// The API's request pipeline: route match, access (login + CSRF + Origin, or a proxy's bearer secret), body
// validation, the handler, the answer (JSON or raw), and errors as `{"error", "message", "field"?}`.

import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppContext } from '../context.js';
import { sameDigest, sha256Hex } from '../security/tokens.js';
import { readJsonBody } from './body.js';
import { forbidden, HttpError, notFound, unauthenticated } from './errors.js';
import { type CompiledRoute, matchRoute, type Reply, type RequestContext } from './route.js';
import { checkAgainst, validateBody } from './validate.js';

const CHANGES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Response self-check (tests set GATEHOUSE_WEBAPP_CHECK_RESPONSES=1): a reply off its schema is a 500. */
const checkResponses = (): boolean => process.env.GATEHOUSE_WEBAPP_CHECK_RESPONSES === '1';

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string | string[]> = {},
): void {
  const body = status === 204 ? '' : JSON.stringify(value);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

export function sendError(res: ServerResponse, err: HttpError): void {
  const body: Record<string, string> = { error: err.code, message: err.message };
  if (err.field) body.field = err.field;
  sendJson(res, err.status, body, { ...err.headers });
}

function originOk(ctx: AppContext, req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true; // non-browser clients; the CSRF token still applies
  if (ctx.config.publicUrl && origin === ctx.config.publicUrl) return true;
  return origin === `${ctx.secure ? 'https' : 'http'}://${req.headers.host ?? ''}`;
}

function csrfOk(expected: string, req: IncomingMessage): boolean {
  const got = req.headers['x-csrf-token'];
  if (typeof got !== 'string' || got.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(got), Buffer.from(expected));
}

/** `Authorization: Bearer <secret>` of a proxy, checked against the stored digest of the named proxy. */
async function authenticateProxy(ctx: AppContext, req: IncomingMessage, body: unknown) {
  const auth = req.headers.authorization ?? '';
  const m = /^Bearer ([A-Za-z0-9._~+/=-]{1,512})$/.exec(auth);
  const proxyName = (body as { proxy?: { id?: unknown } } | undefined)?.proxy?.id;
  const refuse = () => new HttpError(401, 'proxy-unauthorized', 'Unknown proxy or wrong credential');
  if (!m || typeof proxyName !== 'string') throw refuse();
  const proxy = await ctx.store.getProxyByName(proxyName);
  if (!proxy || !sameDigest(sha256Hex(m[1] as string), proxy.secretHash)) throw refuse();
  if (!proxy.enabled) throw new HttpError(403, 'proxy-unauthorized', 'This proxy is disabled');
  const { secretHash: _, ...rest } = proxy;
  return rest;
}

export async function dispatch(
  ctx: AppContext,
  table: readonly CompiledRoute[],
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const method = req.method ?? 'GET';
  const match = matchRoute(table, method, url.pathname);
  if (!match.route) {
    if (match.methodMismatch) throw new HttpError(405, 'method-not-allowed', `${method} is not allowed here`);
    throw notFound(`No API route ${url.pathname}`);
  }
  const { route, params } = match;
  const rc: RequestContext = {
    req,
    res,
    params,
    query: url.searchParams,
    body: undefined,
    user: null,
    webSession: null,
    proxy: null,
    clientAddress: req.socket.remoteAddress ?? '',
  };
  if (CHANGES.has(method) && route.access !== 'proxy' && !originOk(ctx, req)) {
    throw forbidden('Request from a foreign origin');
  }
  if (route.access === 'user' || route.access === 'admin') {
    const login = await ctx.sessions.authenticate(req);
    if (!login) throw unauthenticated('Your session expired or you are not signed in');
    if (route.access === 'admin' && login.user.role !== 'admin') throw forbidden('Administrators only');
    if (CHANGES.has(method) && !route.csrfExempt && !csrfOk(login.session.csrfToken, req)) {
      throw new HttpError(403, 'csrf', 'Missing or wrong CSRF token; reload the page');
    }
    rc.user = login.user;
    rc.webSession = login.session;
  }
  const raw = CHANGES.has(method) ? await readJsonBody(req) : undefined;
  if (route.access === 'proxy') rc.proxy = await authenticateProxy(ctx, req, raw);
  if (route.body) rc.body = validateBody(route.body, raw);
  else if (raw !== undefined && method !== 'DELETE') rc.body = raw;

  const reply: Reply = await route.handler(rc);
  if (checkResponses()) {
    const schema = route.responses[reply.status]?.schema;
    if (!route.responses[reply.status])
      throw new Error(`${route.method} ${route.path}: undocumented status ${reply.status}`);
    if (schema && reply.json !== undefined) {
      const problem = checkAgainst(schema, reply.json);
      if (problem)
        throw new Error(`${route.method} ${route.path} ${reply.status}: answer off schema: ${problem}`);
    }
  }
  if (reply.body !== undefined) {
    res.writeHead(reply.status, {
      'Content-Type': reply.contentType ?? 'application/octet-stream',
      'Cache-Control': 'no-store',
      'Content-Length': Buffer.byteLength(reply.body),
      ...reply.headers,
    });
    res.end(reply.body);
    return;
  }
  sendJson(res, reply.status, reply.json ?? {}, reply.headers);
}
