// The OpenAPI 3.1 document of the route table (served at /api/openapi.json): paths, parameters, request
// bodies and answers come from the same schemas the server validates with.
import type { Route } from './route.js';

export function openApiDocument(routes: readonly Route[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const params = [...r.path.matchAll(/\{([^}]+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const security =
      r.access === 'public'
        ? []
        : r.access === 'proxy'
          ? [{ proxyBearer: [] }]
          : [{ sessionCookie: [], ...(r.method === 'GET' ? {} : { csrfToken: [] }) }];
    const responses = Object.fromEntries(
      Object.entries(r.responses).map(([code, spec]) => [
        code,
        {
          description: spec.description,
          ...(spec.schema
            ? { content: { [spec.contentType ?? 'application/json']: { schema: spec.schema } } }
            : spec.contentType
              ? { content: { [spec.contentType]: {} } }
              : {}),
        },
      ]),
    );
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: [r.tag],
      operationId: `${r.method.toLowerCase()}${r.path
        .replace(/[{}]/g, '')
        .replace(/\/(\w)/g, (_, c: string) => c.toUpperCase())
        .replace(/[^A-Za-z0-9]/g, '')}`,
      security,
      responses,
      ...(params.length > 0 ? { parameters: params } : {}),
      ...(r.access === 'admin' ? { description: 'Administrators only.' } : {}),
    };
    if (r.body) op.requestBody = { required: true, content: { 'application/json': { schema: r.body } } };
    paths[r.path] ??= {};
    (paths[r.path] as Record<string, unknown>)[r.method.toLowerCase()] = op;
  }
  paths['/api/tunnel'] = {
    get: {
      summary:
        'The Guacamole WebSocket tunnel (subprotocol guacamole), relayed to the proxy the token is bound to. Query: token (from connect) and the connect data (width, height, dpi, ...).',
      tags: ['servers'],
      security: [{ sessionCookie: [] }],
      parameters: [{ name: 'token', in: 'query', required: true, schema: { type: 'string' } }],
      responses: { 101: { description: 'Switching protocols (then Guacamole instructions)' } },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Gatehouse webapp API',
      version,
      description:
        'JSON over HTTPS. Errors: {"error": code, "message": words, "field"?: the failing field}. Changes (POST/PUT/PATCH/DELETE) need the X-CSRF-Token header from /api/login or /api/me.',
    },
    components: {
      securitySchemes: {
        sessionCookie: { type: 'apiKey', in: 'cookie', name: '__Host-gh_session' },
        csrfToken: { type: 'apiKey', in: 'header', name: 'X-CSRF-Token' },
        proxyBearer: {
          type: 'http',
          scheme: 'bearer',
          description: "A connection proxy's registration secret",
        },
      },
    },
    paths,
  };
}
