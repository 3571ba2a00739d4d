// What a route is: method, path template, who may call it, its request/response schemas (ajv-validated; the
// OpenAPI document is made from the same table) and its handler.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConnectionProxy, User, WebSession } from '../store/types.js';

export type JsonSchema = Record<string, unknown>;

/** public: anyone; user/admin: a login session (+ CSRF on changes); proxy: a registered proxy's bearer secret. */
export type Access = 'public' | 'user' | 'admin' | 'proxy';

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface ResponseSpec {
  description: string;
  schema?: JsonSchema;
  /** Default application/json when a schema is given. */
  contentType?: string;
}

export interface Reply {
  status: number;
  json?: unknown;
  body?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string | string[]>;
}

export interface RequestContext<B = unknown> {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  body: B;
  /** Set for user/admin routes. */
  user: User | null;
  webSession: WebSession | null;
  /** Set for proxy routes. */
  proxy: ConnectionProxy | null;
  clientAddress: string;
}

export interface Route<B = unknown> {
  method: Method;
  path: string;
  access: Access;
  summary: string;
  tag: string;
  /** Request body schema; a route with one requires a JSON body that matches. */
  body?: JsonSchema;
  /** Rate-limited or otherwise exempt from the CSRF check (login: no session yet). */
  csrfExempt?: boolean;
  responses: Record<number, ResponseSpec>;
  handler(ctx: RequestContext<B>): Promise<Reply>;
}

/** A route table entry with its path split for matching. */
export interface CompiledRoute {
  route: Route;
  segments: readonly string[];
}

export function defineRoute<B>(route: Route<B>): Route {
  return route as unknown as Route;
}

export function compileRoutes(routes: readonly Route[]): CompiledRoute[] {
  return routes.map((route) => ({ route, segments: route.path.split('/').filter(Boolean) }));
}

/** The route for a method and path, with `{name}` parameters; `methodMismatch` when only the method differs. */
export function matchRoute(
  table: readonly CompiledRoute[],
  method: string,
  pathname: string,
): { route: Route; params: Record<string, string> } | { route: null; methodMismatch: boolean } {
  const parts = pathname.split('/').filter(Boolean);
  let methodMismatch = false;
  for (const { route, segments } of table) {
    if (segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i] as string;
      const part = parts[i] as string;
      if (seg.startsWith('{')) {
        let value: string;
        try {
          value = decodeURIComponent(part);
        } catch {
          ok = false;
          break;
        }
        params[seg.slice(1, -1)] = value;
      } else if (seg !== part) {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) {
      methodMismatch = true;
      continue;
    }
    return { route, params };
  }
  return { route: null, methodMismatch };
}
