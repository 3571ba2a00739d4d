// The whole API route table.
import type { AppContext } from '../context.js';
import { openApiDocument } from '../http/openapi.js';
import { defineRoute, type Route } from '../http/route.js';
import { adminDirectoryRoutes } from './admin-directory.js';
import { adminInfraRoutes } from './admin-infra.js';
import { adminSessionRoutes } from './admin-sessions.js';
import { authRoutes } from './auth-routes.js';
import { proxyRoutes } from './proxy-routes.js';
import { serverRoutes } from './server-routes.js';

export function apiRoutes(ctx: AppContext, version: string): Route[] {
  const routes: Route[] = [
    ...authRoutes(ctx),
    ...serverRoutes(ctx),
    ...proxyRoutes(ctx),
    ...adminInfraRoutes(ctx),
    ...adminDirectoryRoutes(ctx),
    ...adminSessionRoutes(ctx),
  ];
  let doc: Record<string, unknown> | undefined;
  routes.push(
    defineRoute({
      method: 'GET',
      path: '/api/openapi.json',
      access: 'public',
      tag: 'meta',
      summary: 'This document',
      responses: { 200: { description: 'OpenAPI 3.1', schema: { type: 'object' } } },
      async handler() {
        doc ??= openApiDocument(routes, version);
        return { status: 200, json: doc };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/health',
      access: 'public',
      tag: 'meta',
      summary: 'Liveness of the webapp and its database',
      responses: {
        200: {
          description: 'Healthy',
          schema: {
            type: 'object',
            required: ['status', 'version', 'database', 'relays'],
            properties: {
              status: { type: 'string' },
              version: { type: 'string' },
              database: { type: 'string' },
              relays: { type: 'integer' },
            },
          },
        },
      },
      async handler() {
        await ctx.store.countAdmins();
        return {
          status: 200,
          json: { status: 'ok', version, database: ctx.store.dialect, relays: ctx.relay.live.size },
        };
      },
    }),
  );
  return routes;
}
