// Admin: the sessions (live ones first) and ending one. A session is live while its tunnel is relayed here;
// ending it closes both sockets (the proxy then ends its backend connection) and records who ended it.
import type { AppContext } from '../context.js';
import { notFound } from '../http/errors.js';
import { defineRoute, type Route } from '../http/route.js';
import * as S from './schemas.js';

export function adminSessionRoutes(ctx: AppContext): Route[] {
  const { store } = ctx;
  return [
    defineRoute({
      method: 'GET',
      path: '/api/admin/sessions',
      access: 'admin',
      tag: 'admin',
      summary: 'Sessions: ?active=1 for open ones only (default), ?active=0 for history; ?limit=N (max 1000)',
      responses: { 200: { description: 'Sessions', schema: S.listOf(S.sessionOut) }, ...S.errors(401, 403) },
      async handler({ query }) {
        const activeOnly = query.get('active') !== '0';
        const limit = Math.min(1000, Math.max(1, Number.parseInt(query.get('limit') ?? '200', 10) || 200));
        const [sessions, users, servers, proxies] = await Promise.all([
          store.listSessions({ activeOnly, limit }),
          store.listUsers(),
          store.listServers(),
          store.listProxies(),
        ]);
        const names = (list: { id: string; name?: string; username?: string }[]) =>
          new Map(list.map((x) => [x.id, x.name ?? x.username ?? '']));
        const [u, s, p] = [names(users), names(servers), names(proxies)];
        const live = new Set((await ctx.relay.liveRelays()).map((r) => r.sessionId));
        return {
          status: 200,
          json: {
            items: sessions.map((x) => ({
              ...x,
              userName: u.get(x.userId) ?? '',
              serverName: s.get(x.serverId) ?? '',
              proxyName: p.get(x.proxyId) ?? '',
              live: live.has(x.id),
            })),
          },
        };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/api/admin/sessions/{id}',
      access: 'admin',
      tag: 'admin',
      summary: 'End a session now',
      responses: { 204: { description: 'Ended' }, ...S.errors(401, 403, 404) },
      async handler({ params, user }) {
        const id = params.id as string;
        const session = await store.getSession(id);
        if (!session || session.endedAt !== null) throw notFound('No open session with this id');
        const reason = `ended by ${user?.username ?? 'an administrator'}`;
        const wasLive = await ctx.relay.endSession(id, reason);
        if (!wasLive) await store.endSession(id, ctx.now(), reason, session.bytesUp, session.bytesDown);
        ctx.log.info({ session: id, by: user?.username, wasLive }, 'session ended by an administrator');
        return { status: 204 };
      },
    }),
  ];
}
